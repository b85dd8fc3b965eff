package cache

import (
	"sync"
	"sync/atomic"
	"time"
)

// owed is the bookkeeping of what Resilient still owes the cache it wraps: the keys whose Delete
// failed, and those whose Set failed — a Set that timed out may still be executed later, when its
// value is stale. A key stays owed, and is not trusted, until a delete of it, sent after it was
// owed, has succeeded.
//
// Past max keys it stops remembering them: it forgets them all and distrusts the whole cache until
// every value that might be stale has expired — the longest ttl written, counted from when the
// cache answers again (a Set buffered during an outage lands then, with its full ttl).
type owed struct {
	now func() time.Time
	max int

	mu   sync.Mutex
	keys map[string]uint64 // key → generation of its latest failure
	gen  uint64
	// clean is true when nothing is owed and nothing distrusted: the lock-free path of every Get.
	clean atomic.Bool

	overflow      bool      // keys were forgotten: distrust everything
	distrustUntil time.Time // zero while the cache has not answered since the overflow
	longestTTL    time.Duration
	forever       bool // a value without ttl was written: after an overflow it never expires
}

func newOwed(max int, now func() time.Time) *owed {
	o := &owed{now: now, max: max, keys: make(map[string]uint64)}
	o.clean.Store(true)
	return o
}

// add owes keys. It returns by how much the number of owed keys changed, and whether the bound
// overflowed (the keys were forgotten and the whole cache is distrusted).
func (o *owed) add(keys ...string) (delta int, overflowed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	before := len(o.keys)
	o.gen++
	for _, k := range keys {
		o.keys[k] = o.gen
	}
	if len(o.keys) > o.max {
		clear(o.keys)
		o.overflow, o.distrustUntil = true, time.Time{}
		overflowed = true
	}
	o.clean.Store(false)
	return len(o.keys) - before, overflowed
}

// trusts reports whether key may be read from, or written to, the cache.
func (o *owed) trusts(key string) bool {
	if o.clean.Load() {
		return true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.overflow {
		if o.distrustUntil.IsZero() || o.forever || o.now().Before(o.distrustUntil) {
			return false
		}
		o.overflow = false
		o.updateClean()
	}
	_, owed := o.keys[key]
	return !owed
}

// wrote records the ttl of a value about to be written, for the length of an overflow's distrust.
func (o *owed) wrote(ttl time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ttl <= 0 {
		o.forever = true
	}
	o.longestTTL = max(o.longestTTL, ttl)
}

// snapshot returns the owed keys with their generations, for a replay, and whether an overflow is
// waiting for the cache to answer.
func (o *owed) snapshot() (map[string]uint64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	snap := make(map[string]uint64, len(o.keys))
	for k, g := range o.keys {
		snap[k] = g
	}
	return snap, o.overflow && o.distrustUntil.IsZero()
}

// answered records that the cache answered: an overflow's distrust now ends after the longest ttl.
func (o *owed) answered() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.overflow && o.distrustUntil.IsZero() {
		o.distrustUntil = o.now().Add(o.longestTTL)
	}
}

// settle forgets the keys of deleted that were deleted after their latest failure: a key that
// failed again since snap was taken stays owed, since the delete may have run before that failure.
// It returns the keys forgotten.
func (o *owed) settle(snap map[string]uint64, deleted []string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var done []string
	for _, k := range deleted {
		if g, ok := o.keys[k]; ok && g == snap[k] {
			delete(o.keys, k)
			done = append(done, k)
		}
	}
	o.updateClean()
	return done
}

// pending reports whether a replay still has work: owed keys, or an overflow waiting for the cache
// to answer. An overflow past that point only waits for time, which needs no replay.
func (o *owed) pending() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.keys) > 0 || (o.overflow && o.distrustUntil.IsZero())
}

// count is the number of keys owed.
func (o *owed) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.keys)
}

func (o *owed) updateClean() { o.clean.Store(len(o.keys) == 0 && !o.overflow) }
