package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/internal/policy"
)

// Consume implements bus.Subscriber. Handlers of one Consume call run one at a time on a channel of their
// own with the configured prefetch; run Consume in several goroutines for parallelism. Across broker
// outages it re-subscribes by itself. queue may also name a dead-letter queue (bus.DeadLetterQueue) to
// inspect or replay poison messages; a failure there requeues the message after a back-off.
//
// It returns ctx's error when ctx ends, bus.ErrClosed when the bus closes, and at once an error for a
// queue that does not exist.
func (b *Bus) Consume(ctx context.Context, queue string, h bus.Handler) error {
	return b.resubscribe(ctx, "consume "+queue, func() (bool, error) { return b.consumeOnce(ctx, queue, h) })
}

// resubscribe runs once (a consumer or a listener on a channel of its own) again after each
// interruption, with a back-off, until ctx ends (its error), the bus closes (bus.ErrClosed) or the
// broker says what it subscribes to does not exist (that error, at once).
func (b *Bus) resubscribe(ctx context.Context, what string, once func() (subscribed bool, err error)) error {
	delay := reconnectMin
	for {
		subscribed, err := once()
		if subscribed {
			delay = reconnectMin // it worked for a while: start the back-off afresh
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, bus.ErrClosed):
			return err
		case isNotFound(err):
			return fmt.Errorf("%s: %w", what, err)
		}
		b.log.Warn("subscription interrupted; subscribing again", "subscription", what, "err", err, "retry_in", delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		delay = min(2*delay, reconnectMax)
	}
}

// consumeOnce consumes queue on one channel until ctx ends or the channel dies. Closing the channel on
// the way out hands every unacknowledged delivery back to the broker for redelivery.
// subscribed reports whether it got as far as receiving deliveries.
func (b *Bus) consumeOnce(ctx context.Context, queue string, h bus.Handler) (subscribed bool, err error) {
	ch, err := b.openChannel(ctx)
	if err != nil {
		return false, err
	}
	defer ch.Close()
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	if err := ch.Qos(b.prefetch, 0, false); err != nil {
		return false, fmt.Errorf("set prefetch: %w", err)
	}
	// Not ConsumeWithContext: its cancel goroutine races with our ch.Close for the channel's RPC replies
	// (amqp091-go v1.16), and Close then waits forever for a close-ok the other call consumed.
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		return false, fmt.Errorf("subscribe: %w", err)
	}
	dlq := strings.HasSuffix(queue, bus.DeadLetterQueue(""))
	return true, receive(ctx, closes, deliveries, func(d amqp.Delivery) { b.handle(ctx, queue, dlq, d, h) })
}

// receive hands each delivery to each until ctx ends or the channel closes, and returns why.
func receive(ctx context.Context, closes <-chan *amqp.Error, deliveries <-chan amqp.Delivery, each func(amqp.Delivery)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-closes:
			if err == nil {
				return amqp.ErrClosed
			}
			return err
		case d, ok := <-deliveries:
			if !ok {
				return amqp.ErrClosed
			}
			each(d)
		}
	}
}

// handle runs h on one delivery and settles it. The delivery is acknowledged only after its fate is
// secured: handled, or confirmed into the retry or dead-letter queue. If anything in between fails —
// including ctx ending while h runs — it stays unacknowledged and the broker delivers it again.
func (b *Bus) handle(ctx context.Context, queue string, dlq bool, d amqp.Delivery, h bus.Handler) {
	msg := message(d)
	herr := policy.Invoke(ctx, h, msg)
	if ctx.Err() != nil {
		return
	}
	log := b.log.With("queue", queue, "id", msg.ID, "attempt", msg.Attempt)

	if herr != nil && dlq {
		log.Warn("dead-lettered message failed again; requeued", "err", herr)
		select {
		case <-time.After(b.policy.Delay(1)): // no hot loop on the broker
		case <-ctx.Done():
			return
		}
		b.nack(log, d)
		return
	}

	var err error
	now := policy.Delivery{Attempt: msg.Attempt, Outages: outages(d)}
	switch decision := b.policy.Decide(now, herr); decision.Outcome {
	case policy.Retry:
		log.Warn("message failed; retrying", "outages", now.Outages, "delay", decision.Delay, "err", herr)
		p := redirected(msg, decision.Next, nil)
		p.Expiration = strconv.FormatInt(max(decision.Delay.Milliseconds(), 1), 10)
		err = b.publish(ctx, "", bus.RetryQueue(queue), p)
	case policy.DeadLetter:
		log.Error("message dead-lettered", "err", herr)
		p := redirected(msg, now, map[string]string{policy.ErrorHeader: policy.ErrorText(herr)})
		err = b.publish(ctx, "", bus.DeadLetterQueue(queue), p)
	}
	if err != nil {
		if ctx.Err() == nil {
			log.Error("could not move failed message; requeued", "err", err)
			b.nack(log, d)
		}
		return
	}
	if err := d.Ack(false); err != nil {
		// The channel is gone; the broker redelivers the message to the next subscription.
		log.Warn("ack failed", "err", err)
	}
}

func (b *Bus) nack(log *slog.Logger, d amqp.Delivery) {
	if err := d.Nack(false, true); err != nil {
		log.Warn("nack failed", "err", err)
	}
}

func isNotFound(err error) bool {
	var aerr *amqp.Error
	return errors.As(err, &aerr) && aerr.Code == amqp.NotFound
}
