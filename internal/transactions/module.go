package transactions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/mint-wallet/mint/internal/platform/outbox"
	"github.com/mint-wallet/mint/internal/platform/periodic"
)

// Config is what an operator sets for the transactions service. Zero values take the defaults.
type Config struct {
	Currency      string        // ISO 4217 code of every amount (default USD)
	StuckAfter    time.Duration // a non-terminal transaction idle this long is re-driven (default 30s)
	SweepInterval time.Duration // how often the sweeper looks (default 5s)
	// InFlightTimeout is the lease of an idempotent request: past it, a retry with the same key takes
	// over a request that died (default 10s).
	InFlightTimeout time.Duration
	// IdempotencyRetention is how long idempotency keys are remembered (default 24h).
	IdempotencyRetention time.Duration
	// ConsumersPerQueue runs that many handlers per queue (default 1). Every step is guarded by the
	// transaction's status, so handlers may run in any order and at once.
	ConsumersPerQueue int
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Currency == "" {
		c.Currency = money.DefaultCurrency
	}
	def(&c.StuckAfter, 30*time.Second)
	def(&c.SweepInterval, 5*time.Second)
	def(&c.InFlightTimeout, 10*time.Second)
	def(&c.IdempotencyRetention, 24*time.Hour)
}

// Deps are the adapters the transactions service runs on. The broker topology (contract.Topology) is
// declared by the composition root, as for every service.
type Deps struct {
	DB         *mongo.Database
	Bus        bus.Bus // the saga's events; its backlog tells the sweeper a late transaction from a lost one
	Cache      cache.Cache
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not exported
	Now        func() time.Time      // time.Now when nil
}

// Module is the assembled transactions service.
type Module struct {
	svc       *Service
	handlers  *handlers
	changes   *changes
	relay     *outbox.Relay
	bus       bus.Bus
	logger    *slog.Logger
	interval  time.Duration
	consumers int
}

// New assembles the transactions service: indexes, metrics, outbox relay.
func New(ctx context.Context, cfg Config, d Deps) (*Module, error) {
	if d.DB == nil || d.Bus == nil || d.Cache == nil {
		return nil, errors.New("transactions: Deps needs DB, Bus and Cache")
	}
	cfg.setDefaults()
	d.Logger, d.Registerer = observe.Defaults(d.Logger, d.Registerer)
	if d.Now == nil {
		d.Now = time.Now
	}
	reg := d.Registerer
	st := newStore(d.DB)
	if err := st.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	relay, err := outbox.NewRelay(st.txs, d.Bus, d.Logger, outbox.Options{Registerer: d.Registerer})
	if err != nil {
		return nil, fmt.Errorf("transactions outbox: %w", err)
	}
	svc := &Service{store: st, cfg: cfg, cache: d.Cache, outbox: relay, backlog: d.Bus, metrics: m, logger: d.Logger, clock: d.Now}
	ch := newChanges()
	return &Module{svc: svc, handlers: &handlers{svc: svc, changes: ch}, changes: ch, relay: relay, bus: d.Bus, logger: d.Logger,
		consumers: max(cfg.ConsumersPerQueue, 1), interval: cfg.SweepInterval}, nil
}

// Register adds the transactions routes to rt.
func (m *Module) Register(rt *httpx.Router) { m.handlers.register(rt) }

// Describe adds the service's routes to rt's API document, for a process that serves another service
// and publishes the whole API's document; rt's mux is not meant to serve them.
func Describe(rt *httpx.Router) { new(handlers).register(rt) }

// Service returns the transactions rules (for tests and benchmarks).
func (m *Module) Service() *Service { return m.svc }

// Run does the background work until ctx ends: the consumers of the saga, the outbox relay, the
// sweeper and the listener of the status streams (changes.go). It returns nil when ctx is cancelled, the first failure otherwise.
func (m *Module) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return bus.ConsumeAll(ctx, m.bus, m.svc.consumers(), m.consumers) })
	g.Go(func() error { return m.relay.Run(ctx) })
	g.Go(func() error { return m.changes.listen(ctx, m.bus) })
	g.Go(func() error {
		periodic.Every(ctx, m.interval, m.logger, "transactions sweep failed", func(ctx context.Context) error {
			_, err := m.svc.sweep(ctx)
			return err
		})
		return nil
	})
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
