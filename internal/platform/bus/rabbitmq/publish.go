package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
)

// Publish implements bus.Publisher. It returns nil only once the broker confirmed msg and routed it to at
// least one queue; until then every failure is an error and the caller (the outbox) publishes again.
// During an outage it waits for the reconnection, as long as ctx allows.
func (b *Bus) Publish(ctx context.Context, msg bus.Message) error {
	msg, err := policy.Normalize(msg)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := b.publish(ctx, msg.Exchange, msg.Type, publishing(msg)); err != nil {
		return fmt.Errorf("publish %s %s to %s: %w", msg.Type, msg.ID, msg.Exchange, err)
	}
	return nil
}

// publish sends p on the shared confirm channel and waits for its confirm.
func (b *Bus) publish(ctx context.Context, exchange, key string, p amqp.Publishing) error {
	cc, err := b.publisher(ctx)
	if err != nil {
		return err
	}
	return cc.publish(ctx, exchange, key, p)
}

// publisher returns the shared confirm channel, (re)opening it when there is none or it died (a publish
// to a missing exchange closes it, as does a lost connection).
func (b *Bus) publisher(ctx context.Context) (*confirmChannel, error) {
	for {
		conn, err := b.connection(ctx)
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		if b.conn != conn { // reconnected meanwhile
			b.mu.Unlock()
			continue
		}
		if b.pub != nil && !b.pub.isDead() {
			cc := b.pub
			b.mu.Unlock()
			return cc, nil
		}
		cc, err := openConfirmChannel(conn, b.log)
		if err == nil {
			b.pub = cc
		}
		b.mu.Unlock()
		if err == nil {
			return cc, nil
		}
		if !errors.Is(err, amqp.ErrClosed) {
			return nil, err
		}
		// The connection died under us: wait for the supervisor's next one.
	}
}

// confirmChannel is a channel in confirm mode shared by concurrent publishers. Publishes are pipelined:
// each registers under its delivery tag, and one goroutine matches the broker's acks, nacks and returns
// to them.
//
// Returns are matched by ordering: the broker sends basic.return for an unroutable mandatory message
// before the basic.ack for it, amqp091-go hands both over from its single reader goroutine, and our
// notification channels are unbuffered and read by one goroutine, so a return is always recorded before
// the ack it belongs to is processed.
type confirmChannel struct {
	ch  *amqp.Channel
	log *slog.Logger

	publishMu sync.Mutex // serializes tag assignment with the send, so tags follow wire order

	mu      sync.Mutex // guards the fields below; never held across network I/O
	pending map[uint64]*inflight
	dead    error // why the channel closed; nil while open
}

type inflight struct {
	exchange, key, id string
	returned          bool
	done              chan error // buffered: the waiter may have given up
}

func openConfirmChannel(conn *amqp.Connection, log *slog.Logger) (*confirmChannel, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("open publishing channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, fmt.Errorf("enable publisher confirms: %w", err)
	}
	cc := &confirmChannel{ch: ch, log: log, pending: map[uint64]*inflight{}}
	// Unbuffered on purpose, see the type's comment. The library gives up on a listener that blocks for
	// 5 s, so run never blocks while handling one notification.
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation))
	returns := ch.NotifyReturn(make(chan amqp.Return))
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	go cc.run(confirms, returns, closes)
	return cc, nil
}

// run settles in-flight publishes until the channel closes, then fails the rest and drains the library's
// notification channels until it closes them, so its reader goroutine never waits on us.
func (c *confirmChannel) run(confirms <-chan amqp.Confirmation, returns <-chan amqp.Return, closes <-chan *amqp.Error) {
	for closes != nil {
		select {
		case r, ok := <-returns:
			if !ok {
				returns = nil
				continue
			}
			c.markReturned(r)
		case cf, ok := <-confirms:
			if !ok {
				confirms = nil
				continue
			}
			c.settle(cf)
		case err, ok := <-closes:
			closes = nil
			var cause error = amqp.ErrClosed
			if ok && err != nil {
				cause = err
			}
			c.fail(cause)
		}
	}
	for returns != nil || confirms != nil {
		select {
		case _, ok := <-returns:
			if !ok {
				returns = nil
			}
		case cf, ok := <-confirms:
			if !ok {
				confirms = nil
				continue
			}
			c.settle(cf)
		}
	}
}

// publish sends p with mandatory set and waits for the broker's verdict.
func (c *confirmChannel) publish(ctx context.Context, exchange, key string, p amqp.Publishing) error {
	f := &inflight{exchange: exchange, key: key, id: p.MessageId, done: make(chan error, 1)}

	c.publishMu.Lock()
	tag := c.ch.GetNextPublishSeqNo()
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		c.publishMu.Unlock()
		return fmt.Errorf("%w: %w", ErrConnectionLost, c.dead)
	}
	c.pending[tag] = f // before the send: the ack may beat our return from PublishWithContext
	c.mu.Unlock()
	err := c.ch.PublishWithContext(ctx, exchange, key, true, false, p)
	if err != nil {
		c.mu.Lock()
		delete(c.pending, tag)
		c.mu.Unlock()
	}
	c.publishMu.Unlock()
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}

	select {
	case err := <-f.done:
		return err
	case <-ctx.Done():
		// Unknown outcome: the message may still be confirmed. The caller must publish it again.
		return fmt.Errorf("waiting for the confirm: %w", ctx.Err())
	}
}

func (c *confirmChannel) markReturned(r amqp.Return) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The oldest unconfirmed publish of that message, exchange and key is the one returned.
	var oldest uint64
	for tag, f := range c.pending {
		if !f.returned && f.id == r.MessageId && f.exchange == r.Exchange && f.key == r.RoutingKey && (oldest == 0 || tag < oldest) {
			oldest = tag
		}
	}
	if oldest == 0 {
		c.log.Warn("return for no pending publish", "id", r.MessageId, "exchange", r.Exchange, "key", r.RoutingKey)
		return
	}
	c.pending[oldest].returned = true
}

func (c *confirmChannel) settle(cf amqp.Confirmation) {
	c.mu.Lock()
	f, ok := c.pending[cf.DeliveryTag]
	delete(c.pending, cf.DeliveryTag)
	c.mu.Unlock()
	if !ok {
		return
	}
	switch {
	case !cf.Ack:
		f.done <- ErrNacked
	case f.returned:
		f.done <- bus.ErrUnroutable
	default:
		f.done <- nil
	}
}

func (c *confirmChannel) fail(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead = cause
	for tag, f := range c.pending {
		f.done <- fmt.Errorf("%w: %w", ErrConnectionLost, cause)
		delete(c.pending, tag)
	}
}

func (c *confirmChannel) isDead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead != nil
}
