package cli

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"

	"github.com/mint-wallet/mint/internal/platform/config"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

const serveHead = `Usage: mint serve <auth|wallet|transactions|notifications> [flags]

Runs one service for production against MongoDB (MINT_MONGODB_URI), RabbitMQ (MINT_AMQP_URL) and
optionally Redis (MINT_REDIS_URL). Default ports: auth 4001, notifications 4002, wallet 4003,
transactions 4004.

Flags:
`

var servicePorts = map[string]string{"auth": ":4001", "notifications": ":4002", "wallet": ":4003", "transactions": ":4004"}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 || servicePorts[args[0]] == "" {
		fmt.Fprint(stderr, serveHead)
		return ErrUsage
	}
	service := args[0]
	var s settings
	secure := true
	fs := config.New("serve " + service)
	s.bind(fs, false, servicePorts[service])
	fs.Bool(&secure, "cookie-secure", "MINT_COOKIE_SECURE", true, "mark the session cookie Secure (turn off only behind plain HTTP)")
	fs.Usage = func() { printUsage(stderr, fs, serveHead) }
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	s.resolve()
	s.Auth.SecureCookie = secure
	if service != "auth" {
		return fmt.Errorf("the %s service is not available yet in this build (only auth is)", service)
	}

	rt, err := openRuntime(ctx, s, service, stderr)
	if err != nil {
		return err
	}
	defer rt.close()
	if s.MongoURI == "" {
		rt.logger.Warn("MINT_MONGODB_URI is not set: using the embedded database, which is for development only")
	}
	if s.RedisURL == "" {
		rt.logger.Warn("MINT_REDIS_URL is not set: using an in-process cache, not shared between replicas")
	}
	authMod, err := newAuth(ctx, rt, s)
	if err != nil {
		return err
	}
	doc := openapi.New("Mint auth service", Version, "Sign-up, login, sessions and users.")
	mux, router := rt.newMux(service, doc, authMod.Verifier().Authenticate)
	authMod.Register(router)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return authMod.Run(ctx) })
	g.Go(func() error { return rt.servePprof(ctx, s.PprofAddr) })
	g.Go(func() error { return rt.serve(ctx, s.HTTPAddr, mux, s.CORSOrigins, nil) })
	return g.Wait()
}
