package cli_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/cli"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// outcome is how a command line ends: as main turns it into an exit code.
type outcome int

const (
	ok      outcome = iota // exit 0
	usage                  // exit 2: the command line or a setting was wrong, already reported
	failure                // exit 1: the returned error is printed
)

func (o outcome) String() string { return [...]string{"ok", "usage error", "failure"}[o] }

func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return ok
	case errors.Is(err, cli.ErrUsage):
		return usage
	default:
		return failure
	}
}

// clearEnv unsets every MINT_* variable for the test, so defaults and messages do not depend on the
// shell the tests run from.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "MINT_") {
			t.Setenv(name, "") // restores the value after the test
			if err := os.Unsetenv(name); err != nil {
				t.Fatal(err)
			}
		}
	}
}

type run struct {
	err            error
	stdout, stderr string
}

func runMint(t *testing.T, args ...string) run {
	t.Helper()
	// None of these command lines should start a server; if one does, the deadline stops it rather than
	// hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := cli.Run(ctx, args, &stdout, &stderr)
	return run{err, stdout.String(), stderr.String()}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestCommandLines: a wrong command line says what is wrong in its first line, then shows the usage
// (without an empty Flags section); --help answers on stdout and succeeds, for every command.
func TestCommandLines(t *testing.T) {
	tests := []struct {
		args      []string
		env       []string // name, value pairs
		want      outcome
		stdout    []string // substrings of stdout
		firstErr  string   // the first line of stderr, exactly
		stderr    []string // substrings of stderr
		notStderr []string
	}{
		{args: nil, want: usage, firstErr: "mint: missing command", stderr: []string{"Usage:", "mint serve <service>"}},
		{args: []string{"foo"}, want: usage, firstErr: `mint: unknown command "foo"`, stderr: []string{"Usage:"}},
		{args: []string{"--http-addr", ":1"}, want: usage, firstErr: "mint: unknown flag --http-addr: flags go after the command"},
		{args: []string{"serve"}, want: usage,
			firstErr:  "mint serve: missing service: one of auth, wallet, transactions, notifications",
			stderr:    []string{"Usage: mint serve <auth|wallet|transactions|notifications>", "mint serve <service> --help"},
			notStderr: []string{"Flags:"}},
		{args: []string{"serve", "foo"}, want: usage,
			firstErr:  `mint serve: unknown service "foo": want one of auth, wallet, transactions, notifications`,
			notStderr: []string{"Flags:"}},
		{args: []string{"serve", "--http-addr", ":1", "auth"}, want: usage,
			firstErr: "mint serve: missing service before --http-addr: one of auth, wallet, transactions, notifications"},
		{args: []string{"keys"}, want: usage, firstErr: "mint keys: missing subcommand: generate or rotate",
			stderr: []string{"Usage: mint keys <generate|rotate>"}, notStderr: []string{"Flags:"}},
		{args: []string{"keys", "delete"}, want: usage, firstErr: `mint keys: unknown subcommand "delete": want generate or rotate`,
			notStderr: []string{"Flags:"}},
		{args: []string{"wallet"}, want: usage, firstErr: "mint wallet: missing subcommand: reconcile",
			stderr: []string{"Usage: mint wallet reconcile"}, notStderr: []string{"Flags:"}},
		{args: []string{"wallet", "audit"}, want: usage, firstErr: `mint wallet: unknown subcommand "audit": want reconcile`},
		{args: []string{"version", "extra"}, want: usage, firstErr: `mint version: unexpected argument "extra"`},
		{args: []string{"dev", "extra"}, want: usage, firstErr: `mint dev: unexpected argument "extra"`,
			stderr: []string{"Usage: mint dev", "Flags:", "--http-addr"}},
		{args: []string{"dev", "--http-addr"}, want: usage, firstErr: "mint dev: flag needs an argument: --http-addr"},
		{args: []string{"dev", "--auth-login-max-failures=many"}, want: usage,
			firstErr: `mint dev: invalid value "many" for flag --auth-login-max-failures: parse error`},
		{args: []string{"serve", "wallet", "--smtp-url", "smtp://mail:25"}, want: usage,
			firstErr: "mint serve wallet: unknown flag --smtp-url", stderr: []string{"Usage: mint serve wallet"}},
		{args: []string{"keys", "generate", "--auth-token-lifetime=1h"}, want: usage,
			firstErr: "mint keys generate: unknown flag --auth-token-lifetime"},

		// Settings: one line naming the setting, without the usage burying it.
		{args: []string{"dev"}, env: []string{"MINT_AUTH_LOGIN_MAX_FAILURES", "many"}, want: usage,
			firstErr: `mint dev: invalid environment: MINT_AUTH_LOGIN_MAX_FAILURES="many": not an integer`, notStderr: []string{"Usage:"}},
		{args: []string{"dev", "--log-level", "loud"}, want: usage,
			firstErr: `mint dev: log level "loud": want debug, info, warn or error (--log-level or MINT_LOG_LEVEL)`},
		{args: []string{"dev", "--wallet-initial-balance", "lots"}, want: usage,
			firstErr: `mint dev: wallet initial balance "lots": want a decimal amount like 10.00 (--wallet-initial-balance or MINT_WALLET_INITIAL_BALANCE)`},
		{args: []string{"serve", "auth", "--trusted-proxies", "10.0.0.0/8,gateway"}, want: usage,
			firstErr: `mint serve auth: trusted proxy "gateway": want a CIDR like 10.0.0.0/8 or 127.0.0.1/32 (--trusted-proxies or MINT_TRUSTED_PROXIES)`},
		{args: []string{"serve", "notifications"}, want: usage,
			firstErr: "mint serve notifications: needs an SMTP server: set --smtp-url or MINT_SMTP_URL (smtp://host:port or smtps://…)"},
		{args: []string{"db", "--help"}, want: ok, stdout: []string{"Usage: mint db", "--addr", "MINT_DB_ADDR", "--http-addr"}},
		{args: []string{"db", "--log-level", "loud"}, want: usage,
			firstErr: `mint db: log level "loud": want debug, info, warn or error (--log-level or MINT_LOG_LEVEL)`},
		// A service ignores the environment of settings it does not read.
		{args: []string{"serve", "wallet", "--help"}, env: []string{"MINT_AUTH_LOGIN_MAX_FAILURES", "many"}, want: ok,
			stdout: []string{"Usage: mint serve wallet"}},

		// Help: stdout, success.
		{args: []string{"help"}, want: ok, stdout: []string{"Usage:", "mint dev", "mint help [command]"}},
		{args: []string{"--help"}, want: ok, stdout: []string{"Usage:"}},
		{args: []string{"-h"}, want: ok, stdout: []string{"Usage:"}},
		{args: []string{"help", "serve", "auth"}, want: ok, stdout: []string{"Usage: mint serve auth", "--auth-keys-file"}},
		{args: []string{"help", "nonsense"}, want: usage, firstErr: `mint: unknown command "nonsense"`},
		{args: []string{"dev", "--help"}, want: ok, stdout: []string{"Usage: mint dev", "Flags:", "--http-addr string"}},
		{args: []string{"dev", "-h"}, want: ok, stdout: []string{"Usage: mint dev"}},
		{args: []string{"dev", "--http-addr", ":1", "--help"}, want: ok, stdout: []string{"Usage: mint dev"}},
		{args: []string{"serve", "--help"}, want: ok, stdout: []string{"Usage: mint serve <auth"}},
		{args: []string{"serve", "help"}, want: ok, stdout: []string{"Usage: mint serve <auth"}},
		{args: []string{"serve", "auth", "--help"}, want: ok, stdout: []string{"Usage: mint serve auth", "port 4001"}},
		{args: []string{"serve", "wallet", "-help"}, want: ok, stdout: []string{"Usage: mint serve wallet", "port 4003"}},
		{args: []string{"serve", "transactions", "-h"}, want: ok, stdout: []string{"Usage: mint serve transactions", "port 4004"}},
		{args: []string{"serve", "notifications", "--help"}, want: ok, stdout: []string{"Usage: mint serve notifications", "port 4002"}},
		{args: []string{"keys", "--help"}, want: ok, stdout: []string{"Usage: mint keys <generate|rotate>"}},
		{args: []string{"keys", "generate", "--help"}, want: ok, stdout: []string{"Usage: mint keys generate", "--file string", "--force"}},
		{args: []string{"keys", "rotate", "--help"}, want: ok, stdout: []string{"Usage: mint keys rotate", "--file string", "--auth-token-lifetime duration"}},
		{args: []string{"wallet", "--help"}, want: ok, stdout: []string{"Usage: mint wallet reconcile"}},
		{args: []string{"wallet", "reconcile", "--help"}, want: ok, stdout: []string{"Usage: mint wallet reconcile", "--data-dir", "--mongodb-uri"}},
		{args: []string{"version", "--help"}, want: ok, stdout: []string{"Usage: mint version"}},
		{args: []string{"version"}, want: ok, stdout: []string{"mint " + cli.Version}},
		{args: []string{"--version"}, want: ok, stdout: []string{"mint " + cli.Version}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"mint"}, tt.args...), " "), func(t *testing.T) {
			clearEnv(t)
			for i := 0; i+1 < len(tt.env); i += 2 {
				t.Setenv(tt.env[i], tt.env[i+1])
			}
			r := runMint(t, tt.args...)
			if got := outcomeOf(r.err); got != tt.want {
				t.Fatalf("outcome %v (%v), want %v\nstdout:\n%s\nstderr:\n%s", got, r.err, tt.want, r.stdout, r.stderr)
			}
			if tt.want == ok && r.stderr != "" {
				t.Errorf("stderr is not empty:\n%s", r.stderr)
			}
			if tt.want == usage && r.stdout != "" {
				t.Errorf("a usage error wrote to stdout:\n%s", r.stdout)
			}
			if tt.firstErr != "" && firstLine(r.stderr) != tt.firstErr {
				t.Errorf("first line of stderr\n  %q\nwant\n  %q", firstLine(r.stderr), tt.firstErr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			for _, s := range tt.notStderr {
				if strings.Contains(r.stderr, s) {
					t.Errorf("stderr has %q:\n%s", s, r.stderr)
				}
			}
		})
	}
}

