package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// GetJSON decodes the value at key into v. It reports false with a nil error on a miss. A value that
// does not decode (e.g. written by an older version of the type) is an error: callers treat it as a
// miss and overwrite it.
func GetJSON(ctx context.Context, c Cache, key string, v any) (bool, error) {
	b, err := c.Get(ctx, key)
	if errors.Is(err, ErrMiss) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("cache decode %s: %w", key, err)
	}
	return true, nil
}

// SetJSON stores v as JSON at key for ttl.
func SetJSON(ctx context.Context, c Cache, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cache encode %s: %w", key, err)
	}
	return c.Set(ctx, key, b, ttl)
}
