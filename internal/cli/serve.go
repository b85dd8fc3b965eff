package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/mint-wallet/mint/internal/platform/config"
	"github.com/mint-wallet/mint/internal/platform/httpx"
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
	if err := s.resolve(); err != nil {
		return err
	}
	s.Auth.SecureCookie = secure
	if service == "notifications" && s.Notifications.SMTPURL == "" {
		return fmt.Errorf("mint serve notifications needs an SMTP server: set MINT_SMTP_URL (smtp://host:port or smtps://…)")
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
	mux, router := rt.newMux(service, openapi.New("Mint "+service+" service", Version, ""), authn)
	return rt.run(ctx, s, router, mux, []module{mod}, nil)
}
