package jwtverify

import (
	"context"
	"errors"

	"github.com/mint-wallet/mint/internal/platform/cache"
)

// SharedRevocations reads the revocations the auth service writes to the shared cache at logout
// (RevokedTokenKey). It is how services other than auth learn of a logout at once.
//
// Pass the service's resilient cache: a cache outage then reads as "not revoked", because failing
// every request while Redis is down would trade availability for it (ARCHITECTURE §3). That window —
// a revoked token accepted by another service while Redis is down — is the known gap docs/AUTH.md
// describes. An error other than a miss from an unwrapped cache still fails closed (503).
type SharedRevocations struct {
	Cache cache.Cache
}

// IsRevoked implements Revocations.
func (s SharedRevocations) IsRevoked(ctx context.Context, jti string) (bool, error) {
	_, err := s.Cache.Get(ctx, RevokedTokenKey(jti))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, cache.ErrMiss):
		return false, nil
	default:
		return false, err
	}
}

// RevokedTokenKey is the shared-cache key marking session token jti as revoked until it expires. The
// auth service writes it at logout; every service's verifier reads it (docs/AUTH.md).
func RevokedTokenKey(jti string) string { return "auth:revoked:" + jti }
