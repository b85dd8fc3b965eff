package transactions

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
)

// settle waits until the finalization queue has handled everything published before: it finalizes a
// fresh sentinel transaction and waits for it. One consumer handles a queue in order, so whatever was
// queued before the sentinel's answer has been handled by then.
func (h *harness) settle(u user) {
	h.t.Helper()
	id := bson.NewObjectID()
	h.insertPending(id, u)
	h.publish(context.Background(), contract.WalletEvents, contract.WalletTxFinalized,
		contract.WalletFinalizedData{TransactionID: id.Hex(), Outcome: contract.OutcomeApplied})
	h.eventually("sentinel finalized", func() bool { return h.dbTx(id.Hex()).Status == contract.StatusCompleted })
}

// insertPending stores a pending transaction that owes nothing: as if its transaction.created had been
// published and then lost.
func (h *harness) insertPending(id bson.ObjectID, u user) txDoc {
	h.t.Helper()
	return h.insertOwingNothing(id, u, contract.StatusPending)
}

// insertOwingNothing stores a top-up of 0.01 in status (pending or processing) that owes nothing: as if
// the event of its state had been published and then lost.
func (h *harness) insertOwingNothing(id bson.ObjectID, u user, status string) txDoc {
	h.t.Helper()
	now := h.mod.svc.now()
	d := txDoc{ID: id, Type: contract.TypeTopup, UserID: u.id, Amount: 1, Currency: "USD",
		Status: status, CreatedAt: now, UpdatedAt: now, DrivenAt: now}
	if err := h.mod.svc.store.insertTx(context.Background(), d); err != nil {
		h.t.Fatal(err)
	}
	return d
}

// TestSagaIsIdempotent delivers every saga event twice and out of order: the transaction reaches one
// terminal state, keeps it, and each transition's event is published once.
func TestSagaIsIdempotent(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	u := h.newUser()

	// Duplicated finalization, then a late created and a contradicting rejection.
	tx := h.topup(u, "12.34")
	h.wallet.plan(tx.ID, answer{outcome: contract.OutcomeApplied, times: 2})
	done := h.waitStatus(u, tx.ID, contract.StatusCompleted)
	h.republish(contract.TransactionCreated, tx.ID)
	h.republish(contract.TransactionCreated, tx.ID)
	h.republish(contract.TransactionProcessing, tx.ID) // the wallet answers it again: a third "applied"
	h.publish(ctx, contract.WalletEvents, contract.WalletTxFinalized, contract.WalletFinalizedData{
		TransactionID: tx.ID, Outcome: contract.OutcomeRejected, Reason: contract.ReasonInsufficientFunds})
	// Let a new transaction pass through every queue: what was queued before it has been handled.
	h.waitStatus(u, h.topup(u, "1").ID, contract.StatusCompleted)
	h.settle(u)
	again := h.get(u, tx.ID).tx(t)
	if again.Status != contract.StatusCompleted || again.FailureReason != "" || !again.UpdatedAt.Equal(done.UpdatedAt) {
		t.Fatalf("terminal state changed: %+v, was %+v", again, done)
	}
	for typ, want := range map[string]int{contract.TransactionCreated: 1, contract.TransactionProcessing: 1,
		contract.TransactionCompleted: 1, contract.TransactionFailed: 0} {
		h.expectPublished(typ, tx.ID, want)
	}
	if got := h.counter("transactions_total", map[string]string{"type": "topup", "status": "completed"}); got != 3 { // tx, the "1" and the sentinel
		t.Errorf("transactions_total{topup,completed} = %v, want 3", got)
	}

	// A finalization that arrives while the transaction is still pending is applied at once, and the
	// created event arriving after it changes nothing.
	early := bson.NewObjectID()
	d := h.insertPending(early, u)
	for range 2 {
		h.publish(ctx, contract.WalletEvents, contract.WalletTxFinalized, contract.WalletFinalizedData{
			TransactionID: early.Hex(), Outcome: contract.OutcomeRejected, Reason: contract.ReasonInsufficientFunds})
	}
	failed := h.waitStatus(u, early.Hex(), contract.StatusFailed)
	h.publish(ctx, contract.TransactionEvents, contract.TransactionCreated, d.data())
	h.waitStatus(u, h.topup(u, "2").ID, contract.StatusCompleted) // created queue drained past it
	if got := h.get(u, early.Hex()).tx(t); got.Status != contract.StatusFailed || !got.UpdatedAt.Equal(failed.UpdatedAt) ||
		got.FailureReason != contract.ReasonInsufficientFunds {
		t.Fatalf("early-finalized transaction changed: %+v", got)
	}
	if got := h.recorder.count(contract.TransactionProcessing, early.Hex()); got != 0 {
		t.Errorf("a finalized transaction asked the wallet to process it %d times", got)
	}
	h.expectPublished(contract.TransactionFailed, early.Hex(), 1)
}

