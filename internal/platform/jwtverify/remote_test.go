package jwtverify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

// clock is a settable time source shared by the verifier and the source.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock() *clock                   { c := &clock{}; c.set(now); return c }
func (c *clock) now() time.Time          { return *c.t.Load() }
func (c *clock) set(t time.Time)         { c.t.Store(&t) }
func (c *clock) advance(d time.Duration) { c.set(c.now().Add(d)) }

// jwksServer serves a JWKS it can change, fail or hold, and counts fetches.
type jwksServer struct {
	*httptest.Server
	jwks    atomic.Pointer[[]byte]
	status  atomic.Int32 // 0 = 200
	fetches atomic.Int32
	hold    chan struct{} // when non-nil, responses wait for it to close
}

func newJWKSServer(t testing.TB, jwks []byte, hold chan struct{}) *jwksServer {
	s := &jwksServer{hold: hold}
	s.setJWKS(jwks)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if s.hold != nil {
			<-s.hold
		}
		if st := s.status.Load(); st != 0 {
			http.Error(w, "down", int(st))
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(*s.jwks.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setJWKS(b []byte) { s.jwks.Store(&b) }

// remoteVerifier verifies against srv with the default refresh policy on clk.
func remoteVerifier(t testing.TB, srv *jwksServer, clk *clock) *jwtverify.Verifier {
	t.Helper()
	src := jwtverify.RemoteJWKS(srv.URL, srv.Client(), jwtverify.RemoteOptions{Now: clk.now})
	v, err := jwtverify.New(jwtverify.Config{Keys: src, Revocations: jwtverify.NoRevocations{}, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantFetches(t *testing.T, srv *jwksServer, n int32) {
	t.Helper()
	if got := srv.fetches.Load(); got != n {
		t.Fatalf("JWKS fetched %d times, want %d", got, n)
	}
}

func wantKind(t *testing.T, err error, kind failure.Kind) {
	t.Helper()
	if !failure.Is(err, kind) {
		t.Fatalf("err = %v, want kind %s", err, kind)
	}
}

func TestRemoteFetchesLazilyAndCaches(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, ourKey()), nil)
	clk := newClock()
	v := remoteVerifier(t, srv, clk)
	wantFetches(t, srv, 0)
	for range 5 {
		if _, err := v.Verify(t.Context(), good(t)); err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Minute) // still within the 5-minute max age in total
	}
	wantFetches(t, srv, 1)
}

func TestRemoteUnknownKidRefetchesOnceRateLimited(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, ourKey()), nil)
	clk := newClock()
	v := remoteVerifier(t, srv, clk)
	unknown := sign(t, attackerKey(), kidOf(t, attackerKey()), validClaims())

	if _, err := v.Verify(t.Context(), good(t)); err != nil {
		t.Fatal(err)
	}
	wantFetches(t, srv, 1)

	// Within 10 s of the last fetch, unknown kids cause no fetch.
	clk.advance(time.Second)
	for range 3 {
		_, err := v.Verify(t.Context(), unknown)
		wantKind(t, err, failure.Unauthenticated)
	}
	wantFetches(t, srv, 1)

	// After it, a burst of unknown kids causes exactly one.
	clk.advance(10 * time.Second)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), unknown); !failure.Is(err, failure.Unauthenticated) {
				t.Errorf("Verify(unknown kid) = %v, want Unauthenticated", err)
			}
		})
	}
	wg.Wait()
	wantFetches(t, srv, 2)

	// A real new key is picked up by the next allowed refetch.
	srv.setJWKS(jwksOf(t, newKey(), ourKey()))
	rotated := sign(t, newKey(), kidOf(t, newKey()), validClaims())
	_, err := v.Verify(t.Context(), rotated)
	wantKind(t, err, failure.Unauthenticated) // still rate-limited
	wantFetches(t, srv, 2)
	clk.advance(11 * time.Second)
	if _, err := v.Verify(t.Context(), rotated); err != nil {
		t.Fatalf("Verify(new kid) after the refetch: %v", err)
	}
	wantFetches(t, srv, 3)
	if _, err := v.Verify(t.Context(), good(t)); err != nil {
		t.Fatalf("Verify(old kid) after the refetch: %v", err)
	}
	wantFetches(t, srv, 3)
}

func TestRemoteSingleFlightOnColdCache(t *testing.T) {
	hold := make(chan struct{})
	srv := newJWKSServer(t, jwksOf(t, ourKey()), hold)
	v := remoteVerifier(t, srv, newClock())
	tok := good(t)

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
	for srv.fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the other callers pile up behind the fetch
	close(hold)
	wg.Wait()
	wantFetches(t, srv, 1)
}

func TestRemoteMaxAge(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, ourKey()), nil)
	clk := newClock()
	v := remoteVerifier(t, srv, clk)
	if _, err := v.Verify(t.Context(), good(t)); err != nil {
		t.Fatal(err)
	}
	// The key is withdrawn (e.g. compromised): after max age it is no longer trusted.
	srv.setJWKS(jwksOf(t, newKey()))
	clk.advance(jwtverify.DefaultMaxAge - time.Second)
	if _, err := v.Verify(t.Context(), good(t)); err != nil {
		t.Fatalf("Verify within max age: %v", err)
	}
	wantFetches(t, srv, 1)
	clk.advance(2 * time.Second)
	_, err := v.Verify(t.Context(), good(t))
	wantKind(t, err, failure.Unauthenticated)
	wantFetches(t, srv, 2)
}

func TestRemoteOutage(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, ourKey()), nil)
	srv.status.Store(http.StatusServiceUnavailable)
	clk := newClock()
	v := remoteVerifier(t, srv, clk)

	// Nothing fetched yet and the fetch fails: we cannot tell, so 503.
	_, err := v.Verify(t.Context(), good(t))
	wantKind(t, err, failure.Unavailable)
	_, err = v.Verify(t.Context(), good(t))
	wantKind(t, err, failure.Unavailable)
	wantFetches(t, srv, 1) // failed fetches are rate-limited too

	srv.status.Store(0)
	clk.advance(11 * time.Second)
	if _, err := v.Verify(t.Context(), good(t)); err != nil {
		t.Fatalf("Verify after recovery: %v", err)
	}
	wantFetches(t, srv, 2)

	// The auth service goes down again; past max age the last good set still serves.
	srv.status.Store(http.StatusBadGateway)
	clk.advance(jwtverify.DefaultMaxAge + time.Second)
	if _, err := v.Verify(t.Context(), good(t)); err != nil {
		t.Fatalf("Verify with a stale set during an outage: %v", err)
	}
	if _, err := v.Verify(t.Context(), good(t)); err != nil {
		t.Fatalf("Verify with a stale set during an outage: %v", err)
	}
	wantFetches(t, srv, 3)
	// A kid we never saw may be genuine: 503, not 401.
	clk.advance(11 * time.Second)
	_, err = v.Verify(t.Context(), sign(t, newKey(), kidOf(t, newKey()), validClaims()))
	wantKind(t, err, failure.Unavailable)
}

func TestRemoteWaiterCancelDoesNotAbortFetch(t *testing.T) {
	hold := make(chan struct{})
	srv := newJWKSServer(t, jwksOf(t, ourKey()), hold)
	v := remoteVerifier(t, srv, newClock())

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, good(t)); done <- err }()
	for srv.fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wantKind(t, <-done, failure.Unavailable)
	close(hold)
	// The fetch completes for the next caller; give it a moment to land.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Verify(t.Context(), good(t))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Verify after the fetch landed: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	wantFetches(t, srv, 1)
}
