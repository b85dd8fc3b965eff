package transactions

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
)

func TestRedrivePath(t *testing.T) {
	tests := []struct {
		status string
		want   []route
	}{
		{contract.StatusPending, []route{{contract.TransactionEvents, contract.TransactionCreated}}},
		{contract.StatusProcessing, []route{{contract.TransactionEvents, contract.TransactionProcessing}, {contract.WalletEvents, contract.WalletTxFinalized}}},
		{contract.StatusCompleted, nil},
		{contract.StatusFailed, nil},
	}
	for _, tt := range tests {
		if got := redrivePath(tt.status); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("redrivePath(%q) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestDecideRedrive(t *testing.T) {
	created := route{contract.TransactionEvents, contract.TransactionCreated}
	processing := route{contract.TransactionEvents, contract.TransactionProcessing}
	finalized := route{contract.WalletEvents, contract.WalletTxFinalized}
	down := errors.New("broker down")
	tests := []struct {
		name string
		path []queued
		want redriveDecision
	}{
		{"nothing waits", []queued{{route: created}}, redriveNow},
		{"a message waits", []queued{{route: created, messages: 1}}, redriveLater},
		{"not counted", []queued{{route: created, err: down}}, redriveLater},
		{"nothing waits on either route", []queued{{route: processing}, {route: finalized}}, redriveNow},
		{"the wallet is behind", []queued{{route: processing, messages: 7628}, {route: finalized}}, redriveLater},
		{"its answers wait", []queued{{route: processing}, {route: finalized, messages: 1}}, redriveLater},
		{"one route not counted", []queued{{route: processing}, {route: finalized, err: down}}, redriveLater},
	}
	for _, tt := range tests {
		if got := decideRedrive(tt.path); got != tt.want {
			t.Errorf("%s: decideRedrive(%v) = %v, want %v", tt.name, tt.path, got, tt.want)
		}
	}
}

// countFunc is a bus.BacklogCounter.
type countFunc func(ctx context.Context, exchange, key string) (int, error)

func (f countFunc) Backlog(ctx context.Context, exchange, key string) (int, error) {
	return f(ctx, exchange, key)
}

// TestABacklogNotCountedDefers: with the broker down the sweeper cannot tell late from lost, so it
// re-publishes nothing; it asks about every route on the path.
func TestABacklogNotCountedDefers(t *testing.T) {
	for _, status := range []string{contract.StatusPending, contract.StatusProcessing} {
		var asked []route
		s := &Service{logger: slog.New(slog.DiscardHandler), backlog: countFunc(func(_ context.Context, exchange, key string) (int, error) {
			asked = append(asked, route{exchange, key})
			return 0, errors.New("connection refused")
		})}
		if got := s.redriveDecision(context.Background(), status); got != redriveLater {
			t.Errorf("%s: redriveDecision with the broker down = %v, want redriveLater", status, got)
		}
		if want := redrivePath(status); !reflect.DeepEqual(asked, want) {
			t.Errorf("%s: asked the backlog of %v, want %v", status, asked, want)
		}
	}
}

// onEachBus runs test against RabbitMQ and against the in-process bus of `mint dev`.
func onEachBus(t *testing.T, test func(t *testing.T, inProcess bool)) {
	for name, inProcess := range map[string]bool{"RabbitMQ": false, "InProcess": true} {
		t.Run(name, func(t *testing.T) { test(t, inProcess) })
	}
}

// sweepTimes runs n sweeps and checks that they re-drive nothing.
func (h *harness) sweepTimes(n int) {
	h.t.Helper()
	for range n {
		if redriven, err := h.mod.svc.sweep(context.Background()); err != nil || redriven != 0 {
			h.t.Fatalf("sweep re-drove %d: %v; want none", redriven, err)
		}
	}
}

// sweepUntil sweeps until cond holds: the re-drives a test waits for, once the queues have drained (a
// broker may count a message a moment after it was taken).
func (h *harness) sweepUntil(what string, cond func() bool) {
	h.t.Helper()
	h.eventually(what, func() bool {
		if _, err := h.mod.svc.sweep(context.Background()); err != nil {
			h.t.Fatalf("sweep: %v", err)
		}
		return cond()
	})
}

func (h *harness) redriven(status string) float64 {
	return h.counter("transactions_redriven_total", map[string]string{"status": status})
}

func (h *harness) deferred(status string) float64 {
	return h.counter("transactions_redrive_deferred_total", map[string]string{"status": status})
}

// TestRedriveWaitsForTheWalletsQueue: while the wallet is down, a transaction whose
// transaction.processing waits in the wallet's queue is late, not lost. Past StuckAfter the sweeper
// re-publishes nothing — neither it nor one whose event was lost, since a count cannot tell them
// apart — and the queue keeps the one message it held. Once the wallet has drained its queue, the lost
// one is re-driven exactly once and both complete; the late one never is.
func TestRedriveWaitsForTheWalletsQueue(t *testing.T) {
	onEachBus(t, func(t *testing.T, inProcess bool) {
		h := newHarness(t, harnessOptions{stuckAfter: time.Minute, inProcessBus: inProcess, walletDown: true, manualSweeps: true})
		u := h.newUser()
		late := h.topup(u, "1")
		h.eventually("its transaction.processing in the wallet's queue", func() bool {
			// no longer owed either: a sweep passes over what still owes an event
			d := h.stored(late.ID)
			return d.Status == contract.StatusProcessing && len(d.Outbox) == 0 &&
				h.backlog(contract.TransactionEvents, contract.TransactionProcessing) == 1
		})
		lost := h.insertOwingNothing(bson.NewObjectID(), u, contract.StatusProcessing)
		h.clock.advance(time.Minute + time.Second)

		const sweeps = 3
		h.sweepTimes(sweeps)
		if got := h.deferred(contract.StatusProcessing); got != 2*sweeps {
			t.Errorf("transactions_redrive_deferred_total{processing} = %v, want %d (both, every sweep)", got, 2*sweeps)
		}
		if n := h.backlog(contract.TransactionEvents, contract.TransactionProcessing); n != 1 {
			t.Errorf("the wallet's queue holds %d messages after the sweeps, want the 1 it held", n)
		}
		h.expectPublished(contract.TransactionProcessing, lost.ID.Hex(), 0)

		h.startWallet()
		h.waitStatus(u, late.ID, contract.StatusCompleted)
		h.sweepUntil("the lost transaction re-driven", func() bool { return h.redriven(contract.StatusProcessing) == 1 })
		h.waitStatus(u, lost.ID.Hex(), contract.StatusCompleted)
		h.sweepTimes(1)
		h.expectPublished(contract.TransactionProcessing, late.ID, 1)       // never re-driven
		h.expectPublished(contract.TransactionProcessing, lost.ID.Hex(), 1) // the re-drive, once
		if got := h.redriven(contract.StatusProcessing); got != 1 {
			t.Errorf("transactions_redriven_total{processing} = %v, want 1", got)
		}
	})
}

// TestRedriveWaitsForTheServicesQueues: while this service's consumers are down, a pending transaction
// whose transaction.created waits in their queue, and a processing one whose wallet answer does, are
// late, not lost. Past StuckAfter the sweeper re-publishes nothing of either state, and the queues keep
// what they held. Once the consumers have drained them, the transactions whose events were lost — one
// pending, one processing — are re-driven exactly once each and all complete; the late ones never are.
func TestRedriveWaitsForTheServicesQueues(t *testing.T) {
	onEachBus(t, func(t *testing.T, inProcess bool) {
		h := newHarness(t, harnessOptions{stuckAfter: time.Minute, inProcessBus: inProcess, consumersDown: true, manualSweeps: true})
		id := bson.NewObjectID().Hex() // a top-up needs no known user, and nothing would learn of one
		u := user{id: id, token: h.env.Token(t, id)}

		latePending := h.topup(u, "1")
		answered := h.insertOwingNothing(bson.NewObjectID(), u, contract.StatusProcessing)
		h.publish(context.Background(), contract.WalletEvents, contract.WalletTxFinalized,
			contract.WalletFinalizedData{TransactionID: answered.ID.Hex(), Outcome: contract.OutcomeApplied})
		// Queued, and no longer owed: the relay clears the outbox after the broker took the event, and
		// a sweep passes over a transaction that still owes one.
		h.eventually("the created event and the answer queued", func() bool {
			return h.backlog(contract.TransactionEvents, contract.TransactionCreated) == 1 &&
				h.backlog(contract.WalletEvents, contract.WalletTxFinalized) == 1 &&
				len(h.stored(latePending.ID).Outbox) == 0
		})
		lostPending := h.insertPending(bson.NewObjectID(), u)
		lostProcessing := h.insertOwingNothing(bson.NewObjectID(), u, contract.StatusProcessing)
		h.clock.advance(time.Minute + time.Second)

		const sweeps = 3
		h.sweepTimes(sweeps)
		for _, status := range []string{contract.StatusPending, contract.StatusProcessing} {
			if got := h.deferred(status); got != 2*sweeps {
				t.Errorf("transactions_redrive_deferred_total{%s} = %v, want %d (both, every sweep)", status, got, 2*sweeps)
			}
		}
		for _, r := range []route{{contract.TransactionEvents, contract.TransactionCreated}, {contract.WalletEvents, contract.WalletTxFinalized}} {
			if n := h.backlog(r.exchange, r.key); n != 1 {
				t.Errorf("the queue of %s holds %d messages after the sweeps, want the 1 it held", r.key, n)
			}
		}
		h.expectPublished(contract.TransactionCreated, lostPending.ID.Hex(), 0)
		h.expectPublished(contract.TransactionProcessing, lostProcessing.ID.Hex(), 0)

		h.startConsumers()
		h.waitStatus(u, latePending.ID, contract.StatusCompleted)
		h.waitStatus(u, answered.ID.Hex(), contract.StatusCompleted)
		h.sweepUntil("the lost transactions re-driven", func() bool {
			return h.redriven(contract.StatusPending) == 1 && h.redriven(contract.StatusProcessing) == 1
		})
		h.waitStatus(u, lostPending.ID.Hex(), contract.StatusCompleted)
		h.waitStatus(u, lostProcessing.ID.Hex(), contract.StatusCompleted)
		h.sweepTimes(1)
		h.expectPublished(contract.TransactionCreated, latePending.ID, 1)       // never re-driven
		h.expectPublished(contract.TransactionProcessing, answered.ID.Hex(), 0) // never re-driven
		h.expectPublished(contract.TransactionCreated, lostPending.ID.Hex(), 1) // the re-drive, once
		h.expectPublished(contract.TransactionProcessing, lostProcessing.ID.Hex(), 1)
		for _, status := range []string{contract.StatusPending, contract.StatusProcessing} {
			if got := h.redriven(status); got != 1 {
				t.Errorf("transactions_redriven_total{%s} = %v, want 1", status, got)
			}
		}
	})
}
