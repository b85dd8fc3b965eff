package localserver

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Rabbit is a RabbitMQ node of its own: its own node name, loopback AMQP and distribution ports,
// Erlang cookie, configuration (no plugins, so no management listener), data and logs, all in one
// directory. Its owner may stop, start and restart it without disturbing the machine's broker.
// guest/guest works, from loopback only (RabbitMQ's default). A node takes seconds to boot and about
// 150 MB.
type Rabbit struct {
	node   string
	addr   string // AMQP host:port
	url    string
	dir    string
	server string   // rabbitmq-server
	ctl    string   // rabbitmqctl, next to it
	env    []string // of the node and of every rabbitmqctl run against it (HOME holds their cookie)
	logf   func(format string, args ...any)

	mu     sync.Mutex // serialises the changes of state below
	run    *nodeRun   // nil while the node is down
	closed bool
}

// nodeRun is one run of rabbitmq-server, from its start to its exit.
type nodeRun struct {
	*proc             // lifelineScript running rabbitmq-server
	lifeline *os.File // closing it stops the node; only this process holds it
	beamPid  int      // the Erlang VM, for the last resort of killing it
}

// rabbitBoot bounds a node's boot: a loaded two-core machine boots one in tens of seconds.
const rabbitBoot = 3 * time.Minute

// StartRabbit boots a node whose files all live in dir (created if missing; the files of a node
// started there before are replaced), on free loopback ports, and returns once it accepts AMQP
// connections and rabbitmqctl agrees that it has booted. Without rabbitmq-server installed the error
// wraps ErrNotInstalled. The node stops if this process ends without Close.
func StartRabbit(ctx context.Context, dir string, opts ...Option) (*Rabbit, error) {
	o := collect(opts)
	scripts, err := rabbitScripts()
	if err != nil {
		return nil, err
	}
	if dir, err = makeDir(dir); err != nil {
		return nil, err
	}
	// A port found free may be taken by another process before the node binds it, which ends the
	// node's boot: then it is tried again on other ports.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		r, err := startRabbit(ctx, dir, scripts, o.logf)
		if err == nil {
			return r, nil
		}
		if attempt == attempts || !errors.Is(err, errExited) {
			return nil, err
		}
		o.logf("RabbitMQ node: %v; trying again on other ports", err)
	}
}

// nodeSeq and nodeEpoch make node names unique within a process and across processes.
var (
	nodeSeq   atomic.Int64
	nodeEpoch = strconv.FormatInt(time.Now().UnixNano(), 36)
)

func startRabbit(ctx context.Context, dir, scripts string, logf func(string, ...any)) (*Rabbit, error) {
	ports, err := FreePorts(2)
	if err != nil {
		return nil, err
	}
	r := &Rabbit{
		node:   fmt.Sprintf("mint-local-%s-%d-%d@localhost", nodeEpoch, os.Getpid(), nodeSeq.Add(1)),
		addr:   loopback(ports[0]),
		dir:    dir,
		server: filepath.Join(scripts, "rabbitmq-server"),
		ctl:    filepath.Join(scripts, "rabbitmqctl"),
		logf:   logf,
	}
	r.url = "amqp://guest:guest@" + r.addr + "/"
	if r.env, err = r.prepare(ports[0], ports[1]); err != nil {
		return nil, err
	}
	if r.run, err = r.boot(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// URL is the node's AMQP URL (vhost /, user guest).
func (r *Rabbit) URL() string { return r.url }

// Addr is the node's AMQP address, host:port.
func (r *Rabbit) Addr() string { return r.addr }

// Node is the node's Erlang name, for rabbitmqctl -n and in its log file's name.
func (r *Rabbit) Node() string { return r.node }

// StopApp stops the RabbitMQ application while the Erlang VM runs on: connections drop and the AMQP
// port closes; durable queues and their messages stay for StartApp.
func (r *Rabbit) StopApp(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.up(); err != nil {
		return err
	}
	return r.rabbitmqctl(ctx, "stop_app")
}

// StartApp starts the application again and returns once it has booted and accepts connections.
func (r *Rabbit) StartApp(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.up(); err != nil {
		return err
	}
	if err := r.rabbitmqctl(ctx, "start_app"); err != nil {
		return err
	}
	return r.rabbitmqctl(ctx, "await_startup")
}

// Restart stops the node completely — the Erlang VM exits, as on a crash or a reboot of the broker's
// machine — and boots it again with the same node name, ports, cookie and data, returning once it
// accepts connections. Durable queues and their persistent messages survive it. A node that ignores
// rabbitmqctl stop is stopped by signals (reported through WithLogf) and booted all the same; one that
// had died by itself is booted again.
func (r *Rabbit) Restart(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("restart node %s: closed", r.node)
	}
	if r.run != nil {
		if err := r.halt(ctx, r.run); err != nil {
			r.logf("restart: %v", err)
		}
		r.run = nil
	}
	run, err := r.boot(ctx)
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	r.run = run
	return nil
}

// Close stops the node for good: through rabbitmqctl stop while ctx allows (at most a minute), then
// by signals. It keeps the node's directory, whose removal is the caller's choice. The error says
// whether the node had to be killed.
func (r *Rabbit) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.run == nil {
		return nil
	}
	err := r.halt(ctx, r.run)
	r.run = nil
	return err
}

