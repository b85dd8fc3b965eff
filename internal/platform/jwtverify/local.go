package jwtverify

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"sync/atomic"
)

// Local is a KeySource over a JWKS held in the same process: the auth service
// verifying its own tokens, and every service under `mint dev`. It asks jwks
// for the current bytes on every lookup and parses them only when they
// changed, so a rotation the key set has reloaded is seen at once, with no
// rate limit or cache age to wait for.
type Local struct {
	jwks func() []byte
	snap atomic.Pointer[localSnapshot]
}

type localSnapshot struct {
	raw  []byte
	keys map[string]*rsa.PublicKey
	err  error
}

// LocalJWKS returns a KeySource reading the JWKS document jwks returns, e.g.
// (*jwtsign.KeySet).JWKS. jwks is called on every Verify and should be cheap.
func LocalJWKS(jwks func() []byte) *Local { return &Local{jwks: jwks} }

// PublicKey implements KeySource.
func (l *Local) PublicKey(_ context.Context, kid string) (*rsa.PublicKey, error) {
	raw := l.jwks()
	s := l.snap.Load()
	if s == nil || !bytes.Equal(s.raw, raw) {
		keys, err := parseJWKS(raw)
		// Concurrent callers may both parse; the results are equal, so the
		// last store winning is fine.
		s = &localSnapshot{raw: bytes.Clone(raw), keys: keys, err: err}
		l.snap.Store(s)
	}
	if s.err != nil {
		return nil, fmt.Errorf("local jwks: %w", s.err)
	}
	key, ok := s.keys[kid]
	if !ok {
		return nil, ErrUnknownKey
	}
	return key, nil
}
