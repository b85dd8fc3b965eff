package testenv

import (
	"errors"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/localserver"
)

// Redis is a redis-server of a test's own (a localserver.Redis, whose methods it has), for tests
// that pause or kill their cache: the machine's shared Redis must never stop under the other tests.
// Pause, Resume and Kill fail the test where the server's own methods return an error.
type Redis struct {
	*localserver.Redis
}

// OwnRedis starts a redis-server for t and kills it when t ends. Without redis-server installed it
// skips t, or fails it when CI=true.
func OwnRedis(t testing.TB) *Redis {
	t.Helper()
	Integration(t)
	srv, err := localserver.StartRedis(t.Context(), t.TempDir(), localserver.WithLogf(t.Logf))
	switch {
	case errors.Is(err, localserver.ErrNotInstalled) && CI():
		t.Fatalf("%v and CI=true", err)
	case errors.Is(err, localserver.ErrNotInstalled):
		t.Skipf("%v (a private Redis is needed to pause it)", err)
	case err != nil:
		t.Fatalf("own redis-server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &Redis{srv}
}

// Pause stops the server with SIGSTOP, as a stalled or frozen Redis: connections stay open and the
// kernel still accepts new ones and buffers what clients send, but nothing is answered.
func (r *Redis) Pause(t testing.TB) {
	t.Helper()
	if err := r.Redis.Pause(); err != nil {
		t.Fatal(err)
	}
}

// Resume continues a paused server with SIGCONT and returns once it answers a PING.
func (r *Redis) Resume(t testing.TB) {
	t.Helper()
	if err := r.Redis.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// Kill ends the server with SIGKILL and waits for it to exit; its data is gone.
func (r *Redis) Kill(t testing.TB) {
	t.Helper()
	if err := r.Stop(); err != nil {
		t.Logf("kill own redis-server: %v", err) // gone all the same, as the test wants
	}
}
