package memory

import (
	"context"
	"sync"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// queue is a FIFO of messages shared by competing consumers, like a broker queue.
type queue struct {
	name string
	dlq  bool // a dead-letter queue: failures there are requeued, never dead-lettered again

	mu    sync.Mutex
	items []bus.Message
	ready chan struct{} // closed and replaced whenever items grow, to wake every waiting consumer
}

func newQueue(name string, dlq bool) *queue {
	return &queue{name: name, dlq: dlq, ready: make(chan struct{})}
}

// push appends msg at the tail.
func (q *queue) push(msg bus.Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, msg)
	q.wake()
}

// pushFront puts msg back at the head: a message whose consumer stopped mid-handler is the next one
// delivered, as a broker requeues an unacknowledged message.
func (q *queue) pushFront(msg bus.Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append([]bus.Message{msg}, q.items...)
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
func (q *queue) pop(ctx context.Context, closed <-chan struct{}) (bus.Message, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			msg := q.items[0]
			q.items[0] = bus.Message{} // let the body be collected
			q.items = q.items[1:]
			q.mu.Unlock()
			return msg, nil
		}
		ready := q.ready
		q.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return bus.Message{}, ctx.Err()
		case <-closed:
			return bus.Message{}, bus.ErrClosed
		}
	}
}
