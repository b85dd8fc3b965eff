package busmetrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/busmetrics"
	"github.com/mint-wallet/mint/internal/platform/bus/memory"
)

const exchange = "test.events"

// newBus is an in-process bus counted on a registry of its own, with queues "work" (key "k") and
// "idle" (key "idle"), and retries that would outlast the test: each failed message is handled once.
func newBus(t *testing.T) (bus.Bus, *prometheus.Registry) {
	t.Helper()
	inner := memory.New(memory.Config{RetryBase: time.Hour})
	t.Cleanup(func() { _ = inner.Close() })
	reg := prometheus.NewPedanticRegistry()
	b, err := busmetrics.CountHandled(inner, reg)
	if err != nil {
		t.Fatal(err)
	}
	topo := bus.Topology{Exchanges: []string{exchange}, Queues: []bus.Queue{
		{Name: "work", Exchange: exchange, RoutingKey: "k"},
		{Name: "idle", Exchange: exchange, RoutingKey: "idle"},
	}}
	if err := b.Declare(t.Context(), topo); err != nil {
		t.Fatal(err)
	}
	return b, reg
}

// consume runs b.Consume(queue, h) until the returned stop is called or the test ends.
func consume(t *testing.T, b bus.Bus, queue string, h bus.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Consume(ctx, queue, h)
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func publish(t *testing.T, b bus.Bus, key, fate string) {
	t.Helper()
	msg := bus.Message{Exchange: exchange, Type: key, Headers: map[string]string{"fate": fate}, Body: []byte(`{}`)}
	if err := b.Publish(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
}

// waitCount waits until the counter of queue and outcome reads want.
func waitCount(t *testing.T, reg *prometheus.Registry, queue, outcome string, want float64) {
	t.Helper()
	var got float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = count(t, reg, queue, outcome); got == want {
			return
		}
	}
	t.Fatalf("bus_messages_handled_total{queue=%q, outcome=%q} = %v, want %v", queue, outcome, got, want)
}

func count(t *testing.T, reg *prometheus.Registry, queue, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "bus_messages_handled_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["queue"] == queue && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1 // not exported
}

// TestCountsWhatEachQueueHandled: N deliveries handled and M failed (an error, a permanent error, a
// panic) are counted by queue and outcome; a queue whose consumer has handled nothing yet is exported
// at 0, so a rate of it has data.
func TestCountsWhatEachQueueHandled(t *testing.T) {
	const handled = 5
	b, reg := newBus(t)
	consume(t, b, "work", func(_ context.Context, msg bus.Message) error {
		switch msg.Headers["fate"] {
		case "error":
			return errors.New("boom")
		case "permanent":
			return bus.Permanent(errors.New("does not parse"))
		case "panic":
			panic("handler bug")
		}
		return nil
	})
	consume(t, b, "idle", func(context.Context, bus.Message) error { return nil })

	for range handled {
		publish(t, b, "k", "ok")
	}
	failed := []string{"error", "permanent", "panic"}
	for _, fate := range failed {
		publish(t, b, "k", fate)
	}
	waitCount(t, reg, "work", busmetrics.OK, handled)
	waitCount(t, reg, "work", busmetrics.Error, float64(len(failed)))
	// The idle queue's consumer starts in a goroutine of its own: its series are there once it has
	// (ok, then error).
	waitCount(t, reg, "idle", busmetrics.Error, 0)

	want := `
# HELP bus_messages_handled_total Deliveries the consumers of each queue finished: outcome ok (acknowledged) or error (retried or dead-lettered). A redelivered message counts again.
# TYPE bus_messages_handled_total counter
bus_messages_handled_total{outcome="error",queue="idle"} 0
bus_messages_handled_total{outcome="error",queue="work"} 3
bus_messages_handled_total{outcome="ok",queue="idle"} 0
bus_messages_handled_total{outcome="ok",queue="work"} 5
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "bus_messages_handled_total"); err != nil {
		t.Error(err)
	}
}

// TestADeliveryCutShortIsNotCounted: a message whose consumer stops while its handler runs goes back to
// the queue, so it counts once, when the next consumer handles it: published minus handled stays what
// the queue holds.
func TestADeliveryCutShortIsNotCounted(t *testing.T) {
	b, reg := newBus(t)
	started := make(chan struct{})
	stop := consume(t, b, "work", func(ctx context.Context, _ bus.Message) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	publish(t, b, "k", "ok")
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the message was not delivered")
	}
	stop()
	if ok, failed := count(t, reg, "work", busmetrics.OK), count(t, reg, "work", busmetrics.Error); ok != 0 || failed != 0 {
		t.Fatalf("counted %v ok and %v error for a delivery cut short, want 0 and 0", ok, failed)
	}

	consume(t, b, "work", func(context.Context, bus.Message) error { return nil })
	waitCount(t, reg, "work", busmetrics.OK, 1)
	if failed := count(t, reg, "work", busmetrics.Error); failed != 0 {
		t.Errorf("counted %v errors, want 0", failed)
	}
}
