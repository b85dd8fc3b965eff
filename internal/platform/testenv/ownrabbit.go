package testenv

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Rabbit is a RabbitMQ node of a test's own: its own node name, loopback AMQP and distribution ports,
// Erlang cookie, configuration (no plugins, so no management listener), data and logs, all in a
// temporary directory. The test may stop and start it without disturbing other tests or the
// machine's broker. guest/guest works, from loopback only (RabbitMQ's default).
type Rabbit struct {
	node     string
	addr     string // AMQP host:port
	url      string
	dir      string
	ctl      string        // rabbitmqctl, next to the rabbitmq-server that started the node
	env      []string      // of the node and of every rabbitmqctl run against it (HOME holds their cookie)
	cmd      *exec.Cmd     // lifelineScript running rabbitmq-server
	lifeline *os.File      // closing it stops the node
	beamPid  int           // the Erlang VM, for the last resort of killing it
	exited   chan struct{} // closed when rabbitmq-server has exited, waitErr then set
	waitErr  error
}

// OwnRabbit starts a RabbitMQ node for t and, when t ends, stops it and removes its directory.
// Without rabbitmq-server installed it skips t, or fails it when CI=true. A node takes seconds to
// boot and about 150 MB, so only tests that must stop their broker use one; the others share the
// machine's broker, each in a vhost of its own (IsolatedRabbitURL).
func OwnRabbit(t testing.TB) *Rabbit {
	t.Helper()
	Integration(t)
	scripts, err := rabbitScripts()
	if err != nil {
		if CI() {
			t.Fatalf("own RabbitMQ node: %v and CI=true", err)
		}
		t.Skipf("own RabbitMQ node: %v", err)
	}
	// A port found free may be taken by another process before the node binds it, which ends the
	// node's boot: then it is tried again on other ports.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		began := time.Now()
		r, err := startRabbit(t, scripts)
		if err == nil {
			t.Logf("own RabbitMQ node %s on %s, booted in %v", r.node, r.addr, time.Since(began).Round(100*time.Millisecond))
			return r
		}
		if attempt == attempts || !errors.Is(err, errExitedBooting) {
			t.Fatalf("own RabbitMQ node: %v", err)
		}
		t.Logf("own RabbitMQ node: %v; trying again on other ports", err)
	}
}

var errExitedBooting = errors.New("rabbitmq-server exited while booting")

// lifelineScript runs rabbitmq-server ($0) and stops it (SIGTERM, a clean shutdown) once its stdin, a
// pipe whose other end only the test process holds, reaches end of file. The kernel closes that end
// however the test process ends, so a node whose test was killed (a go test timeout, a signal)
// before its cleanup ran does not run on. The script exits with the server.
const lifelineScript = `exec 3<&0 </dev/null
"$0" 3<&- &
server=$!
(read -r _ <&3; kill -TERM "$server" 2>/dev/null) &
reader=$!
exec 3<&-
wait "$server"
status=$?
kill "$reader" 2>/dev/null
exit "$status"`

// startRabbit starts a node in a directory of its own and registers its shutdown with t.
func startRabbit(t testing.TB, scripts string) (*Rabbit, error) {
	dir, err := os.MkdirTemp("", "mint-rabbit")
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	r := &Rabbit{dir: dir, ctl: filepath.Join(scripts, "rabbitmqctl"), exited: make(chan struct{})}
	t.Cleanup(func() { r.shutdown(t) })
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	r.node = fmt.Sprintf("mint-test-%s-%d-%d@localhost", vhostRun, os.Getpid(), vhostSeq.Add(1))
	r.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	r.url = "amqp://guest:guest@" + r.addr + "/"
	if r.env, err = r.prepare(ports[0], ports[1]); err != nil {
		return nil, err
	}
	out, err := os.Create(filepath.Join(dir, "server.out"))
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	lifeline, held, err := os.Pipe()
	if err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("start: %w", err)
	}
	// Not bound to a context: shutdown stops the node through rabbitmqctl, which lets it flush.
	cmd := exec.CommandContext(context.Background(), "/bin/sh", "-c", lifelineScript, filepath.Join(scripts, "rabbitmq-server"))
	cmd.Dir, cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = dir, r.env, lifeline, out, out
	err = cmd.Start()
	_ = out.Close() // the node writes to its own copy
	_ = lifeline.Close()
	if err != nil {
		_ = held.Close()
		return nil, fmt.Errorf("start rabbitmq-server: %w", err)
	}
	r.cmd, r.lifeline = cmd, held
	go func() {
		r.waitErr = cmd.Wait()
		close(r.exited)
	}()
	if err := r.awaitBoot(); err != nil {
		return nil, fmt.Errorf("node %s: %w\n%s", r.node, err, r.logTail())
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "rabbit.pid")); err == nil {
		r.beamPid, _ = strconv.Atoi(strings.TrimSpace(string(raw)))
	}
	return r, nil
}

