package cache_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// trackingCache remembers every key a test wrote, so the Redis keys can be deleted afterwards
// without KEYS or SCAN.
type trackingCache struct {
	cache.Cache
	mu   sync.Mutex
	keys []string
}

func (c *trackingCache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	c.mu.Lock()
	c.keys = append(c.keys, key)
	c.mu.Unlock()
	return c.Cache.Set(ctx, key, value, ttl)
}

// implementations returns a fresh cache of each kind and a key prefix unique to the test, so runs
// sharing one Redis do not collide.
func implementations(t *testing.T) map[string]func(t *testing.T) (cache.Cache, string) {
	return map[string]func(t *testing.T) (cache.Cache, string){
		"memory": func(t *testing.T) (cache.Cache, string) {
			m := cache.NewMemory()
			t.Cleanup(func() { _ = m.Close() })
			return m, "test:" + randomID() + ":"
		},
		"redis": func(t *testing.T) (cache.Cache, string) {
			// Generous timeouts: this suite checks semantics, and a loaded 2-core CI machine can stall
			// a healthy Redis round trip past the production 200ms.
			r, err := cache.NewRedis(testenv.RedisURL(t), func(o *redis.Options) {
				o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = 5*time.Second, 5*time.Second, 5*time.Second, 5*time.Second
			})
			if err != nil {
				t.Fatal(err)
			}
			tc := &trackingCache{Cache: r}
			t.Cleanup(func() {
				if err := r.Delete(context.Background(), tc.keys...); err != nil {
					t.Errorf("cleanup: %v", err)
				}
				_ = r.Close()
			})
			return tc, "minttest:" + randomID() + ":"
		},
		// Healthy, the resilient wrapper must be the cache it wraps; its bound is as generous as the
		// adapter's timeouts above, for the same reason.
		"resilient": func(t *testing.T) (cache.Cache, string) {
			r, err := cache.NewRedis(testenv.RedisURL(t), func(o *redis.Options) {
				o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = 5*time.Second, 5*time.Second, 5*time.Second, 5*time.Second
			})
			if err != nil {
				t.Fatal(err)
			}
			c, err := cache.NewResilient(r, nil, nil, cache.WithTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			tc := &trackingCache{Cache: c}
			t.Cleanup(func() {
				if err := r.Delete(context.Background(), tc.keys...); err != nil {
					t.Errorf("cleanup: %v", err)
				}
				_ = c.Close()
			})
			return tc, "minttest:" + randomID() + ":"
		},
	}
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestContract(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, c cache.Cache, p string)
	}{
		{"absent key is a miss", func(t *testing.T, c cache.Cache, p string) {
			if _, err := c.Get(ctx, p+"absent"); !errors.Is(err, cache.ErrMiss) {
				t.Errorf("Get = %v, want ErrMiss", err)
			}
		}},
		{"set then get, overwrite", func(t *testing.T, c cache.Cache, p string) {
			mustSet(t, c, p+"k", "v1", time.Minute)
			mustGet(t, c, p+"k", "v1")
			mustSet(t, c, p+"k", "v2", time.Minute)
			mustGet(t, c, p+"k", "v2")
		}},
		{"value expires after its ttl", func(t *testing.T, c cache.Cache, p string) {
			mustSet(t, c, p+"short", "v", 100*time.Millisecond)
			mustSet(t, c, p+"long", "v", time.Minute)
			mustGet(t, c, p+"short", "v")
			time.Sleep(250 * time.Millisecond)
			if _, err := c.Get(ctx, p+"short"); !errors.Is(err, cache.ErrMiss) {
				t.Errorf("Get after ttl = %v, want ErrMiss", err)
			}
			mustGet(t, c, p+"long", "v")
		}},
		{"delete many, absent ones included", func(t *testing.T, c cache.Cache, p string) {
			for _, k := range []string{"a", "b", "c"} {
				mustSet(t, c, p+k, k, time.Minute)
			}
			if err := c.Delete(ctx, p+"a", p+"b", p+"never-set"); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"a", "b"} {
				if _, err := c.Get(ctx, p+k); !errors.Is(err, cache.ErrMiss) {
					t.Errorf("Get(%s) after Delete = %v, want ErrMiss", k, err)
				}
			}
			mustGet(t, c, p+"c", "c")
			if err := c.Delete(ctx); err != nil {
				t.Errorf("Delete() with no keys = %v", err)
			}
		}},
		{"empty value is a hit", func(t *testing.T, c cache.Cache, p string) {
			mustSet(t, c, p+"empty", "", time.Minute)
			mustGet(t, c, p+"empty", "")
		}},
		{"json helpers", func(t *testing.T, c cache.Cache, p string) {
			type user struct {
				ID    string `json:"id"`
				Email string `json:"email"`
			}
			var got user
			if ok, err := cache.GetJSON(ctx, c, p+"u", &got); ok || err != nil {
				t.Errorf("GetJSON on a miss = %v, %v", ok, err)
			}
			if err := cache.SetJSON(ctx, c, p+"u", user{"1", "a@b.c"}, time.Minute); err != nil {
				t.Fatal(err)
			}
			if ok, err := cache.GetJSON(ctx, c, p+"u", &got); !ok || err != nil || got != (user{"1", "a@b.c"}) {
				t.Errorf("GetJSON = %v, %v, %+v", ok, err, got)
			}
			mustSet(t, c, p+"bad", "{not json", time.Minute)
			if ok, err := cache.GetJSON(ctx, c, p+"bad", &got); ok || err == nil {
				t.Errorf("GetJSON of a corrupt value = %v, %v; want false and an error", ok, err)
			}
		}},
		{"ping", func(t *testing.T, c cache.Cache, _ string) {
			if err := c.Ping(ctx); err != nil {
				t.Error(err)
			}
		}},
	}
	for name, open := range implementations(t) {
		t.Run(name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c, prefix := open(t)
					tc.run(t, c, prefix)
				})
			}
		})
	}
}

func TestContractConcurrentUse(t *testing.T) {
	for name, open := range implementations(t) {
		t.Run(name, func(t *testing.T) {
			c, p := open(t)
			ctx := context.Background()
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					key := p + string(rune('a'+g%3))
					for i := range 50 {
						_ = c.Set(ctx, key, []byte{byte(i)}, time.Minute)
						if _, err := c.Get(ctx, key); err != nil && !errors.Is(err, cache.ErrMiss) {
							t.Error(err)
							return
						}
						if i%10 == 0 {
							_ = c.Delete(ctx, key)
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

func mustSet(t *testing.T, c cache.Cache, key, value string, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), key, []byte(value), ttl); err != nil {
		t.Fatalf("Set(%s): %v", key, err)
	}
}

func mustGet(t *testing.T, c cache.Cache, key, want string) {
	t.Helper()
	got, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	if !slices.Equal(got, []byte(want)) {
		t.Errorf("Get(%s) = %q, want %q", key, got, want)
	}
}