// LogTail is the end of the node's console output and log, for a failure message.
func (r *Rabbit) LogTail() string {
	var b strings.Builder
	for _, name := range []string{"server.out", filepath.Join("log", r.node+".log")} {
		fmt.Fprintf(&b, "--- %s\n%s\n", name, tail(filepath.Join(r.dir, name), 30))
	}
	return b.String()
}

func (r *Rabbit) up() error {
	if r.closed || r.run == nil {
		return fmt.Errorf("node %s is not running", r.node)
	}
	return nil
}

func (r *Rabbit) rabbitmqctl(ctx context.Context, args ...string) error {
	return rabbitmqctl(ctx, r.env, r.ctl, append([]string{"-n", r.node}, args...)...)
}

// lifelineScript runs rabbitmq-server ($0) and stops it (SIGTERM, a clean shutdown) once its stdin, a
// pipe whose other end only the owning process holds, reaches end of file. The kernel closes that end
// however the owner ends, so a node whose owner was killed (a go test timeout, a signal) before it
// could Close the node does not run on. The script exits with the server.
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

// boot starts rabbitmq-server under a lifeline of its own and waits until the node has booted. Each
// run gets a fresh lifeline, so a restarted node stops with its owner as the first run did.
func (r *Rabbit) boot(ctx context.Context) (*nodeRun, error) {
	pidFile := filepath.Join(r.dir, "rabbit.pid")
	_ = os.Remove(pidFile) // the last run's, if it did not remove it
	// Appended to, so that the output of every run since the start stays for inspection.
	out, err := os.OpenFile(filepath.Join(r.dir, "server.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start node %s: %w", r.node, err)
	}
	defer out.Close() // the node writes to its own copy
	stdin, lifeline, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start node %s: %w", r.node, err)
	}
	defer stdin.Close()
	// Not bound to ctx: halt stops the node through rabbitmqctl, which lets it flush.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), "/bin/sh", "-c", lifelineScript, r.server) //nolint:gosec // RabbitMQ's own script
	cmd.Dir, cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = r.dir, r.env, stdin, out, out
	p, err := startProc("rabbitmq-server", cmd)
	if err != nil {
		_ = lifeline.Close()
		return nil, err
	}
	run := &nodeRun{proc: p, lifeline: lifeline}

	ctx, cancel := context.WithTimeout(ctx, rabbitBoot)
	defer cancel()
	err = await(ctx, p, func(ctx context.Context) error { return dial(ctx, r.addr) })
	if err == nil {
		err = r.rabbitmqctl(ctx, "await_startup")
	}
	if err != nil {
		r.terminate(run)
		return nil, fmt.Errorf("node %s: %w\n%s", r.node, err, r.LogTail())
	}
	run.beamPid = readPid(pidFile)
	return run, nil
}

