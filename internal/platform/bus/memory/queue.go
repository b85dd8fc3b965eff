package memory

import (
	"context"
	"sync"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// delivery is a message as it waits in a queue: with its outage retries (policy.Delivery), which, like
// the attempt, are the bus's bookkeeping, but which the handler does not see.
type delivery struct {
	bus.Message
	outages int
}

// queue is a FIFO of messages shared by competing consumers, like a broker queue.
type queue struct {
	name string
	dlq  bool // a dead-letter queue: failures there are requeued, never dead-lettered again

	mu    sync.Mutex
	items []delivery
	ready chan struct{} // closed and replaced whenever items grow, to wake every waiting consumer
}

func newQueue(name string, dlq bool) *queue {
	return &queue{name: name, dlq: dlq, ready: make(chan struct{})}
}

// push appends msg at the tail.
func (q *queue) push(d delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, d)
	q.wake()
}

// pushFront puts d back at the head: a message whose consumer stopped mid-handler is the next one
// delivered, as a broker requeues an unacknowledged message.
func (q *queue) pushFront(d delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append([]delivery{d}, q.items...)
	q.wake()
}

// len is the number of messages waiting in q (not those a consumer holds).
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

func (q *queue) wake() {
	close(q.ready)
	q.ready = make(chan struct{})
}

// pop takes the head message, waiting until there is one, ctx ends or closed is closed.
func (q *queue) pop(ctx context.Context, closed <-chan struct{}) (delivery, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			d := q.items[0]
			q.items[0] = delivery{} // let the body be collected
			q.items = q.items[1:]
			q.mu.Unlock()
			return d, nil
		}
		ready := q.ready
		q.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return delivery{}, ctx.Err()
		case <-closed:
			return delivery{}, bus.ErrClosed
		}
	}
}
