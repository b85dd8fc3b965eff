// Package e2e drives the built mint binary over HTTP, as a user would: `mint dev` and `mint serve`.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mintBin is the binary under test, built once by TestMain.
var mintBin string

func TestMain(m *testing.M) {
	// A copy of this binary started by TestAtomicWritesAcrossProcesses runs one share of its workload.
	if os.Getenv(raceChildEnv) != "" {
		os.Exit(runRaceChild())
	}
	flag.Parse()
	if testing.Short() {
		fmt.Fprintln(os.Stderr, "e2e: every test here runs the built binary against servers; none runs under -short")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "mint-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mintBin = filepath.Join(dir, "mint")
	began := time.Now()
	build := exec.Command("go", "build", "-o", mintBin, "../../cmd/mint")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build mint:", err)
		os.Exit(1)
	}
	// Progress for `go test -v` (make test): the build alone can take a minute on a loaded machine.
	fmt.Fprintf(os.Stderr, "e2e: built mint in %v\n", time.Since(began).Round(time.Second))
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// tempDir is a data dir without the '#' that t.TempDir puts in subtest paths (the embedded database's
// URL cannot hold it).
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mint-e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// process is a running mint command.
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer
	done chan error
}

// start runs mint with args and env, waits until base/health answers, and stops it with the test.
func start(t *testing.T, base string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(mintBin, args...)
	cmd.Env = append(os.Environ(), env...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, cmd: cmd, base: base, logs: &logs.buf, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.stop(syscall.SIGKILL)
		if t.Failed() {
			t.Logf("mint %s output:\n%s", strings.Join(args, " "), logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("mint %v exited early: %v\n%s", args, err, logs.String())
		default:
		}
		if res, err := http.Get(base + "/health"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("mint %v did not answer /health in 60 s\n%s", args, logs.String())
	return nil
}

// stop sends sig and waits for the process to exit, returning its exit error.
func (p *process) stop(sig os.Signal) error {
	if p.cmd.ProcessState != nil {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("did not exit within 20 s of %v", sig)
	}
}

type syncBuffer struct {
	mu  chanMutex
	buf bytes.Buffer
}

type chanMutex chan struct{}

func (b *syncBuffer) lock() {
	if b.mu == nil {
		b.mu = make(chanMutex, 1)
	}
	b.mu <- struct{}{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.String()
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) field(t *testing.T, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	s, _ := m[name].(string)
	return s
}

// call sends a JSON request to base; token, when set, goes as a Bearer token.
func call(t *testing.T, method, url string, body any, token string) result {
	t.Helper()
	res, err := tryCall(method, url, body, token)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return res
}

// tryCall is call for a server that may be down: it returns the transport error. headers are
// name, value pairs.
func tryCall(method, url string, body any, token string, headers ...string) (result, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return result{}, err
		}
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return result{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return result{}, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return result{status: res.StatusCode, header: res.Header, body: raw}, nil
}

func must(t *testing.T, r result, status int, what string) result {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	return r
}

func signup(t *testing.T, base, email, pw string) result {
	t.Helper()
	return call(t, "POST", base+"/api/v1/auth/signup", map[string]string{
		"firstName": "Test", "lastName": "User", "email": email, "password": pw}, "")
}

func login(t *testing.T, base, email, pw string) result {
	t.Helper()
	return call(t, "POST", base+"/api/v1/auth/login", map[string]string{"email": email, "password": pw}, "")
}
