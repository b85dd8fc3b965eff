package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

const serveHead = `Usage: mint serve <auth|wallet|transactions|notifications> [flags]

Runs one service for production against MongoDB (MINT_MONGODB_URI), RabbitMQ (MINT_AMQP_URL) and
optionally Redis (MINT_REDIS_URL). Default ports: auth 4001, notifications 4002, wallet 4003,
transactions 4004. "mint serve <service> --help" lists the service's flags.
`

const serviceHead = `Usage: mint serve %[1]s [flags]

Runs the %[1]s service alone (default port %[2]s) against MongoDB (MINT_MONGODB_URI), RabbitMQ
(MINT_AMQP_URL) and optionally Redis (MINT_REDIS_URL).
`

// services are what `mint serve` runs, in the order its usage names them.
var services = []string{"auth", "wallet", "transactions", "notifications"}

var servicePorts = map[string]string{"auth": ":4001", "notifications": ":4002", "wallet": ":4003", "transactions": ":4004"}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	service, err := group("mint serve", serveHead, stdout, stderr).subcommand(args, "service", services...)
	if err != nil {
		return err
	}
	port := servicePorts[service]
	c := newCommand("mint serve "+service, fmt.Sprintf(serviceHead, service, port[1:]), stdout, stderr)
	var s settings
	s.bind(c.fs, serviceProcess[service], port)
	if err := c.parse(args[1:]); err != nil {
		return err
	}
	if err := s.resolve(); err != nil {
		return c.settingError(err)
	}
	if service == "notifications" && s.Notifications.SMTPURL == "" {
		return c.settingError(errors.New("needs an SMTP server: set --smtp-url or MINT_SMTP_URL (smtp://host:port or smtps://…)"))
	}
	return c.failed(serve(ctx, service, s, stderr))
}

// serve is the composition root of `mint serve <service>`: one service in its own process.
func serve(ctx context.Context, service string, s settings, stderr io.Writer) (err error) {
	ln, err := listen(ctx, s)
	if err != nil {
		return err
	}
	defer ln.close()
	rt, err := openRuntime(ctx, s, service, stderr)
	if err != nil {
		return err
	}
	defer rt.shutdown(&err)
	if s.MongoURI == "" {
		rt.logger.Warn("MINT_MONGODB_URI is not set: using the embedded database, which is for development only")
	}
	if s.RedisURL == "" {
		rt.logger.Warn("MINT_REDIS_URL is not set: using an in-process cache, not shared between replicas")
	}

	var (
		mod   module
		authn httpx.Authenticator
	)
	switch service {
	case "auth":
		m, err := newAuth(ctx, rt, s)
		if err != nil {
			return err
		}
		mod, authn = m, m.Verifier().Authenticate
	case "notifications": // no routes that need a session
		m, err := newNotifications(ctx, rt, s)
		if err != nil {
			return err
		}
		mod = m
	default: // wallet, transactions: sessions are verified against the auth service's JWKS
		v, verr := rt.remoteVerifier(s)
		if verr != nil {
			return verr
		}
		authn = v.Authenticate
		if service == "wallet" {
			mod, err = newWallet(ctx, rt, s)
		} else {
			mod, err = newTransactions(ctx, rt, s)
		}
		if err != nil {
			return err
		}
	}
	mux, router := rt.newMux(service, openapi.New("Mint "+service+" service", Version, ""), wholeAPI(), authn)
	return rt.run(ctx, s, ln, router, mux, []module{mod}, nil)
}
