// Package localserver runs private copies of the servers Mint depends on — a RabbitMQ node, a
// redis-server, a Mailpit — on free loopback ports, with all their files in a directory the caller
// names. They exist so that a tool or a test can stop, restart, pause or break them on purpose
// without disturbing the machine's own servers, which other tests and processes use at the same
// time. None of them outlives the process that started it, however that process ends.
package localserver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrNotInstalled is returned by the Start functions when the server's program cannot be found.
var ErrNotInstalled = errors.New("not installed")

// Option configures a server as it is started.
type Option func(*options)

type options struct {
	logf func(format string, args ...any)
}

// WithLogf has the server report what it does besides succeeding (a retry on other ports, a node
// that had to be killed) through logf, such as testing.T's Logf or a wrapper around a slog.Logger.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

func collect(opts []Option) options {
	o := options{logf: func(string, ...any) {}}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// FreePorts returns n distinct loopback ports nobody listens on, below the kernel's range of
// ephemeral ports. The servers here bind their ports late (a RabbitMQ node at the end of a boot of
// several seconds) and bind them again after each restart; meanwhile a port from the ephemeral range
// could become the local port of any outgoing connection on the machine, one below it cannot.
// Another process may still take a port before the server binds it: the Start functions try again
// on other ports when that happens.
func FreePorts(n int) ([]int, error) {
	lo, hi := 20000, ephemeralLow()
	if hi-lo < 1000 {
		return nil, fmt.Errorf("free port: no room below the ephemeral ports (%d)", hi)
	}
	var (
		ports []int
		held  []net.Listener
		lc    net.ListenConfig
	)
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries == 100 {
			return nil, fmt.Errorf("free port: none found in %d–%d", lo, hi-1)
		}
		p := lo + rand.IntN(hi-lo) //nolint:gosec // a port number, not a secret
		l, err := lc.Listen(context.Background(), "tcp", loopback(p))
		if err != nil {
			continue // in use, or already chosen
		}
		held = append(held, l)
		ports = append(ports, p)
	}
	return ports, nil
}

// ephemeralLow is the first port the kernel hands out to outgoing connections (Linux's default when
// it cannot tell; other systems start higher).
func ephemeralLow() int {
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return 32768
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil {
		return 32768
	}
	return low
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// AwaitListening waits until something accepts TCP connections at addr, or ctx ends.
func AwaitListening(ctx context.Context, addr string) error {
	return await(ctx, nil, func(ctx context.Context) error { return dial(ctx, addr) })
}

// await polls ready every 100 ms until it succeeds, the process behind exited (when not nil) exits,
// or ctx ends; the error then says why, with ready's last error.
func await(ctx context.Context, p *proc, ready func(context.Context) error) error {
	var exited <-chan struct{}
	if p != nil {
		exited = p.exited
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		attempt, cancel := context.WithTimeout(ctx, time.Second)
		err := ready(attempt)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return p.exitError()
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", context.Cause(ctx), err)
		case <-tick.C:
		}
	}
}

func dial(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// errExited says a server's process ended while it was expected to run: while booting, the usual
// cause is a port another process took first.
var errExited = errors.New("exited")

// proc is one run of a server's process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited, err set before
	err    error
}

func startProc(name string, cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// gone reports whether the process has exited, waiting up to d for it.
func (p *proc) gone(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.exited:
		return true
	case <-timer.C:
		return false
	}
}

// kill ends the process with SIGKILL (which ends a stopped one too) and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// exitError wraps errExited with how the process ended; only valid once it has.
func (p *proc) exitError() error {
	if p.err == nil {
		return fmt.Errorf("%s %w (status 0)", p.name, errExited)
	}
	return fmt.Errorf("%s %w: %w", p.name, errExited, p.err)
}

// tail is the last lines of the file at path, for an error message.
func tail(path string, lines int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// childEnv is the environment of the owning process without the variables whose prefix the server
// reads its configuration from, so that none of the machine's settings for its own server leak in.
func childEnv(prefixes ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}
