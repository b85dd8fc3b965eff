package httpx_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// randomMethod is a valid HTTP token of n letters, as a hostile client would send.
func randomMethod(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + rng.IntN(26))
	}
	return string(b)
}

func TestEdgeMetricLabelsStayBoundedUnderRandomMethods(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics := observe.NewHTTPMetrics(reg)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	var logs syncBuffer
	mux, _, _ := newTestRouter(t)
	h := httpx.Edge(mux, httpx.EdgeConfig{Logger: observe.NewLogger(&logs, "test", slog.LevelInfo), Metrics: metrics, Tracer: tp.Tracer("test")})

	rng := rand.New(rand.NewPCG(1, 2))
	const requests = 200
	for i := range requests {
		path := "/health"
		if i%2 == 1 {
			path = "/no/such/route"
		}
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(randomMethod(rng, 8<<10), path, nil))
	}
	// Methods are case-sensitive: "get" is not GET.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("get", "/health", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/health", nil))

	for _, name := range []string{"http_requests_total", "http_request_duration_seconds"} {
		got := map[string]float64{}
		for _, s := range gather(t, reg, name) {
			got[s.labels["method"]+" "+s.labels["route"]+" "+s.labels["status_code"]] = s.value
		}
		want := map[string]float64{
			"other unmatched 405": requests/2 + 1,
			"other unmatched 404": requests / 2,
			"GET GET /health 200": 1,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s series = %v, want %v", name, got, want)
		}
	}
	for _, rec := range logRecords(t, logs.String()) {
		if m, _ := rec["method"].(string); len(m) > len(http.MethodOptions) {
			t.Fatalf("access log method = %.40q…, want a method of the closed set", m)
		}
	}
	for _, s := range spans.Ended() {
		if len(s.Name()) > 64 {
			t.Fatalf("span name = %.40q…, want the route or a method of the closed set", s.Name())
		}
	}
}

func TestEdgeRecordsClientClosedRequests(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"the handler's database call fails with the cancellation", nil},
		{"the handler gives up without answering", func(http.ResponseWriter, *http.Request) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			var logs syncBuffer
			logger := observe.NewLogger(&logs, "test", slog.LevelInfo)
			h := tt.handler
			if h == nil {
				h = func(w http.ResponseWriter, r *http.Request) {
					httpx.WriteError(w, r, logger, failure.Wrap("store.search", fmt.Errorf("find users: %w", r.Context().Err())))
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // net/http cancels the request's context when the client's connection closes
			r := httptest.NewRequest(http.MethodGet, "/api/v1/users/search", nil).WithContext(ctx)
			httpx.Edge(h, httpx.EdgeConfig{Logger: logger, Metrics: observe.NewHTTPMetrics(reg)}).ServeHTTP(httptest.NewRecorder(), r)

			series := gather(t, reg, "http_requests_total")
			if len(series) != 1 || series[0].labels["status_code"] != "499" {
				t.Errorf("http_requests_total = %v, want one series with status_code 499", series)
			}
			if rec := findRecord(t, logs.String(), "request"); rec["status"] != float64(499) {
				t.Errorf("access log status = %v, want 499", rec["status"])
			}
			if strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Errorf("a client leaving is logged as an error:\n%s", logs.String())
			}
		})
	}
}

func TestEdgeAllowedHosts(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		host    string
		ok      bool
	}{
		{name: "no list allows any host", host: "evil.test", ok: true},
		{name: "localhost", allowed: httpx.LoopbackHosts, host: "localhost:4000", ok: true},
		{name: "localhost without port", allowed: httpx.LoopbackHosts, host: "localhost", ok: true},
		{name: "localhost in capitals", allowed: httpx.LoopbackHosts, host: "LocalHost:4000", ok: true},
		{name: "localhost with the final dot", allowed: httpx.LoopbackHosts, host: "localhost.:4000", ok: true},
		{name: "a .localhost subdomain", allowed: httpx.LoopbackHosts, host: "app.localhost:4000", ok: true},
		{name: "IPv4 loopback", allowed: httpx.LoopbackHosts, host: "127.0.0.1:4000", ok: true},
		{name: "IPv6 loopback", allowed: httpx.LoopbackHosts, host: "[::1]:4000", ok: true},
		{name: "IPv6 loopback without port", allowed: httpx.LoopbackHosts, host: "[::1]", ok: true},
		{name: "IPv6 loopback spelled out", allowed: httpx.LoopbackHosts, host: "[0:0:0:0:0:0:0:1]:4000", ok: true},
		{name: "a rebinding domain", allowed: httpx.LoopbackHosts, host: "attacker.test:4000"},
		{name: "a domain ending in localhost", allowed: httpx.LoopbackHosts, host: "evillocalhost:4000"},
		{name: "localhost as a subdomain of another", allowed: httpx.LoopbackHosts, host: "localhost.attacker.test"},
		{name: "another loopback address", allowed: httpx.LoopbackHosts, host: "127.0.0.2:4000"},
		{name: "the wildcard address", allowed: httpx.LoopbackHosts, host: "0.0.0.0:4000"},
		{name: "no Host", allowed: httpx.LoopbackHosts, host: ""},
		{name: "a named host", allowed: []string{"api.mint.test"}, host: "API.mint.test", ok: true},
		{name: "names do not cover subdomains", allowed: []string{"mint.test"}, host: "api.mint.test"},
		{name: "an entry with a port matches the host", allowed: []string{"mint.test:8080"}, host: "mint.test:9090", ok: true},
		{name: "an IPv6 entry in brackets", allowed: []string{"[2001:db8::1]"}, host: "[2001:db8::1]:443", ok: true},
		{name: "star allows any host", allowed: []string{"localhost", "*"}, host: "whatever.test", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran bool
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				ran = true
				w.WriteHeader(http.StatusNoContent)
			})
			r := httptest.NewRequest(http.MethodPost, "/api/v1/auth/signup", nil)
			r.Host = tt.host
			w := httptest.NewRecorder()
			httpx.Edge(h, httpx.EdgeConfig{Logger: discardLogger(), AllowedHosts: tt.allowed}).ServeHTTP(w, r)
			if tt.ok {
				if w.Code != http.StatusNoContent || !ran {
					t.Errorf("status %d, handler ran %v; want the handler's 204", w.Code, ran)
				}
				return
			}
			p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusMisdirectedRequest, "misdirected_request")
			if ran || p.Detail != "host not allowed" {
				t.Errorf("handler ran %v, detail %q; want it refused with %q", ran, p.Detail, "host not allowed")
			}
		})
	}
}

