// Package cache is Mint's cache-aside port. Keys follow <service>:<resource>:<id>. Implementations: Redis
// (go-redis) and in-process; Resilient wraps either so that a cache outage costs speed, never
// correctness or availability.
package cache

import (
	"context"
	"errors"
	"time"
)

// ErrMiss is returned by Get when the key is absent or expired.
var ErrMiss = errors.New("cache miss")

// Cache stores opaque values with a time to live.
type Cache interface {
	// Get returns the value at key, ErrMiss when there is none, or another error when the cache failed.
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
	Ping(ctx context.Context) error
	Close() error
}
