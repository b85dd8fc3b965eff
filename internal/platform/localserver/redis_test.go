package localserver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mint-wallet/mint/internal/platform/localserver"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestRedis: a redis-server of its own stops (connections refused), starts again empty on the same
// port, and pauses and resumes.
func TestRedis(t *testing.T) {
	testenv.Integration(t)
	srv, err := localserver.StartRedis(t.Context(), t.TempDir(), localserver.WithLogf(t.Logf))
	mustStart(t, err)
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	opts, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries = -1              // each command once: the test asserts what one attempt meets
	opts.ContextTimeoutEnabled = true // and gives up when its context says
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	ctx := t.Context()
	if err := client.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}

	t.Run("StopStart", func(t *testing.T) {
		if err := srv.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		refused(t, srv.Addr(), "after Stop")
		if err := srv.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		if err := client.Ping(ctx).Err(); err != nil {
			t.Fatalf("PING after Start: %v", err)
		}
		if err := client.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("GET k after Start = %v, want nil: the server keeps nothing across a stop", err)
		}
	})

	t.Run("PauseResume", func(t *testing.T) {
		if err := srv.Pause(); err != nil {
			t.Fatalf("Pause: %v", err)
		}
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := client.Ping(pctx).Err()
		cancel()
		if err == nil {
			t.Fatal("a paused server answered PING")
		}
		if err := srv.Resume(ctx); err != nil {
			t.Fatalf("Resume: %v", err)
		}
		if err := client.Ping(ctx).Err(); err != nil {
			t.Fatalf("PING after Resume: %v", err)
		}
	})

	t.Run("Close", func(t *testing.T) {
		if err := srv.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		refused(t, srv.Addr(), "after Close")
		if err := srv.Start(ctx); err == nil {
			t.Error("Start after Close succeeded")
		}
	})
}
