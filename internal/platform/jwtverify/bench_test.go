package jwtverify_test

import (
	"testing"
)

// BenchmarkVerify measures verifying a valid token whose key is cached by a
// RemoteJWKS source: the cost every authenticated request pays.
func BenchmarkVerify(b *testing.B) {
	srv := newJWKSServer(b, jwksOf(b, ourKey()), nil)
	v := remoteVerifier(b, srv, newClock())
	tok := good(b)
	if _, err := v.Verify(b.Context(), tok); err != nil { // warm the cache
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
