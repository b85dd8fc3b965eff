package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Redis is a redis-server of a test's own, on a free loopback port, without persistence, for tests
// that pause or kill their cache: the machine's shared Redis must never stop under the other tests.
type Redis struct {
	url    string
	addr   string
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has ended
	log    string
}

// redisStartAttempts covers the race between picking a free port and redis-server binding it.
const redisStartAttempts = 5

// OwnRedis starts a redis-server for t and kills it when t ends. Without redis-server installed it
// skips t, or fails it when CI=true.
func OwnRedis(t testing.TB) *Redis {
	t.Helper()
	Integration(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if CI() {
			t.Fatalf("redis-server is not installed and CI=true: %v", err)
		}
		t.Skipf("redis-server is not installed (a private Redis is needed to pause it): %v", err)
	}
	dir := t.TempDir()
	var lastErr error
	for range redisStartAttempts {
		r, err := startRedis(bin, dir)
		if err == nil {
			t.Cleanup(r.stop)
			return r
		}
		lastErr = err
	}
	t.Fatalf("own redis-server: %v", lastErr)
	return nil
}

func startRedis(bin, dir string) (*Redis, error) {
	port, err := freeRedisPort()
	if err != nil {
		return nil, err
	}
	r := &Redis{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{}),
		log: filepath.Join(dir, fmt.Sprintf("redis-%d.log", port))}
	r.url = "redis://" + r.addr + "/0"
	r.cmd = exec.CommandContext(context.Background(), bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", r.log, "--daemonize", "no")
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	go func() {
		_ = r.cmd.Wait()
		close(r.exited)
	}()
	if err := r.waitAnswering(10 * time.Second); err != nil {
		r.stop()
		return nil, fmt.Errorf("redis-server on port %d: %w; log:\n%s", port, err, r.logTail())
	}
	return r, nil
}

// freeRedisPort returns a loopback port nobody listens on at the moment; redis-server may still lose
// it to another process before binding it, hence the attempts of OwnRedis.
func freeRedisPort() (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the server's redis:// URL (database 0).
func (r *Redis) URL() string { return r.url }

// Pause stops the server with SIGSTOP, as a stalled or frozen Redis: connections stay open and the
// kernel still accepts new ones and buffers what clients send, but nothing is answered.
func (r *Redis) Pause(t testing.TB) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("pause redis-server: %v", err)
	}
	// The signal is asynchronous; wait until the kernel reports the process stopped, so the test's
	// next step runs against a server that cannot answer. /proc only exists on Linux.
	Eventually(t, 5*time.Second, "redis-server stopped", func() bool {
		state, ok := procState(r.cmd.Process.Pid)
		return !ok || state == "T"
	})
}

// Resume continues a paused server with SIGCONT and returns once it answers a PING.
func (r *Redis) Resume(t testing.TB) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("resume redis-server: %v", err)
	}
	if err := r.waitAnswering(10 * time.Second); err != nil {
		t.Fatalf("redis-server after resume: %v", err)
	}
}

// Kill ends the server with SIGKILL and waits for it to exit; its data is gone.
func (r *Redis) Kill(t testing.TB) {
	t.Helper()
	r.stop()
}

func (r *Redis) stop() {
	select {
	case <-r.exited:
		return
	default:
	}
	_ = r.cmd.Process.Kill() // SIGKILL ends a stopped process too
	<-r.exited
}

// waitAnswering polls PING on fresh connections until the server answers PONG.
func (r *Redis) waitAnswering(within time.Duration) error {
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			return errors.New("redis-server exited")
		default:
		}
		if err = r.ping(); err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no PONG within %v: %w", within, err)
}

func (r *Redis) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func (r *Redis) logTail() string {
	b, err := os.ReadFile(r.log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}

// procState returns the state letter of /proc/<pid>/stat (R, S, T, …), and false where there is none.
func procState(pid int) (string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", false
	}
	// The command name, in parentheses, may contain spaces; the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 > len(s) {
		return "", false
	}
	return s[i+2 : i+3], true
}
