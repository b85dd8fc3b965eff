package bustest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
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