// TestABadFlagIsReportedOnce: the error and the usage appear once each, not once from the flag package
// and again from mint.
func TestABadFlagIsReportedOnce(t *testing.T) {
	tests := [][]string{
		{"dev", "--nope"},
		{"serve", "auth", "--nope"},
		{"keys", "generate", "--nope"},
		{"keys", "rotate", "--nope"},
		{"wallet", "reconcile", "--nope"},
		{"version", "--nope"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			clearEnv(t)
			r := runMint(t, args...)
			if !errors.Is(r.err, cli.ErrUsage) {
				t.Fatalf("Run = %v, want a usage error", r.err)
			}
			if n := strings.Count(r.stderr, "nope"); n != 1 {
				t.Errorf("the bad flag is named %d times, want once:\n%s", n, r.stderr)
			}
			if n := strings.Count(r.stderr, "Usage:"); n != 1 {
				t.Errorf("the usage is printed %d times, want once:\n%s", n, r.stderr)
			}
			if want := "unknown flag --nope"; !strings.HasSuffix(firstLine(r.stderr), want) {
				t.Errorf("first line %q does not end in %q", firstLine(r.stderr), want)
			}
		})
	}
}

// helpFlags are the flags each process's help must list, and only those: the settings it reads.
// README.md's settings table documents the same.
var helpFlags = map[string][]string{
	// common
	"http-addr": allProcesses, "data-dir": allProcesses, "mongodb-uri": allProcesses, "amqp-url": allProcesses,
	"redis-url": allProcesses, "log-level": allProcesses, "pprof-addr": allProcesses, "cors-origins": allProcesses,
	"trusted-proxies": allProcesses, "allowed-hosts": allProcesses,
	// the auth service does not handle money
	"currency":            {"dev", "wallet", "transactions", "notifications"},
	"consumers-per-queue": {"dev", "wallet", "transactions", "notifications"},
	// wallet and transactions verify the auth service's tokens
	"auth-issuer": {"dev", "auth", "wallet", "transactions"}, "auth-audience": {"dev", "auth", "wallet", "transactions"},
	"auth-jwks-url": {"dev", "wallet", "transactions"},
	// auth
	"auth-keys-file": {"dev", "auth"}, "auth-token-lifetime": {"dev", "auth"},
	"auth-argon2-memory-kib": {"dev", "auth"}, "auth-argon2-iterations": {"dev", "auth"},
	"auth-max-concurrent-hashes": {"dev", "auth"}, "auth-login-max-failures": {"dev", "auth"},
	"auth-login-window": {"dev", "auth"}, "auth-login-account-max-failures": {"dev", "auth"},
	"auth-login-delay": {"dev", "auth"}, "auth-login-max-delay": {"dev", "auth"},
	"cookie-secure": {"auth"}, // mint dev serves plain HTTP
	// wallet, transactions, notifications
	"wallet-initial-balance":    {"dev", "wallet"},
	"transactions-stuck-after":  {"dev", "transactions"},
	"smtp-url":                  {"dev", "notifications"},
	"mail-from":                 {"dev", "notifications"},
	"smtp-insecure-skip-verify": {"dev", "notifications"},
}

