package rabbitmq_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestBrokerRestartLosesNoConfirmedMessage restarts the broker in the middle of a stream of publishes
// and checks that every message whose Publish returned nil is delivered: the bus reconnects, resumes
// its consumer, and never reports success for a message the broker did not store. The broker is a
// node of the test's own, so no other test notices the restart.
func TestBrokerRestartLosesNoConfirmedMessage(t *testing.T) {
	broker := testenv.OwnRabbit(t)
	b := newBus(t, broker.URL(), rabbitmq.Config{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})

	q := bus.Queue{Name: "restart", Exchange: "restart.events", RoutingKey: "stream"}
	if err := b.Declare(t.Context(), bus.Topology{Exchanges: []string{q.Exchange}, Queues: []bus.Queue{q}}); err != nil {
		t.Fatalf("Declare: %v", err)
	}

	var (
		mu       sync.Mutex
		received = map[string]bool{}
	)
	consumeCtx, stopConsumer := context.WithCancel(context.Background())
	consumed := make(chan error, 1)
	go func() {
		consumed <- b.Consume(consumeCtx, q.Name, func(_ context.Context, msg bus.Message) error {
			mu.Lock()
			received[msg.ID] = true
			mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() {
		stopConsumer()
		if err := <-consumed; !errors.Is(err, context.Canceled) {
			t.Errorf("Consume returned %v, want context.Canceled", err)
		}
	})

	// The stream runs until afterRestart publishes begun after the restart have been confirmed, so it
	// outlasts the outage and the bus's reconnection however long either takes; only a bus that has not
	// reconnected giveUp after the broker is back ends it early. What is asserted is the invariant: the
	// stream straddles the outage (confirmed publishes before and after it), and every confirmed
	// message arrives.
	const restartAt, afterRestart = 100, 100
	const giveUp = 2 * time.Minute
	restart := make(chan struct{})
	type outcome struct {
		published      int
		confirmed      []string
		failed         int
		beforeRestart  int // confirmed among those begun before the broker was back
		afterReconnect int // confirmed among those begun once it was
	}
	restarted := make(chan struct{})
	published := make(chan outcome, 1)
	go func() {
		var (
			o    outcome
			back time.Time
		)
		for ; o.afterReconnect < afterRestart; o.published++ {
			if o.published == restartAt {
				close(restart)
			}
			after := false
			select {
			case <-restarted:
				after = true
				if back.IsZero() {
					back = time.Now()
				}
			default:
			}
			if after && time.Since(back) > giveUp {
				break
			}
			id := fmt.Sprintf("msg-%04d", o.published)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := b.Publish(ctx, bus.Message{ID: id, Exchange: q.Exchange, Type: q.RoutingKey, Body: []byte(`{}`)})
			cancel()
			if err != nil {
				o.failed++ // the outbox would publish it again; the test only tracks confirmed ones
				time.Sleep(20 * time.Millisecond)
				continue
			}
			o.confirmed = append(o.confirmed, id)
			if after {
				o.afterReconnect++
			} else {
				o.beforeRestart++
			}
			time.Sleep(5 * time.Millisecond) // spread the stream over the restart
		}
		published <- o
	}()

	<-restart
	broker.Stop(t)
	broker.Start(t)
	close(restarted)
	o := <-published
	t.Logf("published %d: %d confirmed (%d begun after the restart), %d failed", o.published, len(o.confirmed), o.afterReconnect, o.failed)
	if o.beforeRestart == 0 || o.afterReconnect < afterRestart {
		t.Errorf("confirmed %d publishes before the restart and %d after it (want some, and %d within %v): the bus did not reconnect",
			o.beforeRestart, o.afterReconnect, afterRestart, giveUp)
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		var missing []string
		for _, id := range o.confirmed {
			if !received[id] {
				missing = append(missing, id)
			}
		}
		mu.Unlock()
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d confirmed messages never delivered, e.g. %v", len(missing), missing[:min(len(missing), 5)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
