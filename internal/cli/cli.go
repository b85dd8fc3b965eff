// Package cli is the mint command: it parses subcommands and settings and hands them to the
// composition roots (dev.go, serve.go).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

// ErrUsage means the command line was wrong; the usage has been printed.
var ErrUsage = errors.New("usage")

// Version is set at build time with -ldflags "-X github.com/mint-wallet/mint/internal/cli.Version=…".
var Version = "dev"

const usage = `mint — an event-driven digital wallet

Usage:
  mint dev [flags]                 run the whole system in one process (embedded database, bus, cache, mail)
  mint serve <service> [flags]     run one service (auth, wallet, transactions, notifications)
  mint keys generate|rotate [flags] create or rotate the auth service's signing keys
  mint wallet reconcile [flags]    check every wallet against its ledger; exit 1 on drift
  mint version                     print the version

Every flag also reads a MINT_* environment variable; "mint <command> --help" lists them.
`

// Run runs the mint command with args (without the program name).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ErrUsage
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stderr)
	case "keys":
		return runKeys(args[1:], stdout, stderr)
	case "wallet":
		return runWallet(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "mint", versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "mint: unknown command %q\n\n%s", args[0], usage)
		return ErrUsage
	}
}

func versionString() string {
	v := Version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
