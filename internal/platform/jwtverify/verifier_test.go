package jwtverify_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	_ "crypto/sha512" // RS512 below needs SHA-512 registered
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

// revocations is a denylist in memory; err, when set, is what every lookup returns.
type revocations struct {
	revoked map[string]bool
	err     error
}

func (r revocations) IsRevoked(_ context.Context, jti string) (bool, error) {
	return r.revoked[jti], r.err
}

func newVerifier(t testing.TB, src jwtverify.KeySource, rev jwtverify.Revocations) *jwtverify.Verifier {
	t.Helper()
	if rev == nil {
		rev = revocations{revoked: map[string]bool{"revoked-jti": true}}
	}
	v, err := jwtverify.New(jwtverify.Config{Keys: src, Revocations: rev, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func localVerifier(t testing.TB) *jwtverify.Verifier {
	jwks := jwksOf(t, ourKey())
	return newVerifier(t, jwtverify.LocalJWKS(func() []byte { return jwks }), nil)
}

func TestVerifyAccepts(t *testing.T) {
	v := localVerifier(t)
	tests := []struct {
		name   string
		claims map[string]any
	}{
		{"fresh token", validClaims()},
		{"aud as array containing ours", with(func(c map[string]any) { c["aud"] = []string{"other", "mint"} })},
		{"no nbf", with(func(c map[string]any) { delete(c, "nbf") })},
		{"expired within leeway", with(func(c map[string]any) { c["exp"] = now.Add(-59 * time.Second).Unix() })},
		{"nbf within leeway", with(func(c map[string]any) { c["nbf"] = now.Add(59 * time.Second).Unix() })},
		{"iat within leeway", with(func(c map[string]any) { c["iat"] = now.Add(59 * time.Second).Unix() })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := v.Verify(t.Context(), sign(t, ourKey(), kidOf(t, ourKey()), tt.claims))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if claims.Subject != "user-1" || claims.ID != "jti-1" || claims.Issuer != "mint-auth" {
				t.Errorf("claims = %+v", claims)
			}
			if !claims.Expiry.Equal(time.Unix(tt.claims["exp"].(int64), 0)) {
				t.Errorf("Expiry = %v", claims.Expiry)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	ours, kid := ourKey(), kidOf(t, ourKey())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&ours.PublicKey))})
	hs256 := func(secret []byte) func([]byte) []byte {
		return func(input []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(input)
			return m.Sum(nil)
		}
	}
	rsWith := func(h crypto.Hash, pss bool) func([]byte) []byte {
		return func(input []byte) []byte {
			hh := h.New()
			hh.Write(input)
			if pss {
				return must(rsa.SignPSS(rand.Reader, ours, h, hh.Sum(nil), nil))
			}
			return must(rsa.SignPKCS1v15(rand.Reader, ours, h, hh.Sum(nil)))
		}
	}
	none := func([]byte) []byte { return nil }
	hdr := func(alg string) map[string]any { return map[string]any{"alg": alg, "typ": "JWT", "kid": kid} }

	tampered := func() string {
		parts := strings.Split(good(t), ".")
		parts[1] = b64(mustJSON(t, with(func(c map[string]any) { c["sub"] = "user-2" })))
		return strings.Join(parts, ".")
	}()
	embeddedJWK := compact(t, map[string]any{
		"alg": "RS256", "kid": kid,
		"jwk": jose.JSONWebKey{Key: &attackerKey().PublicKey, KeyID: kid},
	}, validClaims(), rs256(t, attackerKey()))

	tests := []struct {
		name   string
		token  string
		detail string
	}{
		{"empty", "", "missing token"},
		{"garbage", "not-a-jwt", "invalid token"},
		{"two parts", "a.b", "invalid token"},
		{"alg none, no signature", compact(t, hdr("none"), validClaims(), none), "invalid token"},
		{"alg none, signed with our key", compact(t, hdr("none"), validClaims(), rs256(t, ours)), "invalid token"},
		{"alg NONE", compact(t, hdr("NONE"), validClaims(), none), "invalid token"},
		{"HS256 keyed with our public key PEM", compact(t, hdr("HS256"), validClaims(), hs256(pubPEM)), "invalid token"},
		{"HS256 keyed with our public key DER", compact(t, hdr("HS256"), validClaims(), hs256(must(x509.MarshalPKIXPublicKey(&ours.PublicKey)))), "invalid token"},
		{"HS256 keyed with our JWKS", compact(t, hdr("HS256"), validClaims(), hs256(jwksOf(t, ours))), "invalid token"},
		{"RS512 by our key (not allowlisted)", compact(t, hdr("RS512"), validClaims(), rsWith(crypto.SHA512, false)), "invalid token"},
		{"PS256 by our key (not allowlisted)", compact(t, hdr("PS256"), validClaims(), rsWith(crypto.SHA256, true)), "invalid token"},
		{"attacker's key with our kid", sign(t, attackerKey(), kid, validClaims()), "invalid token"},
		{"attacker's key embedded as jwk header", embeddedJWK, "invalid token"},
		{"unknown kid", sign(t, attackerKey(), kidOf(t, attackerKey()), validClaims()), "invalid token"},
		{"no kid", compact(t, map[string]any{"alg": "RS256"}, validClaims(), rs256(t, ours)), "invalid token"},
		{"tampered payload", tampered, "invalid token"},
		{"signature stripped", strings.Join(strings.Split(good(t), ".")[:2], ".") + ".", "invalid token"},
		{"expired", sign(t, ours, kid, with(func(c map[string]any) { c["exp"] = now.Add(-61 * time.Second).Unix() })), "token expired"},
		{"not yet valid", sign(t, ours, kid, with(func(c map[string]any) { c["nbf"] = now.Add(2 * time.Minute).Unix() })), "invalid token"},
		{"issued in the future", sign(t, ours, kid, with(func(c map[string]any) { c["iat"] = now.Add(2 * time.Minute).Unix() })), "invalid token"},
		{"wrong audience", sign(t, ours, kid, with(func(c map[string]any) { c["aud"] = "other" })), "invalid token"},
		{"no audience", sign(t, ours, kid, with(func(c map[string]any) { delete(c, "aud") })), "invalid token"},
		{"wrong issuer", sign(t, ours, kid, with(func(c map[string]any) { c["iss"] = "evil" })), "invalid token"},
		{"no issuer", sign(t, ours, kid, with(func(c map[string]any) { delete(c, "iss") })), "invalid token"},
		{"no jti", sign(t, ours, kid, with(func(c map[string]any) { delete(c, "jti") })), "invalid token"},
		{"empty jti", sign(t, ours, kid, with(func(c map[string]any) { c["jti"] = "" })), "invalid token"},
		{"no sub", sign(t, ours, kid, with(func(c map[string]any) { delete(c, "sub") })), "invalid token"},
		{"no exp", sign(t, ours, kid, with(func(c map[string]any) { delete(c, "exp") })), "invalid token"},
		{"no iat", sign(t, ours, kid, with(func(c map[string]any) { delete(c, "iat") })), "invalid token"},
		{"sub of the wrong type", sign(t, ours, kid, with(func(c map[string]any) { c["sub"] = 42 })), "invalid token"},
		{"revoked", sign(t, ours, kid, with(func(c map[string]any) { c["jti"] = "revoked-jti" })), "invalid token"},
		{"JWS JSON serialization", `{"payload":"` + strings.Split(good(t), ".")[1] + `","protected":"` + strings.Split(good(t), ".")[0] + `","signature":"` + strings.Split(good(t), ".")[2] + `"}`, "invalid token"},
		{"oversized", good(t) + strings.Repeat("A", 9000), "invalid token"},
	}
	v := localVerifier(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := v.Verify(t.Context(), tt.token)
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Kind != failure.Unauthenticated {
				t.Fatalf("Verify = %+v, %v; want an Unauthenticated *failure.Error", claims, err)
			}
			t.Log(err) // the cause, for a reader checking why it was rejected
			if fe.Detail != tt.detail {
				t.Errorf("Detail = %q, want %q", fe.Detail, tt.detail)
			}
			if claims.Subject != "" || claims.ID != "" || claims.Audience != nil {
				t.Errorf("claims = %+v on error, want zero", claims)
			}
		})
	}
}

