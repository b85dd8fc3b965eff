package bustest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
	"github.com/mint-wallet/mint/internal/platform/failure"
)

// testRetryCountsAttempts: a failed message comes back with Attempt incremented, headers intact, and
// succeeds on its last allowed attempt.
func testRetryCountsAttempts(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	f.declare(map[string]string{"q": "k"})
	attempts := make(chan bus.Message, 16)
	consume(t, b, f.queue("q"), func(_ context.Context, msg bus.Message) error {
		attempts <- msg
		if msg.Attempt < MaxAttempts {
			return errors.New("transient")
		}
		return nil
	})
	sent := bus.Message{ID: randomID(), Exchange: f.exchange, Type: "k", Headers: map[string]string{"traceparent": "tp"}, Body: []byte(`{}`)}
	if err := b.Publish(ctxT(t), sent); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for i, m := range receive(t, attempts, MaxAttempts) {
		if m.ID != sent.ID || m.Attempt != i+1 || m.Exchange != f.exchange || m.Type != "k" || len(m.Headers) != 1 || m.Headers["traceparent"] != "tp" {
			t.Errorf("delivery %d: %+v, want ID %s, Attempt %d, exchange, type and headers kept", i+1, m, sent.ID, i+1)
		}
	}
}

// testPanicIsRetried: a panicking handler is an ordinary failure, not a crash.
func testPanicIsRetried(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	f.declare(map[string]string{"q": "k"})
	attempts := make(chan bus.Message, 16)
	consume(t, b, f.queue("q"), func(_ context.Context, msg bus.Message) error {
		attempts <- msg
		if msg.Attempt == 1 {
			panic("handler bug")
		}
		return nil
	})
	sent := f.publish("k")
	for i, m := range receive(t, attempts, 2) {
		if m.ID != sent.ID || m.Attempt != i+1 {
			t.Errorf("delivery %d: ID %s attempt %d, want %s attempt %d", i+1, m.ID, m.Attempt, sent.ID, i+1)
		}
	}
}

// testPoison: a message that keeps failing ends in the dead-letter queue — after MaxAttempts, or at once
// for a Permanent error — with its headers and the error, and never holds up the messages behind it.
func testPoison(t *testing.T, b bus.Bus) {
	for _, tc := range []struct {
		name         string
		err          error
		wantAttempts int
	}{
		{"Transient", errors.New("boom"), MaxAttempts},
		{"Permanent", bus.Permanent(errors.New("boom")), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testPoisonWith(t, b, tc.err, tc.wantAttempts)
		})
	}
}

func testPoisonWith(t *testing.T, b bus.Bus, failure error, wantAttempts int) {
	const good = 5
	f := newFixture(t, b)
	f.declare(map[string]string{"q": "k"})
	dlq := collect(t, b, bus.DeadLetterQueue(f.queue("q")))

	// events records the order of handler calls: "poison#<attempt>" or "good".
	var (
		mu     sync.Mutex
		events []string
	)
	goods := make(chan bus.Message, good)
	consume(t, b, f.queue("q"), func(_ context.Context, msg bus.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if msg.Headers["poison"] == "yes" {
			events = append(events, fmt.Sprintf("poison#%d", msg.Attempt))
			return failure
		}
		events = append(events, "good")
		goods <- msg
		return nil
	})

	poison := bus.Message{ID: randomID(), Exchange: f.exchange, Type: "k", Headers: map[string]string{"poison": "yes", "traceparent": "tp"}, Body: []byte(`{}`)}
	if err := b.Publish(ctxT(t), poison); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for range good {
		f.publish("k")
	}
	receive(t, goods, good)

	dead := receive(t, dlq, 1)[0]
	if dead.ID != poison.ID || dead.Attempt != wantAttempts || dead.Exchange != f.exchange || dead.Type != "k" ||
		dead.Headers["poison"] != "yes" || dead.Headers["traceparent"] != "tp" || !strings.Contains(dead.Headers[policy.ErrorHeader], "boom") {
		t.Errorf("dead-lettered %+v, want ID %s, Attempt %d, exchange, type, headers and %s kept", dead, poison.ID, wantAttempts, policy.ErrorHeader)
	}

	mu.Lock()
	defer mu.Unlock()
	var poisonCalls []string
	for _, e := range events {
		if strings.HasPrefix(e, "poison") {
			poisonCalls = append(poisonCalls, e)
		}
	}
	var want []string
	for i := 1; i <= wantAttempts; i++ {
		want = append(want, fmt.Sprintf("poison#%d", i))
	}
	if !slices.Equal(poisonCalls, want) {
		t.Errorf("poison handled as %v, want %v", poisonCalls, want)
	}
	// The goods were published right behind the poison: they must not wait for its retries.
	if wantAttempts > 1 && slices.Index(events, "good") > slices.Index(events, "poison#2") {
		t.Errorf("good messages waited for the poison's retries: %v", events)
	}
}

// testOutage: a handler that fails because a dependency did not answer (an error of kind
// failure.Unavailable, wrapped as a store returns it) is retried for as long as the outage lasts, far
// beyond MaxAttempts, without using up an attempt: its message is never dead-lettered, is handled once
// the dependency is back, and a real failure after the outage still gets every attempt.
func testOutage(t *testing.T, b bus.Bus) {
	const outage = 4 * MaxAttempts // deliveries failed while the dependency is away
	f := newFixture(t, b)
	f.declare(map[string]string{"q": "k"})
	dlq := collect(t, b, bus.DeadLetterQueue(f.queue("q")))
	down := fmt.Errorf("credit wallet: %w", failure.New(failure.Unavailable, "database not answering"))

	var (
		mu       sync.Mutex
		attempts []int // the message's Attempt at each delivery
		handled  int   // deliveries that succeeded
	)
	done := make(chan struct{})
	consume(t, b, f.queue("q"), func(_ context.Context, msg bus.Message) error {
		if msg.Headers["fate"] == "sentinel" {
			return bus.Permanent(errors.New("sentinel"))
		}
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, msg.Attempt)
		switch n := len(attempts); {
		case n <= outage:
			return down
		case n < outage+MaxAttempts: // the dependency is back; a real failure on all but the last attempt
			return errors.New("boom")
		}
		if handled++; handled == 1 {
			close(done)
		}
		return nil
	})
	f.publish("k")
	select {
	case <-done:
	case <-time.After(timeout):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("not handled within %v; delivered at attempts %v", timeout, attempts)
	}

	// The dead-letter queue is FIFO: a sentinel dead-lettered now is the first thing in it unless the
	// message went there too. And once nothing waits for the queue's consumer, no copy of the message
	// is left to deliver again.
	sentinel := bus.Message{ID: randomID(), Exchange: f.exchange, Type: "k", Headers: map[string]string{"fate": "sentinel"}, Body: []byte(`{}`)}
	if err := b.Publish(ctxT(t), sentinel); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if dead := receive(t, dlq, 1)[0]; dead.ID != sentinel.ID {
		t.Errorf("dead-lettered %s at attempt %d (%s), want nothing but the sentinel", dead.ID, dead.Attempt, dead.Headers[policy.ErrorHeader])
	}
	waitBacklog(t, f, "k", 0)

	want := slices.Repeat([]int{1}, outage+1)
	for a := 2; a <= MaxAttempts; a++ {
		want = append(want, a)
	}
	mu.Lock()
	defer mu.Unlock()
	if handled != 1 {
		t.Errorf("handled %d times, want once", handled)
	}
	if !slices.Equal(attempts, want) {
		t.Errorf("delivered at attempts %v, want %v: an outage uses up no attempt", attempts, want)
	}
}
