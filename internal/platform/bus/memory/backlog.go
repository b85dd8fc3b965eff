package memory

import (
	"context"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/topic"
)

// Backlog implements bus.BacklogCounter: the messages waiting in every queue bound to routingKey on
// exchange, and those of each waiting out a retry delay (the in-process retry queue). b.mu is held
// throughout, so a retried message moving back into its queue is counted once.
func (b *Bus) Backlog(ctx context.Context, exchange, routingKey string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.isClosed() {
		return 0, bus.ErrClosed
	}
	bound := map[*queue]bool{} // a queue bound twice to matching patterns counts once
	for bd := range b.bindings {
		if bd.exchange == exchange && topic.Match(bd.pattern, routingKey) {
			bound[b.queues[bd.queue]] = true
		}
	}
	n := 0
	for q := range bound {
		n += q.len()
	}
	for _, q := range b.timers {
		if bound[q] {
			n++
		}
	}
	return n, nil
}
