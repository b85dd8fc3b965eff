package memo

import (
	"sync"
	"testing"
)

func TestMap(t *testing.T) {
	m := New[string, int](2)
	steps := []struct {
		op   string // put, delete or get
		k    string
		v    int
		want bool // get: whether k is remembered
	}{
		{"get", "a", 0, false},
		{"put", "a", 1, false},
		{"get", "a", 1, true},
		{"put", "b", 2, false},
		{"put", "a", 3, false}, // full, but a is there: nothing forgotten
		{"get", "b", 2, true},
		{"get", "a", 3, true},
		{"put", "c", 4, false}, // full and c is new: a and b are forgotten
		{"get", "a", 0, false},
		{"get", "b", 0, false},
		{"get", "c", 4, true},
		{"delete", "c", 0, false},
		{"get", "c", 0, false},
	}
	for i, s := range steps {
		switch s.op {
		case "put":
			m.Put(s.k, s.v)
		case "delete":
			m.Delete(s.k)
		case "get":
			v, ok := m.Get(s.k)
			if ok != s.want || (ok && v != s.v) {
				t.Errorf("step %d: Get(%q) = %d, %v; want %d, %v", i, s.k, v, ok, s.v, s.want)
			}
		}
	}
}

// Concurrent use keeps the bound (run with -race).
func TestMapConcurrent(t *testing.T) {
	m := New[int, int](64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				m.Put(g*1000+i, i)
				m.Get(i)
				m.Delete(i - 1)
			}
		})
	}
	wg.Wait()
	if n := len(m.m); n > 64 {
		t.Fatalf("%d entries, bound 64", n)
	}
}
