package bustrace_test

import (
	"context"
	"errors"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/bustrace"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

func TestConsumeContinuesTheTraceTheMessageCarries(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)).Tracer("test")
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

	var published map[string]string
	h := bustrace.Consume(tracer)(func(ctx context.Context, msg bus.Message) error {
		published = map[string]string{}
		observe.InjectTrace(ctx, published) // what an event the handler owes would carry
		return errors.New("not yet")
	})
	err := h(context.Background(), bus.Message{ID: "ev-1", Type: "transaction.created", Exchange: "transactions",
		Headers: map[string]string{"traceparent": parent}, Attempt: 2})
	if err == nil {
		t.Fatal("the handler's error was lost")
	}
	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans, want 1", len(ended))
	}
	s := ended[0]
	if got := s.SpanContext().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("span trace %s, want the message's", got)
	}
	if got := s.Parent().SpanID().String(); got != "00f067aa0ba902b7" {
		t.Errorf("span parent %s, want the message's span", got)
	}
	if s.SpanKind() != trace.SpanKindConsumer || s.Name() != "consume transaction.created" || s.Status().Description != "not yet" {
		t.Errorf("span %q kind %v status %v", s.Name(), s.SpanKind(), s.Status())
	}
	want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + s.SpanContext().SpanID().String() + "-01"
	if published["traceparent"] != want {
		t.Errorf("an event published by the handler carries %q, want %q", published["traceparent"], want)
	}

	// a message without a trace starts one
	_ = h(context.Background(), bus.Message{ID: "ev-2", Type: "user.signup"})
	if got := spans.Ended()[1]; !got.SpanContext().TraceID().IsValid() || got.Parent().IsValid() {
		t.Errorf("a message without a trace: span %v parent %v", got.SpanContext(), got.Parent())
	}
}
