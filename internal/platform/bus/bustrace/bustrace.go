// Package bustrace continues, in every consumer, the trace of the request that caused an event.
package bustrace

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// Consume returns the middleware that runs each handler in a consumer span of tracer, child of the
// trace context the message carries (its traceparent header), with the event's id and type in the
// log context. Whatever the handler publishes then carries the same trace.
func Consume(tracer trace.Tracer) bus.Middleware {
	return func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, msg bus.Message) error {
			ctx = observe.ExtractTrace(ctx, msg.Headers)
			ctx, span := tracer.Start(ctx, "consume "+msg.Type, trace.WithSpanKind(trace.SpanKindConsumer),
				trace.WithAttributes(
					attribute.String("messaging.destination.name", msg.Exchange),
					attribute.String("messaging.message.id", msg.ID),
					attribute.String("messaging.rabbitmq.destination.routing_key", msg.Type),
					attribute.Int("messaging.delivery.attempt", msg.Attempt),
				))
			defer span.End()
			err := next(observe.WithEvent(ctx, msg.ID, msg.Type), msg)
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			return err
		}
	}
}
