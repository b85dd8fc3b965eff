package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// runCLI runs the binary to completion in an environment without MINT_* variables, and returns its
// exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	// None of these commands serves; if one does, the deadline kills it rather than hanging the suite.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mintBin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("mint %v: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

// TestCLIExitCodes: 0 for success and --help (on stdout), 2 for a wrong command line (what is wrong,
// then the usage, on stderr), 1 for a failure (one line on stderr).
func TestCLIExitCodes(t *testing.T) {
	missing := filepath.Join(tempDir(t), "auth-keys.json")
	tests := []struct {
		args     []string
		code     int
		firstErr string // prefix of stderr's first line; "" = stderr empty
	}{
		{nil, 2, "mint: missing command"},
		{[]string{"nonsense"}, 2, `mint: unknown command "nonsense"`},
		{[]string{"serve"}, 2, "mint serve: missing service: one of auth, wallet, transactions, notifications"},
		{[]string{"serve", "foo"}, 2, `mint serve: unknown service "foo"`},
		{[]string{"keys"}, 2, "mint keys: missing subcommand"},
		{[]string{"wallet"}, 2, "mint wallet: missing subcommand"},
		{[]string{"dev", "--nope"}, 2, "mint dev: unknown flag --nope"},
		{[]string{"serve", "wallet", "--smtp-url=smtp://x:25"}, 2, "mint serve wallet: unknown flag --smtp-url"},
		{[]string{"serve", "notifications"}, 2, "mint serve notifications: needs an SMTP server"},
		{[]string{"keys", "rotate", "--file", missing}, 1, "mint keys rotate: "},

		{[]string{"help"}, 0, ""},
		{[]string{"--help"}, 0, ""},
		{[]string{"version"}, 0, ""},
		{[]string{"dev", "--help"}, 0, ""},
		{[]string{"dev", "-h"}, 0, ""},
		{[]string{"serve", "--help"}, 0, ""},
		{[]string{"serve", "auth", "--help"}, 0, ""},
		{[]string{"serve", "wallet", "--help"}, 0, ""},
		{[]string{"serve", "transactions", "--help"}, 0, ""},
		{[]string{"serve", "notifications", "--help"}, 0, ""},
		{[]string{"keys", "--help"}, 0, ""},
		{[]string{"keys", "generate", "--help"}, 0, ""},
		{[]string{"keys", "rotate", "--help"}, 0, ""},
		{[]string{"wallet", "--help"}, 0, ""},
		{[]string{"wallet", "reconcile", "--help"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"mint"}, tt.args...), " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			switch {
			case tt.firstErr == "" && stderr != "":
				t.Errorf("stderr:\n%s", stderr)
			case tt.firstErr != "" && !strings.HasPrefix(first, tt.firstErr):
				t.Errorf("stderr starts %q, want %q", first, tt.firstErr)
			}
			switch tt.code {
			case 0:
				if stdout == "" {
					t.Error("nothing on stdout")
				}
			case 1:
				if strings.Count(stderr, "\n") != 1 {
					t.Errorf("a failure printed more than one line:\n%s", stderr)
				}
			case 2:
				if stdout != "" {
					t.Errorf("a usage error wrote to stdout:\n%s", stdout)
				}
				if strings.Contains(stderr, "Flags:\n\n") || strings.HasSuffix(stderr, "Flags:\n") {
					t.Errorf("an empty Flags section:\n%s", stderr)
				}
			}
		})
	}
}

// TestCLITakenPort: a second mint dev on a taken address fails at once, naming the setting, and
// creates no data dir.
func TestCLITakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	addr := taken.Addr().String()
	data := filepath.Join(tempDir(t), "mint-data")
	code, _, stderr := runCLI(t, "dev", "--http-addr", addr, "--data-dir", data)
	want := "mint dev: listen " + addr + ": address already in use (choose another with --http-addr or MINT_HTTP_ADDR)\n"
	if code != 1 || stderr != want {
		t.Errorf("exit %d, stderr %q; want 1, %q", code, stderr, want)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat %s: %v; want it never created", data, err)
	}
}

// TestCLIKeysGenerateOnAFreshMachine: `mint keys generate --file /etc/mint/auth-keys.json` creates
// the missing directory for its owner only and says so; run again, it keeps the file and names --force.
func TestCLIKeysGenerateOnAFreshMachine(t *testing.T) {
	dir := filepath.Join(tempDir(t), "etc", "mint")
	file := filepath.Join(dir, "auth-keys.json")
	code, stdout, stderr := runCLI(t, "keys", "generate", "--file", file)
	if code != 0 || !strings.Contains(stdout, "created directory "+dir+" (mode 0700)") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("stat %s: %v; want mode 700", dir, err)
	}
	code, _, stderr = runCLI(t, "keys", "generate", "--file", file)
	if code != 1 || !strings.Contains(stderr, "already exists") || !strings.Contains(stderr, "--force") {
		t.Errorf("second generate: exit %d, stderr %q; want 1, naming --force", code, stderr)
	}
}

// TestCLIStopsCleanly: on SIGINT or SIGTERM mint dev exits 0 and its last log line says it stopped,
// after everything was closed.
func TestCLIStopsCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			addr := testenv.FreeAddr(t)
			env := append(append([]string{}, devEnv...), "MINT_LOG_LEVEL=info")
			p := start(t, "http://"+addr, env, "dev", "--http-addr", addr, "--data-dir", tempDir(t))
			if err := p.stop(sig); err != nil {
				t.Fatalf("mint dev after %v: %v", sig, err)
			}
			lines := strings.Split(strings.TrimSpace(p.logs.String()), "\n")
			var last struct{ Level, Msg string }
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Msg != "stopped" || last.Level != "INFO" {
				t.Errorf("last line %q, want an INFO log \"stopped\"\n%s", lines[len(lines)-1], p.logs.String())
			}
		})
	}
}
