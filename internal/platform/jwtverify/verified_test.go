package jwtverify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

// mutableRevocations is a denylist a test can extend while the verifier runs.
type mutableRevocations struct {
	mu      sync.Mutex
	revoked map[string]bool
}

func (r *mutableRevocations) IsRevoked(_ context.Context, jti string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.revoked[jti], nil
}

// TestVerifiedTokenIsStillChecked: remembering a proven signature must not let a token outlive its
// expiry, its revocation or the withdrawal of its key.
func TestVerifiedTokenIsStillChecked(t *testing.T) {
	clk := newClock()
	keys := jwksOf(t, ourKey())
	var mu sync.Mutex
	src := jwtverify.LocalJWKS(func() []byte { mu.Lock(); defer mu.Unlock(); return keys })
	rev := &mutableRevocations{revoked: map[string]bool{}}
	v, err := jwtverify.New(jwtverify.Config{Keys: src, Revocations: rev, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	tok := good(t)
	for range 2 { // the second call is answered from the cache
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}

	t.Run("expiry", func(t *testing.T) {
		clk.advance(time.Hour + 2*time.Minute) // past exp and the leeway
		defer clk.set(now)
		_, err := v.Verify(t.Context(), tok)
		wantKind(t, err, failure.Unauthenticated)
	})
	t.Run("revocation", func(t *testing.T) {
		rev.mu.Lock()
		rev.revoked["jti-1"] = true
		rev.mu.Unlock()
		defer func() { rev.mu.Lock(); delete(rev.revoked, "jti-1"); rev.mu.Unlock() }()
		_, err := v.Verify(t.Context(), tok)
		wantKind(t, err, failure.Unauthenticated)
	})
	t.Run("key withdrawn", func(t *testing.T) {
		mu.Lock()
		keys = jwksOf(t, newKey())
		mu.Unlock()
		_, err := v.Verify(t.Context(), tok)
		wantKind(t, err, failure.Unauthenticated)
	})
}
