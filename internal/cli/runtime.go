package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/busmetrics"
	"github.com/mint-wallet/mint/internal/platform/bus/bustrace"
	"github.com/mint-wallet/mint/internal/platform/bus/memory"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/mint-wallet/mint/internal/platform/openapi"
	"github.com/mint-wallet/mint/internal/webapp"
)

// runtime is what every service of a process shares: logs, metrics, tracing, the database connection,
// the bus and the cache.
type runtime struct {
	logger   *slog.Logger
	registry *prometheus.Registry
	http     *observe.HTTPMetrics
	tracer   trace.Tracer
	mongo    *mongox.Client
	bus      bus.Bus
	cache    cache.Cache
	closers  []func(context.Context) error
}

// openRuntime connects to (or embeds) the database, broker and cache named in s, and declares the
// whole event topology so no event is unroutable because its consumer has not started yet.
func openRuntime(ctx context.Context, s settings, service string, stderr io.Writer) (_ *runtime, err error) {
	level, err := observe.ParseLevel(s.LogLevel)
	if err != nil {
		return nil, err
	}
	rt := &runtime{logger: observe.NewLogger(stderr, service, level), registry: observe.NewRegistry()}
	defer func() {
		if err != nil {
			rt.close()
		}
	}()
	rt.http = observe.NewHTTPMetrics(rt.registry)
	tp, stop, err := observe.NewTracerProvider(ctx, service)
	if err != nil {
		return nil, err
	}
	rt.closers = append(rt.closers, stop)
	rt.tracer = tp.Tracer("mint/" + service)

	if s.MongoURI == "" {
		rt.logger.Info("using the embedded database (FerretDB on SQLite)", "dir", s.DataDir)
	}
	rt.mongo, err = mongox.Open(ctx, mongox.Config{URI: s.MongoURI, DataDir: s.DataDir, Logger: rt.logger, Registerer: rt.registry})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	rt.closers = append(rt.closers, rt.mongo.Close)

	if s.AMQPURL == "" {
		rt.logger.Info("using the in-process event bus")
		rt.bus = memory.New(memory.Config{Logger: rt.logger})
	} else {
		broker, err := rabbitmq.New(ctx, rabbitmq.Config{URL: s.AMQPURL, Logger: rt.logger})
		if err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
		rt.bus = broker
		if err := rt.registry.Register(broker.DepthCollector(2 * time.Second)); err != nil {
			_ = broker.Close()
			return nil, fmt.Errorf("broker metrics: %w", err)
		}
	}
	rt.closers = append(rt.closers, func(context.Context) error { return rt.bus.Close() })
	// Counted on the adapter itself, beneath the middleware: the count is what the adapter settles.
	counted, err := busmetrics.CountHandled(rt.bus, rt.registry)
	if err != nil {
		return nil, fmt.Errorf("bus metrics: %w", err)
	}
	rt.bus = bus.WithMiddleware(counted, bustrace.Consume(rt.tracer))
	if err := rt.bus.Declare(ctx, contract.Topology()); err != nil {
		return nil, fmt.Errorf("declare topology: %w", err)
	}

	var c cache.Cache
	// A revocation marker never changes: one whose SET timed out may still land, and must stay.
	opts := []cache.ResilientOption{cache.WithImmutablePrefixes(jwtverify.RevokedTokenKey(""))}
	if s.RedisURL == "" {
		rt.logger.Info("using the in-process cache")
		c, opts = cache.NewMemory(), append(opts, cache.WithoutTimeout())
	} else if c, err = cache.NewRedis(s.RedisURL); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	resilient, err := cache.NewResilient(c, rt.logger, rt.registry, opts...)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	// Closing the resilient cache stops its replay of owed invalidations (trying once more) and
	// closes c.
	rt.cache = resilient
	rt.closers = append(rt.closers, func(context.Context) error { return resilient.Close() })
	return rt, nil
}

func (rt *runtime) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := len(rt.closers) - 1; i >= 0; i-- {
		if err := rt.closers[i](ctx); err != nil {
			rt.logger.Warn("close", "err", err)
		}
	}
}

