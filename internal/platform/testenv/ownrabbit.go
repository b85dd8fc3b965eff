package testenv

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/localserver"
)

// Rabbit is a RabbitMQ node of a test's own (a localserver.Rabbit, whose methods it has), which the
// test may stop and start without disturbing other tests or the machine's broker. Stop and Start
// fail the test where the node's own methods return an error.
type Rabbit struct {
	*localserver.Rabbit
}

// OwnRabbit starts a RabbitMQ node for t and, when t ends, stops it and removes its directory.
// Without rabbitmq-server installed it skips t, or fails it when CI=true. A node takes seconds to
// boot and about 150 MB, so only tests that must stop their broker use one; the others share the
// machine's broker, each in a vhost of its own (IsolatedRabbitURL).
func OwnRabbit(t testing.TB) *Rabbit {
	t.Helper()
	Integration(t)
	// Not t.TempDir: its path holds the test's name, and the node's paths are best kept short.
	dir, err := os.MkdirTemp("", "mint-rabbit")
	if err != nil {
		t.Fatalf("own RabbitMQ node: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	began := time.Now()
	node, err := localserver.StartRabbit(t.Context(), dir, localserver.WithLogf(t.Logf))
	switch {
	case errors.Is(err, localserver.ErrNotInstalled) && CI():
		t.Fatalf("own RabbitMQ node: %v and CI=true", err)
	case errors.Is(err, localserver.ErrNotInstalled):
		t.Skipf("own RabbitMQ node: %v", err)
	case err != nil:
		t.Fatalf("own RabbitMQ node: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("own RabbitMQ node %s, end of its log:\n%s", node.Node(), node.LogTail())
		}
		if err := node.Close(context.Background()); err != nil {
			t.Errorf("own RabbitMQ node: %v", err)
		}
	})
	t.Logf("own RabbitMQ node %s on %s, booted in %v", node.Node(), node.Addr(), time.Since(began).Round(100*time.Millisecond))
	return &Rabbit{node}
}

// Stop stops the RabbitMQ application: connections drop and the AMQP port closes; durable queues
// and their messages stay for Start.
func (r *Rabbit) Stop(t testing.TB) {
	t.Helper()
	if err := r.StopApp(t.Context()); err != nil {
		t.Fatalf("stop own RabbitMQ node: %v", err)
	}
	t.Logf("own RabbitMQ node %s: application stopped", r.Node())
}

// Start starts the application again and waits until it has booted and accepts connections.
func (r *Rabbit) Start(t testing.TB) {
	t.Helper()
	if err := r.StartApp(t.Context()); err != nil {
		t.Fatalf("start own RabbitMQ node: %v", err)
	}
	t.Logf("own RabbitMQ node %s: application started", r.Node())
}
