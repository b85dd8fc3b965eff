package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

// revocations answers "is this token revoked?" without a database query per request. The database is
// the record; each auth process keeps an in-memory copy, refreshed by polling (so a logout served by
// another replica is seen within one poll), and the shared cache carries each revocation at once.
type revocations struct {
	store  *store
	cache  cache.Cache
	logger *slog.Logger
	now    func() time.Time

	mu     sync.RWMutex
	byJTI  map[string]time.Time // jti → expiry
	polled time.Time            // revokedAt of the newest poll window start
}

func newRevocations(st *store, c cache.Cache, logger *slog.Logger, now func() time.Time) *revocations {
	return &revocations{store: st, cache: c, logger: logger, now: now, byJTI: map[string]time.Time{}}
}

// IsRevoked reports whether token jti was revoked.
func (r *revocations) IsRevoked(ctx context.Context, jti string) (bool, error) {
	r.mu.RLock()
	_, ok := r.byJTI[jti]
	r.mu.RUnlock()
	if ok {
		return true, nil
	}
	return jwtverify.SharedRevocations{Cache: r.cache}.IsRevoked(ctx, jti)
}

func (r *revocations) revoke(ctx context.Context, d revokedDoc) error {
	if err := r.store.insertRevoked(ctx, d); err != nil {
		return err
	}
	r.remember(d)
	if ttl := d.ExpiresAt.Sub(r.now()); ttl > 0 {
		if err := r.cache.Set(ctx, jwtverify.RevokedTokenKey(d.JTI), []byte("1"), ttl); err != nil {
			r.logger.WarnContext(ctx, "revocation not cached; other processes see it at their next poll", "err", err)
		}
	}
	return nil
}

func (r *revocations) remember(d revokedDoc) {
	r.mu.Lock()
	r.byJTI[d.JTI] = d.ExpiresAt
	r.mu.Unlock()
}

// refresh loads revocations made since the last poll (with a margin for clock skew between replicas)
// and forgets expired ones.
func (r *revocations) refresh(ctx context.Context) error {
	now := r.now()
	since := r.polled.Add(-10 * time.Second)
	docs, err := r.store.revokedSince(ctx, since)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range docs {
		r.byJTI[d.JTI] = d.ExpiresAt
	}
	for jti, exp := range r.byJTI {
		if exp.Before(now) {
			delete(r.byJTI, jti)
		}
	}
	r.polled = now
	return nil
}
