package jwtsign_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mint-wallet/mint/internal/platform/jwtsign"
)

// now is the fixed "current time" of the tests.
var now = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

// storedKey is a key as the file stores it, decoded independently of the package.
type storedKey struct {
	Kid        string     `json:"kid"`
	CreatedAt  time.Time  `json:"createdAt"`
	RetiredAt  *time.Time `json:"retiredAt"`
	PrivateKey string     `json:"privateKey"`
}

func readStored(t *testing.T, path string) []storedKey {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Version int         `json:"version"`
		Keys    []storedKey `json:"keys"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Keys
}

func writeStored(t *testing.T, path string, keys []storedKey) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"version": 1, "keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func thumbprint(t *testing.T, pub *rsa.PublicKey) string {
	t.Helper()
	sum, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

func parsePEM(t *testing.T, s string) *rsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("not a PKCS#8 PEM block: %.40q", s)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}

// wantOnlyFile checks no temporary file was left next to path.
func wantOnlyFile(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != filepath.Base(path) {
		t.Errorf("dir holds %v, want only %s", entries, filepath.Base(path))
	}
}

func TestGenerate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := jwtsign.Generate(path, false); err != nil {
		t.Fatal(err)
	}
	wantMode(t, path, 0o600)
	wantOnlyFile(t, path)
	keys := readStored(t, path)
	if len(keys) != 1 {
		t.Fatalf("%d keys, want 1", len(keys))
	}
	priv := parsePEM(t, keys[0].PrivateKey)
	if priv.N.BitLen() != 2048 {
		t.Errorf("key of %d bits", priv.N.BitLen())
	}
	if got, want := keys[0].Kid, thumbprint(t, &priv.PublicKey); got != want {
		t.Errorf("kid = %s, want the RFC 7638 thumbprint %s", got, want)
	}
	if keys[0].CreatedAt.IsZero() || keys[0].RetiredAt != nil {
		t.Errorf("createdAt = %v, retiredAt = %v", keys[0].CreatedAt, keys[0].RetiredAt)
	}

	if err := jwtsign.Generate(path, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Generate over an existing file = %v, want fs.ErrExist", err)
	}
	if got := readStored(t, path)[0].Kid; got != keys[0].Kid {
		t.Fatal("failed Generate changed the file")
	}
	wantOnlyFile(t, path)

	if err := jwtsign.Generate(path, true); err != nil {
		t.Fatalf("Generate with overwrite: %v", err)
	}
	if got := readStored(t, path)[0].Kid; got == keys[0].Kid {
		t.Error("overwrite kept the old key")
	}
	wantMode(t, path, 0o600)
	wantOnlyFile(t, path)
}

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "mint")
	path := filepath.Join(dir, "keys.json")
	ks, err := jwtsign.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	wantMode(t, dir, 0o700)
	wantMode(t, path, 0o600)
	again, err := jwtsign.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if ks.SigningKid() != again.SigningKid() {
		t.Error("second LoadOrCreate made a new key")
	}
	if got := readStored(t, path)[0].Kid; got != ks.SigningKid() {
		t.Errorf("SigningKid = %s, file has %s", ks.SigningKid(), got)
	}
}

func TestRotateDropsKeysRetiredLongerThanTheLifetime(t *testing.T) {
	const lifetime = 7 * 24 * time.Hour
	path := filepath.Join(t.TempDir(), "keys.json")
	ks, err := jwtsign.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	k1 := ks.SigningKid()

	t0 := now
	k2 := rotate(t, path, t0, lifetime) // k1 retired at t0
	if got, want := kids(t, path), []string{k1, k2}; !slices.Equal(got, want) {
		t.Fatalf("after the 1st rotation: kids %v, want %v", got, want)
	}
	if r := readStored(t, path)[0].RetiredAt; r == nil || !r.Equal(t0) {
		t.Errorf("k1 retiredAt = %v, want %v", r, t0)
	}

	t1 := t0.Add(lifetime)
	k3 := rotate(t, path, t1, lifetime) // k1 retired exactly a lifetime ago: its last tokens may be in their leeway
	if got, want := kids(t, path), []string{k1, k2, k3}; !slices.Equal(got, want) {
		t.Fatalf("after the 2nd rotation: kids %v, want %v", got, want)
	}

	t2 := t0.Add(lifetime + jwtsign.RetirementGrace + time.Second)
	k4 := rotate(t, path, t2, lifetime) // k1 now retired longer than lifetime + grace: dropped
	if got, want := kids(t, path), []string{k2, k3, k4}; !slices.Equal(got, want) {
		t.Fatalf("after the 3rd rotation: kids %v, want %v", got, want)
	}
	wantMode(t, path, 0o600)
	wantOnlyFile(t, path)

	if _, err := jwtsign.Rotate(path, t2, 0); err == nil {
		t.Error("Rotate with a zero lifetime succeeded")
	}
	if _, err := jwtsign.Rotate(filepath.Join(t.TempDir(), "missing.json"), t2, lifetime); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Rotate of a missing file = %v, want fs.ErrNotExist", err)
	}
}

func rotate(t *testing.T, path string, at time.Time, lifetime time.Duration) string {
	t.Helper()
	kid, err := jwtsign.Rotate(path, at, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	return kid
}

func kids(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, k := range readStored(t, path) {
		out = append(out, k.Kid)
	}
	return out
}

func TestReloadIfChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	ks, err := jwtsign.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	old := ks.SigningKid()
	if changed, err := ks.ReloadIfChanged(); changed || err != nil {
		t.Fatalf("ReloadIfChanged on an unchanged file = %v, %v", changed, err)
	}

	newKid := rotate(t, path, now, time.Hour) // as `mint keys rotate` in another process would
	if changed, err := ks.ReloadIfChanged(); !changed || err != nil {
		t.Fatalf("ReloadIfChanged after a rotation = %v, %v", changed, err)
	}
	if ks.SigningKid() != newKid {
		t.Errorf("SigningKid = %s, want the new %s", ks.SigningKid(), newKid)
	}
	if got := ks.Kids(); !slices.Equal(got, []string{old, newKid}) {
		t.Errorf("Kids = %v", got)
	}
	if changed, _ := ks.ReloadIfChanged(); changed {
		t.Error("ReloadIfChanged reloaded twice")
	}

	// A broken file is refused and the keys in use stay.
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.ReloadIfChanged(); err == nil {
		t.Error("ReloadIfChanged accepted a broken file")
	}
	if ks.SigningKid() != newKid {
		t.Error("a failed reload changed the signing key")
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := jwtsign.Generate(path, false); err != nil {
		t.Fatal(err)
	}
	good := readStored(t, path)[0]
	weak, err := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // the point is a weak key
	if err != nil {
		t.Fatal(err)
	}
	weakDER, _ := x509.MarshalPKCS8PrivateKey(weak)
	weakPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: weakDER}))

	tests := []struct {
		name string
		keys []storedKey
	}{
		{"no keys", nil},
		{"kid is not the thumbprint", []storedKey{{Kid: "my-kid", CreatedAt: now, PrivateKey: good.PrivateKey}}},
		{"same kid twice", []storedKey{good, good}},
		{"not PEM", []storedKey{{Kid: good.Kid, CreatedAt: now, PrivateKey: "MIIE..."}}},
		{"1024-bit key", []storedKey{{Kid: thumbprint(t, &weak.PublicKey), CreatedAt: now, PrivateKey: weakPEM}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "keys.json")
			writeStored(t, p, tt.keys)
			if _, err := jwtsign.Load(p); err == nil {
				t.Fatal("Load succeeded")
			}
		})
	}
	t.Run("unknown version", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "keys.json")
		raw, _ := os.ReadFile(path)
		if err := os.WriteFile(p, []byte(strings.Replace(string(raw), `"version": 1`, `"version": 2`, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := jwtsign.Load(p); err == nil {
			t.Fatal("Load succeeded")
		}
	})
}

func TestJWKSHasOnlyPublicParts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	ks, err := jwtsign.LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	rotate(t, path, now, time.Hour)
	if _, err := ks.ReloadIfChanged(); err != nil {
		t.Fatal(err)
	}

	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(ks.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(set.Keys))
	}
	stored := readStored(t, path)
	for i, k := range set.Keys {
		var fields []string
		for f := range k {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		if want := []string{"alg", "e", "kid", "kty", "n", "use"}; !slices.Equal(fields, want) {
			t.Errorf("key %d has fields %v, want exactly %v (no d, p, q, dp, dq, qi)", i, fields, want)
		}
		if k["kty"] != "RSA" || k["use"] != "sig" || k["alg"] != "RS256" {
			t.Errorf("key %d = %v", i, k)
		}
		// Newest first, and n is the stored key's modulus.
		s := stored[len(stored)-1-i]
		if k["kid"] != s.Kid {
			t.Errorf("key %d kid %v, want %s", i, k["kid"], s.Kid)
		}
		if want := base64.RawURLEncoding.EncodeToString(parsePEM(t, s.PrivateKey).N.Bytes()); k["n"] != want {
			t.Errorf("key %d: n is not the public modulus", i)
		}
	}
	for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, "PRIVATE"} {
		if strings.Contains(string(ks.JWKS()), private) {
			t.Errorf("JWKS contains %s", private)
		}
	}
}