func TestEdgeAllowedHostsGuardsEveryRoute(t *testing.T) {
	mux, _, _ := newTestRouter(t)
	h := httpx.Edge(mux, httpx.EdgeConfig{Logger: discardLogger(), AllowedHosts: httpx.LoopbackHosts})
	for _, path := range []string{"/health", "/items/65a1b2c3d4e5f60718293a4b", "/no/such/route"} {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Host = "rebound.attacker.test:4000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusMisdirectedRequest, "misdirected_request")
		if w.Header().Get("X-Request-Id") == "" {
			t.Errorf("GET %s: the refusal lacks X-Request-Id", path)
		}
	}
}

func TestEdgeResolvesClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string // X-Forwarded-For lines
		realIP  string
		want    string // "" = the zero Addr
	}{
		{name: "direct client", remote: "203.0.113.7:5000", want: "203.0.113.7"},
		{name: "direct IPv6 client", remote: "[2001:db8::7]:5000", want: "2001:db8::7"},
		{name: "IPv4-mapped peer", remote: "[::ffff:203.0.113.7]:5000", want: "203.0.113.7"},
		{name: "spoofed X-Forwarded-For from an untrusted peer", trusted: proxies, remote: "203.0.113.7:5000",
			xff: []string{"198.51.100.1"}, want: "203.0.113.7"},
		{name: "spoofed X-Real-IP from an untrusted peer", trusted: proxies, remote: "203.0.113.7:5000",
			realIP: "198.51.100.1", want: "203.0.113.7"},
		{name: "headers ignored without trusted proxies", remote: "10.0.0.2:5000", xff: []string{"198.51.100.1"}, want: "10.0.0.2"},
		{name: "trusted proxy names the client", trusted: proxies, remote: "10.0.0.2:5000", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "the client's own X-Forwarded-For is passed over", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{"198.51.100.1, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "a chain of trusted proxies", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{"198.51.100.1, 203.0.113.7, 10.0.0.9"}, want: "203.0.113.7"},
		{name: "several header lines read as one list", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{"198.51.100.1", "203.0.113.7, 10.0.0.9"}, want: "203.0.113.7"},
		{name: "a client pretending to be a trusted proxy is passed over", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{"10.6.6.6, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "entries with ports", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{"[2001:db8::7]:443, 10.0.0.9:80"}, want: "2001:db8::7"},
		{name: "only trusted hops: the first is the origin", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{"10.1.1.1, 10.0.0.9"}, want: "10.1.1.1"},
		{name: "garbage right of the client falls back to the proxy", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{"203.0.113.7, unknown"}, want: "10.0.0.2"},
		{name: "garbage left of the client is never read", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{"<script>, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "X-Real-IP without X-Forwarded-For", trusted: proxies, remote: "10.0.0.2:5000", realIP: "203.0.113.7", want: "203.0.113.7"},
		{name: "X-Forwarded-For wins over X-Real-IP", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{"203.0.113.7"}, realIP: "198.51.100.1", want: "203.0.113.7"},
		{name: "empty X-Forwarded-For falls back to X-Real-IP", trusted: proxies, remote: "10.0.0.2:5000",
			xff: []string{" , "}, realIP: "203.0.113.7", want: "203.0.113.7"},
		{name: "bad X-Real-IP falls back to the peer", trusted: proxies, remote: "10.0.0.2:5000", realIP: "nope", want: "10.0.0.2"},
		{name: "trusted IPv6 proxy", trusted: proxies, remote: "[fd00::2]:5000", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "unparsable peer", trusted: proxies, remote: "pipe", xff: []string{"203.0.113.7"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			var got netip.Addr
			h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = httpx.ClientIP(r) })
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
			}
			cfg := httpx.EdgeConfig{Logger: observe.NewLogger(&logs, "test", slog.LevelInfo), TrustedProxies: tt.trusted}
			httpx.Edge(h, cfg).ServeHTTP(httptest.NewRecorder(), r)

			want := netip.Addr{}
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want {
				t.Errorf("ClientIP = %v, want %v", got, want)
			}
			if rec := findRecord(t, logs.String(), "request"); rec["remote"] != tt.want {
				t.Errorf("access log remote = %v, want %q", rec["remote"], tt.want)
			}
		})
	}
}

func TestClientIPWithoutEdge(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.1:1234", "192.0.2.1"},
		{"[2001:db8::1]:1234", "2001:db8::1"},
		{"[fe80::1%eth0]:1234", "fe80::1"},
		{"192.0.2.1", "192.0.2.1"},
		{"", ""},
		{"@", ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Forwarded-For", "198.51.100.1") // never read without the edge's trusted proxies
		want := netip.Addr{}
		if tt.want != "" {
			want = netip.MustParseAddr(tt.want)
		}
		if got := httpx.ClientIP(r); got != want {
			t.Errorf("ClientIP(RemoteAddr %q) = %v, want %v", tt.remote, got, want)
		}
	}
}
