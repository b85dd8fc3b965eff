package httpx_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// okHandler answers 200 "ok" to everything.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

func isGeneratedID(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == 12 && strings.ToLower(id) == id
}

func TestEdgeRequestID(t *testing.T) {
	tests := []struct {
		name string
		sent []string // X-Request-Id header values sent; nil = none
		echo bool     // whether the first value is echoed (else a fresh one is generated)
	}{
		{name: "absent", sent: nil},
		{name: "empty", sent: []string{""}},
		{name: "sane", sent: []string{"abc-123"}, echo: true},
		{name: "every allowed character", sent: []string{"AZaz09-_.:"}, echo: true},
		{name: "a uuid", sent: []string{"3f1e5b2c-8a7d-4c1e-9f2a-6b3c4d5e6f70"}, echo: true},
		{name: "128 characters", sent: []string{strings.Repeat("a", 128)}, echo: true},
		{name: "129 characters", sent: []string{strings.Repeat("a", 129)}},
		{name: "very long", sent: []string{strings.Repeat("x", 10000)}},
		{name: "space", sent: []string{"abc 123"}},
		{name: "newline", sent: []string{"abc\n123"}},
		{name: "carriage return", sent: []string{"abc\r123"}},
		{name: "header injection", sent: []string{"abc\r\nSet-Cookie: x=y"}},
		{name: "tab", sent: []string{"abc\t123"}},
		{name: "slash", sent: []string{"abc/123"}},
		{name: "quote", sent: []string{`abc"123`}},
		{name: "html", sent: []string{"<script>"}},
		{name: "non-ascii", sent: []string{"caf\u00e9"}},
		{name: "nul", sent: []string{"abc\x00"}},
		{name: "first of several is used", sent: []string{"first", "second"}, echo: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			logger := observe.NewLogger(&logs, "test", slog.LevelInfo)
			var seen string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = observe.RequestID(r.Context())
				httpx.WriteError(w, r, logger, failure.New(failure.NotFound, "nothing here"))
			})
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			for _, v := range tt.sent {
				r.Header.Add("X-Request-Id", v)
			}
			w := httptest.NewRecorder()
			httpx.Edge(h, httpx.EdgeConfig{Logger: logger}).ServeHTTP(w, r)

			got := w.Header().Get("X-Request-Id")
			if tt.echo {
				if got != tt.sent[0] {
					t.Errorf("X-Request-Id = %q, want the client's %q", got, tt.sent[0])
				}
			} else if !isGeneratedID(got) {
				t.Errorf("X-Request-Id = %q, want a generated 24-hex id", got)
			}
			if len(w.Header().Values("X-Request-Id")) != 1 {
				t.Errorf("X-Request-Id values = %q, want one", w.Header().Values("X-Request-Id"))
			}
			if seen != got {
				t.Errorf("the handler's context has request id %q, the response %q", seen, got)
			}
			p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusNotFound, "not_found")
			if p.RequestID != got {
				t.Errorf("problem requestId = %q, want %q", p.RequestID, got)
			}
			if rec := findRecord(t, logs.String(), "request"); rec["request_id"] != got {
				t.Errorf("access log request_id = %v, want %q", rec["request_id"], got)
			}
		})
	}
}

func TestEdgeRequestIDsAreUnique(t *testing.T) {
	h := httpx.Edge(okHandler, httpx.EdgeConfig{Logger: discardLogger()})
	seen := map[string]bool{}
	for range 100 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		id := w.Header().Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("request id %q generated twice", id)
		}
		seen[id] = true
	}
}

