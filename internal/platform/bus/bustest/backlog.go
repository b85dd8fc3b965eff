package bustest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// testBacklog: the backlog of a key is what waits in every queue bound to it (each queue holds its own
// copy, whatever pattern binds it) until a consumer takes it; a key or an exchange nothing is bound to
// has none.
func testBacklog(t *testing.T, b bus.Bus) {
	const published = 3
	f := newFixture(t, b)
	f.declare(map[string]string{"exact": "order.placed", "wildcard": "order.*", "other": "invoice.sent"})
	for range published {
		f.publish("order.placed")
	}
	f.publish("invoice.sent")

	waitBacklog(t, f, "order.placed", 2*published)
	waitBacklog(t, f, "invoice.sent", 1)
	for _, at := range []struct{ exchange, key string }{{f.exchange, "order.placed.late"}, {f.prefix + "missing", "order.placed"}} {
		if n, err := b.Backlog(ctxT(t), at.exchange, at.key); n != 0 || err != nil {
			t.Errorf("Backlog(%s, %s) = %d, %v; want 0, nil: nothing is bound to it", at.exchange, at.key, n, err)
		}
	}

	receive(t, collect(t, b, f.queue("exact")), published)
	receive(t, collect(t, b, f.queue("wildcard")), published)
	waitBacklog(t, f, "order.placed", 0)
	waitBacklog(t, f, "invoice.sent", 1) // nobody consumes it
}

// testBacklogCountsRetriesNotDeadLetters: a message waiting out its retry delay still waits for its
// consumer, so it counts; one in the dead-letter queue is nobody's work, so it does not. newBus made b
// with a retry delay longer than the test, so the retried message stays in its retry queue.
func testBacklogCountsRetriesNotDeadLetters(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	f.declare(map[string]string{"q": "k"})
	handled := make(chan bus.Message, 16)
	consume(t, b, f.queue("q"), func(_ context.Context, msg bus.Message) error {
		handled <- msg
		if msg.Headers["fate"] == "poison" {
			return bus.Permanent(errors.New("poison"))
		}
		return errors.New("transient")
	})
	// Two dead-lettered and one retried: a count of 1 tells that only the retried one counts.
	for _, fate := range []string{"poison", "poison", "retried"} {
		msg := bus.Message{ID: randomID(), Exchange: f.exchange, Type: "k", Headers: map[string]string{"fate": fate}, Body: []byte(`{}`)}
		if err := b.Publish(ctxT(t), msg); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	receive(t, handled, 3)
	waitBacklog(t, f, "k", 1)
	select {
	case m := <-handled:
		t.Fatalf("delivered again (attempt %d) within the test; the retry delay must outlast it", m.Attempt)
	default:
	}
}

// waitBacklog waits until the backlog of key on the fixture's exchange is want. A broker may count a
// message a moment after it confirmed or acknowledged it.
func waitBacklog(t *testing.T, f *fixture, key string, want int) {
	t.Helper()
	var (
		got int
		err error
	)
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got, err = f.b.Backlog(ctxT(t), f.exchange, key); err == nil && got == want {
			return
		}
	}
	t.Fatalf("Backlog(%s) = %d, %v; want %d within %v", key, got, err, want, timeout)
}
