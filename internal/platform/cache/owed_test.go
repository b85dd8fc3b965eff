package cache

import (
	"testing"
	"time"
)

func TestOwedKeyIsUntrustedUntilItsDeleteSucceeds(t *testing.T) {
	o := newOwed(10, time.Now)
	if !o.trusts("a") {
		t.Fatal("a fresh cache distrusts a key")
	}
	if delta, over := o.add("a", "b"); delta != 2 || over {
		t.Fatalf("add = %d, %v; want 2, false", delta, over)
	}
	if o.trusts("a") || o.trusts("b") {
		t.Error("an owed key is trusted")
	}
	if !o.trusts("c") {
		t.Error("a key that is not owed is distrusted")
	}
	snap, waiting := o.snapshot()
	if len(snap) != 2 || waiting {
		t.Fatalf("snapshot = %v, %v", snap, waiting)
	}
	if done := o.settle(snap, []string{"a"}); len(done) != 1 || done[0] != "a" {
		t.Errorf("settle = %v, want [a]", done)
	}
	if !o.trusts("a") || o.trusts("b") {
		t.Error("after a's delete: want a trusted, b still owed")
	}
	o.settle(snap, []string{"b"})
	if o.pending() || !o.clean.Load() {
		t.Error("nothing owed, yet the replay has work")
	}
}

// A delete sent before a key failed again may have run before the write that failure is about, so it
// must not settle the newer debt.
func TestOwedKeepsAKeyThatFailedAgainDuringAReplay(t *testing.T) {
	o := newOwed(10, time.Now)
	o.add("k")
	snap, _ := o.snapshot()
	if delta, _ := o.add("k"); delta != 0 {
		t.Errorf("owing an owed key again changed the count by %d", delta)
	}
	if done := o.settle(snap, []string{"k"}); len(done) != 0 {
		t.Errorf("settle forgot %v, owed again after the snapshot", done)
	}
	if o.trusts("k") {
		t.Error("k is trusted though its latest failure was not replayed")
	}
	snap, _ = o.snapshot()
	if done := o.settle(snap, []string{"k"}); len(done) != 1 {
		t.Errorf("a replay after the latest failure did not settle k: %v", done)
	}
}

func TestOwedOverflowDistrustsEverythingForTheLongestTTLAfterAnAnswer(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	o := newOwed(2, func() time.Time { return now })
	o.wrote(time.Minute)
	o.wrote(5 * time.Minute)
	o.add("a", "b")
	delta, over := o.add("c")
	if !over || delta != -2 {
		t.Fatalf("third key: add = %d, %v; want -2 (all forgotten), true", delta, over)
	}
	if o.count() != 0 || o.trusts("x") {
		t.Fatal("after an overflow: want no keys remembered and every key distrusted")
	}
	if _, waiting := o.snapshot(); !waiting || !o.pending() {
		t.Fatal("an overflow does not wait for the cache to answer")
	}
	now = now.Add(time.Hour) // time without an answer does not count
	if o.trusts("x") {
		t.Fatal("trusted again before the cache answered")
	}
	o.answered()
	if o.pending() {
		t.Error("once answered, an overflow needs no replay, only time")
	}
	now = now.Add(5*time.Minute - time.Second)
	if o.trusts("x") {
		t.Fatal("trusted again before the longest TTL passed")
	}
	o.add("y") // owed meanwhile: stays owed after the overflow ends
	now = now.Add(time.Second)
	if !o.trusts("x") || o.trusts("y") {
		t.Error("after the longest TTL: want x trusted, y still owed")
	}
}

func TestOwedOverflowNeverEndsOnceAValueWithoutTTLWasWritten(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	o := newOwed(1, func() time.Time { return now })
	o.wrote(time.Minute)
	o.wrote(0)
	o.add("a", "b")
	o.answered()
	now = now.Add(24 * time.Hour)
	if o.trusts("x") {
		t.Error("trusted again though a value that never expires may be stale")
	}
}
