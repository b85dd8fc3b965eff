package jwtsign

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keyBits is the RSA modulus size of new keys. 2048 bits is NIST's minimum
// through 2030 and what RS256 deployments use; keys rotate long before that
// matters, and every service pays the verification cost on every request (a
// 4096-bit key verifies ~3x slower and takes seconds to generate).
const keyBits = 2048

// fileVersion is the format of the key set file, for future migrations.
const fileVersion = 1

// keyFile is the key set file as stored.
type keyFile struct {
	Version int         `json:"version"`
	Keys    []keyRecord `json:"keys"` // in creation order: the last one signs
}

type keyRecord struct {
	Kid        string     `json:"kid"`
	CreatedAt  time.Time  `json:"createdAt"`
	RetiredAt  *time.Time `json:"retiredAt,omitempty"` // when a newer key replaced it
	PrivateKey string     `json:"privateKey"`          // PKCS#8 PEM
}

// signingKey is a decoded key record.
type signingKey struct {
	kid       string
	createdAt time.Time
	retiredAt time.Time // zero while it signs
	private   *rsa.PrivateKey
}

// newSigningKey generates a key created at now.
func newSigningKey(now time.Time) (signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return signingKey{}, fmt.Errorf("generate rsa key: %w", err)
	}
	kid, err := thumbprint(&priv.PublicKey)
	if err != nil {
		return signingKey{}, err
	}
	return signingKey{kid: kid, createdAt: now.UTC(), private: priv}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url) of pub.
func thumbprint(pub *rsa.PublicKey) (string, error) {
	sum, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("jwk thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// readKeyFile reads and decodes the key set file at path.
func readKeyFile(path string) ([]signingKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open key set: %w", err)
	}
	defer func() { _ = f.Close() }()
	return readKeys(f, path)
}

// readKeys decodes a key set file read from r; name is for errors.
func readKeys(r io.Reader, name string) ([]signingKey, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read key set %s: %w", name, err)
	}
	keys, err := decodeKeyFile(raw)
	if err != nil {
		return nil, fmt.Errorf("key set %s: %w", name, err)
	}
	return keys, nil
}

// decodeKeyFile decodes and checks a key set: at least one key, each an RSA
// key of at least keyBits whose kid is its thumbprint, no kid twice. A kid
// that does not match its key would make verifiers pick the wrong key, so it
// is refused rather than trusted.
func decodeKeyFile(raw []byte) ([]signingKey, error) {
	var f keyFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("unsupported version %d", f.Version)
	}
	if len(f.Keys) == 0 {
		return nil, errors.New("no keys")
	}
	keys := make([]signingKey, 0, len(f.Keys))
	seen := make(map[string]bool, len(f.Keys))
	for i, rec := range f.Keys {
		k, err := decodeKeyRecord(rec)
		if err != nil {
			return nil, fmt.Errorf("key %d (%s): %w", i, rec.Kid, err)
		}
		if seen[k.kid] {
			return nil, fmt.Errorf("key %d: kid %s appears twice", i, k.kid)
		}
		seen[k.kid] = true
		keys = append(keys, k)
	}
	return keys, nil
}

func decodeKeyRecord(rec keyRecord) (signingKey, error) {
	block, _ := pem.Decode([]byte(rec.PrivateKey))
	if block == nil || block.Type != "PRIVATE KEY" {
		return signingKey{}, errors.New("privateKey is not a PKCS#8 PEM block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return signingKey{}, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return signingKey{}, fmt.Errorf("private key is %T, want RSA", parsed)
	}
	if priv.N.BitLen() < keyBits {
		return signingKey{}, fmt.Errorf("rsa key of %d bits, want at least %d", priv.N.BitLen(), keyBits)
	}
	kid, err := thumbprint(&priv.PublicKey)
	if err != nil {
		return signingKey{}, err
	}
	if kid != rec.Kid {
		return signingKey{}, fmt.Errorf("kid is not the key's thumbprint %s", kid)
	}
	k := signingKey{kid: kid, createdAt: rec.CreatedAt, private: priv}
	if rec.RetiredAt != nil {
		k.retiredAt = *rec.RetiredAt
	}
	return k, nil
}

func encodeKeyFile(keys []signingKey) ([]byte, error) {
	f := keyFile{Version: fileVersion, Keys: make([]keyRecord, 0, len(keys))}
	for _, k := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.private)
		if err != nil {
			return nil, fmt.Errorf("marshal key %s: %w", k.kid, err)
		}
		rec := keyRecord{
			Kid:        k.kid,
			CreatedAt:  k.createdAt,
			PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		}
		if !k.retiredAt.IsZero() {
			t := k.retiredAt
			rec.RetiredAt = &t
		}
		f.Keys = append(f.Keys, rec)
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode key set: %w", err)
	}
	return append(out, '\n'), nil
}

// writeKeyFile writes keys to path atomically with mode 0600: readers see the
// old file or the new one, never a torn one. With overwrite false it fails
// with an error matching fs.ErrExist if path exists, also when another
// process creates it concurrently (the final step is link(2), which never
// replaces).
func writeKeyFile(path string, keys []signingKey, overwrite bool) error {
	data, err := encodeKeyFile(keys)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write key set: %w", err)
	}
	tmpName := tmp.Name()
	defer func() { _ = os.Remove(tmpName) }() // a no-op once renamed

	// CreateTemp already uses 0600; Chmod makes it independent of that detail.
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write key set: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write key set: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write key set: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write key set: %w", err)
	}
	if overwrite {
		err = os.Rename(tmpName, path)
	} else {
		err = os.Link(tmpName, path)
	}
	if err != nil {
		return fmt.Errorf("write key set: %w", err)
	}
	return syncDir(dir)
}

// MakeDir creates the directory of the key set file at path, and any missing parents, with mode 0700:
// the file holds private keys, so nobody else need list or enter its directory. It returns the
// directory when it created it, "" when it existed already.
func MakeDir(path string) (created string, err error) {
	dir := filepath.Dir(path)
	if _, statErr := os.Stat(dir); !errors.Is(statErr, fs.ErrNotExist) {
		return "", nil // it exists; if it is unusable, writing the file says so
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create key set dir: %w", err)
	}
	return dir, nil
}

// syncDir makes a rename in dir durable across a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync key set dir: %w", err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync key set dir: %w", err)
	}
	return nil
}
