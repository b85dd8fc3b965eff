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
// its consumer, and never reports success for a message the broker did not store.
//
// It stops the shared local broker, so `make test` runs it in the serial BrokerRestart phase.
func TestBrokerRestartLosesNoConfirmedMessage(t *testing.T) {
	url := testenv.RabbitURL(t)
	b := newBus(t, url, rabbitmq.Config{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})

	suffix := fmt.Sprint(time.Now().UnixNano())
	q := bus.Queue{Name: "bustest." + suffix + ".restart", Exchange: "bustest." + suffix + ".events", RoutingKey: "stream"}
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

	const total, restartAt = 300, 100
	restart := make(chan struct{})
	type outcome struct {
		confirmed      []string
		failed         int
		afterReconnect int // confirmed once the restart was over
	}
	restarted := make(chan struct{})
	published := make(chan outcome, 1)
	go func() {
		var o outcome
		for i := range total {
			if i == restartAt {
				close(restart)
			}
			id := fmt.Sprintf("%s-%03d", suffix, i)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := b.Publish(ctx, bus.Message{ID: id, Exchange: q.Exchange, Type: q.RoutingKey, Body: []byte(`{}`)})
			cancel()
			if err != nil {
				o.failed++ // the outbox would publish it again; the test only tracks confirmed ones
				continue
			}
			o.confirmed = append(o.confirmed, id)
			select {
			case <-restarted:
				o.afterReconnect++
			default:
			}
			time.Sleep(5 * time.Millisecond) // spread the stream over the restart
		}
		published <- o
	}()

	<-restart
	testenv.StopBroker(t)
	testenv.StartBroker(t)
	close(restarted)
	o := <-published
	t.Logf("published %d: %d confirmed (%d after the restart), %d failed", total, len(o.confirmed), o.afterReconnect, o.failed)
	if o.afterReconnect == 0 {
		t.Errorf("no publish succeeded after the restart: the bus did not reconnect")
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