// URL is the node's AMQP URL (vhost /, user guest).
func (r *Rabbit) URL() string { return r.url }

// Stop stops the RabbitMQ application: connections drop and the AMQP port closes; durable queues
// and their messages stay for Start.
func (r *Rabbit) Stop(t testing.TB) {
	t.Helper()
	if err := r.run("stop_app"); err != nil {
		t.Fatalf("stop own RabbitMQ node: %v", err)
	}
	t.Logf("own RabbitMQ node %s: application stopped", r.node)
}

// Start starts the application again and waits until it has booted and accepts connections.
func (r *Rabbit) Start(t testing.TB) {
	t.Helper()
	if err := r.run("start_app"); err != nil {
		t.Fatalf("start own RabbitMQ node: %v", err)
	}
	if err := r.run("await_startup"); err != nil {
		t.Fatalf("start own RabbitMQ node: %v", err)
	}
	t.Logf("own RabbitMQ node %s: application started", r.node)
}

func (r *Rabbit) run(args ...string) error {
	return rabbitmqctl(r.env, r.ctl, append([]string{"-n", r.node}, args...)...)
}

// prepare writes the node's files and returns its environment. Every file and directory RabbitMQ
// would otherwise take from /etc/rabbitmq or /var/lib/rabbitmq is named, so nothing of the
// machine's broker (its listener on 5672, its plugins, its node name) is picked up.
func (r *Rabbit) prepare(port, dist int) ([]string, error) {
	home := filepath.Join(r.dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	cookie := make([]byte, 16)
	if _, err := crand.Read(cookie); err != nil {
		return nil, fmt.Errorf("prepare: cookie: %w", err)
	}
	files := []struct {
		name, text string
		mode       os.FileMode
	}{
		{"home/.erlang.cookie", hex.EncodeToString(cookie), 0o400},
		{"enabled_plugins", "[].\n", 0o600},
		{"rabbitmq.conf", "# A test's own node: ports and paths come from RABBITMQ_* variables.\n", 0o600},
		{"rabbitmq-env.conf", "# A test's own node: see rabbitmq.conf.\n", 0o600},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(r.dir, f.name), []byte(f.text), f.mode); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
	}
	in := func(name string) string { return filepath.Join(r.dir, name) }
	env := []string{
		"HOME=" + home,
		"RABBITMQ_NODENAME=" + r.node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(port),
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(dist),
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
		"RABBITMQ_MNESIA_BASE=" + in("mnesia"),
		"RABBITMQ_LOG_BASE=" + in("log"),
		"RABBITMQ_PID_FILE=" + in("rabbit.pid"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + in("enabled_plugins"),
		"RABBITMQ_CONFIG_FILE=" + in("rabbitmq.conf"),
		"RABBITMQ_CONFIG_FILES=" + in("conf.d"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + in("advanced.config"),
		"RABBITMQ_CONF_ENV_FILE=" + in("rabbitmq-env.conf"),
		"RABBITMQ_MOTD_FILE=" + in("motd"),
	}
	if os.Getenv("ERL_EPMD_ADDRESS") == "" {
		// Only used if no epmd runs yet and the node starts one: then it listens on loopback only.
		env = append(env, "ERL_EPMD_ADDRESS=127.0.0.1")
	}
	var inherited []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RABBITMQ_") && !strings.HasPrefix(kv, "HOME=") {
			inherited = append(inherited, kv)
		}
	}
	return append(inherited, env...), nil
}