// TestSweeperRedrives loses events at both saga steps; once they are older than StuckAfter, the sweeper
// publishes them again and the transactions finish.
func TestSweeperRedrives(t *testing.T) {
	h := newHarness(t, harnessOptions{stuckAfter: time.Minute})
	u := h.newUser()

	// Stuck in processing: the wallet's answer to the first transaction.processing is lost.
	processing := bson.NewObjectID()
	h.wallet.plan(processing.Hex(), answer{})
	if _, err := h.mod.svc.insert(context.Background(), processing, command{Type: contract.TypeTopup, UserID: u.id, Amount: 99}); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(u, processing.Hex(), contract.StatusProcessing)
	// Stuck in pending: its transaction.created is gone.
	pending := bson.NewObjectID()
	h.insertPending(pending, u)

	time.Sleep(200 * time.Millisecond) // several sweeps: nothing is old enough yet
	if h.dbTx(pending.Hex()).Status != contract.StatusPending || h.dbTx(processing.Hex()).Status != contract.StatusProcessing {
		t.Fatal("re-driven before StuckAfter")
	}
	h.clock.advance(time.Minute + time.Second)
	h.waitStatus(u, processing.Hex(), contract.StatusCompleted)
	h.waitStatus(u, pending.Hex(), contract.StatusCompleted)
	h.expectPublished(contract.TransactionProcessing, processing.Hex(), 2) // the original and the re-drive
	h.expectPublished(contract.TransactionCreated, pending.Hex(), 1)       // the re-drive only
	h.expectPublished(contract.TransactionCompleted, processing.Hex(), 1)
	for _, status := range []string{contract.StatusPending, contract.StatusProcessing} {
		if got := h.counter("transactions_redriven_total", map[string]string{"status": status}); got != 1 {
			t.Errorf("transactions_redriven_total{status=%q} = %v, want 1", status, got)
		}
	}
	// Terminal transactions are left alone however old.
	h.clock.advance(time.Hour)
	if n, err := h.mod.svc.sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweep of finished transactions re-drove %d: %v", n, err)
	}
}

// TestPoisonEventsAreDeadLettered sends events no redelivery can fix; each goes to its queue's DLQ and
// the events behind them are still handled.
func TestPoisonEventsAreDeadLettered(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	u := h.newUser()

	raw := func(exchange, key string, body string) {
		h.publishRaw(ctx, bus.Message{ID: bson.NewObjectID().Hex(), Exchange: exchange, Type: key, Timestamp: time.Now(), Body: []byte(body)})
	}
	raw(contract.WalletEvents, contract.WalletTxFinalized, `{not json`)
	h.publish(ctx, contract.WalletEvents, contract.WalletTxFinalized, contract.WalletFinalizedData{TransactionID: "nope", Outcome: contract.OutcomeApplied})
	h.publish(ctx, contract.WalletEvents, contract.WalletTxFinalized, contract.WalletFinalizedData{TransactionID: bson.NewObjectID().Hex(), Outcome: contract.OutcomeApplied}) // unknown transaction
	h.publish(ctx, contract.WalletEvents, contract.WalletTxFinalized, map[string]any{"transactionId": bson.NewObjectID().Hex(), "outcome": "maybe"})
	h.publish(ctx, contract.TransactionEvents, contract.TransactionCreated, map[string]any{"id": 42})
	h.publish(ctx, contract.AuthEvents, contract.UserSignup, contract.UserSignupData{UserID: "not-an-id"})

	// The queues are not blocked.
	tx := h.topup(u, "5")
	h.waitStatus(u, tx.ID, contract.StatusCompleted)
	h.newUser()

	dead := map[string]int{
		contract.Queue(consumer, contract.WalletTxFinalized):  4,
		contract.Queue(consumer, contract.TransactionCreated): 1,
		contract.Queue(consumer, contract.UserSignup):         1,
	}
	for queue, want := range dead {
		got := h.drain(bus.DeadLetterQueue(queue), want)
		if len(got) != want {
			t.Errorf("%s holds %d messages, want %d", bus.DeadLetterQueue(queue), len(got), want)
		}
	}
}

// drain consumes up to want messages of queue, waiting up to 10 s for them.
func (h *harness) drain(queue string, want int) []bus.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan bus.Message, 64)
	go func() {
		_ = h.bus.Consume(ctx, queue, func(_ context.Context, m bus.Message) error {
			got <- m
			return nil
		})
	}()
	var out []bus.Message
	for len(out) < want {
		select {
		case m := <-got:
			out = append(out, m)
		case <-ctx.Done():
			return out
		}
	}
	// Nothing more than expected shows up.
	select {
	case m := <-got:
		out = append(out, m)
	case <-time.After(200 * time.Millisecond):
	}
	return out
}

