package observe_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/mint-wallet/mint/internal/platform/observe"
)

const testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestInjectExtractTraceRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		flags trace.TraceFlags
	}{
		{"sampled", trace.FlagsSampled},
		{"not sampled", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: testSpanID, TraceFlags: tt.flags})
			headers := map[string]string{"other": "kept"}
			observe.InjectTrace(trace.ContextWithSpanContext(context.Background(), sc), headers)
			if headers["traceparent"] == "" || headers["other"] != "kept" {
				t.Fatalf("headers = %v", headers)
			}

			got := trace.SpanContextFromContext(observe.ExtractTrace(context.Background(), headers))
			if got.TraceID() != testTraceID || got.SpanID() != testSpanID || got.TraceFlags() != tt.flags || !got.IsRemote() {
				t.Errorf("extracted %v, want trace %s span %s flags %s, remote", got, testTraceID, testSpanID, tt.flags)
			}
		})
	}
}

func TestInjectTraceWithoutSpan(t *testing.T) {
	headers := map[string]string{}
	observe.InjectTrace(context.Background(), headers)
	if len(headers) != 0 {
		t.Errorf("headers = %v, want none without a span", headers)
	}
}

func TestExtractTrace(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    string // trace id, "" = none
	}{
		{"valid", map[string]string{"traceparent": testTraceparent}, testTraceID.String()},
		{"none", map[string]string{}, ""},
		{"nil map", nil, ""},
		{"garbage", map[string]string{"traceparent": "not-a-traceparent"}, ""},
		{"zero trace id", map[string]string{"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, ""},
		{"bad version", map[string]string{"traceparent": "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := trace.SpanContextFromContext(observe.ExtractTrace(context.Background(), tt.headers))
			got := ""
			if sc.IsValid() {
				got = sc.TraceID().String()
			}
			if got != tt.want {
				t.Errorf("trace id = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExtractHTTP(t *testing.T) {
	h := http.Header{}
	h.Set("Traceparent", testTraceparent) // canonical HTTP casing
	sc := trace.SpanContextFromContext(observe.ExtractHTTP(context.Background(), propagation.HeaderCarrier(h)))
	if sc.TraceID() != testTraceID || !sc.IsRemote() {
		t.Errorf("extracted %v", sc)
	}
}

// Spans started under an extracted trace continue it, and their ids reach the log.
func TestTracerProviderContinuesTraces(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	tp, shutdown, err := observe.NewTracerProvider(context.Background(), "wallet")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	tracer := observe.Tracer(tp, "test")

	ctx := observe.ExtractTrace(context.Background(), map[string]string{"traceparent": testTraceparent})
	ctx, span := tracer.Start(ctx, "child")
	sc := span.SpanContext()
	span.End()
	if sc.TraceID() != testTraceID || sc.SpanID() == testSpanID || !sc.SpanID().IsValid() {
		t.Errorf("child span %v, want trace %s with a new span id", sc, testTraceID)
	}
	out := map[string]string{}
	observe.InjectTrace(ctx, out)
	if got := trace.SpanContextFromContext(observe.ExtractTrace(context.Background(), out)); got.SpanID() != sc.SpanID() {
		t.Errorf("injected span %s, want the child's %s", got.SpanID(), sc.SpanID())
	}

	// A root span gets ids too, so logs always carry a trace_id.
	_, root := tracer.Start(context.Background(), "root")
	defer root.End()
	if !root.SpanContext().IsValid() {
		t.Error("a root span has no valid ids")
	}

	// NewTracerProvider installs the W3C propagator globally, for libraries that use otel's global.
	fields := otel.GetTextMapPropagator().Fields()
	if len(fields) == 0 || fields[0] != "traceparent" {
		t.Errorf("global propagator fields = %v, want traceparent", fields)
	}
}

func TestTracerFallsBackToGlobalProvider(t *testing.T) {
	if observe.Tracer(nil, "x") == nil {
		t.Fatal("Tracer(nil) = nil")
	}
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, finished spans are exported over OTLP/HTTP on shutdown.
func TestTracerProviderExportsToOTLPEndpoint(t *testing.T) {
	var (
		mu    sync.Mutex
		paths []string
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)

	tp, shutdown, err := observe.NewTracerProvider(context.Background(), "wallet")
	if err != nil {
		t.Fatal(err)
	}
	_, span := observe.Tracer(tp, "test").Start(context.Background(), "exported")
	span.End()
	if err := shutdown(t.Context()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) == 0 || paths[0] != "POST /v1/traces" {
		t.Errorf("collector saw %v, want POST /v1/traces", paths)
	}
}

func TestTraceParentRoundTrip(t *testing.T) {
	ctx := observe.WithTraceParent(context.Background(), testTraceparent)
	if got := observe.TraceParent(ctx); got != testTraceparent {
		t.Errorf("TraceParent = %q, want %q", got, testTraceparent)
	}
	if got := observe.TraceParent(context.Background()); got != "" {
		t.Errorf("TraceParent without a trace = %q", got)
	}
	if ctx := observe.WithTraceParent(context.Background(), ""); trace.SpanContextFromContext(ctx).IsValid() {
		t.Error(`WithTraceParent("") made up a trace`)
	}
}
