package jwtsign

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"
)

// KeySet is the auth service's view of the key set file: the key that signs
// and the JWKS to publish. It is safe for concurrent use; readers never block
// on a reload.
type KeySet struct {
	path string
	cur  atomic.Pointer[keyMaterial]

	mu   sync.Mutex  // serialises reloads
	stat os.FileInfo // of the file cur was read from
}

// keyMaterial is one immutable snapshot of the file, with what is derived
// from it precomputed.
type keyMaterial struct {
	keys   []signingKey // creation order; the last signs
	signer jose.Signer
	jwks   []byte
}

// Load reads the key set file at path.
func Load(path string) (*KeySet, error) {
	ks := &KeySet{path: path}
	if _, err := ks.ReloadIfChanged(); err != nil {
		return nil, err
	}
	return ks, nil
}

// LoadOrCreate reads the key set file at path, first generating it (and its
// directories, mode 0700) if it does not exist. `mint dev` calls it on start so
// a fresh checkout needs no setup step.
func LoadOrCreate(path string) (*KeySet, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key set dir: %w", err)
	}
	// Losing the race to another process creating the file is fine: load theirs.
	if err := Generate(path, false); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return Load(path)
}

// ReloadIfChanged rereads the file if it was replaced since the last read and
// reports whether it did. When nothing changed it costs one stat(2), so it is
// cheap enough to call on every JWKS request. On error the keys in use stay.
func (ks *KeySet) ReloadIfChanged() (bool, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()

	if ks.stat != nil {
		fi, err := os.Stat(ks.path)
		if err != nil {
			return false, fmt.Errorf("stat key set: %w", err)
		}
		if sameFile(ks.stat, fi) {
			return false, nil
		}
	}
	// Stat the file we actually read, not the path, so a rename racing with
	// the read cannot leave us believing we hold the newer file.
	f, err := os.Open(ks.path)
	if err != nil {
		return false, fmt.Errorf("open key set: %w", err)
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat key set: %w", err)
	}
	keys, err := readKeys(f, ks.path)
	if err != nil {
		return false, err
	}
	m, err := newKeyMaterial(keys)
	if err != nil {
		return false, err
	}
	ks.cur.Store(m)
	ks.stat = fi
	return true, nil
}

// sameFile reports whether a and b describe the same, unmodified file. The
// file is replaced by rename, so a new inode alone shows a change even where
// mtime granularity is coarse.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}

// JWKS returns the JSON Web Key Set document for /.well-known/jwks.json:
// the public half of every key in the set (kty, kid, use "sig", alg "RS256",
// n, e), newest first. The slice is shared; callers must not modify it.
func (ks *KeySet) JWKS() []byte { return ks.cur.Load().jwks }

// SigningKid returns the kid of the key that signs new tokens.
func (ks *KeySet) SigningKid() string {
	m := ks.cur.Load()
	return m.keys[len(m.keys)-1].kid
}

// Kids returns the kids of every key in the set, oldest first.
func (ks *KeySet) Kids() []string {
	m := ks.cur.Load()
	kids := make([]string, len(m.keys))
	for i, k := range m.keys {
		kids[i] = k.kid
	}
	return kids
}

func newKeyMaterial(keys []signingKey) (*keyMaterial, error) {
	newest := keys[len(keys)-1]
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: newest.private, KeyID: newest.kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("new signer: %w", err)
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range slices.Backward(keys) {
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key:       &k.private.PublicKey, // the public half only, by construction
			KeyID:     k.kid,
			Use:       "sig",
			Algorithm: string(jose.RS256),
		})
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode jwks: %w", err)
	}
	return &keyMaterial{keys: keys, signer: signer, jwks: jwks}, nil
}
