package localserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/localserver"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestMain lets the test binary play the owner of a server for TestServersDieWithTheirOwner.
func TestMain(m *testing.M) {
	if kind := os.Getenv(ownerEnv); kind != "" {
		if err := own(kind, os.Getenv(ownerDirEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if errors.Is(err, localserver.ErrNotInstalled) {
				os.Exit(notInstalled)
			}
			os.Exit(1)
		}
		for {
			time.Sleep(time.Hour) // until killed
		}
	}
	os.Exit(m.Run())
}

// mustStart fails t when a server did not start, or skips it when the server's program is missing
// (fails it when CI=true), as testenv does.
func mustStart(t *testing.T, err error) {
	t.Helper()
	switch {
	case errors.Is(err, localserver.ErrNotInstalled) && testenv.CI():
		t.Fatalf("%v and CI=true", err)
	case errors.Is(err, localserver.ErrNotInstalled):
		t.Skip(err)
	case err != nil:
		t.Fatal(err)
	}
}

// refused fails t unless a connection to addr is refused.
func refused(t *testing.T, addr, what string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		_ = conn.Close()
		t.Fatalf("%s: %s accepted a connection", what, addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("%s: connecting to %s: %v, want connection refused", what, addr, err)
	}
}

func TestFreePortsAreDistinctAndBelowTheEphemeralRange(t *testing.T) {
	ports, err := localserver.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	low := 32768
	if raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		low, _ = strconv.Atoi(strings.Fields(string(raw))[0])
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p < 20000 || p >= low || seen[p] {
			t.Fatalf("FreePorts(5) = %v: want distinct ports in 20000–%d", ports, low-1)
		}
		seen[p] = true
	}
}

const (
	ownerEnv    = "LOCALSERVER_TEST_OWNER"
	ownerDirEnv = "LOCALSERVER_TEST_OWNER_DIR"
)

// own starts a server of the given kind in dir, restarts it, and writes its address to dir/addr.
func own(kind, dir string) error {
	ctx := context.Background()
	var addr string
	switch kind {
	case "rabbit":
		r, err := localserver.StartRabbit(ctx, filepath.Join(dir, "server"))
		if err != nil {
			return err
		}
		if err := r.Restart(ctx); err != nil {
			return err
		}
		addr = r.Addr()
	case "redis":
		r, err := localserver.StartRedis(ctx, filepath.Join(dir, "server"))
		if err != nil {
			return err
		}
		if err := errors.Join(r.Stop(), r.Start(ctx)); err != nil {
			return err
		}
		addr = r.Addr()
	case "mailpit":
		m, err := localserver.StartMailpit(ctx, filepath.Join(dir, "server"))
		if err != nil {
			return err
		}
		if err := errors.Join(m.Stop(), m.Start(ctx)); err != nil {
			return err
		}
		addr = m.SMTPAddr()
	default:
		return fmt.Errorf("no server %q", kind)
	}
	return os.WriteFile(filepath.Join(dir, "addr"), []byte(addr), 0o600)
}

// TestServersDieWithTheirOwner: a server whose owner is killed (SIGKILL: no Close, no deferred
// function) stops with it, also after the owner restarted it, so a chaos run or a test killed by
// its timeout leaves nothing running.
func TestServersDieWithTheirOwner(t *testing.T) {
	testenv.Integration(t)
	if runtime.GOOS != "linux" {
		t.Skip("the owner's processes are found through /proc")
	}
	for _, kind := range []string{"redis", "mailpit", "rabbit"} {
		t.Run(kind, func(t *testing.T) { dieWithOwner(t, kind) })
	}
}

// notInstalled is the owner's exit status when the server's program is missing.
const notInstalled = 3

func dieWithOwner(t *testing.T, kind string) {
	dir := t.TempDir()
	owner := exec.Command(os.Args[0], "-test.run=^$")
	owner.Env = append(os.Environ(), ownerEnv+"="+kind, ownerDirEnv+"="+dir)
	var stderr strings.Builder
	owner.Stderr = &stderr
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		addr    string // the server's, once the owner has written it
		waitErr error
	)
	exited := make(chan struct{})
	go func() {
		waitErr = owner.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = owner.Process.Kill()
		<-exited
		for _, pid := range ownedBy(dir, addr) { // what outlived a failed test: started by its owner
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
	})

	for deadline := time.Now().Add(5 * time.Minute); addr == ""; time.Sleep(100 * time.Millisecond) {
		select {
		case <-exited:
			if exit := (*exec.ExitError)(nil); errors.As(waitErr, &exit) && exit.ExitCode() == notInstalled {
				if testenv.CI() {
					t.Fatalf("%s and CI=true", stderr.String())
				}
				t.Skip(stderr.String())
			}
			t.Fatalf("the owner exited: %v\n%s", waitErr, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the owner did not start its server within 5 minutes")
		}
		raw, _ := os.ReadFile(filepath.Join(dir, "addr"))
		addr = string(raw)
	}
	if n := len(ownedBy(dir, addr)); n < 2 {
		t.Fatalf("%d processes found for the owner and its server: the test cannot tell", n)
	}

	began := time.Now()
	_ = owner.Process.Kill()
	<-exited
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		left := ownedBy(dir, addr)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v still run 2 minutes after their owner was killed", left)
		}
	}
	t.Logf("%s on %s gone %v after its owner was killed", kind, addr, time.Since(began).Round(100*time.Millisecond))
	refused(t, addr, "after the owner was killed")
}

// ownedBy lists the owner process of dir and what it started: what inherited its environment (a
// RabbitMQ node's scripts, Erlang VM and helpers, mailpit) or names addr, when known, on its command
// line (redis-server, which writes its title over its environment) — except epmd, which a node
// starts when none runs yet and which serves every node on the machine.
func ownedBy(dir, addr string) []int {
	mark := []byte(ownerDirEnv + "=" + dir + "\x00")
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		environ, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if !bytes.Contains(environ, mark) && (addr == "" || !bytes.Contains(cmdline, []byte(addr))) {
			continue
		}
		if comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm")); strings.TrimSpace(string(comm)) == "epmd" {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}
