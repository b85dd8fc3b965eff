// Package rabbitmq is the production bus.Bus on RabbitMQ (github.com/rabbitmq/amqp091-go).
//
// One AMQP connection per Bus, kept alive by our own reconnect loop (connection.go): amqp091-go v1.16
// has opt-in automatic recovery, but it gives up after a fixed number of retries and replays topology
// and consumers behind our back, while publisher confirms in flight during a recovery are what the
// outbox's correctness rests on; an explicit loop keeps those rules in one place we test.
//
// Publishing goes through one confirm-mode channel shared by all goroutines (publish.go); each consumer
// gets its own channel with a bounded prefetch (consume.go). Messages map to AMQP in codec.go; the
// topology (exchanges, queues, their retry and dead-letter queues) is declared in topology.go, and
// the broker's count of each of those queues read in depth.go: exported for Prometheus, and summed
// per routing key as its backlog.
package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
)

// Config configures a Bus. Zero values take the defaults.
type Config struct {
	URL         string        // amqp://user:pass@host:port/vhost
	Prefetch    int           // unacknowledged deliveries per consumer (default 16)
	MaxAttempts int           // deliveries before a failing message is dead-lettered (default 5)
	RetryBase   time.Duration // first retry delay, doubled each attempt up to RetryMax (default 200 ms)
	RetryMax    time.Duration // cap of the retry delay (default 10 s)
	Logger      *slog.Logger  // default: discard
}

// Errors of the adapter, besides bus.ErrUnroutable and bus.ErrClosed.
var (
	// ErrNacked reports a message the broker refused to take responsibility for.
	ErrNacked = errors.New("rabbitmq: message nacked by the broker")
	// ErrConnectionLost reports a publish whose confirm never came because the channel or connection
	// closed: the message may or may not have been stored, so the caller must publish it again.
	ErrConnectionLost = errors.New("rabbitmq: channel closed before the publish was confirmed")
)

// Bus is a bus.Bus on one RabbitMQ connection, safe for concurrent use.
type Bus struct {
	url      string
	prefetch int
	policy   policy.Policy
	log      *slog.Logger

	mu       sync.Mutex
	conn     *amqp.Connection // nil while disconnected
	ready    chan struct{}    // closed while conn is usable; replaced when it is lost
	pub      *confirmChannel  // the shared publishing channel on conn, opened lazily
	declared topology         // everything Declare'd, re-declared after a reconnect

	closed     chan struct{}
	closeOnce  sync.Once
	supervisor sync.WaitGroup
}

var _ bus.Bus = (*Bus)(nil)

// New connects to the broker and keeps the connection alive until Close. It fails if the first
// connection cannot be made before ctx ends: a wrong URL or credentials should stop a service at start.
func New(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.URL == "" {
		return nil, errors.New("rabbitmq: no URL")
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 16
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Bus{
		url:      cfg.URL,
		prefetch: cfg.Prefetch,
		policy:   policy.Policy{MaxAttempts: cfg.MaxAttempts, RetryBase: cfg.RetryBase, RetryMax: cfg.RetryMax}.WithDefaults(),
		log:      cfg.Logger.With("component", "rabbitmq"),
		ready:    make(chan struct{}),
		declared: newTopology(),
		closed:   make(chan struct{}),
	}
	conn, err := b.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: connect: %w", err)
	}
	b.setConnected(conn)
	b.supervisor.Add(1)
	go b.supervise(conn)
	return b, nil
}

// Ping implements bus.Bus: the connection is up and the broker answers a channel open.
func (b *Bus) Ping(ctx context.Context) error {
	b.mu.Lock()
	conn := b.conn
	b.mu.Unlock()
	if b.isClosed() {
		return bus.ErrClosed
	}
	if conn == nil || conn.IsClosed() {
		return errors.New("rabbitmq: not connected")
	}
	errc := make(chan error, 1)
	go func() {
		ch, err := conn.Channel()
		if err == nil {
			err = ch.Close()
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("rabbitmq: ping: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close closes the connection; running consumers return bus.ErrClosed and unacknowledged deliveries go
// back to their queues.
func (b *Bus) Close() error {
	var err error
	b.closeOnce.Do(func() {
		close(b.closed)
		b.mu.Lock()
		conn := b.conn
		b.mu.Unlock()
		if conn != nil && !conn.IsClosed() {
			err = conn.Close()
		}
		b.supervisor.Wait()
	})
	if err != nil {
		return fmt.Errorf("rabbitmq: close: %w", err)
	}
	return nil
}

func (b *Bus) isClosed() bool {
	select {
	case <-b.closed:
		return true
	default:
		return false
	}
}
