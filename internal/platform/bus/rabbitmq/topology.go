package rabbitmq

import (
	"context"
	"fmt"
	"maps"
	"slices"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// topology is the union of everything declared through a Bus, kept to re-declare it after a reconnect
// (a broker that lost its definitions must not turn our publishes unroutable).
type topology struct {
	exchanges map[string]struct{}
	queues    map[bus.Queue]struct{}
}

func newTopology() topology {
	return topology{exchanges: map[string]struct{}{}, queues: map[bus.Queue]struct{}{}}
}

func (t topology) add(x bus.Topology) {
	for _, e := range x.Exchanges {
		t.exchanges[e] = struct{}{}
	}
	for _, q := range x.Queues {
		t.queues[q] = struct{}{}
	}
}

func (t topology) remove(x bus.Topology) {
	for _, e := range x.Exchanges {
		delete(t.exchanges, e)
	}
	for _, q := range x.Queues {
		delete(t.queues, q)
	}
}

func (t topology) snapshot() bus.Topology {
	return bus.Topology{
		Exchanges: slices.Collect(maps.Keys(t.exchanges)),
		Queues:    slices.Collect(maps.Keys(t.queues)),
	}
}

// Declare implements bus.Bus. For each queue it declares:
//
//   - the queue itself, durable and of type quorum (replicated, and it fsyncs before confirming),
//     bound to its exchange with its routing key;
//   - <queue>.retry, a durable classic queue without consumers: a failed message is published there
//     with a per-message expiration (its back-off) and dead-letters back into <queue> when it expires.
//     Classic, because there per-message TTL and expiry dead-lettering are long-standing features; a
//     message waits behind the ones ahead of it, so a delay may stretch up to the longest delay queued
//     before it (at most the retry cap, 10 s by default) — acceptable for a retry;
//   - <queue>.dlq, a durable quorum queue where poison messages stay until someone looks at them.
//
// Declaring with the same arguments again is a no-op on the broker, so every service declares the whole
// topology at start-up.
func (b *Bus) Declare(ctx context.Context, t bus.Topology) error {
	conn, err := b.connection(ctx)
	if err != nil {
		return fmt.Errorf("declare: %w", err)
	}
	if err := declareOn(conn, t); err != nil {
		return err
	}
	b.mu.Lock()
	b.declared.add(t)
	b.mu.Unlock()
	return nil
}

// declareOn declares t on its own channel: a refused declaration closes the channel it was made on.
func declareOn(conn *amqp.Connection, t bus.Topology) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("declare: open channel: %w", err)
	}
	defer ch.Close()
	for _, ex := range t.Exchanges {
		if err := ch.ExchangeDeclare(ex, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declare exchange %s: %w", ex, err)
		}
	}
	quorum := amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}
	for _, q := range t.Queues {
		if _, err := ch.QueueDeclare(q.Name, true, false, false, false, quorum); err != nil {
			return fmt.Errorf("declare queue %s: %w", q.Name, err)
		}
		if err := ch.QueueBind(q.Name, q.RoutingKey, q.Exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %s to %s/%s: %w", q.Name, q.Exchange, q.RoutingKey, err)
		}
		retry := amqp.Table{
			amqp.QueueTypeArg:           amqp.QueueTypeClassic,
			"x-dead-letter-exchange":    "",
			"x-dead-letter-routing-key": q.Name,
		}
		if _, err := ch.QueueDeclare(bus.RetryQueue(q.Name), true, false, false, false, retry); err != nil {
			return fmt.Errorf("declare queue %s: %w", bus.RetryQueue(q.Name), err)
		}
		if _, err := ch.QueueDeclare(bus.DeadLetterQueue(q.Name), true, false, false, false, quorum); err != nil {
			return fmt.Errorf("declare queue %s: %w", bus.DeadLetterQueue(q.Name), err)
		}
	}
	return nil
}

// Delete removes t's queues (with their retry and dead-letter queues and messages) and exchanges. It
// exists for tests and tooling; services never delete topology.
func (b *Bus) Delete(ctx context.Context, t bus.Topology) error {
	ch, err := b.openChannel(ctx)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	defer ch.Close()
	b.mu.Lock()
	b.declared.remove(t)
	b.mu.Unlock()
	for _, q := range t.Queues {
		for _, name := range []string{q.Name, bus.RetryQueue(q.Name), bus.DeadLetterQueue(q.Name)} {
			if _, err := ch.QueueDelete(name, false, false, false); err != nil {
				return fmt.Errorf("delete queue %s: %w", name, err)
			}
		}
	}
	for _, ex := range t.Exchanges {
		if err := ch.ExchangeDelete(ex, false, false); err != nil {
			return fmt.Errorf("delete exchange %s: %w", ex, err)
		}
	}
	return nil
}
