package observe

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// propagator is W3C trace context: the traceparent/tracestate headers on HTTP requests and AMQP messages.
var propagator = propagation.TraceContext{}

// NewTracerProvider returns a tracer provider for service. Spans always get ids (so logs carry a
// trace_id), but nothing is exported unless OTEL_EXPORTER_OTLP_ENDPOINT is set. The returned function
// flushes and stops it.
func NewTracerProvider(ctx context.Context, service string) (*sdktrace.TracerProvider, func(context.Context) error, error) {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("otlp trace exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	otel.SetTextMapPropagator(propagator)
	return tp, tp.Shutdown, nil
}

// Tracer returns a tracer of tp, or of the global provider when tp is nil.
func Tracer(tp trace.TracerProvider, name string) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(name)
}

// InjectTrace writes ctx's trace context into headers (e.g. an event's AMQP headers).
func InjectTrace(ctx context.Context, headers map[string]string) {
	propagator.Inject(ctx, propagation.MapCarrier(headers))
}

// ExtractTrace returns ctx carrying the trace context found in headers.
func ExtractTrace(ctx context.Context, headers map[string]string) context.Context {
	return propagator.Extract(ctx, propagation.MapCarrier(headers))
}

// TraceParent returns ctx's trace context as one W3C traceparent value ("" when ctx has none), for a
// record that keeps the trace it was made in.
func TraceParent(ctx context.Context) string {
	carrier := propagation.MapCarrier{}
	propagator.Inject(ctx, carrier)
	return carrier.Get("traceparent")
}

// WithTraceParent returns ctx carrying the trace context of traceparent, a value TraceParent returned;
// "" leaves ctx as it is.
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// ExtractHTTP returns ctx carrying the trace context of an HTTP request's headers.
func ExtractHTTP(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	return propagator.Extract(ctx, carrier)
}
