package testenv_test

import (
	"context"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestIsolatedRabbitURL: a queue declared in one isolated vhost does not exist in another.
func TestIsolatedRabbitURL(t *testing.T) {
	ctx := context.Background()
	a, err := rabbitmq.New(ctx, rabbitmq.Config{URL: testenv.IsolatedRabbitURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	b, err := rabbitmq.New(ctx, rabbitmq.Config{URL: testenv.IsolatedRabbitURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	topo := bus.Topology{Exchanges: []string{"x"}, Queues: []bus.Queue{{Name: "q", Exchange: "x", RoutingKey: "k"}}}
	if err := a.Declare(ctx, topo); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, bus.Message{Exchange: "x", Type: "k", Body: []byte(`{}`)}); err != nil {
		t.Fatalf("publish in the vhost that has the queue: %v", err)
	}
	if err := b.Declare(ctx, bus.Topology{Exchanges: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, bus.Message{Exchange: "x", Type: "k", Body: []byte(`{}`)}); err == nil {
		t.Fatal("a message published in the other vhost was routed: the vhosts are not isolated")
	}
}

// TestIsolatedRabbitURLIsDeletedWithTheTest: once the test that asked for a vhost has ended, the vhost
// is gone, so a run leaves nothing on the shared broker.
func TestIsolatedRabbitURLIsDeletedWithTheTest(t *testing.T) {
	var url string
	t.Run("user", func(t *testing.T) {
		url = testenv.IsolatedRabbitURL(t)
		conn, err := amqp.Dial(url)
		if err != nil {
			t.Fatalf("connect to the isolated vhost: %v", err)
		}
		_ = conn.Close()
	})
	if conn, err := amqp.Dial(url); err == nil {
		_ = conn.Close()
		t.Fatal("the isolated vhost still accepts connections after its test ended")
	}
}
