package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Cache on a Redis server. Its timeouts are short on purpose: a cache that answers
// slowly is worse than no cache, so a slow or absent Redis fails fast and Resilient turns the failure
// into a miss.
type Redis struct {
	client *redis.Client
}

// RedisOption adjusts the go-redis options after Mint's defaults are applied.
type RedisOption func(*redis.Options)

// Defaults of NewRedis; a timeout given in the URL (dial_timeout=…, read_timeout=…) wins.
const (
	redisDialTimeout  = 250 * time.Millisecond
	redisReadTimeout  = 200 * time.Millisecond
	redisWriteTimeout = 200 * time.Millisecond
	redisPoolTimeout  = 250 * time.Millisecond
)

// NewRedis connects lazily to the Redis at url (redis://[user:pass@]host:port/db). It does not dial:
// a Redis that is down at startup must not stop the service (Ping reports it).
func NewRedis(url string, opts ...RedisOption) (*Redis, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	setDefault := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	setDefault(&o.DialTimeout, redisDialTimeout)
	setDefault(&o.ReadTimeout, redisReadTimeout)
	setDefault(&o.WriteTimeout, redisWriteTimeout)
	setDefault(&o.PoolTimeout, redisPoolTimeout)
	// The pool keeps go-redis' size (10 connections per CPU, enough for request concurrency), but a
	// request does not wait for a free connection longer than a cache read is worth (PoolTimeout).
	// No MinIdleConns: it would keep redialling a Redis that is down.
	// One retry heals a connection a Redis restart broke; more would only stretch an outage.
	if o.MaxRetries == 0 {
		o.MaxRetries = 1
	}
	o.DialerRetries = 1
	o.ContextTimeoutEnabled = true // honour the caller's deadline (Resilient's per-operation bound)
	for _, opt := range opts {
		opt(o)
	}
	quietRedis.Do(func() { redis.SetLogger(discardLogger{}) })
	return &Redis{client: redis.NewClient(o)}, nil
}

// quietRedis silences go-redis' process-wide logger once: it prints every failed dial to stderr as
// plain text, while Resilient already counts and logs cache failures as structured records.
var quietRedis sync.Once

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

// Get implements Cache.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := r.client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("redis get: %w", err)
	}
	return b, nil
}

// Set implements Cache. A ttl of 0 keeps the value until it is deleted or evicted.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := r.client.Set(ctx, key, value, ttl).Err(); err != nil {
		return fmt.Errorf("redis set: %w", err)
	}
	return nil
}

// Delete implements Cache with one DEL for all keys.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if err := r.client.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("redis del: %w", err)
	}
	return nil
}

// Ping implements Cache.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// Close implements Cache.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}