func TestEdgeRecoversPanics(t *testing.T) {
	var logs syncBuffer
	logger := observe.NewLogger(&logs, "test", slog.LevelInfo)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("kaboom: secret-internal-detail") })
	mux.HandleFunc("GET /boom-error", func(http.ResponseWriter, *http.Request) { panic(fmt.Errorf("wrapped: %w", io.ErrUnexpectedEOF)) })
	mux.HandleFunc("GET /abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	mux.Handle("GET /ok", okHandler)
	srv := httptest.NewServer(httpx.Edge(mux, httpx.EdgeConfig{Logger: logger}))
	defer srv.Close()

	get := func(path string) (*http.Response, []byte, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	for _, path := range []string{"/boom", "/boom-error", "/boom"} {
		resp, body, err := get(path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		p := wantProblem(t, resp.StatusCode, resp.Header, body, http.StatusInternalServerError, "internal")
		if strings.Contains(string(body), "secret-internal-detail") {
			t.Errorf("the panic leaks into the body: %s", body)
		}
		if p.RequestID == "" || p.RequestID != resp.Header.Get("X-Request-Id") {
			t.Errorf("problem requestId = %q, header %q", p.RequestID, resp.Header.Get("X-Request-Id"))
		}
		// The server keeps serving after a panic.
		resp, body, err = get("/ok")
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("GET /ok after a panic: %v, %v, %s", err, resp, body)
		}
	}

	// http.ErrAbortHandler still aborts the response, as net/http intends.
	if _, _, err := get("/abort"); err == nil {
		t.Error("GET /abort succeeded; want the connection aborted")
	}
	if resp, _, err := get("/ok"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /ok after an abort: %v", err)
	}
	if !strings.Contains(logs.String(), "secret-internal-detail") {
		t.Errorf("the panic value is not logged for the operator:\n%s", logs.String())
	}
}

func TestEdgeMetricsUseRoutePatterns(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics := observe.NewHTTPMetrics(reg)
	mux, _, _ := newTestRouter(t)
	srv := httptest.NewServer(httpx.Edge(mux, httpx.EdgeConfig{Logger: discardLogger(), Metrics: metrics}))
	defer srv.Close()

	requests := []struct{ method, path string }{
		{"GET", "/items/65a1b2c3d4e5f60718293a4b"},
		{"GET", "/items/65a1b2c3d4e5f60718293a4c"},
		{"GET", "/items/not-an-id"},
		{"GET", "/no/such/route"},
		{"GET", "/items/65a1b2c3d4e5f60718293a4b/extra"},
		{"PUT", "/health"},
		{"GET", "/health"},
		{"GET", "/me"},
	}
	for _, rq := range requests {
		req, err := http.NewRequestWithContext(t.Context(), rq.method, srv.URL+rq.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	want := map[[3]string]float64{
		{"GET", "GET /items/{id}", "200"}: 2,
		{"GET", "GET /items/{id}", "404"}: 1,
		{"GET", "unmatched", "404"}:       2,
		{"PUT", "unmatched", "405"}:       1,
		{"GET", "GET /health", "200"}:     1,
		{"GET", "GET /me", "401"}:         1,
	}
	for _, name := range []string{"http_requests_total", "http_request_duration_seconds"} {
		got := map[[3]string]float64{}
		for _, s := range gather(t, reg, name) {
			got[[3]string{s.labels["method"], s.labels["route"], s.labels["status_code"]}] = s.value
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v\nwant %v", name, got, want)
		}
	}
}

func TestEdgeWithoutMetrics(t *testing.T) {
	w := httptest.NewRecorder()
	httpx.Edge(okHandler, httpx.EdgeConfig{Logger: discardLogger()}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK {
		t.Errorf("status = %d", w.Code)
	}
}

func TestEdgeAccessLog(t *testing.T) {
	const (
		traceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
		traceparent = "00-" + traceID + "-00f067aa0ba902b7-01"
	)
	sdk := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = sdk.Shutdown(t.Context()) })

	tests := []struct {
		name        string
		tracer      trace.Tracer
		path        string
		traceparent string
		wantRoute   string
		wantStatus  int
		wantTrace   string // "" = no trace_id; "new" = some fresh valid trace id
	}{
		{name: "traceparent, no tracer", path: "/items/65a1b2c3d4e5f60718293a4b", traceparent: traceparent,
			wantRoute: "GET /items/{id}", wantStatus: 200, wantTrace: traceID},
		{name: "traceparent, sdk tracer", tracer: sdk.Tracer("test"), path: "/items/65a1b2c3d4e5f60718293a4b", traceparent: traceparent,
			wantRoute: "GET /items/{id}", wantStatus: 200, wantTrace: traceID},
		{name: "no traceparent, sdk tracer starts a trace", tracer: sdk.Tracer("test"), path: "/items/x",
			wantRoute: "GET /items/{id}", wantStatus: 404, wantTrace: "new"},
		{name: "no traceparent, no tracer", path: "/health", wantRoute: "GET /health", wantStatus: 200},
		{name: "malformed traceparent is ignored", path: "/health", traceparent: "00-zz-yy-01", wantRoute: "GET /health", wantStatus: 200},
		{name: "unmatched", tracer: sdk.Tracer("test"), path: "/nowhere", traceparent: traceparent,
			wantRoute: "unmatched", wantStatus: 404, wantTrace: traceID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			logger := observe.NewLogger(&logs, "svc", slog.LevelInfo)
			mux, _, _ := newTestRouter(t)
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			r.Header.Set("X-Request-Id", "req-42")
			if tt.traceparent != "" {
				r.Header.Set("Traceparent", tt.traceparent)
			}
			w := httptest.NewRecorder()
			httpx.Edge(mux, httpx.EdgeConfig{Logger: logger, Tracer: tt.tracer}).ServeHTTP(w, r)

			recs := logRecords(t, logs.String())
			if len(recs) != 1 {
				t.Fatalf("log records = %v, want exactly one access-log line", recs)
			}
			rec := recs[0]
			wantFields := map[string]any{
				"msg": "request", "level": "INFO", "service": "svc", "method": "GET", "route": tt.wantRoute,
				"path": tt.path, "status": float64(tt.wantStatus), "request_id": "req-42",
			}
			for k, v := range wantFields {
				if rec[k] != v {
					t.Errorf("log %s = %v, want %v", k, rec[k], v)
				}
			}
			for _, k := range []string{"bytes", "duration_ms", "remote", "time"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("log lacks %s: %v", k, rec)
				}
			}
			gotTrace, hasTrace := rec["trace_id"].(string)
			switch tt.wantTrace {
			case "":
				if hasTrace {
					t.Errorf("trace_id = %q, want none", gotTrace)
				}
			case "new":
				if id, err := trace.TraceIDFromHex(gotTrace); err != nil || !id.IsValid() || gotTrace == traceID {
					t.Errorf("trace_id = %q, want a fresh trace id", gotTrace)
				}
			default:
				if gotTrace != tt.wantTrace {
					t.Errorf("trace_id = %q, want %q from the traceparent", gotTrace, tt.wantTrace)
				}
			}
		})
	}
}

