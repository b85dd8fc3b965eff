// Package memory is the in-process bus used by `mint dev` and unit tests. It keeps RabbitMQ's semantics
// that the services rely on — topic routing, one competing-consumer queue per bus.Queue, unroutable
// publishes rejected, retries with back-off, a dead-letter queue per queue, at-least-once delivery —
// and passes the same contract suite (bus/bustest). Nothing survives the process.
package memory

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/topic"
)

// Config tunes the bus; zero values take the defaults of the RabbitMQ adapter.
type Config struct {
	MaxAttempts int           // deliveries before a failing message is dead-lettered (default 5)
	RetryBase   time.Duration // first retry delay, doubled each attempt up to RetryMax (default 200 ms)
	RetryMax    time.Duration // cap of the retry delay (default 10 s)
	Logger      *slog.Logger  // default: discard
}

// Bus is an in-process bus.Bus, safe for concurrent use.
type Bus struct {
	policy policy.Policy
	log    *slog.Logger

	mu        sync.RWMutex
	exchanges map[string]struct{}
	bindings  map[binding]struct{}
	queues    map[string]*queue // main and dead-letter queues by name
	listeners map[*listener]struct{}
	timers    map[*time.Timer]*queue // pending retries, by the queue each message goes back to
	closed    chan struct{}
}

type binding struct{ exchange, pattern, queue string }

var _ bus.Bus = (*Bus)(nil)

// New returns an empty bus.
func New(cfg Config) *Bus {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bus{
		policy:    policy.Policy{MaxAttempts: cfg.MaxAttempts, RetryBase: cfg.RetryBase, RetryMax: cfg.RetryMax}.WithDefaults(),
		log:       log,
		exchanges: map[string]struct{}{},
		bindings:  map[binding]struct{}{},
		queues:    map[string]*queue{},
		listeners: map[*listener]struct{}{},
		timers:    map[*time.Timer]*queue{},
		closed:    make(chan struct{}),
	}
}

// Declare implements bus.Bus. Declaring an existing exchange or queue is a no-op; a queue bound to an
// exchange missing from both t and the bus is an error, as on a broker.
func (b *Bus) Declare(ctx context.Context, t bus.Topology) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.isClosed() {
		return bus.ErrClosed
	}
	for _, ex := range t.Exchanges {
		if ex == "" {
			return fmt.Errorf("declare: empty exchange name")
		}
		b.exchanges[ex] = struct{}{}
	}
	for _, q := range t.Queues {
		if _, ok := b.exchanges[q.Exchange]; !ok {
			return fmt.Errorf("declare queue %s: exchange %q does not exist", q.Name, q.Exchange)
		}
		if _, ok := b.queues[q.Name]; !ok {
			b.queues[q.Name] = newQueue(q.Name, false)
		}
		dlq := bus.DeadLetterQueue(q.Name)
		if _, ok := b.queues[dlq]; !ok {
			b.queues[dlq] = newQueue(dlq, true)
		}
		b.bindings[binding{q.Exchange, q.RoutingKey, q.Name}] = struct{}{}
	}
	return nil
}

// Publish implements bus.Publisher: msg is in every matching queue when it returns nil.
func (b *Bus) Publish(ctx context.Context, msg bus.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg, err := policy.Normalize(msg)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	msg.Attempt = 1

	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.isClosed() {
		return bus.ErrClosed
	}
	if _, ok := b.exchanges[msg.Exchange]; !ok {
		return fmt.Errorf("publish %s to %s: exchange does not exist", msg.Type, msg.Exchange)
	}
	var targets []*queue
	for bd := range b.bindings {
		if bd.exchange == msg.Exchange && topic.Match(bd.pattern, msg.Type) {
			targets = append(targets, b.queues[bd.queue])
		}
	}
	// A listener's queue makes a message routable, as on a broker.
	if heard := b.tell(msg); len(targets) == 0 && heard == 0 {
		return fmt.Errorf("publish %s to %s: %w", msg.Type, msg.Exchange, bus.ErrUnroutable)
	}
	for i, q := range targets {
		m := msg
		if i > 0 { // every queue owns its copy, as on a broker
			m = copyMessage(msg)
		}
		q.push(delivery{Message: m})
	}
	return nil
}

// copyMessage is msg with headers and body of its own.
func copyMessage(msg bus.Message) bus.Message {
	msg.Headers = maps.Clone(msg.Headers)
	msg.Body = append([]byte(nil), msg.Body...)
	return msg
}

// Ping implements bus.Bus.
func (b *Bus) Ping(ctx context.Context) error {
	if b.isClosed() {
		return bus.ErrClosed
	}
	return ctx.Err()
}

// Close stops consumers and pending retries. Messages still queued are dropped.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.isClosed() {
		return nil
	}
	close(b.closed)
	for t := range b.timers {
		t.Stop()
	}
	clear(b.timers)
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
