package localserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Mailpit is a Mailpit (https://mailpit.axllent.org) of its own: an SMTP server that keeps every mail
// it receives, listed by its HTTP API and web UI, on free loopback ports with its database in a
// directory. Its owner may stop it, so that SMTP connections are refused, and start it again with
// the mails it had.
type Mailpit struct {
	bin  string
	smtp string // host:port
	api  string // host:port
	dir  string
	log  string
	logf func(format string, args ...any)

	mu     sync.Mutex // serialises the changes of state below
	p      *proc      // nil while stopped
	closed bool
}

// mailpitBoot bounds the wait for a started Mailpit to answer; it takes a fraction of a second.
const mailpitBoot = 30 * time.Second

// StartMailpit starts Mailpit with its database and log in dir (created if missing; a database
// already there is kept) on two free loopback ports, and returns once both its SMTP server and its
// HTTP API answer. The program is looked up on PATH, then in Go's bin directory (where
// `go install github.com/axllent/mailpit@v1.33.1` puts it); without it the error wraps
// ErrNotInstalled. Mailpit is killed if this process ends without Close.
func StartMailpit(ctx context.Context, dir string, opts ...Option) (*Mailpit, error) {
	o := collect(opts)
	bin, err := mailpitBinary(ctx)
	if err != nil {
		return nil, err
	}
	if dir, err = makeDir(dir); err != nil {
		return nil, err
	}
	// Mailpit exits when a port it was given is taken by then: another pair is tried.
	const attempts = 5
	for attempt := 1; ; attempt++ {
		ports, err := FreePorts(2)
		if err != nil {
			return nil, err
		}
		m := &Mailpit{bin: bin, smtp: loopback(ports[0]), api: loopback(ports[1]), dir: dir,
			log: filepath.Join(dir, "mailpit.log"), logf: o.logf}
		err = m.start(ctx)
		if err == nil {
			return m, nil
		}
		if attempt == attempts || !errors.Is(err, errExited) {
			return nil, err
		}
		o.logf("%v; trying again on other ports", err)
	}
}

// SMTPURL is the URL of its SMTP server, smtp://host:port (no TLS, no authentication).
func (m *Mailpit) SMTPURL() string { return "smtp://" + m.smtp }

// SMTPAddr is its SMTP server's address, host:port.
func (m *Mailpit) SMTPAddr() string { return m.smtp }

// APIURL is the base URL of its HTTP API and web UI, http://host:port (the API under /api/v1).
func (m *Mailpit) APIURL() string { return "http://" + m.api }

// Stop ends Mailpit (SIGTERM, on which it closes its database; SIGKILL after 10 s) and waits for it
// to exit: SMTP connections are then refused. Stopping a stopped Mailpit does nothing; the error
// says that it had ended by itself before Stop.
func (m *Mailpit) Stop() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stop()
}

func (m *Mailpit) stop() error {
	if m.p == nil {
		return nil
	}
	p := m.p
	m.p = nil
	if p.gone(0) {
		return fmt.Errorf("stop: %w before Stop", p.exitError())
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.gone(10 * time.Second) {
		m.logf("mailpit on %s did not exit within 10 s of SIGTERM; killed it", m.smtp)
		p.kill()
	}
	return nil
}

// Start starts a stopped Mailpit again on the same ports and database, so the mails it received
// before are still listed, and returns once it answers. Starting a running Mailpit does nothing;
// one that ended by itself is started again.
func (m *Mailpit) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return fmt.Errorf("start mailpit on %s: closed", m.smtp)
	case m.p != nil && !m.p.gone(0):
		return nil
	}
	m.p = nil
	return m.start(ctx)
}

// Close stops Mailpit for good. It keeps the directory and the database in it, whose removal is the
// caller's choice.
func (m *Mailpit) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return m.stop()
}

func (m *Mailpit) start(ctx context.Context) error {
	out, err := os.OpenFile(m.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start mailpit: %w", err)
	}
	defer out.Close() // Mailpit writes to its own copy
	// Not bound to ctx: Mailpit runs until Stop or Close.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), m.bin, //nolint:gosec // mailpit found on PATH or in Go's bin
		"--smtp", m.smtp, "--listen", m.api,
		"--database", filepath.Join(m.dir, "mailpit.db"),
		"--max", "0", // keep every mail: the default prunes all but the latest 500
		"--disable-version-check", // no call to GitHub at each start
		"--smtp-disable-rdns")     // no DNS lookup of 127.0.0.1 for each mail
	cmd.Dir, cmd.Stdout, cmd.Stderr = m.dir, out, out
	cmd.Env = childEnv("MP_") // Mailpit would take its settings from MP_* variables
	cmd.SysProcAttr = diesWithOwner()
	p, err := startProc("mailpit", cmd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, mailpitBoot)
	defer cancel()
	if err := await(ctx, p, m.ready); err != nil {
		p.kill()
		return fmt.Errorf("mailpit on %s and %s: %w; log:\n%s", m.smtp, m.api, err, tail(m.log, 20))
	}
	m.p = p
	return nil
}

// ready reports whether both servers answer: Mailpit starts them side by side.
func (m *Mailpit) ready(ctx context.Context) error {
	if err := dial(ctx, m.smtp); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.APIURL()+"/api/v1/messages?limit=1", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /api/v1/messages: %s", res.Status)
	}
	return nil
}

// mailpitBinary finds mailpit on PATH, else where `go install` puts it ($(go env GOBIN), else the
// bin directory of $(go env GOPATH)), as deploy/stack/stack.sh does.
func mailpitBinary(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	var dirs []string
	if out, err := exec.CommandContext(ctx, "go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(string(out), "\n")
		if gobin := strings.TrimSpace(lines[0]); gobin != "" {
			dirs = append(dirs, gobin)
		}
		if len(lines) > 1 {
			if gopath := filepath.SplitList(strings.TrimSpace(lines[1])); len(gopath) > 0 && gopath[0] != "" {
				dirs = append(dirs, filepath.Join(gopath[0], "bin"))
			}
		}
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin")) // Go's default GOPATH
	}
	for _, d := range dirs {
		if isFile(d, "mailpit") {
			return filepath.Join(d, "mailpit"), nil
		}
	}
	return "", fmt.Errorf("mailpit is %w (go install github.com/axllent/mailpit@v1.33.1)", ErrNotInstalled)
}
