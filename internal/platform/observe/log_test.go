package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/mint-wallet/mint/internal/platform/observe"
)

var (
	testTraceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	testSpanID  = trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

func withSpan(ctx context.Context) context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: testSpanID, TraceFlags: trace.FlagsSampled})
	return trace.ContextWithSpanContext(ctx, sc)
}

// records parses one JSON object per line.
func records(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(out) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name          string
		ctx           context.Context
		wantRequestID string // "" = absent
		wantTraceID   string // "" = absent
	}{
		{name: "bare context", ctx: context.Background()},
		{name: "request id", ctx: observe.WithRequestID(context.Background(), "req-1"), wantRequestID: "req-1"},
		{name: "empty request id is left out", ctx: observe.WithRequestID(context.Background(), "")},
		{name: "span", ctx: withSpan(context.Background()), wantTraceID: testTraceID.String()},
		{name: "request id and span", ctx: withSpan(observe.WithRequestID(context.Background(), "req-2")), wantRequestID: "req-2", wantTraceID: testTraceID.String()},
		{name: "invalid span context is left out", ctx: trace.ContextWithSpanContext(context.Background(), trace.SpanContext{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := observe.NewLogger(&buf, "wallet", slog.LevelInfo)
			logger.InfoContext(tt.ctx, "hello", "amount", 10)

			recs := records(t, buf.String())
			if len(recs) != 1 {
				t.Fatalf("records = %v", recs)
			}
			rec := recs[0]
			for k, v := range map[string]any{"service": "wallet", "level": "INFO", "msg": "hello", "amount": float64(10)} {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v", k, rec[k], v)
				}
			}
			if _, ok := rec["time"]; !ok {
				t.Error("no time")
			}
			checkAttr(t, rec, "request_id", tt.wantRequestID)
			checkAttr(t, rec, "trace_id", tt.wantTraceID)
		})
	}
}

func checkAttr(t *testing.T, rec map[string]any, key, want string) {
	t.Helper()
	got, ok := rec[key]
	switch {
	case want == "" && ok:
		t.Errorf("%s = %v, want none", key, got)
	case want != "" && got != want:
		t.Errorf("%s = %v, want %q", key, got, want)
	}
}

func TestNewLoggerLevel(t *testing.T) {
	tests := []struct {
		level slog.Level
		want  []string // messages that get through
	}{
		{slog.LevelDebug, []string{"d", "i", "w", "e"}},
		{slog.LevelInfo, []string{"i", "w", "e"}},
		{slog.LevelWarn, []string{"w", "e"}},
		{slog.LevelError, []string{"e"}},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			var buf bytes.Buffer
			logger := observe.NewLogger(&buf, "s", tt.level)
			ctx := context.Background()
			logger.DebugContext(ctx, "d")
			logger.InfoContext(ctx, "i")
			logger.WarnContext(ctx, "w")
			logger.ErrorContext(ctx, "e")
			var got []string
			for _, rec := range records(t, buf.String()) {
				got = append(got, rec["msg"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("logged %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewLoggerDerivedLoggersKeepContext(t *testing.T) {
	var buf bytes.Buffer
	logger := observe.NewLogger(&buf, "auth", slog.LevelInfo).With("component", "relay")
	ctx := withSpan(observe.WithRequestID(context.Background(), "req-3"))
	logger.InfoContext(ctx, "with")
	logger.WithGroup("outbox").InfoContext(ctx, "grouped", "n", 1)

	recs := records(t, buf.String())
	if len(recs) != 2 {
		t.Fatalf("records = %v", recs)
	}
	with := recs[0]
	if with["component"] != "relay" || with["service"] != "auth" || with["request_id"] != "req-3" || with["trace_id"] != testTraceID.String() {
		t.Errorf("With logger record = %v", with)
	}
	// A grouped logger still tags the record; the ids land in the group (slog qualifies added attrs).
	if line := buf.String(); strings.Count(line, `"request_id":"req-3"`) != 2 || strings.Count(line, testTraceID.String()) != 2 {
		t.Errorf("grouped logger lost the context ids:\n%s", line)
	}
}

func TestRequestID(t *testing.T) {
	if got := observe.RequestID(context.Background()); got != "" {
		t.Errorf("RequestID(background) = %q", got)
	}
	ctx := observe.WithRequestID(context.Background(), "a")
	if got := observe.RequestID(ctx); got != "a" {
		t.Errorf("RequestID = %q, want a", got)
	}
	if got := observe.RequestID(observe.WithRequestID(ctx, "b")); got != "b" {
		t.Errorf("RequestID after overriding = %q, want b", got)
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "debug", want: slog.LevelDebug},
		{in: "info", want: slog.LevelInfo},
		{in: "warn", want: slog.LevelWarn},
		{in: "error", want: slog.LevelError},
		{in: "INFO", want: slog.LevelInfo},
		{in: "Warn", want: slog.LevelWarn},
		{in: " error\n", want: slog.LevelError},
		{in: "", wantErr: true},
		{in: "   ", wantErr: true},
		{in: "warning", wantErr: true},
		{in: "verbose", wantErr: true},
		{in: "trace", wantErr: true},
		{in: "fatal", wantErr: true},
		{in: "0", wantErr: true},
		{in: "info error", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := observe.ParseLevel(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ParseLevel(%q) = %v, want an error", tt.in, got)
				} else if !strings.Contains(err.Error(), "debug, info, warn or error") {
					t.Errorf("error %q does not list the levels", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNewLoggerNamesTheEventBeingHandled(t *testing.T) {
	var buf bytes.Buffer
	logger := observe.NewLogger(&buf, "wallet", slog.LevelInfo)
	logger.InfoContext(observe.WithEvent(withSpan(context.Background()), "ev-1", "transaction.processing"), "applied")
	logger.InfoContext(context.Background(), "idle")
	recs := records(t, buf.String())
	if len(recs) != 2 {
		t.Fatalf("records = %v", recs)
	}
	if r := recs[0]; r["event_id"] != "ev-1" || r["event_type"] != "transaction.processing" || r["trace_id"] != testTraceID.String() {
		t.Errorf("record in a handler = %v", r)
	}
	if _, ok := recs[1]["event_id"]; ok {
		t.Errorf("record outside a handler names an event: %v", recs[1])
	}
}
