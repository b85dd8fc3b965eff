// Command mint runs Mint: `mint dev` (the whole system in one process), `mint serve <service>` (one
// service for production), `mint db` (the embedded database served to several processes), `mint keys`
// (auth signing keys), `mint wallet reconcile` and `mint version`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mint-wallet/mint/internal/cli"
)

// Exit codes: 0 success (also after --help), 1 the command failed, 2 the command line or a setting was
// wrong.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, cli.ErrUsage): // already reported, with the usage
		os.Exit(2)
	default: // one line, "mint <command>: …"
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
