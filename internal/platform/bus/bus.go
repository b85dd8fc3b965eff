// Package bus is Mint's messaging port: tiny publisher/subscriber interfaces implemented by a RabbitMQ
// adapter (bus/rabbitmq) and an in-process adapter (bus/memory), both checked by one contract suite
// (bus/bustest).
package bus

import (
	"context"
	"errors"
	"time"
)

// Message is one event on the wire.
type Message struct {
	ID        string            // the event id: AMQP message_id; consumers deduplicate on it
	Exchange  string            // the topic exchange it is published to
	Type      string            // the routing key, also AMQP type
	Timestamp time.Time         // when it was published
	Headers   map[string]string // e.g. "traceparent"
	Body      []byte            // JSON
	Attempt   int               // 1 on first delivery; set by subscribers
}

// Publisher sends messages.
type Publisher interface {
	// Publish returns nil only once the broker has confirmed the message and routed it to at least one
	// queue. An unroutable (returned) or nacked message is an error.
	Publish(ctx context.Context, msg Message) error
}

// DefaultMaxAttempts is how many deliveries a subscriber makes of a failing message, unless configured
// otherwise, before it dead-letters it.
const DefaultMaxAttempts = 5

// Handler processes one delivery. nil acknowledges it. An error retries it with back-off; after the
// subscriber's maximum attempts, or at once for a Permanent error, the message goes to <queue>.dlq.
// An error of kind failure.Unavailable (a dependency that did not answer) is an outage, not poison: it
// is retried until the dependency is back, never dead-lettered, and counts as none of the attempts.
type Handler func(ctx context.Context, msg Message) error

// Subscriber consumes queues.
type Subscriber interface {
	// Consume delivers every message of queue to h until ctx ends, then returns ctx's error. A message
	// whose handler has not returned when the consumer stops is delivered again later.
	Consume(ctx context.Context, queue string, h Handler) error
}

// Listener hears messages as they are published, to push news to connected clients rather than to
// do work.
type Listener interface {
	// Listen hands h every message published to exchange with a routing key matching pattern, from the
	// moment it listens until ctx ends, then returns ctx's error. Each Listen has a queue of its own
	// (every replica hears every message) that lives only while it listens: nothing is retried,
	// dead-lettered or kept, and what is published during a broker outage is not heard. h must return
	// quickly; a listener that falls far behind loses the oldest messages (at most ListenBacklog wait).
	Listen(ctx context.Context, exchange, pattern string, h func(context.Context, Message)) error
}

// ListenBacklog bounds the messages waiting for one listener.
const ListenBacklog = 10_000

// BacklogCounter tells how much work waits for the consumers of an event, so that whoever publishes an
// event again on a timer (a sweeper) can tell a message that was lost from one that is only queued.
type BacklogCounter interface {
	// Backlog returns the messages ready for the consumers of routingKey on exchange: those in every
	// queue declared through this bus whose binding matches the key, and in each one's retry queue. Not
	// counted: the dead-letter queues, which nobody works through, the deliveries a consumer holds and
	// has not yet acknowledged, and listeners' queues. Nothing declared is bound to the key: 0.
	Backlog(ctx context.Context, exchange, routingKey string) (int, error)
}

// Bus is a broker connection: topology, publishing, consuming, listening and counting what waits.
type Bus interface {
	Publisher
	Subscriber
	Listener
	BacklogCounter
	// Declare creates the topology idempotently: exchanges, queues, their retry and dead-letter queues,
	// and bindings.
	Declare(ctx context.Context, t Topology) error
	// Ping reports whether the broker is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// Topology is every exchange and queue of the system.
type Topology struct {
	Exchanges []string
	Queues    []Queue
}

// Queue is one consumer's durable queue for one routing key on one exchange.
type Queue struct {
	Name       string // <consumer>.<routing key>
	Exchange   string
	RoutingKey string
}

// DeadLetterQueue names the queue where q's poison messages end.
func DeadLetterQueue(q string) string { return q + ".dlq" }

// RetryQueue names the queue where q's failed messages wait before redelivery.
func RetryQueue(q string) string { return q + ".retry" }

type permanentError struct{ err error }

func (p permanentError) Error() string { return "permanent: " + p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as one that retrying cannot fix (e.g. an event that does not parse).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