// browserRequest describes a request's method and cross-origin headers.
type browserRequest struct {
	method    string
	site      string // Sec-Fetch-Site
	origin    string // Origin
	preflight bool   // OPTIONS with Access-Control-Request-Method
}

func (b browserRequest) build() *http.Request {
	r := httptest.NewRequest(b.method, "http://api.mint.test/things", nil) // Host: api.mint.test
	if b.site != "" {
		r.Header.Set("Sec-Fetch-Site", b.site)
	}
	if b.origin != "" {
		r.Header.Set("Origin", b.origin)
	}
	if b.preflight {
		r.Header.Set("Access-Control-Request-Method", http.MethodPost)
		r.Header.Set("Access-Control-Request-Headers", "content-type")
	}
	return r
}

func TestEdgeCrossOriginProtection(t *testing.T) {
	const app = "https://app.mint.test"
	tests := []struct {
		name    string
		cors    []string
		req     browserRequest
		blocked bool
	}{
		{name: "non-browser POST", req: browserRequest{method: "POST"}},
		{name: "same-origin POST", req: browserRequest{method: "POST", site: "same-origin", origin: "http://api.mint.test"}},
		{name: "user-initiated POST", req: browserRequest{method: "POST", site: "none"}},
		{name: "cross-site POST", req: browserRequest{method: "POST", site: "cross-site", origin: "https://evil.test"}, blocked: true},
		{name: "cross-site POST without Origin", req: browserRequest{method: "POST", site: "cross-site"}, blocked: true},
		{name: "same-site POST", req: browserRequest{method: "POST", site: "same-site", origin: "https://other.mint.test"}, blocked: true},
		{name: "cross-site PATCH", req: browserRequest{method: "PATCH", site: "cross-site"}, blocked: true},
		{name: "cross-site PUT", req: browserRequest{method: "PUT", site: "cross-site"}, blocked: true},
		{name: "cross-site DELETE", req: browserRequest{method: "DELETE", site: "cross-site"}, blocked: true},
		{name: "cross-site GET", req: browserRequest{method: "GET", site: "cross-site", origin: "https://evil.test"}},
		{name: "cross-site HEAD", req: browserRequest{method: "HEAD", site: "cross-site"}},
		{name: "old browser, foreign Origin", req: browserRequest{method: "POST", origin: "https://evil.test"}, blocked: true},
		{name: "old browser, own Origin", req: browserRequest{method: "POST", origin: "http://api.mint.test"}},
		{name: "allowlisted origin", cors: []string{app}, req: browserRequest{method: "POST", site: "cross-site", origin: app}},
		{name: "allowlisted origin, old browser", cors: []string{app}, req: browserRequest{method: "POST", origin: app}},
		{name: "another origin than the allowlisted one", cors: []string{app}, req: browserRequest{method: "POST", site: "cross-site", origin: "https://evil.test"}, blocked: true},
		{name: "allowlist matches whole origins only", cors: []string{app}, req: browserRequest{method: "POST", site: "cross-site", origin: app + ".evil.test"}, blocked: true},
		{name: "wildcard CORS does not trust every origin", cors: []string{"*"}, req: browserRequest{method: "POST", site: "cross-site", origin: "https://evil.test"}, blocked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran bool
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				ran = true
				w.WriteHeader(http.StatusOK)
			})
			w := httptest.NewRecorder()
			httpx.Edge(h, httpx.EdgeConfig{Logger: discardLogger(), CORSOrigins: tt.cors}).ServeHTTP(w, tt.req.build())
			if tt.blocked {
				wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusForbidden, "forbidden")
				if ran {
					t.Error("the handler ran for a blocked request")
				}
				if w.Header().Get("X-Request-Id") == "" {
					t.Error("the 403 lacks X-Request-Id")
				}
				return
			}
			if w.Code != http.StatusOK || !ran {
				t.Errorf("status %d, handler ran %v; want 200 from the handler (body %s)", w.Code, ran, w.Body)
			}
		})
	}
}