// awaitBoot waits until the node accepts AMQP connections and rabbitmqctl agrees that it has booted.
// The bound is generous: a loaded two-core machine boots a node in tens of seconds.
func (r *Rabbit) awaitBoot() error {
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		select {
		case <-r.exited:
			if r.waitErr == nil {
				return fmt.Errorf("%w (status 0)", errExitedBooting)
			}
			return fmt.Errorf("%w: %w", errExitedBooting, r.waitErr)
		default:
		}
		if answers(r.addr) {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("not accepting connections after 3 minutes")
		}
	}
	return r.run("await_startup")
}

func answers(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// shutdown stops the node (gracefully, else by signal) and removes its directory.
func (r *Rabbit) shutdown(t testing.TB) {
	defer func() { _ = os.RemoveAll(r.dir) }()
	if r.cmd == nil {
		return
	}
	defer r.lifeline.Close()
	if t.Failed() {
		t.Logf("own RabbitMQ node %s, end of its log:\n%s", r.node, r.logTail())
	}
	if r.gone(0) {
		return
	}
	err := r.run("stop")
	if r.gone(time.Minute) {
		return
	}
	_ = r.lifeline.Close() // the script sends rabbitmq-server SIGTERM, on which it stops the node
	if r.gone(30 * time.Second) {
		return
	}
	if r.beamPid > 0 {
		if p, ferr := os.FindProcess(r.beamPid); ferr == nil {
			_ = p.Kill()
		}
	}
	_ = r.cmd.Process.Kill()
	t.Errorf("own RabbitMQ node %s did not stop (rabbitmqctl stop: %v); killed it", r.node, err)
}

// gone reports whether rabbitmq-server has exited, waiting up to d for it.
func (r *Rabbit) gone(d time.Duration) bool {
	select {
	case <-r.exited:
		return true
	default:
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-r.exited:
		return true
	case <-timer.C:
		return false
	}
}

// logTail is the end of the node's console output and log, for a failure message.
func (r *Rabbit) logTail() string {
	var b strings.Builder
	for _, name := range []string{"server.out", filepath.Join("log", r.node+".log")} {
		raw, err := os.ReadFile(filepath.Join(r.dir, name))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		fmt.Fprintf(&b, "--- %s\n%s\n", name, strings.Join(lines[max(0, len(lines)-30):], "\n"))
	}
	return b.String()
}

// rabbitScripts finds the directory of RabbitMQ's own scripts. Debian's /usr/sbin/rabbitmq-server
// is a wrapper that re-runs them as the rabbitmq user, who could not use the test's directory, so
// they are run directly, as the test's user.
func rabbitScripts() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("rabbitmq-server"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	dirs = append(dirs, "/usr/lib/rabbitmq/bin") // Debian's, for a user without /usr/sbin on PATH
	for _, d := range dirs {
		if isFile(d, "rabbitmq-env") && isFile(d, "rabbitmq-server") && isFile(d, "rabbitmqctl") {
			return d, nil
		}
	}
	return "", errors.New("rabbitmq-server is not installed")
}

func isFile(dir, name string) bool {
	fi, err := os.Stat(filepath.Join(dir, name))
	return err == nil && fi.Mode().IsRegular()
}

// freePorts returns n distinct loopback ports nobody listens on, below the kernel's range of
// ephemeral ports: the node binds its AMQP port only at the end of a boot of several seconds, during
// which a port from that range could become the local port of any outgoing connection.
func freePorts(n int) ([]int, error) {
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
		p := lo + rand.IntN(hi-lo)
		l, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
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
