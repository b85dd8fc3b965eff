package jwtsign_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/jwtsign"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

func newIssuer(t *testing.T, cfg jwtsign.Config) (*jwtsign.KeySet, *jwtsign.Issuer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	ks, err := jwtsign.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := jwtsign.NewIssuer(ks, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ks, iss, path
}

// header decodes the JOSE header of a compact token.
func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestIssue(t *testing.T) {
	ks, iss, _ := newIssuer(t, jwtsign.Config{})
	at := now.Add(123 * time.Millisecond) // sub-second part is dropped
	tok, c, err := iss.Issue("user-1", at)
	if err != nil {
		t.Fatal(err)
	}
	if h := header(t, tok); h["alg"] != "RS256" || h["kid"] != ks.SigningKid() || h["typ"] != "JWT" {
		t.Errorf("header = %v", h)
	}
	want := jwtsign.Claims{
		Issuer: "mint-auth", Subject: "user-1", Audience: []string{"mint"},
		IssuedAt: now, NotBefore: now, Expiry: now.Add(7 * 24 * time.Hour), ID: c.ID,
	}
	if !equalClaims(c, want) {
		t.Errorf("claims = %+v, want %+v", c, want)
	}
	if len(c.ID) != 22 { // 128 bits, base64url
		t.Errorf("jti %q is not 128 random bits", c.ID)
	}
	if iss.Lifetime() != jwtsign.DefaultLifetime {
		t.Errorf("Lifetime = %v", iss.Lifetime())
	}

	v := localVerifier(t, ks, now)
	got, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !equalClaims(got, c) {
		t.Errorf("verified claims %+v, issued %+v", got, c)
	}

	_, c2, err := iss.Issue("user-1", at)
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID == c.ID {
		t.Error("two tokens share a jti")
	}
	if _, _, err := iss.Issue("", at); err == nil {
		t.Error("Issue with an empty subject succeeded")
	}
}

func TestIssueConfig(t *testing.T) {
	ks, iss, _ := newIssuer(t, jwtsign.Config{Issuer: "other-auth", Audience: "other", Lifetime: time.Hour})
	tok, c, err := iss.Issue("user-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "other-auth" || c.Audience[0] != "other" || !c.Expiry.Equal(now.Add(time.Hour)) {
		t.Errorf("claims = %+v", c)
	}
	// The default verifier expects Mint's issuer and audience.
	if _, err := localVerifier(t, ks, now).Verify(t.Context(), tok); !failure.Is(err, failure.Unauthenticated) {
		t.Errorf("default verifier: %v, want Unauthenticated", err)
	}
	// An expired token says so.
	ks2, iss2, _ := newIssuer(t, jwtsign.Config{})
	old, _, _ := iss2.Issue("user-1", now.Add(-jwtsign.DefaultLifetime-time.Hour))
	_, err = localVerifier(t, ks2, now).Verify(t.Context(), old)
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Kind != failure.Unauthenticated || fe.Detail != "token expired" {
		t.Errorf("Verify(expired) = %v", err)
	}
	if _, err := jwtsign.NewIssuer(ks, jwtsign.Config{Lifetime: -time.Second}); err == nil {
		t.Error("NewIssuer accepted a negative lifetime")
	}
}

// TestRotationKeepsOldTokensValid is the rotation story end to end: the auth
// service serves its JWKS over HTTP, another service verifies through
// RemoteJWKS, and `mint keys rotate` runs in between.
func TestRotationKeepsOldTokensValid(t *testing.T) {
	ks, iss, path := newIssuer(t, jwtsign.Config{})
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if _, err := ks.ReloadIfChanged(); err != nil {
			t.Errorf("reload: %v", err)
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(ks.JWKS())
	}))
	t.Cleanup(srv.Close)

	var clk atomic.Pointer[time.Time]
	setNow := func(t time.Time) { clk.Store(&t) }
	clock := func() time.Time { return *clk.Load() }
	setNow(now)
	v, err := jwtverify.New(jwtverify.Config{
		Keys:        jwtverify.RemoteJWKS(srv.URL, srv.Client(), jwtverify.RemoteOptions{Now: clock}),
		Revocations: jwtverify.NoRevocations{},
		Now:         clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(tok string) error { _, err := v.Verify(t.Context(), tok); return err }

	oldKid := ks.SigningKid()
	before, _, err := iss.Issue("user-1", clock())
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(before); err != nil {
		t.Fatalf("Verify before rotation: %v", err)
	}

	newKid, err := jwtsign.Rotate(path, clock(), iss.Lifetime())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.ReloadIfChanged(); err != nil { // what the auth service does every few seconds
		t.Fatal(err)
	}
	after, _, err := iss.Issue("user-1", clock())
	if err != nil {
		t.Fatal(err)
	}
	if kid := header(t, after)["kid"]; kid != newKid || kid == oldKid {
		t.Fatalf("new token kid = %v, want the new key %s", kid, newKid)
	}

	setNow(now.Add(11 * time.Second)) // past the verifier's refresh rate limit
	if err := verify(after); err != nil {
		t.Fatalf("Verify of a token from the new key: %v", err)
	}
	if err := verify(before); err != nil {
		t.Fatalf("Verify of a token from before the rotation: %v", err)
	}
	if got := fetches.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (first use, then the unknown kid)", got)
	}

	// A lifetime (plus grace) later the old key goes; so have its tokens.
	later := now.Add(iss.Lifetime() + jwtsign.RetirementGrace + time.Minute)
	setNow(later)
	if _, err := jwtsign.Rotate(path, later, iss.Lifetime()); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.ReloadIfChanged(); err != nil {
		t.Fatal(err)
	}
	for _, kid := range ks.Kids() {
		if kid == oldKid {
			t.Fatalf("old key %s still in %v", oldKid, ks.Kids())
		}
	}
	if err := verify(before); !failure.Is(err, failure.Unauthenticated) {
		t.Errorf("Verify of a token of a dropped key = %v, want Unauthenticated", err)
	}
}

func TestIssueDuringReloads(t *testing.T) {
	ks, iss, path := newIssuer(t, jwtsign.Config{})
	v := localVerifier(t, ks, now)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				tok, _, err := iss.Issue("user-1", now)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := v.Verify(context.Background(), tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	rotate(t, path, now, time.Hour)
	if _, err := ks.ReloadIfChanged(); err != nil {
		t.Error(err)
	}
	wg.Wait()
}

func localVerifier(t *testing.T, ks *jwtsign.KeySet, at time.Time) *jwtverify.Verifier {
	t.Helper()
	v, err := jwtverify.New(jwtverify.Config{
		Keys:        jwtverify.LocalJWKS(ks.JWKS),
		Revocations: jwtverify.NoRevocations{},
		Now:         func() time.Time { return at },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func equalClaims(a, b jwtsign.Claims) bool {
	return a.Issuer == b.Issuer && a.Subject == b.Subject && a.ID == b.ID &&
		strings.Join(a.Audience, ",") == strings.Join(b.Audience, ",") &&
		a.IssuedAt.Equal(b.IssuedAt) && a.NotBefore.Equal(b.NotBefore) && a.Expiry.Equal(b.Expiry)
}
