package wallet

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
)

// Config is what an operator sets for the wallet service.
type Config struct {
	// InitialBalance is credited to every new wallet as an opening entry (default 0: none).
	InitialBalance money.Amount
	// Currency of every wallet, ISO 4217 (default money.DefaultCurrency). transaction.processing in another currency
	// is malformed.
	Currency string
	// MissingWalletAttempts is the delivery attempt of transaction.processing from which a wallet that
	// still does not exist rejects the transaction (wallet_not_found) instead of waiting for its
	// user.signup. Default bus.DefaultMaxAttempts: the last delivery the bus makes, so the event is
	// answered, not dead-lettered.
	MissingWalletAttempts int
	// ConsumersPerQueue runs that many handlers per queue (default 1). More is safe — correctness rests
	// on unique inserts, not on ordering — and lets one transfer's database round trips overlap
	// another's.
	ConsumersPerQueue int
}

// Deps are the adapters the wallet service runs on.
type Deps struct {
	DB         *mongo.Database
	Bus        bus.Bus // consumes the wallet's queues and publishes wallet.transactionFinalized
	Cache      cache.Cache
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil disables the wallet's metrics
	Now        func() time.Time      // time.Now when nil
}

// Module is the assembled wallet service.
type Module struct {
	svc       *Service
	handlers  *handlers
	bus       bus.Bus
	relay     *outbox.Relay
	consumers int
}

// setDefaults fills the settings left zero with their documented defaults.
func (c *Config) setDefaults() {
	if c.Currency == "" {
		c.Currency = money.DefaultCurrency
	}
	if c.MissingWalletAttempts <= 0 {
		c.MissingWalletAttempts = bus.DefaultMaxAttempts
	}
	if c.ConsumersPerQueue <= 0 {
		c.ConsumersPerQueue = 1
	}
}

// New assembles the wallet service and creates its indexes.
func New(ctx context.Context, cfg Config, d Deps) (*Module, error) {
	if d.DB == nil || d.Bus == nil || d.Cache == nil {
		return nil, errors.New("wallet: Deps.DB, Deps.Bus and Deps.Cache are required")
	}
	if cfg.InitialBalance < 0 {
		return nil, fmt.Errorf("wallet: negative initial balance %s", cfg.InitialBalance)
	}
	cfg.setDefaults()
	d.Logger, d.Registerer = observe.Defaults(d.Logger, d.Registerer)
	if d.Now == nil {
		d.Now = time.Now
	}
	l := newLedger(d.DB)
	if err := l.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	final := newFinalizations(d.DB)
	relay, err := outbox.NewRelay(final.coll, d.Bus, d.Logger, outbox.Options{Registerer: d.Registerer})
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(d.Registerer)
	if err != nil {
		return nil, err
	}
	svc := &Service{ledger: l, final: final, cache: d.Cache, outbox: relay, metrics: m, logger: d.Logger, now: d.Now,
		currency: cfg.Currency, initial: cfg.InitialBalance, missingAttempts: cfg.MissingWalletAttempts}
	return &Module{svc: svc, handlers: &handlers{svc: svc}, bus: d.Bus, relay: relay, consumers: cfg.ConsumersPerQueue}, nil
}

// Register adds the wallet routes to rt.
func (m *Module) Register(rt *httpx.Router) { m.handlers.register(rt) }

// Describe adds the service's routes to rt's API document, for a process that serves another service
// and publishes the whole API's document; rt's mux is not meant to serve them.
func Describe(rt *httpx.Router) { new(handlers).register(rt) }

// Service returns the wallet's use cases (for tests and tools).
func (m *Module) Service() *Service { return m.svc }

// Run consumes the wallet's queues and publishes its outbox until ctx ends; it returns nil then. The
// topology must have been declared (contract.Topology).
func (m *Module) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.relay.Run(ctx) })
	g.Go(func() error { return bus.ConsumeAll(ctx, m.bus, m.svc.consumers(), m.consumers) })
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
