// Package cli is the mint command: it parses subcommands (cli.go) and settings (settings.go) and hands
// them to the composition roots (dev.go, serve.go, db.go), which open the servers (runtime.go) and
// assemble the services (modules.go); keys.go, reconcile.go and probe.go are the operator's
// subcommands, bench.go the benchmark's, pprof.go the profiling listener.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/mint-wallet/mint/internal/platform/config"
)

// ErrUsage means the command line or a setting was wrong; the error and, for a command line, the usage
// have been printed.
var ErrUsage = errors.New("usage")

// Version is set at build time with -ldflags "-X github.com/mint-wallet/mint/internal/cli.Version=…".
var Version = "dev"

const usage = `mint — an event-driven digital wallet

Usage:
  mint dev [flags]                   run the whole system in one process (embedded database, bus, cache, mail)
  mint serve <service> [flags]       run one service (auth, wallet, transactions, notifications)
  mint db [flags]                    serve the embedded database to several processes
  mint keys <generate|rotate> [flags] create or rotate the auth service's signing keys
  mint wallet reconcile [flags]      check every wallet against its ledger; exit 1 on drift
  mint probe [flags]                 exit 0 when a URL answers 2xx (a container health check)
  mint bench [flags]                 measure a running deployment over HTTP (loopback only)
  mint chaos [flags]                 break a local deployment of its own under load, then check every promise
  mint version                       print the version
  mint help [command]                print this help, or a command's

Every flag also reads a MINT_* environment variable; "mint <command> --help" lists them.
`

// Run runs the mint command with args (without the program name). It returns nil when the command
// succeeded or printed the help it was asked for; an error matching ErrUsage when the command line
// was wrong (already reported on stderr); otherwise the failure, as one line that starts with
// "mint <command>:", for the caller to print.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	top := group("mint", usage, stdout, stderr)
	if len(args) == 0 {
		return top.usageError("missing command")
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "db":
		return runDB(ctx, args[1:], stdout, stderr)
	case "keys":
		return runKeys(args[1:], stdout, stderr)
	case "wallet":
		return runWallet(ctx, args[1:], stdout, stderr)
	case "probe":
		return runProbe(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "chaos":
		return runChaos(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		return runVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && !isHelp(args[1]) {
			// "mint help serve auth" is "mint serve auth --help".
			return dispatch(ctx, append(append([]string{}, args[1:]...), "--help"), stdout, stderr)
		}
		return top.help()
	default:
		if strings.HasPrefix(args[0], "-") {
			return top.usageError("unknown flag %s: flags go after the command", args[0])
		}
		return top.usageError("unknown command %q", args[0])
	}
}

const versionHead = `Usage: mint version

Prints the version (and the commit it was built from).
`

func runVersion(args []string, stdout, stderr io.Writer) error {
	c := newCommand("mint version", versionHead, stdout, stderr)
	if err := c.parse(args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "mint", versionString())
	return nil
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

// command is one command line being parsed: its name as typed ("mint serve auth"), its help text and
// its flags (nil for a command that only dispatches to subcommands).
type command struct {
	name   string
	head   string
	fs     *config.Set
	stdout io.Writer
	stderr io.Writer
}

func newCommand(name, head string, stdout, stderr io.Writer) *command {
	return &command{name: name, head: head, fs: config.New(name), stdout: stdout, stderr: stderr}
}

// group is a command without flags of its own, which picks a subcommand ("mint serve", "mint keys").
func group(name, head string, stdout, stderr io.Writer) *command {
	return &command{name: name, head: head, stdout: stdout, stderr: stderr}
}

// printUsage writes the help text and, when the command has any, its flags.
func (c *command) printUsage(w io.Writer) {
	fmt.Fprint(w, c.head)
	if c.fs != nil && c.fs.Len() > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		c.fs.PrintFlags(w)
	}
}

// help prints the usage on stdout, as asked; Run turns the flag.ErrHelp it returns into success.
func (c *command) help() error {
	c.printUsage(c.stdout)
	return flag.ErrHelp
}

// usageError reports a wrong command line: one line saying what is wrong, then the usage.
func (c *command) usageError(format string, args ...any) error {
	fmt.Fprintf(c.stderr, "%s: %s\n\n", c.name, fmt.Sprintf(format, args...))
	c.printUsage(c.stderr)
	return ErrUsage
}

// settingError reports a malformed or missing setting in one line that names it; the usage would bury
// it.
func (c *command) settingError(err error) error {
	fmt.Fprintf(c.stderr, "%s: %v\n", c.name, err)
	return fmt.Errorf("%w: %w", ErrUsage, err)
}

// parse parses the command's flags; help and mistakes are reported here, each once.
func (c *command) parse(args []string) error {
	err := c.fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return c.help()
	case errors.Is(err, config.ErrEnvironment):
		return c.settingError(err)
	case err != nil:
		return c.usageError("%s", flagMessage(err))
	}
	if c.fs.NArg() > 0 {
		return c.usageError("unexpected argument %q", c.fs.Arg(0))
	}
	return nil
}

// failed names the command in a runtime failure, so the one line printed says where it happened.
func (c *command) failed(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", c.name, err)
}

// subcommand picks args[0] among names for a command such as "mint keys" (what names the kind: a
// service, a subcommand). A missing or unknown one is reported, --help is answered; both return an error.
func (c *command) subcommand(args []string, what string, names ...string) (string, error) {
	var want string
	switch len(names) {
	case 1:
		want = names[0]
	case 2:
		want = names[0] + " or " + names[1]
	default:
		want = "one of " + strings.Join(names, ", ")
	}
	switch {
	case len(args) == 0:
		return "", c.usageError("missing %s: %s", what, want)
	case isHelp(args[0]):
		return "", c.help()
	}
	for _, n := range names {
		if args[0] == n {
			return n, nil
		}
	}
	if strings.HasPrefix(args[0], "-") {
		return "", c.usageError("missing %s before %s: %s", what, args[0], want)
	}
	return "", c.usageError("unknown %s %q: want %s", what, args[0], want)
}

// flagMessage is the flag package's error spelt the way the documentation spells flags (--name); a
// message it does not recognise is kept as it is.
func flagMessage(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + name
	}
	// The name follows the value, which may hold anything: look for the last marker.
	for _, marker := range []string{"flag needs an argument: -", " for flag -", " for -"} {
		if i := strings.LastIndex(msg, marker); i >= 0 {
			return msg[:i+len(marker)] + "-" + msg[i+len(marker):]
		}
	}
	return msg
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h", "help":
		return true
	}
	return false
}
