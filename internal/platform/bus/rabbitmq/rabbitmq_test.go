package rabbitmq_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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
	bustest.Run(t, func(t *testing.T, retry bustest.Retry) bus.Bus {
		return newBus(t, url, rabbitmq.Config{RetryBase: retry.Base, RetryMax: retry.Max})
	})
}

// newBus connects a bus with the contract's retry policy (cfg.RetryBase and cfg.RetryMax, when set,
// instead of its retry delays) and closes it when the test ends.
func newBus(t testing.TB, url string, cfg rabbitmq.Config) *rabbitmq.Bus {
	t.Helper()
	cfg.URL = url
	cfg.MaxAttempts = bustest.MaxAttempts
	if cfg.RetryBase == 0 {
		cfg.RetryBase = bustest.RetryBase
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = bustest.RetryMax
	}
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

// TestQueueDepths: the broker's count of each declared queue, its retry and its dead-letter queue,
// read by QueueDepths and exported by DepthCollector as bus_queue_messages{queue}.
func TestQueueDepths(t *testing.T) {
	b := newBus(t, testenv.IsolatedRabbitURL(t), rabbitmq.Config{})
	q := bus.Queue{Name: "depth", Exchange: "depth.events", RoutingKey: "k"}
	if err := b.Declare(t.Context(), bus.Topology{Exchanges: []string{q.Exchange}, Queues: []bus.Queue{q}}); err != nil {
		t.Fatalf("Declare: %v", err)
	}
	for i := range 3 {
		msg := bus.Message{ID: fmt.Sprint(i), Exchange: q.Exchange, Type: "k", Timestamp: time.Now(), Body: []byte(`{}`)}
		if err := b.Publish(t.Context(), msg); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	want := map[string]int{"depth": 3, "depth.retry": 0, "depth.dlq": 0}
	var got map[string]int
	// The publishes are confirmed, so they are in the queue; the count the broker reports may lag
	// its log by a moment.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var err error
		if got, err = b.QueueDepths(t.Context()); err != nil {
			t.Fatalf("QueueDepths: %v", err)
		}
		if reflect.DeepEqual(got, want) {
			break
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("QueueDepths = %v, want %v", got, want)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(b.DepthCollector(5 * time.Second))
	exported := `
# HELP bus_queue_messages Messages ready in each queue of the broker's topology (retry and dead-letter queues included), read at scrape time.
# TYPE bus_queue_messages gauge
bus_queue_messages{queue="depth"} 3
bus_queue_messages{queue="depth.dlq"} 0
bus_queue_messages{queue="depth.retry"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(exported), "bus_queue_messages"); err != nil {
		t.Error(err)
	}
}