// shutdown closes the runtime once the process has stopped with *err; a clean stop is logged last, so
// an operator sees that nothing was cut short.
func (rt *runtime) shutdown(err *error) {
	rt.close()
	if *err == nil {
		rt.logger.Info("stopped")
	}
}

// newMux returns a mux with the routes every process serves (/health, /ready, /metrics, /api-docs,
// the web wallet at / and /app/) and a router for the services' routes, described in doc; /api-docs publishes published.
func (rt *runtime) newMux(service string, doc, published *openapi.Document, auth httpx.Authenticator) (*http.ServeMux, *httpx.Router) {
	mux := http.NewServeMux()
	router := httpx.NewRouter(mux, doc, auth, rt.logger)
	router.HandleRaw("GET /health", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "service": service})
	}))
	router.HandleRaw("GET /ready", http.HandlerFunc(rt.ready(service)))
	router.HandleRaw("GET /metrics", observe.MetricsHandler(rt.registry))
	docs := openapi.Handler(published)
	router.HandleRaw("GET /api-docs", docs)
	router.HandleRaw("GET /api-docs/", docs)
	site := webapp.Handler()
	router.HandleRaw("GET /{$}", site)
	router.HandleRaw("GET /app/", site)
	return mux, router
}

// ready answers 200 only when the database and the broker answer; otherwise 503 naming which does not.
func (rt *runtime) ready(service string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{"database": "ok", "broker": "ok"}
		status, code := "ready", http.StatusOK
		if err := rt.mongo.Ping(ctx); err != nil {
			checks["database"], status, code = "unreachable", "not ready", http.StatusServiceUnavailable
		}
		if err := rt.bus.Ping(ctx); err != nil {
			checks["broker"], status, code = "unreachable", "not ready", http.StatusServiceUnavailable
		}
		httpx.WriteJSON(w, code, map[string]any{"status": status, "service": service, "checks": checks})
	}
}

// listeners are a process's sockets, opened before anything else so that a taken port is reported
// before a data dir is created or a database touched.
type listeners struct {
	http  net.Listener
	pprof net.Listener // nil when profiling is off
}

// listen opens the HTTP listener and, when --pprof-addr is set, the profiling one.
func listen(ctx context.Context, s settings) (listeners, error) {
	var (
		l   listeners
		err error
	)
	if l.http, err = listenOn(ctx, s.HTTPAddr, "http-addr", "MINT_HTTP_ADDR"); err != nil {
		return listeners{}, err
	}
	if s.PprofAddr != "" {
		if l.pprof, err = listenOn(ctx, s.PprofAddr, "pprof-addr", "MINT_PPROF_ADDR"); err != nil {
			l.close()
			return listeners{}, err
		}
	}
	return l, nil
}

// close closes the listeners; after the servers have closed them it is a harmless no-op.
func (l listeners) close() {
	for _, ln := range []net.Listener{l.http, l.pprof} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// listenOn listens on addr; its error names the flag and the variable that set addr.
func listenOn(ctx context.Context, addr, flagName, env string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err == nil {
		return ln, nil
	}
	// The *net.OpError repeats the address ("listen tcp 127.0.0.1:8080: bind: …"); keep its cause.
	cause := err
	var op *net.OpError
	if errors.As(err, &op) {
		cause = op.Err
		var sys *os.SyscallError
		if errors.As(cause, &sys) {
			cause = sys.Err
		}
	}
	advice := "check"
	if errors.Is(err, syscall.EADDRINUSE) {
		advice = "choose another with"
	}
	return nil, fmt.Errorf("listen %s: %w (%s --%s or %s)", addr, cause, advice, flagName, env)
}

// serve runs h on ln behind the edge middleware (cfg: the user's settings) until ctx ends. announce
// is called once serving.
func (rt *runtime) serve(ctx context.Context, ln net.Listener, h http.Handler, cfg httpx.EdgeConfig, announce func(net.Addr)) error {
	if announce != nil {
		announce(ln.Addr())
	}
	cfg.Logger, cfg.Metrics, cfg.Tracer = rt.logger, rt.http, rt.tracer
	edge := httpx.Edge(h, cfg)
	err := httpx.Serve(ctx, ln, edge, rt.logger, rt.http)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