var allProcesses = []string{"dev", "auth", "wallet", "transactions", "notifications"}

// listedFlags are the flags a help text lists, one "  --name …" line each.
func listedFlags(help string) []string {
	var names []string
	for _, line := range strings.Split(help, "\n") {
		if rest, ok := strings.CutPrefix(line, "  --"); ok {
			name, _, _ := strings.Cut(rest, " ")
			names = append(names, name)
		}
	}
	return names
}

// TestHelpListsWhatTheProcessReads: `mint serve wallet --help` lists the wallet's settings, not auth's
// password hashing or the notifications' SMTP server; `mint dev --help` lists every one.
func TestHelpListsWhatTheProcessReads(t *testing.T) {
	for _, proc := range allProcesses {
		args := []string{"serve", proc, "--help"}
		if proc == "dev" {
			args = []string{"dev", "--help"}
		}
		t.Run(proc, func(t *testing.T) {
			clearEnv(t)
			r := runMint(t, args...)
			if r.err != nil {
				t.Fatalf("Run(%q) = %v", args, r.err)
			}
			var want []string
			for name, readers := range helpFlags {
				if slices.Contains(readers, proc) {
					want = append(want, name)
				}
			}
			slices.Sort(want)
			got := listedFlags(r.stdout)
			if !slices.Equal(got, want) {
				t.Errorf("mint %s lists\n  %v\nwant\n  %v", strings.Join(args, " "), got, want)
			}
		})
	}
}

