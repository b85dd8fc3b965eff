package jwtverify

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// ErrUnknownKey is returned by a KeySource that has no key with the asked kid,
// even after any refresh it was allowed to make.
var ErrUnknownKey = errors.New("jwtverify: unknown key id")

// minRSABits rejects weak keys even if a JWKS publishes them.
const minRSABits = 2048

// KeySource gives the verifier the RS256 public key a kid names. It returns
// ErrUnknownKey (possibly wrapped) when there is no such key, and any other
// error when it cannot tell, e.g. because the JWKS could not be fetched.
// Returning *rsa.PublicKey, not a JWK, keeps a symmetric or private key from
// ever reaching the signature check.
type KeySource interface {
	PublicKey(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// parseJWKS returns the usable verification keys of a JWK Set by kid. Keys
// are decoded one by one so that one key of a type this library does not know
// does not hide the others; keys that are not RSA public keys of at least 2048
// bits, or that are marked for another use or algorithm, are skipped.
func parseJWKS(raw []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("decode jwks: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(k); err != nil {
			continue
		}
		pub, ok := jwk.Key.(*rsa.PublicKey)
		switch {
		case !ok, jwk.KeyID == "", pub.N.BitLen() < minRSABits,
			jwk.Use != "" && jwk.Use != "sig",
			jwk.Algorithm != "" && jwk.Algorithm != string(jose.RS256):
			continue
		}
		if _, dup := keys[jwk.KeyID]; dup {
			continue // first one wins; a kid must name one key
		}
		keys[jwk.KeyID] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks has no usable RS256 key")
	}
	return keys, nil
}
