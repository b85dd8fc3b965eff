package rabbitmq_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/bustest"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

func TestContract(t *testing.T) {
	url := testenv.RabbitURL(t)
	bustest.Run(t, func(t *testing.T) bus.Bus {
		return newBus(t, url, rabbitmq.Config{})
	})
}

// newBus connects a bus with the contract's retry policy and, at the end of the test, deletes whatever
// the test declared through it and closes it.
func newBus(t testing.TB, url string, cfg rabbitmq.Config) *tidyBus {
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
	tb := &tidyBus{Bus: b}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, topo := range tb.declared {
			if err := b.Delete(ctx, topo); err != nil {
				t.Errorf("delete test topology: %v", err)
			}
		}
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tb
}

// tidyBus records what a test declares so that it leaves nothing behind on the shared broker.
type tidyBus struct {
	*rabbitmq.Bus
	mu       sync.Mutex
	declared []bus.Topology
}

func (b *tidyBus) Declare(ctx context.Context, t bus.Topology) error {
	b.mu.Lock()
	b.declared = append(b.declared, t)
	b.mu.Unlock()
	return b.Bus.Declare(ctx, t)
}

func TestPing(t *testing.T) {
	b := newBus(t, testenv.RabbitURL(t), rabbitmq.Config{})
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
