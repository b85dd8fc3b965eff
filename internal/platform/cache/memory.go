package cache

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Cache for `mint dev` and tests. Expired entries are dropped when read and by
// a periodic cleanup that inspects a bounded number of entries per round, so a large cache never
// stalls writers behind a full scan.
type Memory struct {
	mu      sync.Mutex
	entries map[string]entry
	now     func() time.Time

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type entry struct {
	value   []byte
	expires time.Time // zero: no expiry
}

func (e entry) expired(now time.Time) bool { return !e.expires.IsZero() && !now.Before(e.expires) }

const (
	cleanupInterval = 30 * time.Second
	// cleanupBatch bounds one round's work; map iteration order is random, so rounds sample
	// different entries, like Redis' own active expiry.
	cleanupBatch = 1000
)

// NewMemory returns an empty cache with its cleanup running; Close stops it.
func NewMemory() *Memory {
	m := &Memory{
		entries: make(map[string]entry),
		now:     time.Now,
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go m.cleanupLoop(cleanupInterval)
	return m
}

func (m *Memory) cleanupLoop(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.cleanup(cleanupBatch)
		}
	}
}

// cleanup removes expired entries among at most n inspected ones and reports how many it removed.
func (m *Memory) cleanup(n int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	removed := 0
	for k, e := range m.entries {
		if n == 0 {
			break
		}
		n--
		if e.expired(now) {
			delete(m.entries, k)
			removed++
		}
	}
	return removed
}

// Get implements Cache. The returned slice is the caller's own.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		return nil, ErrMiss
	}
	if e.expired(m.now()) {
		delete(m.entries, key)
		return nil, ErrMiss
	}
	return clone(e.value), nil
}

// Set implements Cache. A ttl of 0 keeps the value until it is deleted.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	e := entry{value: clone(value)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ttl > 0 {
		e.expires = m.now().Add(ttl)
	}
	m.entries[key] = e
	return nil
}

// Delete implements Cache.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.entries, k)
	}
	return nil
}

// Ping implements Cache.
func (m *Memory) Ping(context.Context) error { return nil }

// Close stops the cleanup. The cache stays usable; entries then expire only when read.
func (m *Memory) Close() error {
	m.once.Do(func() {
		close(m.stop)
		<-m.done
	})
	return nil
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append([]byte(nil), b...)
}
