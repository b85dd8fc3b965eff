// Package observe sets up what operators see of a service: JSON logs (log/slog) carrying service,
// request id or event id and type, and trace id; the Prometheus registry and HTTP metrics; OpenTelemetry tracing with W3C trace
// context propagated over HTTP and AMQP headers.
package observe

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type eventKey struct{}

// event is the event a consumer is handling.
type event struct{ id, typ string }

// WithEvent returns ctx carrying the id and type of the event being handled, which its log records
// then name (event_id, event_type).
func WithEvent(ctx context.Context, id, typ string) context.Context {
	return context.WithValue(ctx, eventKey{}, event{id: id, typ: typ})
}

// ParseLevel parses debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// NewLogger returns a JSON logger writing to w at level, with every record tagged with service and with
// the request id and trace id of the context it is logged with.
func NewLogger(w io.Writer, service string, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(contextHandler{h}).With("service", service)
}

// contextHandler adds request_id, event_id and event_type, and trace_id from the record's context.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if ev, ok := ctx.Value(eventKey{}).(event); ok {
		r.AddAttrs(slog.String("event_id", ev.id), slog.String("event_type", ev.typ))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
