package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/notifications"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
	"github.com/mint-wallet/mint/internal/platform/openapi"
	"github.com/mint-wallet/mint/internal/transactions"
	"github.com/mint-wallet/mint/internal/wallet"
)

// module is one service assembled for a process: its routes and its background work (consumers,
// outbox relays, sweepers).
type module interface {
	Register(rt *httpx.Router)
	Run(ctx context.Context) error
}

func newAuth(ctx context.Context, rt *runtime, s settings) (*auth.Module, error) {
	return auth.New(ctx, s.Auth, auth.Deps{
		DB: rt.mongo.Database(auth.DatabaseName), Publisher: rt.bus, Cache: rt.cache,
		Logger: rt.logger, Registerer: rt.registry,
	})
}

func newTransactions(ctx context.Context, rt *runtime, s settings) (*transactions.Module, error) {
	return transactions.New(ctx, s.Transactions, transactions.Deps{
		DB: rt.mongo.Database(transactions.DatabaseName), Bus: rt.bus, Cache: rt.cache,
		Logger: rt.logger, Registerer: rt.registry,
	})
}

func newNotifications(ctx context.Context, rt *runtime, s settings) (*notifications.Module, error) {
	return notifications.New(ctx, s.Notifications, notifications.Deps{
		DB: rt.mongo.Database(notifications.DatabaseName), Bus: rt.bus, Logger: rt.logger, Registerer: rt.registry,
	})
}

func newWallet(ctx context.Context, rt *runtime, s settings) (*wallet.Module, error) {
	return wallet.New(ctx, s.Wallet, wallet.Deps{
		DB: rt.mongo.Database(wallet.DatabaseName), Bus: rt.bus, Cache: rt.cache,
		Logger: rt.logger, Registerer: rt.registry,
	})
}

// remoteVerifier verifies sessions the way every service but auth does: against the auth service's
// JWKS, with revocations from the shared cache (docs/AUTH.md).
func (rt *runtime) remoteVerifier(s settings) (*jwtverify.Verifier, error) {
	keys := jwtverify.RemoteJWKS(s.AuthJWKSURL, &http.Client{Timeout: 5 * time.Second}, jwtverify.RemoteOptions{})
	return jwtverify.New(jwtverify.Config{Issuer: s.Auth.Issuer, Audience: s.Auth.Audience, Keys: keys,
		Revocations: jwtverify.SharedRevocations{Cache: rt.cache}})
}

// run registers mods on router, then serves mux on ln and runs every module's background work until
// ctx ends. announce, when set, is told the listening address.
func (rt *runtime) run(ctx context.Context, s settings, ln listeners, router *httpx.Router, mux http.Handler, mods []module, announce func(net.Addr)) error {
	for _, m := range mods {
		m.Register(router)
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, m := range mods {
		g.Go(func() error {
			if err := m.Run(ctx); err != nil {
				return fmt.Errorf("%T: %w", m, err)
			}
			return nil
		})
	}
	g.Go(func() error { return rt.servePprof(ctx, ln.pprof) })
	g.Go(func() error { return rt.serve(ctx, ln.http, mux, s.Edge, announce) })
	return g.Wait()
}

// apiTitle and apiDescription head the API document every process publishes at /api-docs.
const (
	apiTitle       = "Mint API"
	apiDescription = "Mint's HTTP API: every service, as served by `mint dev` and the gateway."
)

// wholeAPI is the document of every service's routes, which a process running one of them publishes,
// so that the gateway's /api-docs shows the whole API whichever service answers it.
func wholeAPI() *openapi.Document {
	doc := openapi.New(apiTitle, Version, apiDescription)
	rt := httpx.NewRouter(http.NewServeMux(), doc, nil, slog.New(slog.DiscardHandler))
	auth.Describe(rt)
	wallet.Describe(rt)
	transactions.Describe(rt)
	return doc
}
