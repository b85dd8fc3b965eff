package cache

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMemoryCleanupIsBoundedAndRemovesExpired(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	now := time.Now()
	m.now = func() time.Time { return now }
	ctx := context.Background()
	for i := range 50 {
		_ = m.Set(ctx, fmt.Sprint("old", i), []byte("x"), time.Second)
	}
	_ = m.Set(ctx, "fresh", []byte("x"), time.Hour)
	_ = m.Set(ctx, "forever", []byte("x"), 0)
	now = now.Add(2 * time.Second)

	if removed := m.cleanup(10); removed > 10 {
		t.Errorf("one round removed %d entries, inspected at most 10", removed)
	}
	for range 20 {
		m.cleanup(10)
	}
	m.mu.Lock()
	left := len(m.entries)
	m.mu.Unlock()
	if left != 2 {
		t.Errorf("%d entries left after cleanup, want 2 (fresh, forever)", left)
	}
}

func TestMemoryValuesAreCopied(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	ctx := context.Background()
	v := []byte("abc")
	_ = m.Set(ctx, "k", v, time.Minute)
	v[0] = 'X'
	got, _ := m.Get(ctx, "k")
	got[1] = 'Y'
	again, _ := m.Get(ctx, "k")
	if string(again) != "abc" {
		t.Errorf("stored value changed through a caller's slice: %q", again)
	}
}
