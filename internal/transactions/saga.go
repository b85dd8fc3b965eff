package transactions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/objectid"
)

// The saga (CONTRACT "Events"):
//
//	create          → pending,    owes transaction.created
//	transaction.created          pending → processing, owes transaction.processing (to the wallet)
//	wallet.transactionFinalized  → completed (applied) or failed (rejected), owes transaction.completed|failed
//
// Every step is a guarded single-document update (store.advance) that writes the state and its event
// together. Consumers are idempotent by business key — the transaction's status: a redelivered, late or
// re-driven event finds the step done and changes nothing. A terminal state is never left.

// consumer is the name of this service's queues: transactions.<routing key>.
const consumer = "transactions"

// consumers are the queues this service consumes and their handlers.
func (s *Service) consumers() bus.Handlers {
	return bus.Handlers{
		contract.Queue(consumer, contract.UserSignup):         event.On(contract.UserSignup, s.onUserSignup),
		contract.Queue(consumer, contract.TransactionCreated): event.On(contract.TransactionCreated, s.onCreated),
		contract.Queue(consumer, contract.WalletTxFinalized):  event.On(contract.WalletTxFinalized, s.onFinalized),
	}
}

// onUserSignup remembers a user as a valid transfer recipient.
func (s *Service) onUserSignup(ctx context.Context, ev event.Received[contract.UserSignupData]) error {
	data := ev.Data
	if !objectid.Valid(data.UserID) {
		return bus.Permanent(fmt.Errorf("user.signup %s: userId %q is not a user id", ev.ID, data.UserID))
	}
	at := data.CreatedAt
	if at.IsZero() {
		at = s.now()
	}
	return s.store.addUser(ctx, userDoc{ID: data.UserID, CreatedAt: at.UTC()})
}

// onCreated begins processing: pending → processing, owing transaction.processing.
func (s *Service) onCreated(ctx context.Context, ev event.Received[contract.TransactionData]) error {
	id, err := eventTxID(ev.Type, ev.ID, ev.Data.ID)
	if err != nil {
		return err
	}
	return s.beginProcessing(ctx, id, ev.Data)
}

// onFinalized records the wallet's answer: completed when the legs were applied, failed when rejected.
func (s *Service) onFinalized(ctx context.Context, ev event.Received[contract.WalletFinalizedData]) error {
	data := ev.Data
	id, err := eventTxID(ev.Type, ev.ID, data.TransactionID)
	if err != nil {
		return err
	}
	to, reason, ok := outcomeStatus(data.Outcome, data.Reason)
	if !ok {
		return bus.Permanent(fmt.Errorf("%s %s: unknown outcome %q", ev.Type, ev.ID, data.Outcome))
	}
	return s.finalize(ctx, id, to, reason)
}

// eventTxID parses the transaction id hex that event eventID of type typ carries; an id that is not
// one is permanent.
func eventTxID(typ, eventID, hex string) (bson.ObjectID, error) {
	id, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		return id, bus.Permanent(fmt.Errorf("%s %s: transaction id %q: %w", typ, eventID, hex, err))
	}
	return id, nil
}

// beginProcessing moves a pending transaction to processing. Any other status means the step is done
// (a duplicate) or overtaken (finalized already): nothing to do.
//
// transaction.created carries the transaction, so the first try needs no read: the update is guarded
// by the pending status and by every field of the transaction, so it applies only if the event says
// what is stored. When it matches nothing, the transaction is read and the step decided on what is
// stored (a duplicate, a transaction moved on, or an event that contradicts the record).
func (s *Service) beginProcessing(ctx context.Context, id bson.ObjectID, data contract.TransactionData) error {
	now := s.now()
	d, err := moveTo(txDoc{ID: id, Type: data.Type, UserID: data.UserID, RecipientID: data.RecipientID, Amount: data.Amount,
		Currency: data.Currency, Description: data.Description, Status: contract.StatusPending, CreatedAt: data.CreatedAt.UTC()},
		contract.StatusProcessing, "", now)
	if err != nil {
		return err
	}
	ev, err := s.processingEvent(ctx, d, now)
	if err != nil {
		return err
	}
	if moved, err := s.store.begin(ctx, d, ev); err != nil || moved {
		return s.afterStep(ctx, d, moved, err)
	}
	next, moved, err := s.store.advance(ctx, id, func(cur txDoc) (step, bool, error) {
		if cur.Status != contract.StatusPending {
			return step{}, false, nil
		}
		next, err := moveTo(cur, contract.StatusProcessing, "", s.now())
		if err != nil {
			return step{}, false, err
		}
		ev, err := s.processingEvent(ctx, next, next.UpdatedAt)
		return step{Next: next, Event: ev}, err == nil, err
	})
	return s.afterStep(ctx, next, moved, err)
}