func TestVerifyRevocationErrorFailsClosed(t *testing.T) {
	jwks := jwksOf(t, ourKey())
	v := newVerifier(t, jwtverify.LocalJWKS(func() []byte { return jwks }), revocations{err: errors.New("redis down")})
	_, err := v.Verify(t.Context(), good(t))
	if !failure.Is(err, failure.Unavailable) {
		t.Fatalf("Verify = %v, want Unavailable", err)
	}
	// A forged token is rejected before the denylist is consulted.
	_, err = v.Verify(t.Context(), sign(t, attackerKey(), kidOf(t, ourKey()), validClaims()))
	if !failure.Is(err, failure.Unauthenticated) {
		t.Fatalf("Verify(forged) = %v, want Unauthenticated", err)
	}
}

func TestVerifyUnusableKeySourceIsUnavailable(t *testing.T) {
	v := newVerifier(t, jwtverify.LocalJWKS(func() []byte { return []byte(`{"keys":[]}`) }), nil)
	if _, err := v.Verify(t.Context(), good(t)); !failure.Is(err, failure.Unavailable) {
		t.Fatalf("Verify = %v, want Unavailable", err)
	}
}

func TestLocalJWKSSeesNewKeys(t *testing.T) {
	jwks := jwksOf(t, ourKey())
	v := newVerifier(t, jwtverify.LocalJWKS(func() []byte { return jwks }), nil)
	tok := sign(t, newKey(), kidOf(t, newKey()), validClaims())
	if _, err := v.Verify(t.Context(), tok); !failure.Is(err, failure.Unauthenticated) {
		t.Fatalf("Verify before the key is published = %v, want Unauthenticated", err)
	}
	jwks = jwksOf(t, newKey(), ourKey())
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("Verify after the key is published: %v", err)
	}
}

