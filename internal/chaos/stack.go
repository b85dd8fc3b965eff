package chaos

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mint-wallet/mint/deploy/nginx"
	"github.com/mint-wallet/mint/internal/platform/jwtsign"
	"github.com/mint-wallet/mint/internal/platform/localserver"
)

// stack is the local deployment a run breaks: a RabbitMQ node, a redis-server and a Mailpit of its
// own (never the machine's shared servers), mint db, auth, notifications, two replicas each of
// wallet and transactions, and nginx in front, every file under one directory.
type stack struct {
	dir    string
	rabbit *localserver.Rabbit
	redis  *localserver.Redis
	mail   *localserver.Mailpit

	procs    map[string]*proc // by name: db, auth, notifications, wallet-1, …, gateway
	gateway  string           // base URL of nginx
	dbURI    string
	services map[string][]string // base URLs of each service's replicas, for the checks
}

// serviceProcs are the mint serve processes of the stack, in start order: one process per name, the
// service before the dash.
var serviceProcs = []string{"auth", "notifications", "wallet-1", "wallet-2", "transactions-1", "transactions-2"}

// startStack starts everything under dir and returns once every part is ready.
func startStack(ctx context.Context, o Options, logf func(string, ...any)) (_ *stack, err error) {
	s := &stack{dir: o.Dir, procs: map[string]*proc{}, services: map[string][]string{}}
	defer func() {
		if err != nil {
			s.close(context.WithoutCancel(ctx))
		}
	}()
	for _, d := range []string{"logs", "db", "nginx/tmp", "rabbitmq", "redis", "mailpit"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("stack: %w", err)
		}
	}
	began := time.Now()
	if s.rabbit, err = localserver.StartRabbit(ctx, filepath.Join(s.dir, "rabbitmq")); err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	logf("RabbitMQ node %s on %s (booted in %v)", s.rabbit.Node(), s.rabbit.URL(), time.Since(began).Round(100*time.Millisecond))
	if s.redis, err = localserver.StartRedis(ctx, filepath.Join(s.dir, "redis")); err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if s.mail, err = localserver.StartMailpit(ctx, filepath.Join(s.dir, "mailpit")); err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	logf("Redis %s, Mailpit %s (SMTP %s)", s.redis.URL(), s.mail.APIURL(), s.mail.SMTPURL())

	keys := filepath.Join(s.dir, "auth-keys.json")
	if err := jwtsign.Generate(keys, false); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("stack: auth keys: %w", err)
	}
	ports, err := localserver.FreePorts(3 + len(serviceProcs))
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	addr := func(i int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i])) }
	dbAddr, dbHTTP, gateway := addr(0), addr(1), addr(2)
	s.dbURI = "mongodb://" + dbAddr + "/"
	s.gateway = "http://" + gateway

	db := s.add("db", []string{o.Bin, "db", "--data-dir", filepath.Join(s.dir, "db"), "--addr", dbAddr, "--http-addr", dbHTTP},
		"http://"+dbHTTP+"/ready", nil)
	if err := s.startAll(ctx, db); err != nil {
		return nil, err
	}
	logf("mint db on %s", dbAddr)

	authAddr := addr(3)
	common := []string{
		"MINT_MONGODB_URI=" + s.dbURI,
		"MINT_AMQP_URL=" + s.rabbit.URL(),
		"MINT_REDIS_URL=" + s.redis.URL(),
		"MINT_TRUSTED_PROXIES=127.0.0.1/32",
		"MINT_COOKIE_SECURE=false",
		"MINT_AUTH_KEYS_FILE=" + keys,
		"MINT_AUTH_JWKS_URL=http://" + authAddr + "/.well-known/jwks.json",
		"MINT_SMTP_URL=" + s.mail.SMTPURL(),
		"MINT_TRANSACTIONS_STUCK_AFTER=" + o.StuckAfter.String(),
		"MINT_LOG_LEVEL=info",
	}
	var services []*proc
	for i, name := range serviceProcs {
		svc, _, _ := strings.Cut(name, "-")
		a := addr(3 + i)
		if svc == "auth" {
			a = authAddr
		}
		env := append(append([]string{}, common...), "MINT_HTTP_ADDR="+a, "MINT_DATA_DIR="+filepath.Join(s.dir, "data", name))
		services = append(services, s.add(name, []string{o.Bin, "serve", svc}, "http://"+a+"/ready", env))
		s.services[svc] = append(s.services[svc], "http://"+a)
	}
	if err := s.startAll(ctx, services...); err != nil {
		return nil, err
	}
	logf("services: %s", s.describeServices())

	conf, err := s.writeGatewayConf(gateway)
	if err != nil {
		return nil, err
	}
	nginxBin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, fmt.Errorf("stack: nginx: %w", err)
	}
	gw := s.add("gateway", []string{nginxBin, "-p", filepath.Join(s.dir, "nginx") + "/", "-c", conf, "-g", "daemon off;"},
		s.gateway+"/health", nil)
	if err := s.startAll(ctx, gw); err != nil {
		return nil, err
	}
	logf("gateway (nginx) on %s; the stack started in %v", s.gateway, time.Since(began).Round(100*time.Millisecond))
	return s, nil
}

