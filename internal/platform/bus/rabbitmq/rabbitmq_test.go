package rabbitmq_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/bustest"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestContract runs the bus contract in a vhost of its own: every name the suite declares is unique,
// so its parallel subtests share it, and it goes, with whatever they left, when the test ends.
func TestContract(t *testing.T) {
	url := testenv.IsolatedRabbitURL(t)
	bustest.Run(t, func(t *testing.T) bus.Bus {
		return newBus(t, url, rabbitmq.Config{})
	})
}

// newBus connects a bus with the contract's retry policy and closes it when the test ends.
func newBus(t testing.TB, url string, cfg rabbitmq.Config) *rabbitmq.Bus {
	t.Helper()
	cfg.URL = url
	cfg.MaxAttempts = bustest.MaxAttempts
	cfg.RetryBase = bustest.RetryBase
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := rabbitmq.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// TestDeleteRemovesRetryAndDeadLetterQueues: Delete takes a queue's retry and dead-letter queues with
// it, and its exchanges, so tooling that deletes a topology leaves nothing behind.
func TestDeleteRemovesRetryAndDeadLetterQueues(t *testing.T) {
	url := testenv.IsolatedRabbitURL(t)
	b := newBus(t, url, rabbitmq.Config{})
	q := bus.Queue{Name: "deleted", Exchange: "deleted.events", RoutingKey: "k"}
	topo := bus.Topology{Exchanges: []string{q.Exchange}, Queues: []bus.Queue{q}}
	if err := b.Declare(t.Context(), topo); err != nil {
		t.Fatalf("Declare: %v", err)
	}
	if err := b.Delete(t.Context(), topo); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, name := range []string{q.Name, bus.RetryQueue(q.Name), bus.DeadLetterQueue(q.Name)} {
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		// A passive declare of a missing queue fails and closes the channel, hence one channel each.
		if _, err := ch.QueueDeclarePassive(name, true, false, false, false, nil); err == nil {
			t.Errorf("queue %s still exists after Delete", name)
			_ = ch.Close()
		}
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclarePassive(q.Exchange, amqp.ExchangeTopic, true, false, false, false, nil); err == nil {
		t.Errorf("exchange %s still exists after Delete", q.Exchange)
	}
}

func TestPing(t *testing.T) {
	b := newBus(t, testenv.IsolatedRabbitURL(t), rabbitmq.Config{})
	if err := b.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Ping(t.Context()); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}
