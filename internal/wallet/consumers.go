package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// consumers returns the wallet's queues. Every handler is idempotent, keyed by business keys (the
// user's wallet, the transaction's legs and finalization), never by event id: a redelivered, replayed
// or re-published event, in any order, changes nothing twice.
func (s *Service) consumers() bus.Handlers {
	return bus.Handlers{
		contract.Queue("wallet", contract.UserSignup):            s.onUserSignup,
		contract.Queue("wallet", contract.TransactionProcessing): s.onTransactionProcessing,
		contract.Queue("wallet", contract.TransactionFailed):     s.onTransactionFailed,
	}
}

// decode parses msg as an event of type want into v. Every failure is permanent: redelivery cannot
// make a malformed event well-formed, so it goes to the dead-letter queue instead of blocking the
// queue.
func decode(msg bus.Message, want string, v any) error {
	env, err := contract.Decode(msg, v)
	if err != nil {
		return err // already Permanent
	}
	if env.Type != want {
		return bus.Permanent(fmt.Errorf("event %s has type %q, want %q", env.ID, env.Type, want))
	}
	return nil
}

// traced continues the trace of the request that caused msg, so the events the handler owes carry it.
func traced(ctx context.Context, msg bus.Message) context.Context {
	return observe.ExtractTrace(ctx, msg.Headers)
}

func (s *Service) onUserSignup(ctx context.Context, msg bus.Message) error {
	var d contract.UserSignupData
	if err := decode(msg, contract.UserSignup, &d); err != nil {
		return err
	}
	if !isObjectID(d.UserID) {
		return bus.Permanent(fmt.Errorf("user.signup %s: userId %q is not a 24-hex id", msg.ID, d.UserID))
	}
	return s.CreateWallet(traced(ctx, msg), d.UserID)
}

func (s *Service) onTransactionProcessing(ctx context.Context, msg bus.Message) error {
	var p contract.TransactionProcessingData
	if err := decode(msg, contract.TransactionProcessing, &p); err != nil {
		return err
	}
	if err := validateProcessing(p, s.currency); err != nil {
		return bus.Permanent(fmt.Errorf("transaction.processing %s: %w", msg.ID, err))
	}
	err := s.Process(traced(ctx, msg), p, msg.Attempt >= s.missingAttempts)
	if errors.Is(err, errWalletNotFound) {
		s.logger.InfoContext(ctx, "wallet not there yet; the event will come back", "transaction_id", p.TransactionID,
			"attempt", msg.Attempt)
	}
	return err
}

func (s *Service) onTransactionFailed(ctx context.Context, msg bus.Message) error {
	var tx contract.TransactionData
	if err := decode(msg, contract.TransactionFailed, &tx); err != nil {
		return err
	}
	if !isObjectID(tx.ID) {
		return bus.Permanent(fmt.Errorf("transaction.failed %s: id %q is not a 24-hex id", msg.ID, tx.ID))
	}
	return s.Fail(traced(ctx, msg), tx)
}
