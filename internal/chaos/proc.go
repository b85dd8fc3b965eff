package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// proc is one child process of the stack that the harness may kill and start again with the same
// command line, environment and addresses. Its output is appended to logs/<name>.log.
type proc struct {
	name  string
	args  []string
	env   []string
	log   string // file the output goes to
	ready string // URL that answers 200 once the process serves

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has ended
}

// start runs the process; it does not wait until it is ready (see awaitReady).
func (p *proc) start() error {
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	defer out.Close()                             // the child holds its own copy
	cmd := exec.Command(p.args[0], p.args[1:]...) //nolint:gosec,noctx // the stack's own programs; stopped by kill/stop, never by a context
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, out, out
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(p.exited)
	return nil
}

// running reports whether the process has been started and not yet exited.
func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits until it is gone.
func (p *proc) kill() {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop asks the process to shut down (SIGTERM) and kills it if it has not within grace.
func (p *proc) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.kill()
	}
}

// awaitReady waits until the process's ready URL answers 200, failing early if it exits.
func (p *proc) awaitReady(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if !p.running() {
			return fmt.Errorf("%s exited while starting; see %s", p.name, p.log)
		}
		if req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.ready, nil); err == nil {
			if res, err := client.Do(req); err == nil {
				_ = res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s not ready at %s after %v; see %s", p.name, p.ready, within, p.log)
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
