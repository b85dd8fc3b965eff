package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"

	"github.com/mint-wallet/mint/internal/platform/openapi"
)

const devHead = `Usage: mint dev [flags]

Runs the whole system in one process on one port: the web wallet at /, the services, /health, /ready,
/metrics, /api-docs.
Without MINT_MONGODB_URI / MINT_AMQP_URL / MINT_REDIS_URL it uses an embedded database (kept under
--data-dir across restarts), an in-process event bus and an in-process cache.
`

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommand("mint dev", devHead, stdout, stderr)
	var s settings
	s.bind(c.fs, devProcess, "127.0.0.1:8080")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := s.resolve(); err != nil {
		return c.settingError(err)
	}
	s.Auth.CreateKeys = true
	s.Auth.SecureCookie = false // dev serves plain HTTP; a Secure cookie would never come back
	return c.failed(dev(ctx, s, stdout, stderr))
}

// dev is the composition root of `mint dev`: every service in one process.
func dev(ctx context.Context, s settings, stdout, stderr io.Writer) (err error) {
	ln, err := listen(ctx, s)
	if err != nil {
		return err
	}
	defer ln.close()
	rt, err := openRuntime(ctx, s, "mint-dev", stderr)
	if err != nil {
		return err
	}
	defer rt.shutdown(&err)

	authMod, err := newAuth(ctx, rt, s)
	if err != nil {
		return err
	}
	walletMod, err := newWallet(ctx, rt, s)
	if err != nil {
		return err
	}
	txMod, err := newTransactions(ctx, rt, s)
	if err != nil {
		return err
	}
	mailMod, err := newNotifications(ctx, rt, s)
	if err != nil {
		return err
	}
	doc := openapi.New(apiTitle, Version, apiDescription)
	// One process: every service verifies sessions with the auth service's own keys and revocations.
	mux, router := rt.newMux("mint-dev", doc, doc, authMod.Verifier().Authenticate)
	return rt.run(ctx, s, ln, router, mux, []module{authMod, walletMod, txMod, mailMod}, func(a net.Addr) {
		base := "http://" + displayAddr(a)
		fmt.Fprintf(stdout, "mint dev is running\n  wallet    %s/\n  API       %s/api/v1/\n  API docs  %s/api-docs\n  health    %s/health\n  ready     %s/ready\n  metrics   %s/metrics\n",
			base, base, base, base, base, base)
		if mailMod.Catcher() != nil {
			fmt.Fprintf(stdout, "  mail      %s/dev/mail (caught; set MINT_SMTP_URL to send)\n", base)
		} else {
			fmt.Fprintf(stdout, "  mail      sent to %s\n", redactURL(s.Notifications.SMTPURL))
		}
		fmt.Fprintf(stdout, "  data      %s\n", s.DataDir)
	})
}

// redactURL hides a URL's password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// displayAddr makes a wildcard listen address clickable.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