func TestParseJWKSSkipsUnusableKeys(t *testing.T) {
	ours := jwksOf(t, ourKey())
	weak := must(rsa.GenerateKey(rand.Reader, 1024)) //nolint:gosec // the point is a weak key
	mixed := `{"keys":[` +
		`{"kty":"oct","kid":"` + kidOf(t, attackerKey()) + `","k":"c2VjcmV0"},` +
		`{"kty":"OKP","crv":"X448","x":"AAAA","kid":"x"},` +
		string(mustJSON(t, jose.JSONWebKey{Key: &weak.PublicKey, KeyID: "weak"})) + `,` +
		string(mustJSON(t, jose.JSONWebKey{Key: &newKey().PublicKey, KeyID: kidOf(t, newKey()), Use: "enc"})) + `,` +
		strings.TrimSuffix(strings.TrimPrefix(string(ours), `{"keys":[`), `]}`) + `]}`
	v := newVerifier(t, jwtverify.LocalJWKS(func() []byte { return []byte(mixed) }), nil)
	if _, err := v.Verify(t.Context(), good(t)); err != nil {
		t.Fatalf("Verify with the good key among bad ones: %v", err)
	}
	for _, tc := range []struct {
		name string
		key  *rsa.PrivateKey
		kid  string
	}{
		{"weak key", weak, "weak"},
		{"enc key", newKey(), kidOf(t, newKey())},
	} {
		if _, err := v.Verify(t.Context(), sign(t, tc.key, tc.kid, validClaims())); !failure.Is(err, failure.Unauthenticated) {
			t.Errorf("%s: Verify = %v, want Unauthenticated", tc.name, err)
		}
	}
}

func TestNewConfig(t *testing.T) {
	src := jwtverify.LocalJWKS(func() []byte { return nil })
	bad := []jwtverify.Config{
		{Revocations: jwtverify.NoRevocations{}},
		{Keys: src},
		{Keys: src, Revocations: jwtverify.NoRevocations{}, Leeway: 2 * time.Minute},
		{Keys: src, Revocations: jwtverify.NoRevocations{}, Leeway: -time.Second},
	}
	for i, cfg := range bad {
		if _, err := jwtverify.New(cfg); err == nil {
			t.Errorf("New(bad[%d]) succeeded", i)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