// finalize ends a transaction with the wallet's outcome. It also ends a pending one: the wallet only
// answers a transaction.processing, so the answer is a fact however early it arrives here, and
// recording it at once loses nothing (the transaction.created still on its way then finds the
// transaction terminal and does nothing). An answer for a transaction already terminal changes nothing;
// a contradicting one is logged, since it means another component broke the contract.
func (s *Service) finalize(ctx context.Context, id bson.ObjectID, to, reason string) error {
	d, moved, err := s.store.advance(ctx, id, func(cur txDoc) (step, bool, error) {
		if isTerminal(cur.Status) {
			if cur.Status != to || cur.FailureReason != reason {
				s.logger.WarnContext(ctx, "finalization contradicts the terminal state; ignored",
					"transaction_id", id.Hex(), "status", cur.Status, "outcome_status", to, "reason", reason)
			}
			return step{}, false, nil
		}
		next, err := moveTo(cur, to, reason, s.now())
		if err != nil {
			return step{}, false, err
		}
		typ := contract.TransactionCompleted
		if to == contract.StatusFailed {
			typ = contract.TransactionFailed
		}
		ev, err := event.New(ctx, contract.TransactionEvents, typ, next.UpdatedAt, next.data())
		if err != nil {
			return step{}, false, fmt.Errorf("finalize %s: %w", id.Hex(), err)
		}
		return step{Next: next, Event: ev}, true, nil
	})
	return s.afterStep(ctx, d, moved, err)
}

// afterStep publishes what a step owes and records its metrics. A transaction this service does not
// have can only come from a broken or foreign event: redelivery cannot fix it.
func (s *Service) afterStep(ctx context.Context, d txDoc, moved bool, err error) error {
	if failure.Is(err, failure.NotFound) {
		return bus.Permanent(err)
	}
	if err != nil {
		return err
	}
	if moved {
		// Counted before the relay is told of the event, so that a count of the event's
		// deliveries downstream never runs ahead of this one.
		s.metrics.finished(d)
		s.outbox.Notify(d.ID)
		s.listsChanged(ctx, d)
		s.logger.DebugContext(ctx, "transaction moved", "transaction_id", d.ID.Hex(), "status", d.Status)
	}
	return nil
}

// processingEvent asks the wallet to apply d's legs.
func (s *Service) processingEvent(ctx context.Context, d txDoc, at time.Time) (event.Event, error) {
	ev, err := event.New(ctx, contract.TransactionEvents, contract.TransactionProcessing, at, contract.TransactionProcessingData{
		TransactionID: d.ID.Hex(), Type: d.Type, UserID: d.UserID, RecipientID: d.RecipientID, Amount: d.Amount, Currency: d.Currency})
	if err != nil {
		return ev, fmt.Errorf("transaction.processing %s: %w", d.ID.Hex(), err)
	}
	return ev, nil
}

// owedEvent is the event that drives d on from its current state: what the sweeper publishes again.
func (s *Service) owedEvent(ctx context.Context, d txDoc, at time.Time) (event.Event, error) {
	switch d.Status {
	case contract.StatusPending:
		ev, err := event.New(ctx, contract.TransactionEvents, contract.TransactionCreated, at, d.data())
		if err != nil {
			return ev, fmt.Errorf("transaction.created %s: %w", d.ID.Hex(), err)
		}
		return ev, nil
	case contract.StatusProcessing:
		return s.processingEvent(ctx, d, at)
	default:
		return event.Event{}, errors.New("a terminal transaction owes nothing")
	}
}

// route is where an event travels: its exchange and routing key.
type route struct{ exchange, key string }

// redrivePath is every route on which a message that drives a transaction on from status may wait: for
// pending its transaction.created; for processing the transaction.processing to the wallet and the
// wallet's answer back. While one of them holds messages, the transaction may be among them.
func redrivePath(status string) []route {
	switch status {
	case contract.StatusPending:
		return []route{{contract.TransactionEvents, contract.TransactionCreated}}
	case contract.StatusProcessing:
		return []route{{contract.TransactionEvents, contract.TransactionProcessing}, {contract.WalletEvents, contract.WalletTxFinalized}}
	default:
		return nil
	}
}
