package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"

	"github.com/mint-wallet/mint/internal/auth/password"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/jwtsign"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/mint-wallet/mint/internal/platform/outbox"
	"github.com/mint-wallet/mint/internal/platform/periodic"
)

// Config is what an operator sets for the auth service.
type Config struct {
	KeysFile            string // signing key set; created on start when CreateKeys
	CreateKeys          bool   // create KeysFile when missing (mint dev); production uses `mint keys generate`
	Issuer, Audience    string
	TokenLifetime       time.Duration
	Hash                password.Params
	MaxConcurrentHashes int
	Throttle            ThrottleConfig
	SecureCookie        bool // Secure on mint_session: everywhere but dev over plain HTTP
}

// Deps are the adapters the auth service runs on.
type Deps struct {
	DB         *mongo.Database
	Publisher  bus.Publisher
	Cache      cache.Cache
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time // time.Now when nil
}

// Module is the assembled auth service.
type Module struct {
	svc      *Service
	handlers *handlers
	keys     *jwtsign.KeySet
	verifier *jwtverify.Verifier
	relay    *outbox.Relay
	logger   *slog.Logger
	window   time.Duration
}

// New assembles the auth service: indexes, keys, hasher, token issuer and verifier, outbox relay.
func New(ctx context.Context, cfg Config, d Deps) (*Module, error) {
	if d.DB == nil || d.Publisher == nil || d.Cache == nil {
		return nil, errors.New("auth: Deps.DB, Deps.Publisher and Deps.Cache are required")
	}
	d.Logger, d.Registerer = observe.Defaults(d.Logger, d.Registerer)
	if d.Now == nil {
		d.Now = time.Now
	}
	st := newStore(d.DB)
	if err := st.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	if err := st.indexUnsearchable(ctx); err != nil {
		return nil, err
	}
	load := jwtsign.Load
	if cfg.CreateKeys {
		load = jwtsign.LoadOrCreate
	}
	keys, err := load(cfg.KeysFile)
	if err != nil {
		return nil, fmt.Errorf("auth keys %s (create them with `mint keys generate`): %w", cfg.KeysFile, err)
	}
	issuer, err := jwtsign.NewIssuer(keys, jwtsign.Config{Issuer: cfg.Issuer, Audience: cfg.Audience, Lifetime: cfg.TokenLifetime})
	if err != nil {
		return nil, err
	}
	hasher, err := password.NewHasher(cfg.Hash, cfg.MaxConcurrentHashes)
	if err != nil {
		return nil, err
	}
	relay, err := outbox.NewRelay(st.users, d.Publisher, d.Logger, outbox.Options{Registerer: d.Registerer})
	if err != nil {
		return nil, err
	}
	revoked := newRevocations(st, d.Cache, d.Logger, d.Now)
	if err := revoked.refresh(ctx); err != nil {
		return nil, err
	}
	verifier, err := jwtverify.New(jwtverify.Config{Issuer: cfg.Issuer, Audience: cfg.Audience,
		Keys: jwtverify.LocalJWKS(keys.JWKS), Revocations: revoked, Now: d.Now})
	if err != nil {
		return nil, err
	}
	devs, err := newDevices(keys, cfg.Issuer, d.Now)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(d.Registerer)
	if err != nil {
		return nil, err
	}
	cfg.Throttle = cfg.Throttle.withDefaults()
	svc := &Service{store: st, hasher: hasher, issuer: issuer, devices: devs, cache: d.Cache, outbox: relay, revoked: revoked,
		throttle: cfg.Throttle, metrics: m, logger: d.Logger, now: d.Now}
	return &Module{
		svc:      svc,
		handlers: &handlers{svc: svc, secureCookie: cfg.SecureCookie, jwks: keys.JWKS},
		keys:     keys, verifier: verifier, relay: relay, logger: d.Logger, window: cfg.Throttle.Window,
	}, nil
}

// Register adds the auth routes to rt.
func (m *Module) Register(rt *httpx.Router) { m.handlers.register(rt) }

// Describe adds the service's routes to rt's API document, for a process that serves another service
// and publishes the whole API's document; rt's mux is not meant to serve them.
func Describe(rt *httpx.Router) { new(handlers).register(rt) }

// Verifier verifies session tokens against this service's own keys and revocations.
func (m *Module) Verifier() *jwtverify.Verifier { return m.verifier }

// Service returns the auth rules (for tests and benchmarks).
func (m *Module) Service() *Service { return m.svc }

// Run does the background work until ctx ends: publishing the outbox, seeing keys rotated by another
// process, polling revocations made by other replicas, sweeping expired records.
func (m *Module) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.relay.Run(ctx) })
	g.Go(func() error {
		periodic.Every(ctx, 5*time.Second, m.logger, "auth keys not reloaded", func(context.Context) error {
			_, err := m.keys.ReloadIfChanged()
			return err
		})
		return nil
	})
	g.Go(func() error {
		periodic.Every(ctx, 2*time.Second, m.logger, "revocations not refreshed", m.svc.revoked.refresh)
		return nil
	})
	g.Go(func() error {
		periodic.Every(ctx, time.Minute, m.logger, "sweep failed", func(ctx context.Context) error {
			return m.svc.store.sweep(ctx, m.svc.now(), m.window)
		})
		return nil
	})
	if err := g.Wait(); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
