package memory

import (
	"context"
	"fmt"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/topic"
)

// listener is one Listen call: the messages it matches wait in backlog.
type listener struct {
	exchange, pattern string
	backlog           chan bus.Message
}

// Listen implements bus.Listener. A publish hands each matching listener a copy without waiting; one
// whose backlog (bus.ListenBacklog) is full loses that message, as a broker's bounded queue would drop
// its oldest.
func (b *Bus) Listen(ctx context.Context, exchange, pattern string, h func(context.Context, bus.Message)) error {
	l := &listener{exchange: exchange, pattern: pattern, backlog: make(chan bus.Message, bus.ListenBacklog)}
	b.mu.Lock()
	if b.isClosed() {
		b.mu.Unlock()
		return bus.ErrClosed
	}
	if _, ok := b.exchanges[exchange]; !ok {
		b.mu.Unlock()
		return fmt.Errorf("listen %s %s: exchange does not exist", exchange, pattern)
	}
	b.listeners[l] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.listeners, l)
		b.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.closed:
			return bus.ErrClosed
		case msg := <-l.backlog:
			h(ctx, msg)
		}
	}
}

// tell hands msg to every listener it matches (b.mu held) and reports how many.
func (b *Bus) tell(msg bus.Message) int {
	n := 0
	for l := range b.listeners {
		if l.exchange != msg.Exchange || !topic.Match(l.pattern, msg.Type) {
			continue
		}
		n++
		select {
		case l.backlog <- copyMessage(msg):
		default:
			b.log.Warn("listener behind; message dropped", "exchange", msg.Exchange, "type", msg.Type)
		}
	}
	return n
}