// add registers a process, which runs with the harness's environment and env.
func (s *stack) add(name string, args []string, ready string, env []string) *proc {
	env = append(os.Environ(), env...)
	p := &proc{name: name, args: args, env: env, log: filepath.Join(s.dir, "logs", name+".log"), ready: ready}
	s.procs[name] = p
	return p
}

// startAll starts ps together and waits until each is ready.
func (s *stack) startAll(ctx context.Context, ps ...*proc) error {
	for _, p := range ps {
		if err := p.start(); err != nil {
			return fmt.Errorf("stack: %w", err)
		}
	}
	for _, p := range ps {
		if err := p.awaitReady(ctx, readyWithin); err != nil {
			return fmt.Errorf("stack: %w", err)
		}
	}
	return nil
}

// readyWithin bounds a process's start: a loaded two-core machine starts a mint serve in a second
// or two, and one that waits for its database or broker longer is broken.
const readyWithin = 2 * time.Minute

func (s *stack) describeServices() string {
	parts := make([]string, 0, len(serviceProcs))
	for _, name := range serviceProcs {
		parts = append(parts, name+" "+strings.TrimPrefix(strings.TrimSuffix(s.procs[name].ready, "/ready"), "http://"))
	}
	return strings.Join(parts, ", ")
}

// writeGatewayConf writes nginx's configuration for the stack: deploy/nginx's http.conf and
// routes.conf (the rate limit, the routes, the JSON errors), and upstreams of the stack's replicas.
func (s *stack) writeGatewayConf(listen string) (string, error) {
	dir := filepath.Join(s.dir, "nginx")
	entries, err := fs.ReadDir(nginx.Files, ".")
	if err != nil {
		return "", fmt.Errorf("stack: gateway configuration: %w", err)
	}
	for _, e := range entries {
		raw, err := fs.ReadFile(nginx.Files, e.Name())
		if err != nil {
			return "", fmt.Errorf("stack: gateway configuration: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), raw, 0o600); err != nil {
			return "", fmt.Errorf("stack: gateway configuration: %w", err)
		}
	}
	upstream := func(svc string) string {
		var servers strings.Builder
		for _, u := range s.services[svc] {
			fmt.Fprintf(&servers, " server %s;", strings.TrimPrefix(u, "http://"))
		}
		return fmt.Sprintf("upstream mint_%s {%s keepalive 16; }\n", svc, servers.String())
	}
	conf := "# Written by mint chaos: the gateway of its stack, from deploy/nginx.\n" +
		"worker_processes 1;\npid nginx.pid;\nerror_log nginx-error.log warn;\nevents { worker_connections 4096; }\n" +
		"http {\n    include http.conf;\n" +
		"    " + upstream("auth") + "    " + upstream("notifications") + "    " + upstream("wallet") + "    " + upstream("transactions") +
		"    access_log nginx-access.log mint_json;\n" +
		"    client_body_temp_path tmp/body;\n    proxy_temp_path tmp/proxy;\n    fastcgi_temp_path tmp/fastcgi;\n" +
		"    uwsgi_temp_path tmp/uwsgi;\n    scgi_temp_path tmp/scgi;\n" +
		"    server {\n        listen " + listen + ";\n        include routes.conf;\n    }\n}\n"
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return "", fmt.Errorf("stack: gateway configuration: %w", err)
	}
	return path, nil
}

// restartProcess kills a process of the stack and starts it again after down, returning once it is
// ready.
func (s *stack) restartProcess(ctx context.Context, name string, down time.Duration) error {
	p := s.procs[name]
	p.kill()
	if err := sleep(ctx, down); err != nil {
		return err
	}
	if err := p.start(); err != nil {
		return err
	}
	return p.awaitReady(ctx, readyWithin)
}

// awaitReady waits until every process of the stack is ready: after a fault, the moment the system
// is whole again.
func (s *stack) awaitReady(ctx context.Context) error {
	for _, p := range s.procs {
		if err := p.awaitReady(ctx, readyWithin); err != nil {
			return err
		}
	}
	return nil
}

// outage stops Redis or Mailpit (target "redis" or "smtp") for d, then starts it again.
func (s *stack) outage(ctx context.Context, target string, d time.Duration) error {
	type server interface {
		Stop() error
		Start(context.Context) error
	}
	var srv server
	switch target {
	case "redis":
		srv = s.redis
	case "smtp":
		srv = s.mail
	default:
		return fmt.Errorf("no outage for %q", target)
	}
	if err := srv.Stop(); err != nil {
		return err
	}
	if err := sleep(ctx, d); err != nil {
		return err
	}
	return srv.Start(ctx)
}

// close stops every process, the gateway first and the database last, then the servers.
func (s *stack) close(ctx context.Context) {
	order := append([]string{"gateway"}, serviceProcs...)
	for _, name := range append(order, "db") {
		if p, ok := s.procs[name]; ok {
			p.stop(10 * time.Second)
		}
	}
	if s.mail != nil {
		_ = s.mail.Close()
	}
	if s.redis != nil {
		_ = s.redis.Close()
	}
	if s.rabbit != nil {
		_ = s.rabbit.Close(ctx)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
