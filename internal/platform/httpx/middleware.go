package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// EdgeConfig configures the middleware every service runs behind. Its zero value serves any host and
// takes the TCP peer for the client, as a service behind the gateway needs.
type EdgeConfig struct {
	Logger      *slog.Logger
	Metrics     *observe.HTTPMetrics
	Tracer      trace.Tracer
	CORSOrigins []string // allowed cross-origin callers; empty = CORS off
	// AllowedHosts are the host names and IP literals the service answers for ("localhost" also
	// covers *.localhost, "*" any host). A request for another Host is refused before anything runs,
	// so a DNS-rebinding page cannot reach the service. Empty = any host. LoopbackHosts suits dev.
	AllowedHosts []string
	// TrustedProxies are the peers whose X-Forwarded-For and X-Real-IP headers name the client (see
	// ClientIP). Empty = the TCP peer is the client and those headers are ignored.
	TrustedProxies []netip.Prefix
}

// Edge wraps h in Mint's middleware, outermost first: request id, client address, trace, metrics and
// access log; host check; panic recovery; body limit; cross-origin protection; CORS. A *http.ServeMux
// also answers unknown routes and methods with problems (see serveMux).
func Edge(h http.Handler, cfg EdgeConfig) http.Handler {
	if mux, ok := h.(*http.ServeMux); ok {
		h = serveMux(mux, cfg.Logger)
	}
	h = cors(h, cfg.CORSOrigins)
	h = crossOriginProtection(h, cfg.CORSOrigins, cfg.Logger)
	h = limitBody(h, cfg.Logger)
	h = recoverPanics(h, cfg.Logger)
	h = allowHosts(h, cfg.AllowedHosts, cfg.Logger)
	tracer := cfg.Tracer
	if tracer == nil {
		tracer = noop.NewTracerProvider().Tracer("")
	}
	return observeRequests(h, cfg.Logger, cfg.Metrics, tracer, cfg.TrustedProxies)
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observeRequests assigns the request id, resolves the client address, continues the caller's W3C
// trace (traceparent) or starts one, and records metrics and one access-log line per request, all
// labelled with the route pattern and a method from a closed set: no label is the client's choice.
func observeRequests(next http.Handler, logger *slog.Logger, m *observe.HTTPMetrics, tracer trace.Tracer, trusted []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		method := methodLabel(r.Method)
		client := resolveClientIP(r, trusted)
		ctx := observe.ExtractHTTP(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		ctx, route := withRouteSlot(withClientIP(observe.WithRequestID(ctx, id), client))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))

		if rec.status == 0 {
			rec.status = http.StatusOK
			if r.Context().Err() != nil {
				rec.status = StatusClientClosedRequest // nothing was answered and nobody is waiting
			}
		}
		pattern := *route
		if pattern == "" {
			pattern = "unmatched"
		}
		span.SetName(pattern)
		span.SetAttributes(attribute.String("http.request.method", method), attribute.String("http.route", pattern),
			attribute.Int("http.response.status_code", rec.status))
		if rec.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(rec.status))
		}
		elapsed := time.Since(start)
		status := strconv.Itoa(rec.status)
		if m != nil {
			m.Requests.WithLabelValues(method, pattern, status).Inc()
			m.Duration.WithLabelValues(method, pattern, status).Observe(elapsed.Seconds())
		}
		attrs := []slog.Attr{
			slog.String("method", method), slog.String("route", pattern), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000), slog.String("remote", addrString(client)),
		}
		if peer := peerAddr(r); peer != client {
			attrs = append(attrs, slog.String("peer", addrString(peer))) // the proxy that named the client
		}
		logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
	})
}

// methodLabel maps a request method to a closed set: net/http accepts any token as a method, and a
// client choosing label values could grow the metrics without bound.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && !strings.ContainsRune("-_.:", c) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recoverPanics turns a handler panic into a 500 problem and keeps the process alive.
func recoverPanics(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				WriteError(w, r, logger, failure.Wrap("panic", fmt.Errorf("%v", p)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody rejects a body over MaxBodyBytes up front when its length is declared, and caps the reader
// otherwise (Decode then reports 413).
func limitBody(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			WriteError(w, r, logger, failure.Newf(failure.PayloadTooLarge, "the request body is larger than %d bytes", MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// crossOriginProtection rejects state-changing browser requests from other origins (Fetch Metadata,
// then Origin against Host), except from the CORS allowlist.
func crossOriginProtection(next http.Handler, trusted []string, logger *slog.Logger) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, o := range trusted {
		if o != "*" {
			_ = cop.AddTrustedOrigin(o)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, logger, failure.New(failure.Forbidden, "cross-origin request rejected"))
	}))
	return cop.Handler(next)
}

// cors answers allowlisted origins. Credentials are allowed only for listed origins, never with "*".
func cors(next http.Handler, origins []string) http.Handler {
	if len(origins) == 0 {
		return next
	}
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		listed := origin != "" && slices.Contains(origins, origin)
		if origin != "" && (listed || anyOrigin) {
			h := w.Header()
			h.Add("Vary", "Origin")
			if listed {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
			} else {
				h.Set("Access-Control-Allow-Origin", "*")
			}
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Idempotency-Replayed, Retry-After")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, Idempotency-Key, X-Request-Id")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