// TestCreatedEventIsCheckedAgainstTheRecord begins processing from the transaction that
// transaction.created carries without reading it first, so an event whose copy differs from the stored
// transaction must not reach the wallet: the wallet is asked for what is stored.
func TestCreatedEventIsCheckedAgainstTheRecord(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	u := h.newUser()
	id := bson.NewObjectID()
	d := h.insertPending(id, u) // a top-up of 0.01
	h.wallet.plan(id.Hex(), answer{outcome: contract.OutcomeApplied})
	forged := d.data()
	forged.Amount = 1_000_000
	h.publish(ctx, contract.TransactionEvents, contract.TransactionCreated, forged)
	h.waitStatus(u, id.Hex(), contract.StatusCompleted)

	var amounts []int64
	h.messages.Range(func(_, v any) bool {
		msg := v.(bus.Message)
		var p contract.TransactionProcessingData
		if msg.Type == contract.TransactionProcessing {
			if _, err := event.Decode(msg, &p); err == nil && p.TransactionID == id.Hex() {
				amounts = append(amounts, p.Amount)
			}
		}
		return true
	})
	if len(amounts) != 1 || amounts[0] != d.Amount {
		t.Fatalf("transaction.processing amounts %v, want one of %d (the stored amount)", amounts, d.Amount)
	}
}

// completedData returns what each transaction.completed published for txID carries.
func (h *harness) completedData(txID string) []contract.TransactionData {
	var out []contract.TransactionData
	h.messages.Range(func(_, v any) bool {
		msg := v.(bus.Message)
		var d contract.TransactionData
		if msg.Type == contract.TransactionCompleted {
			if _, err := event.Decode(msg, &d); err == nil && d.ID == txID {
				out = append(out, d)
			}
		}
		return true
	})
	return out
}

// TestFinalizingFromWhatItWrote: the process that moved a transaction to processing finalizes it from
// the document it wrote, without reading it. The completion event still carries the transaction as
// stored, every field of it; and when another writer (a replica) ended the transaction meanwhile, the
// guess misses and the stored outcome stands.
func TestFinalizingFromWhatItWrote(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	u := h.newUser()

	id := bson.NewObjectID()
	d := h.insertPending(id, u)
	if _, err := h.mod.svc.store.txs.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "description", Value: "rent, March"}}}}); err != nil {
		t.Fatal(err)
	}
	d.Description = "rent, March"
	h.publish(ctx, contract.TransactionEvents, contract.TransactionCreated, d.data())
	h.waitStatus(u, id.Hex(), contract.StatusCompleted)
	h.expectPublished(contract.TransactionCompleted, id.Hex(), 1)
	if got, want := h.completedData(id.Hex()), h.dbTx(id.Hex()).data(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("transaction.completed carries %+v, want the stored %+v", got, want)
	}

	// Ended by another writer while this process remembers it in processing.
	raced := bson.NewObjectID()
	h.wallet.plan(raced.Hex(), answer{}) // no answer: it stays in processing
	h.publish(ctx, contract.TransactionEvents, contract.TransactionCreated, h.insertPending(raced, u).data())
	h.eventually("in processing", func() bool { return h.dbTx(raced.Hex()).Status == contract.StatusProcessing })
	if _, err := h.mod.svc.store.txs.UpdateOne(ctx, bson.D{{Key: "_id", Value: raced}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: contract.StatusFailed}, {Key: "failureReason", Value: contract.ReasonInsufficientFunds}}}}); err != nil {
		t.Fatal(err)
	}
	h.publish(ctx, contract.WalletEvents, contract.WalletTxFinalized,
		contract.WalletFinalizedData{TransactionID: raced.Hex(), Outcome: contract.OutcomeApplied})
	h.settle(u)
	if got := h.dbTx(raced.Hex()); got.Status != contract.StatusFailed || got.FailureReason != contract.ReasonInsufficientFunds {
		t.Fatalf("the stored outcome was overwritten: %+v", got)
	}
	h.expectPublished(contract.TransactionCompleted, raced.Hex(), 0)
}

// TestCreatedEventMustMatchEveryField: a transaction.created whose description or creation time differs
// from the stored transaction does not begin processing from its copy; the completion carries what is
// stored.
func TestCreatedEventMustMatchEveryField(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	u := h.newUser()
	for name, forge := range map[string]func(*contract.TransactionData){
		"description":   func(d *contract.TransactionData) { d.Description = "forged" },
		"creation time": func(d *contract.TransactionData) { d.CreatedAt = d.CreatedAt.Add(-time.Hour) },
	} {
		id := bson.NewObjectID()
		forged := h.insertPending(id, u).data()
		forge(&forged)
		h.publish(ctx, contract.TransactionEvents, contract.TransactionCreated, forged)
		h.waitStatus(u, id.Hex(), contract.StatusCompleted)
		h.expectPublished(contract.TransactionCompleted, id.Hex(), 1)
		if got, want := h.completedData(id.Hex()), h.dbTx(id.Hex()).data(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("forged %s: transaction.completed carries %+v, want the stored %+v", name, got, want)
		}
	}
}
