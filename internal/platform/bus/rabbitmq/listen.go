package rabbitmq

import (
	"context"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// Listen implements bus.Listener with a server-named classic queue, exclusive to this connection and
// deleted with it, bound to exchange with pattern and consumed with automatic acknowledgement; at most
// bus.ListenBacklog messages wait in it (the oldest are dropped). After a broker outage it listens on
// a new queue. It returns at once an error for an exchange that does not exist.
func (b *Bus) Listen(ctx context.Context, exchange, pattern string, h func(context.Context, bus.Message)) error {
	what := "listen " + exchange + " " + pattern
	return b.resubscribe(ctx, what, func() (bool, error) { return b.listenOnce(ctx, exchange, pattern, h) })
}

func (b *Bus) listenOnce(ctx context.Context, exchange, pattern string, h func(context.Context, bus.Message)) (subscribed bool, err error) {
	ch, err := b.openChannel(ctx)
	if err != nil {
		return false, err
	}
	defer ch.Close()
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	q, err := ch.QueueDeclare("", false, true, true, false, amqp.Table{
		amqp.QueueTypeArg: amqp.QueueTypeClassic,
		"x-max-length":    bus.ListenBacklog,
		"x-overflow":      "drop-head",
	})
	if err != nil {
		return false, fmt.Errorf("declare listening queue: %w", err)
	}
	if err := ch.QueueBind(q.Name, pattern, exchange, false, nil); err != nil {
		return false, fmt.Errorf("bind listening queue: %w", err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	return true, receive(ctx, closes, deliveries, func(d amqp.Delivery) { h(ctx, message(d)) })
}