// TestDefaultsInHelp: the documented defaults of the settings whose default differs between commands.
func TestDefaultsInHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"dev", "--help"}, []string{`(env MINT_HTTP_ADDR) (default "127.0.0.1:8080")`}},
		{[]string{"serve", "auth", "--help"}, []string{`(env MINT_HTTP_ADDR) (default ":4001")`,
			`(env MINT_AMQP_URL) (default "amqp://guest:guest@127.0.0.1:5672/")`, "(env MINT_COOKIE_SECURE) (default true)"}},
		{[]string{"serve", "notifications", "--help"}, []string{`(default ":4002")`}},
		{[]string{"serve", "wallet", "--help"}, []string{`(default ":4003")`}},
		{[]string{"serve", "transactions", "--help"}, []string{`(default ":4004")`, "(default 30s)"}},
		{[]string{"keys", "generate", "--help"}, []string{`(env MINT_AUTH_KEYS_FILE) (default "./mint-data/auth-keys.json")`, "(env MINT_KEYS_FORCE)"}},
		{[]string{"keys", "rotate", "--help"}, []string{"(env MINT_AUTH_TOKEN_LIFETIME) (default 168h)"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			clearEnv(t)
			r := runMint(t, tt.args...)
			for _, s := range tt.want {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("help lacks %q:\n%s", s, r.stdout)
				}
			}
		})
	}
	clearEnv(t)
	if r := runMint(t, "dev", "--help"); strings.Contains(r.stdout, "(env MINT_AMQP_URL) (default") {
		t.Errorf("mint dev shows a broker by default:\n%s", r.stdout)
	}
}

// TestATakenPortIsReportedBeforeTheDataDirIsCreated: the port is taken first, so a second mint dev on
// the same address leaves nothing behind, and the error names the setting to change.
func TestATakenPortIsReportedBeforeTheDataDirIsCreated(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	addr := taken.Addr().String()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"http", []string{"dev", "--http-addr", addr},
			"mint dev: listen " + addr + ": address already in use (choose another with --http-addr or MINT_HTTP_ADDR)"},
		{"pprof", []string{"dev", "--http-addr", "127.0.0.1:0", "--pprof-addr", addr},
			"mint dev: listen " + addr + ": address already in use (choose another with --pprof-addr or MINT_PPROF_ADDR)"},
		{"serve", []string{"serve", "wallet", "--http-addr", addr},
			"mint serve wallet: listen " + addr + ": address already in use (choose another with --http-addr or MINT_HTTP_ADDR)"},
		{"malformed", []string{"dev", "--http-addr", "localhost"},
			"mint dev: listen localhost: address localhost: missing port in address (check --http-addr or MINT_HTTP_ADDR)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			data := filepath.Join(t.TempDir(), "mint-data")
			r := runMint(t, append(tt.args, "--data-dir", data)...)
			if outcomeOf(r.err) != failure || r.err.Error() != tt.want {
				t.Fatalf("Run = %v\nwant %s", r.err, tt.want)
			}
			if strings.Contains(tt.want, "in use") && !errors.Is(r.err, syscall.EADDRINUSE) {
				t.Errorf("%v does not match EADDRINUSE", r.err)
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the data dir was touched before listening: stat %s: %v", data, err)
			}
			if r.stderr != "" {
				t.Errorf("stderr before the error line:\n%s", r.stderr)
			}
		})
	}
}

