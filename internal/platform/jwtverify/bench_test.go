package jwtverify_test

import (
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

// BenchmarkVerify is the cost every authenticated request pays in the common case: a session token
// seen before, its key cached by a RemoteJWKS source.
func BenchmarkVerify(b *testing.B) {
	srv := newJWKSServer(b, jwksOf(b, ourKey()), nil)
	v := remoteVerifier(b, srv, newClock())
	tok := good(b)
	if _, err := v.Verify(b.Context(), tok); err != nil { // warm the caches
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		b.Fatalf("JWKS fetched %d times, want 1", n)
	}
}

// BenchmarkVerifyFirstSight is a token the verifier has not seen: the RSA signature check (plus
// parsing the local JWKS once, as each iteration uses a fresh verifier).
func BenchmarkVerifyFirstSight(b *testing.B) {
	jwks := jwksOf(b, ourKey())
	tok := good(b)
	b.ReportAllocs()
	for b.Loop() {
		v, err := jwtverify.New(jwtverify.Config{Keys: jwtverify.LocalJWKS(func() []byte { return jwks }),
			Revocations: jwtverify.NoRevocations{}, Now: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
}
