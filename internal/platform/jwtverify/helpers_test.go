package jwtverify_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// now is the fixed "current time" of the tests.
var now = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

// testKeys are generated once per test binary: RSA generation is slow,
// especially under -race.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// ourKey signs the legitimate tokens; attackerKey is a stranger's key;
// newKey is a key the verifier has not seen yet.
func ourKey() *rsa.PrivateKey      { return testKeys()[0] }
func attackerKey() *rsa.PrivateKey { return testKeys()[1] }
func newKey() *rsa.PrivateKey      { return testKeys()[2] }

func kidOf(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	sum, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

// jwksOf is the JWKS publishing the public halves of keys.
func jwksOf(t testing.TB, keys ...*rsa.PrivateKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kidOf(t, k), Use: "sig", Algorithm: "RS256"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validClaims are claims the default verifier accepts at now.
func validClaims() map[string]any {
	return map[string]any{
		"iss": "mint-auth",
		"aud": "mint",
		"sub": "user-1",
		"jti": "jti-1",
		"iat": now.Add(-time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

// with returns validClaims changed by edit.
func with(edit func(map[string]any)) map[string]any {
	c := validClaims()
	edit(c)
	return c
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compact builds a compact JWS by hand, so tests can forge what no library
// would produce: sign receives the signing input and returns the signature.
func compact(t testing.TB, header, claims map[string]any, sign func(input []byte) []byte) string {
	t.Helper()
	input := b64(mustJSON(t, header)) + "." + b64(mustJSON(t, claims))
	return input + "." + b64(sign([]byte(input)))
}

// rs256 signs with key.
func rs256(t testing.TB, key *rsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		sum := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

// sign returns an RS256 token with claims signed by key under kid.
func sign(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	return compact(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}, claims, rs256(t, key))
}

// good is a token the default verifier accepts.
func good(t testing.TB) string { return sign(t, ourKey(), kidOf(t, ourKey()), validClaims()) }
