package localserver

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
	"sync"
	"syscall"
	"time"
)

// Redis is a redis-server of its own, on a free loopback port, without persistence: its owner may
// pause, stop and start it again while the machine's Redis serves everyone else.
type Redis struct {
	bin  string
	dir  string
	port int
	addr string
	log  string

	mu     sync.Mutex // serialises the changes of state below
	p      *proc      // nil while stopped
	closed bool
}

// redisBoot bounds the wait for a started or resumed redis-server to answer; it takes milliseconds.
const redisBoot = 10 * time.Second

// StartRedis starts a redis-server with its log in dir (created if missing) on a free loopback port
// and returns once it answers PING. Without redis-server installed the error wraps ErrNotInstalled.
// The server is killed if this process ends without Close.
func StartRedis(ctx context.Context, dir string, opts ...Option) (*Redis, error) {
	o := collect(opts)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is %w: %w", ErrNotInstalled, err)
	}
	if dir, err = makeDir(dir); err != nil {
		return nil, err
	}
	// redis-server may lose the port to another process before binding it: then it exits, and
	// another port is tried.
	const attempts = 5
	for attempt := 1; ; attempt++ {
		ports, err := FreePorts(1)
		if err != nil {
			return nil, err
		}
		r := &Redis{bin: bin, dir: dir, port: ports[0], addr: loopback(ports[0]),
			log: filepath.Join(dir, fmt.Sprintf("redis-%d.log", ports[0]))}
		err = r.start(ctx)
		if err == nil {
			return r, nil
		}
		if attempt == attempts || !errors.Is(err, errExited) {
			return nil, err
		}
		o.logf("%v; trying again on another port", err)
	}
}

// URL is the server's redis:// URL (database 0).
func (r *Redis) URL() string { return "redis://" + r.addr + "/0" }

// Addr is the server's address, host:port.
func (r *Redis) Addr() string { return r.addr }

// Stop kills the server (SIGKILL) and waits for it to exit: to its clients it has crashed, their
// connections break, new ones are refused, and what it held is gone. A signal rather than SHUTDOWN
// NOSAVE: there is nothing to save, and a signal also ends a paused server, which could not answer a
// command. Stopping a stopped server does nothing; the error says that the server had ended by
// itself before Stop.
func (r *Redis) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stop()
}

func (r *Redis) stop() error {
	if r.p == nil {
		return nil
	}
	p := r.p
	r.p = nil
	if p.gone(0) {
		return fmt.Errorf("stop: %w before Stop", p.exitError())
	}
	p.kill()
	return nil
}

// Start starts a stopped server again on the same port, empty, and returns once it answers PING.
// Starting a running server does nothing; one that ended by itself is started again.
func (r *Redis) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return fmt.Errorf("start redis-server on %s: closed", r.addr)
	case r.p != nil && !r.p.gone(0):
		return nil
	}
	r.p = nil
	return r.start(ctx)
}

// Pause stops the server with SIGSTOP, as a stalled or frozen Redis: connections stay open and the
// kernel still accepts new ones and buffers what clients send, but nothing is answered. It returns
// once the kernel reports the process stopped (where /proc tells), so that what the caller does next
// meets a server that cannot answer.
func (r *Redis) Pause() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return fmt.Errorf("pause redis-server on %s: stopped", r.addr)
	}
	if err := r.p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause redis-server: %w", err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if state, ok := procState(r.p.cmd.Process.Pid); !ok || state == "T" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("pause redis-server: not stopped 5 s after SIGSTOP")
		}
	}
}

// Resume continues a paused server with SIGCONT and returns once it answers a PING.
func (r *Redis) Resume(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return fmt.Errorf("resume redis-server on %s: stopped", r.addr)
	}
	if err := r.p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("resume redis-server: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, redisBoot)
	defer cancel()
	if err := await(ctx, r.p, r.ping); err != nil {
		return fmt.Errorf("redis-server on %s after resume: %w", r.addr, err)
	}
	return nil
}

// Close kills the server for good. It keeps the directory, whose removal is the caller's choice.
func (r *Redis) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return r.stop()
}

func (r *Redis) start(ctx context.Context) error {
	// Not bound to ctx: the server runs until Stop or Close.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), r.bin, //nolint:gosec // redis-server found on PATH
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", // nothing on disk: a stop loses what it held, as a crash would
		"--dir", r.dir, "--logfile", r.log, "--daemonize", "no")
	cmd.SysProcAttr = diesWithOwner()
	p, err := startProc("redis-server", cmd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, redisBoot)
	defer cancel()
	if err := await(ctx, p, r.ping); err != nil {
		p.kill()
		return fmt.Errorf("redis-server on %s: %w; log:\n%s", r.addr, err, tail(r.log, 20))
	}
	r.p = p
	return nil
}

// ping sends PING on a fresh connection and expects PONG.
func (r *Redis) ping(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
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
