// Package bustest is the contract every bus.Bus adapter must honour, written once and run against each
// of them (the in-process bus and RabbitMQ), so that `mint dev` behaves like production.
package bustest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// The retry policy of the suite: it counts attempts and keeps back-off short.
const (
	MaxAttempts = 3
	RetryBase   = 20 * time.Millisecond
	RetryMax    = 50 * time.Millisecond
)

// Retry is the retry delay newBus configures: the first delay and its cap.
type Retry struct{ Base, Max time.Duration }

// slowRetry is the retry delay of the bus of the tests that must find a failed message still in its
// retry queue: longer than any wait of the suite.
var slowRetry = Retry{Base: 2 * time.Minute, Max: 2 * time.Minute}

// timeout bounds every wait of the suite; conditions normally hold within milliseconds.
const timeout = 20 * time.Second

// Run runs the contract suite. newBus returns a fresh bus configured with MaxAttempts and retry (for
// most tests {RetryBase, RetryMax}) and registers its own cleanup (closing it). The suite leaves what it
// declares behind, so on a real broker it runs in a virtual host of its own; every name it uses is
// unique and starts with "bustest.", so its parallel subtests can share that vhost.
func Run(t *testing.T, newBus func(t *testing.T, retry Retry) bus.Bus) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b bus.Bus)
	}{
		{"Delivery", testDelivery},
		{"Routing", testRouting},
		{"FanOut", testFanOut},
		{"RedeliveryWhenConsumerStops", testRedelivery},
		{"RetryCountsAttempts", testRetryCountsAttempts},
		{"PanicIsRetried", testPanicIsRetried},
		{"PoisonToDeadLetterQueue", testPoison},
		{"OutageIsRetriedNeverDeadLettered", testOutage},
		{"ConcurrentPublishers", testConcurrentPublishers},
		{"Unroutable", testUnroutable},
		{"DeclareIdempotent", testDeclareIdempotent},
		{"Listen", testListen},
		{"ListenToAMissingExchange", testListenToAMissingExchange},
		{"Backlog", testBacklog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newBus(t, Retry{Base: RetryBase, Max: RetryMax}))
		})
	}
	t.Run("BacklogCountsRetriesNotDeadLetters", func(t *testing.T) {
		t.Parallel()
		testBacklogCountsRetriesNotDeadLetters(t, newBus(t, slowRetry))
	})
}

// fixture is a private topology: one exchange and named queues bound to it.
type fixture struct {
	t        *testing.T
	b        bus.Bus
	exchange string
	prefix   string
}

func newFixture(t *testing.T, b bus.Bus) *fixture {
	t.Helper()
	p := "bustest." + randomID() + "."
	return &fixture{t: t, b: b, exchange: p + "events", prefix: p}
}

// declare declares the fixture's exchange and one queue per name→routing key pattern.
func (f *fixture) declare(queues map[string]string) bus.Topology {
	f.t.Helper()
	topo := bus.Topology{Exchanges: []string{f.exchange}}
	for name, key := range queues {
		topo.Queues = append(topo.Queues, bus.Queue{Name: f.queue(name), Exchange: f.exchange, RoutingKey: key})
	}
	if err := f.b.Declare(ctxT(f.t), topo); err != nil {
		f.t.Fatalf("Declare: %v", err)
	}
	return topo
}

func (f *fixture) queue(name string) string { return f.prefix + name }

// publish publishes a message with a fresh ID and the given routing key, failing the test on error.
func (f *fixture) publish(key string) bus.Message {
	f.t.Helper()
	msg := bus.Message{ID: randomID(), Exchange: f.exchange, Type: key, Body: []byte(`{"n":1}`)}
	if err := f.b.Publish(ctxT(f.t), msg); err != nil {
		f.t.Fatalf("Publish %s: %v", key, err)
	}
	return msg
}

// consume runs b.Consume(queue, h) in a goroutine until the returned stop is called (or the test ends),
// and checks that Consume then returns the context's error.
func consume(t *testing.T, b bus.Bus, queue string, h bus.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Consume(ctx, queue, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Consume(%s) returned %v, want context.Canceled", queue, err)
				}
			case <-time.After(timeout):
				t.Errorf("Consume(%s) did not return after its context ended", queue)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// collect consumes queue into the returned channel, acknowledging everything.
func collect(t *testing.T, b bus.Bus, queue string) <-chan bus.Message {
	t.Helper()
	ch := make(chan bus.Message, 4096)
	consume(t, b, queue, func(_ context.Context, msg bus.Message) error {
		ch <- msg
		return nil
	})
	return ch
}

// receive waits for n messages from ch.
func receive(t *testing.T, ch <-chan bus.Message, n int) []bus.Message {
	t.Helper()
	deadline := time.After(timeout)
	var got []bus.Message
	for len(got) < n {
		select {
		case m := <-ch:
			got = append(got, m)
		case <-deadline:
			t.Fatalf("received %d of %d messages within %v", len(got), n, timeout)
		}
	}
	return got
}

// ctxT is a context bounded by the suite's timeout and the test's life.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

func randomID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// listen runs b.Listen in a goroutine until the test ends, into the returned channel, and returns once
// it hears: it publishes probes (key) until one arrives, since a listener hears only what is published
// after it listens.
func listen(t *testing.T, f *fixture, pattern, probe string) <-chan bus.Message {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	heard := make(chan bus.Message, 4096)
	done := make(chan error, 1)
	go func() {
		done <- f.b.Listen(ctx, f.exchange, pattern, func(_ context.Context, msg bus.Message) { heard <- msg })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Listen returned %v, want context.Canceled", err)
			}
		case <-time.After(timeout):
			t.Error("Listen did not return after its context ended")
		}
	})
	deadline := time.Now().Add(timeout)
	for {
		f.publish(probe)
		select {
		case <-heard:
			return heard
		case err := <-done:
			t.Fatalf("Listen returned %v before hearing anything", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the listener heard no probe within %v", timeout)
		}
	}
}

// testListen: every listener hears every matching message, in publishing order, and a queue's
// consumer still gets its own.
func testListen(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	f.declare(map[string]string{"work": "a.x", "probes": "a.probe"}) // probes: routable before anyone listens
	work := collect(t, b, f.queue("work"))
	one, two := listen(t, f, "a.*", "a.probe"), listen(t, f, "#", "a.probe")
	sent := []bus.Message{f.publish("a.x"), f.publish("b.y"), f.publish("a.z")}
	for name, tt := range map[string]struct {
		heard <-chan bus.Message
		want  []bus.Message
	}{"a.*": {one, []bus.Message{sent[0], sent[2]}}, "#": {two, sent}} {
		var got []string
		for len(got) < len(tt.want) {
			select {
			case m := <-tt.heard:
				if m.Type != "a.probe" {
					got = append(got, m.ID)
				}
			case <-time.After(timeout):
				t.Fatalf("listener %s heard %d of %d messages", name, len(got), len(tt.want))
			}
		}
		for i, m := range tt.want {
			if got[i] != m.ID {
				t.Errorf("listener %s heard %v, want the messages in publishing order", name, got)
				break
			}
		}
	}
	if got := receive(t, work, 1); got[0].ID != sent[0].ID {
		t.Errorf("the queue's consumer got %v, want its message as if nobody listened", got)
	}
}

// testListenToAMissingExchange: a listener on an exchange nobody declared is told at once.
func testListenToAMissingExchange(t *testing.T, b bus.Bus) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := b.Listen(ctx, "bustest."+randomID()+".missing", "#", func(context.Context, bus.Message) {})
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Listen to a missing exchange = %v, want an error at once", err)
	}
}