func TestEdgeCORS(t *testing.T) {
	const app, other = "https://app.mint.test", "https://other.test"
	tests := []struct {
		name        string
		cors        []string
		req         browserRequest
		wantACAO    string // "" = no CORS headers at all
		wantCreds   bool
		wantPreflig bool // answered 204 by the CORS layer
	}{
		{name: "off by default", req: browserRequest{method: "GET", origin: app}},
		{name: "off by default, preflight", req: browserRequest{method: "OPTIONS", origin: app, preflight: true}},
		{name: "listed origin", cors: []string{app}, req: browserRequest{method: "GET", origin: app}, wantACAO: app, wantCreds: true},
		{name: "listed origin among several", cors: []string{other, app}, req: browserRequest{method: "GET", origin: app}, wantACAO: app, wantCreds: true},
		{name: "listed origin POST", cors: []string{app}, req: browserRequest{method: "POST", site: "cross-site", origin: app}, wantACAO: app, wantCreds: true},
		{name: "unlisted origin", cors: []string{app}, req: browserRequest{method: "GET", origin: other}},
		{name: "no Origin", cors: []string{app}, req: browserRequest{method: "GET"}},
		{name: "origin differing in scheme", cors: []string{app}, req: browserRequest{method: "GET", origin: "http://app.mint.test"}},
		{name: "wildcard", cors: []string{"*"}, req: browserRequest{method: "GET", origin: other}, wantACAO: "*"},
		{name: "wildcard and listed: listed gets credentials", cors: []string{"*", app}, req: browserRequest{method: "GET", origin: app}, wantACAO: app, wantCreds: true},
		{name: "wildcard and listed: others get *", cors: []string{"*", app}, req: browserRequest{method: "GET", origin: other}, wantACAO: "*"},
		{name: "preflight, listed", cors: []string{app}, req: browserRequest{method: "OPTIONS", origin: app, preflight: true}, wantACAO: app, wantCreds: true, wantPreflig: true},
		{name: "preflight, wildcard", cors: []string{"*"}, req: browserRequest{method: "OPTIONS", origin: other, preflight: true}, wantACAO: "*", wantPreflig: true},
		{name: "preflight, unlisted", cors: []string{app}, req: browserRequest{method: "OPTIONS", origin: other, preflight: true}},
		{name: "plain OPTIONS, listed", cors: []string{app}, req: browserRequest{method: "OPTIONS", origin: app}, wantACAO: app, wantCreds: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran bool
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				ran = true
				w.WriteHeader(http.StatusOK)
			})
			w := httptest.NewRecorder()
			httpx.Edge(h, httpx.EdgeConfig{Logger: discardLogger(), CORSOrigins: tt.cors}).ServeHTTP(w, tt.req.build())
			hdr := w.Header()

			if got := hdr.Get("Access-Control-Allow-Origin"); got != tt.wantACAO {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantACAO)
			}
			if got := hdr.Get("Access-Control-Allow-Credentials"); (got == "true") != tt.wantCreds || (got != "" && got != "true") {
				t.Errorf("Access-Control-Allow-Credentials = %q, want credentials %v", got, tt.wantCreds)
			}
			if tt.wantACAO == "" {
				for k := range hdr {
					if strings.HasPrefix(k, "Access-Control-") {
						t.Errorf("unexpected %s: %q", k, hdr.Get(k))
					}
				}
			} else {
				if !slices.Contains(hdr.Values("Vary"), "Origin") {
					t.Errorf("Vary = %q, want Origin", hdr.Values("Vary"))
				}
				if expose := hdr.Get("Access-Control-Expose-Headers"); !strings.Contains(expose, "X-Request-Id") || !strings.Contains(expose, "Retry-After") {
					t.Errorf("Access-Control-Expose-Headers = %q", expose)
				}
			}

			if tt.wantPreflig {
				if w.Code != http.StatusNoContent || ran {
					t.Errorf("preflight: status %d, handler ran %v; want 204 without the handler", w.Code, ran)
				}
				if m := hdr.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") || !strings.Contains(m, "PATCH") || !strings.Contains(m, "DELETE") {
					t.Errorf("Access-Control-Allow-Methods = %q", m)
				}
				if h := hdr.Get("Access-Control-Allow-Headers"); !strings.Contains(h, "Content-Type") || !strings.Contains(h, "Authorization") || !strings.Contains(h, "Idempotency-Key") {
					t.Errorf("Access-Control-Allow-Headers = %q", h)
				}
				if hdr.Get("Access-Control-Max-Age") == "" {
					t.Error("no Access-Control-Max-Age")
				}
				return
			}
			if w.Code != http.StatusOK || !ran {
				t.Errorf("status %d, handler ran %v; want the handler's 200", w.Code, ran)
			}
			if hdr.Get("Access-Control-Allow-Methods") != "" {
				t.Errorf("Access-Control-Allow-Methods on a non-preflight response")
			}
		})
	}
}