// halt stops a run of the node: through rabbitmqctl stop, given until ctx ends and at most a minute,
// then by signals (terminate). Only a node that had to be killed is an error.
func (r *Rabbit) halt(ctx context.Context, run *nodeRun) error {
	defer run.lifeline.Close()
	if run.gone(0) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := r.rabbitmqctl(ctx, "stop")
	if err == nil {
		select {
		case <-run.exited:
			return nil
		case <-ctx.Done():
		}
	}
	if r.terminate(run) {
		r.logf("node %s did not stop through rabbitmqctl (%v); stopped it with SIGTERM", r.node, errOr(err, ctx.Err()))
		return nil
	}
	return fmt.Errorf("node %s did not stop (rabbitmqctl stop: %w); killed it", r.node, errOr(err, ctx.Err()))
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// terminate closes the run's lifeline, on which rabbitmq-server stops the node (SIGTERM), and kills
// the Erlang VM and the script when that has not ended them within 30 s. It reports whether the
// SIGTERM was enough.
func (r *Rabbit) terminate(run *nodeRun) bool {
	_ = run.lifeline.Close()
	if run.gone(30 * time.Second) {
		return true
	}
	pid := run.beamPid
	if pid == 0 {
		pid = readPid(filepath.Join(r.dir, "rabbit.pid"))
	}
	if p, err := os.FindProcess(pid); pid > 0 && err == nil {
		_ = p.Kill()
	}
	run.kill()
	return false
}

func readPid(file string) int {
	raw, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	return pid
}

// prepare writes the node's files and returns its environment. Every file and directory RabbitMQ
// would otherwise take from /etc/rabbitmq or /var/lib/rabbitmq is named, so nothing of the
// machine's broker (its listener on 5672, its plugins, its node name) is picked up.
func (r *Rabbit) prepare(port, dist int) ([]string, error) {
	in := func(name string) string { return filepath.Join(r.dir, name) }
	// What a node started in dir before left there, or an attempt that lost its port.
	for _, name := range []string{"home", "mnesia", "log", "rabbit.pid", "server.out"} {
		if err := os.RemoveAll(in(name)); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
	}
	if err := os.Mkdir(in("home"), 0o700); err != nil {
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
		{"rabbitmq.conf", "# A node of its own: ports and paths come from RABBITMQ_* variables.\n", 0o600},
		{"rabbitmq-env.conf", "# A node of its own: see rabbitmq.conf.\n", 0o600},
	}
	for _, f := range files {
		if err := os.WriteFile(in(f.name), []byte(f.text), f.mode); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
	}
	env := []string{
		"HOME=" + in("home"),
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
	return append(childEnv("RABBITMQ_", "HOME="), env...), nil
}

// rabbitScripts finds the directory of RabbitMQ's own scripts. Debian's /usr/sbin/rabbitmq-server
// is a wrapper that re-runs them as the rabbitmq user, who could not use the owner's directory, so
// they are run directly, as the owner's user.
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
	return "", fmt.Errorf("rabbitmq-server is %w", ErrNotInstalled)
}

func isFile(dir, name string) bool {
	fi, err := os.Stat(filepath.Join(dir, name))
	return err == nil && fi.Mode().IsRegular()
}

// ctlSlots bounds the rabbitmqctl runs of a process: each boots an Erlang VM, which a two-core
// machine running a whole test suite feels.
var ctlSlots = make(chan struct{}, 4)

// rabbitmqctl runs the RabbitMQ CLI tool ctl with args in the environment env, for at most two
// minutes.
func rabbitmqctl(ctx context.Context, env []string, ctl string, args ...string) error {
	select {
	case ctlSlots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("rabbitmqctl %s: %w", strings.Join(args, " "), ctx.Err())
	}
	defer func() { <-ctlSlots }()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctl, args...) //nolint:gosec // RabbitMQ's own rabbitmqctl, next to its rabbitmq-server
	cmd.Env = env
	cmd.WaitDelay = 10 * time.Second // for output held open by a child it left behind
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("rabbitmqctl %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// makeDir creates dir if missing and makes it absolute: the servers run in it, and a relative path in
// their configuration would be taken from there.
func makeDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", err
	}
	return abs, nil
}
