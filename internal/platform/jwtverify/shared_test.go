package jwtverify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

// failingCache answers every read with an error that is not a miss.
type failingCache struct{ cache.Cache }

func (failingCache) Get(context.Context, string) ([]byte, error) {
	return nil, errors.New("connection refused")
}

func TestSharedRevocations(t *testing.T) {
	shared := cache.NewMemory()
	t.Cleanup(func() { _ = shared.Close() })
	jwks := jwksOf(t, ourKey())
	v, err := jwtverify.New(jwtverify.Config{Keys: jwtverify.LocalJWKS(func() []byte { return jwks }),
		Revocations: jwtverify.SharedRevocations{Cache: shared}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	tok := good(t)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("before logout: %v", err)
	}
	// The auth service's logout, as another process sees it through the shared cache.
	if err := shared.Set(t.Context(), jwtverify.RevokedTokenKey("jti-1"), []byte("1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), tok)
	wantKind(t, err, failure.Unauthenticated)

	broken, err := jwtverify.New(jwtverify.Config{Keys: jwtverify.LocalJWKS(func() []byte { return jwks }),
		Revocations: jwtverify.SharedRevocations{Cache: failingCache{}}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = broken.Verify(t.Context(), tok)
	wantKind(t, err, failure.Unavailable)
}
