// Package servicetest runs a service module in an integration test against the real servers: an
// isolated RabbitMQ virtual host with the contract's topology, a real Redis behind the resilient
// cache, and the MongoDB-wire server of mongotest. It is test support only (it imports testing): the
// services' *_test.go files use it, production code never does.
package servicetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/bustrace"
	"github.com/mint-wallet/mint/internal/platform/bus/rabbitmq"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/jwtsign"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest"
	"github.com/mint-wallet/mint/internal/platform/openapi"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// Options adjusts the environment; the zero value is the default one.
type Options struct {
	MaxAttempts int           // bus deliveries before dead-lettering; 0 = the adapter's default
	RetryBase   time.Duration // bus first retry delay; 0 = the adapter's default
	Queues      []bus.Queue   // the test's own queues, declared beside contract.Topology()
	RedisURL    string        // "" = testenv.RedisURL
	WrapCache   func(cache.Cache) cache.Cache
}

// Env is one test's servers and the shared pieces a service module is built from. Everything it
// holds is released when the test ends, in the order a process shuts down: HTTP servers closed,
// Ctx cancelled, background work (Run) waited for, then the bus and the cache closed.
type Env struct {
	Logger   *slog.Logger // discards; warnings to stderr with -v
	Registry *prometheus.Registry
	Bus      *rabbitmq.Bus  // on a fresh virtual host, contract.Topology() and Options.Queues declared
	Events   bus.Bus        // Bus as mint serve hands it to the modules: every consumer traced (bustrace)
	Cache    cache.Cache    // cache.Resilient over Redis, wrapped by Options.WrapCache
	Mongo    *mongox.Client // mongotest.Open
	Ctx      context.Context
	KeysDir  string // a temp dir for key sets, removed at the end

	cancel  context.CancelFunc
	servers []*httptest.Server
	runs    []run

	keysOnce sync.Once
	keysErr  error
	issuer   *jwtsign.Issuer
	verifier *jwtverify.Verifier
}

type run struct {
	name string
	done chan error
}

// New builds the environment for t, skipping or failing t (testenv) when a server is missing.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	rabbitURL := testenv.IsolatedRabbitURL(t)
	redisURL := o.RedisURL
	if redisURL == "" {
		redisURL = testenv.RedisURL(t)
	}
	logger := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	// Opened before the cleanup below is registered, so that it closes after the modules have stopped.
	db := mongotest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	e := &Env{Logger: logger, Registry: prometheus.NewRegistry(), Mongo: db, Ctx: ctx, cancel: cancel}
	t.Cleanup(func() { e.close(t) })

	var err error
	if e.KeysDir, err = os.MkdirTemp("", "mint-servicetest-keys"); err != nil {
		t.Fatal(err)
	}
	e.Bus, err = rabbitmq.New(ctx, rabbitmq.Config{URL: rabbitURL, Logger: logger,
		MaxAttempts: o.MaxAttempts, RetryBase: o.RetryBase})
	if err != nil {
		t.Fatal(err)
	}
	e.Events = bus.WithMiddleware(e.Bus, bustrace.Consume(sdktrace.NewTracerProvider().Tracer("servicetest")))
	top := contract.Topology()
	top.Queues = append(top.Queues, o.Queues...)
	if err := e.Bus.Declare(ctx, top); err != nil {
		t.Fatal(err)
	}
	rc, err := cache.NewRedis(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	if e.Cache, err = cache.NewResilient(rc, logger, e.Registry); err != nil {
		_ = rc.Close()
		t.Fatal(err)
	}
	if o.WrapCache != nil {
		e.Cache = o.WrapCache(e.Cache)
	}
	return e
}

func (e *Env) close(t testing.TB) {
	for _, s := range e.servers {
		s.Close()
	}
	e.cancel()
	for _, r := range e.runs {
		if err := <-r.done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", r.name, err)
		}
	}
	if e.Bus != nil {
		_ = e.Bus.Close()
	}
	if e.Cache != nil {
		_ = e.Cache.Close()
	}
	if e.KeysDir != "" {
		_ = os.RemoveAll(e.KeysDir)
	}
}

// Database returns the database of base for t (mongotest.DBName).
func (e *Env) Database(t testing.TB, base string) *mongo.Database {
	t.Helper()
	return e.Mongo.Database(mongotest.DBName(t, base))
}

// Run runs fn(Ctx) in the background, as a process runs a module. When the test ends it is waited for
// and a failure is reported under name; nil and context.Canceled are a clean stop.
func (e *Env) Run(name string, fn func(context.Context) error) {
	done := make(chan error, 1)
	e.runs = append(e.runs, run{name: name, done: done})
	go func() { done <- fn(e.Ctx) }()
}

// Service is what Serve puts behind the edge middleware.
type Service struct {
	Name     string              // the API document's title
	Register func(*httpx.Router) // the module's Register
	Authn    httpx.Authenticator // nil = the env's verifier, which accepts Token's tokens
	Tracer   trace.Tracer        // nil = no tracing
}

// Serve serves s over HTTP, wired as `mint serve` wires it, until the test ends.
func (e *Env) Serve(t testing.TB, s Service) *Client {
	t.Helper()
	authn := s.Authn
	if authn == nil {
		e.keys(t)
		authn = e.verifier.Authenticate
	}
	mux := http.NewServeMux()
	s.Register(httpx.NewRouter(mux, openapi.New(s.Name, "test", ""), authn, e.Logger))
	// The test stands where the gateway would: it may name the client in X-Forwarded-For.
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	srv := httptest.NewServer(httpx.Edge(mux, httpx.EdgeConfig{Logger: e.Logger, Tracer: s.Tracer, TrustedProxies: loopback}))
	e.servers = append(e.servers, srv)
	return &Client{URL: srv.URL, http: srv.Client()}
}

// Token returns a session token for userID, accepted by the env's verifier.
func (e *Env) Token(t testing.TB, userID string) string {
	t.Helper()
	e.keys(t)
	tok, _, err := e.issuer.Issue(userID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// keys makes the env's signing key set on first use: a service that signs its own tokens (auth)
// never pays for it.
func (e *Env) keys(t testing.TB) {
	t.Helper()
	e.keysOnce.Do(func() {
		keys, err := jwtsign.LoadOrCreate(filepath.Join(e.KeysDir, "servicetest-keys.json"))
		if err != nil {
			e.keysErr = err
			return
		}
		if e.issuer, err = jwtsign.NewIssuer(keys, jwtsign.Config{Lifetime: time.Hour}); err != nil {
			e.keysErr = err
			return
		}
		e.verifier, e.keysErr = jwtverify.New(jwtverify.Config{Keys: jwtverify.LocalJWKS(keys.JWKS),
			Revocations: jwtverify.NoRevocations{}})
	})
	if e.keysErr != nil {
		t.Fatalf("servicetest keys: %v", e.keysErr)
	}
}

// Publish sends data as the contract event key on exchange, as the service that owns it would, and
// returns the message. It returns its error rather than failing the test, so that consumers running
// in their own goroutines can call it.
func (e *Env) Publish(ctx context.Context, exchange, key string, data any) (bus.Message, error) {
	ev, err := event.New(ctx, exchange, key, time.Now(), data)
	if err != nil {
		return bus.Message{}, err
	}
	msg, err := ev.Message()
	if err != nil {
		return bus.Message{}, err
	}
	if err := e.Bus.Publish(ctx, msg); err != nil {
		return msg, fmt.Errorf("publish %s: %w", key, err)
	}
	return msg, nil
}
