package memory

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
)

// Consume implements bus.Subscriber. Handlers of one Consume call run one at a time; several calls on
// the same queue compete for its messages. queue may also name a dead-letter queue (bus.DeadLetterQueue)
// to inspect or replay poison messages; a failure there requeues the message after a back-off.
func (b *Bus) Consume(ctx context.Context, queue string, h bus.Handler) error {
	b.mu.RLock()
	q, ok := b.queues[queue]
	b.mu.RUnlock()
	if !ok {
		return fmt.Errorf("consume %s: queue does not exist", queue)
	}
	for {
		msg, err := q.pop(ctx, b.closed)
		if err != nil {
			return err
		}
		err = policy.Invoke(ctx, h, msg)
		if ctx.Err() != nil {
			// The consumer stopped while the handler ran: the handler may not have finished its
			// work, so the message goes back for the next consumer (at-least-once).
			q.pushFront(msg)
			return ctx.Err()
		}
		b.settle(q, msg, err)
	}
}

// settle applies the retry policy to a handled message.
func (b *Bus) settle(q *queue, msg bus.Message, err error) {
	if err == nil {
		return
	}
	if q.dlq {
		b.log.Warn("dead-lettered message failed again; requeued", "queue", q.name, "id", msg.ID, "err", err)
		b.later(b.policy.Delay(1), q, msg)
		return
	}
	switch b.policy.Decide(msg.Attempt, err) {
	case policy.Retry:
		delay := b.policy.Delay(msg.Attempt)
		b.log.Warn("message failed; retrying", "queue", q.name, "id", msg.ID, "attempt", msg.Attempt, "delay", delay, "err", err)
		msg.Attempt++
		b.later(delay, q, msg)
	case policy.DeadLetter:
		b.log.Error("message dead-lettered", "queue", q.name, "id", msg.ID, "attempt", msg.Attempt, "err", err)
		msg.Headers = maps.Clone(msg.Headers)
		if msg.Headers == nil {
			msg.Headers = map[string]string{}
		}
		msg.Headers[policy.ErrorHeader] = policy.ErrorText(err)
		b.mu.RLock()
		dlq := b.queues[bus.DeadLetterQueue(q.name)]
		b.mu.RUnlock()
		dlq.push(msg)
	}
}

// later pushes msg onto q after delay, unless the bus closes first. Other messages of q flow meanwhile,
// so a failing message never blocks the ones behind it. The message leaves timers and enters q under
// b.mu, so that Backlog always finds it in one of them.
func (b *Bus) later(delay time.Duration, q *queue, msg bus.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.isClosed() {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.timers, t)
		if !b.isClosed() {
			q.push(msg)
		}
	})
	b.timers[t] = q
}
