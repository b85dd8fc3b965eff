// Package memo holds what a process remembers to save a database read: a map safe for concurrent use,
// bounded by starting afresh when full, so its memory stays bounded without any bookkeeping per entry.
// It suits facts that are never stale (a user that exists, an id that never changes) or guesses that
// the caller checks (a write guarded by what it remembered); forgetting costs a read, nothing more.
package memo

import "sync"

// Map remembers a bounded number of values by key. The zero value is not usable: call New.
type Map[K comparable, V any] struct {
	mu  sync.Mutex
	m   map[K]V
	max int
}

// New returns a Map that holds at most limit entries (at least 1).
func New[K comparable, V any](limit int) *Map[K, V] {
	return &Map[K, V]{m: map[K]V{}, max: max(limit, 1)}
}

// Get returns the value remembered for k.
func (m *Map[K, V]) Get(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok
}

// Put remembers v for k. When the map is full and k is new, everything else is forgotten first.
func (m *Map[K, V]) Put(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[k]; !ok && len(m.m) >= m.max {
		m.m = map[K]V{}
	}
	m.m[k] = v
}

// Delete forgets k.
func (m *Map[K, V]) Delete(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, k)
}