// TestKeysGenerate: a fresh machine has no directory for the key set, so it is created, privately,
// and said; an existing key set is kept and the error says how to replace it, or, with
// --keep-existing, kept without an error.
func TestKeysGenerate(t *testing.T) {
	clearEnv(t)
	dir := filepath.Join(t.TempDir(), "etc", "mint")
	file := filepath.Join(dir, "auth-keys.json")

	r := runMint(t, "keys", "generate", "--file", file)
	if r.err != nil {
		t.Fatalf("first generate: %v\n%s", r.err, r.stderr)
	}
	if want := "created directory " + dir + " (mode 0700)\nwrote a new key set to " + file + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("stat %s: %v, %v; want mode 700", dir, fi, err)
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	r = runMint(t, "keys", "generate", "--file", file)
	if outcomeOf(r.err) != failure || !strings.HasPrefix(r.err.Error(), "mint keys generate: "+file+" already exists") ||
		!strings.Contains(r.err.Error(), "--force") {
		t.Errorf("generate over an existing file: %v; want it to exist and to name --force", r.err)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
		t.Error("the existing key set was changed")
	}

	r = runMint(t, "keys", "generate", "--file", file, "--keep-existing")
	if r.err != nil || r.stdout != "kept the existing key set "+file+"\n" {
		t.Errorf("generate --keep-existing over an existing file: %v, stdout %q; want it kept and said", r.err, r.stdout)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
		t.Error("--keep-existing changed the key set")
	}
	if r = runMint(t, "keys", "generate", "--file", file, "--keep-existing", "--force"); outcomeOf(r.err) != usage {
		t.Errorf("--keep-existing with --force: %v; want a usage error", r.err)
	}

	r = runMint(t, "keys", "generate", "--file", file, "--force")
	if r.err != nil || r.stdout != "wrote a new key set to "+file+"\n" {
		t.Errorf("generate --force: %v, stdout %q", r.err, r.stdout)
	}
	if after, _ := os.ReadFile(file); bytes.Equal(after, before) {
		t.Error("--force kept the old key set")
	}
}

// TestKeysRotateWithoutAKeySet: the error says how to make one.
func TestKeysRotateWithoutAKeySet(t *testing.T) {
	clearEnv(t)
	file := filepath.Join(t.TempDir(), "auth-keys.json")
	r := runMint(t, "keys", "rotate", "--file", file)
	if outcomeOf(r.err) != failure || !strings.HasPrefix(r.err.Error(), "mint keys rotate: ") ||
		!strings.Contains(r.err.Error(), "mint keys generate --file "+file) {
		t.Errorf("Run = %v; want it to point at mint keys generate", r.err)
	}
}

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ready" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	tests := []struct {
		url     string
		wantErr string // "" = exit 0
		usage   bool
	}{
		{url: srv.URL + "/ready"},
		{url: srv.URL + "/down", wantErr: "503 Service Unavailable"},
		{url: "http://" + testenv.FreeAddr(t) + "/ready", wantErr: "connect"},
		{url: "ftp://example.com/", usage: true},
		{url: "127.0.0.1:4001", usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := cli.Run(t.Context(), []string{"probe", "--url", tt.url, "--timeout", "2s"}, &stdout, &stderr)
			switch {
			case tt.usage:
				if !errors.Is(err, cli.ErrUsage) {
					t.Errorf("err = %v, want a usage error", err)
				}
			case tt.wantErr == "":
				if err != nil {
					t.Errorf("err = %v, want exit 0", err)
				}
			case err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "mint probe:"):
				t.Errorf("err = %v, want a mint probe failure mentioning %q", err, tt.wantErr)
			}
		})
	}
}
