// Copyright 2021 FerretDB Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

package pool

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func TestWALSyncEachWaitHasItsOwnSyncWhenAlone(t *testing.T) {
	var syncs int
	s := newWALSyncFunc(func() error { syncs++; return nil })

	for range 5 {
		if err := s.wait(); err != nil {
			t.Fatal(err)
		}
	}

	if syncs != 5 {
		t.Fatalf("5 waits one after the other ran %d syncs, want 5", syncs)
	}
}

// A wait that starts while a sync runs is not served by it (its commit may have come after the
// sync began) but by the next one, which serves every such wait at once.
func TestWALSyncServesTheWaitsQueuedDuringASyncWithOneMore(t *testing.T) {
	started := make(chan int)
	release := make(chan struct{})
	var syncs int
	s := newWALSyncFunc(func() error {
		syncs++
		started <- syncs
		<-release
		return nil
	})

	first := make(chan error)
	go func() { first <- s.wait() }()
	if n := <-started; n != 1 {
		t.Fatalf("sync %d started, want 1", n)
	}

	const queued = 10
	var returned atomic.Int32
	var wg sync.WaitGroup
	for range queued {
		wg.Go(func() {
			if err := s.wait(); err != nil {
				t.Error(err)
			}
			returned.Add(1)
		})
	}
	for { // every queued wait has its ticket
		s.mu.Lock()
		n := s.requested
		s.mu.Unlock()
		if n == 1+queued {
			break
		}
		runtime.Gosched()
	}

	release <- struct{}{}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := <-started; n != 2 {
		t.Fatalf("sync %d started, want 2", n)
	}
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d waits queued during the first sync returned before the second one ended", n)
	}
	release <- struct{}{}
	wg.Wait()

	if syncs != 2 {
		t.Fatalf("%d syncs for 1 + %d waits, want 2", syncs, queued)
	}
}

func TestWALSyncFailsEveryWaitAfterAFailedSync(t *testing.T) {
	failure := errors.New("EIO")
	results := []error{nil, failure, nil}
	var syncs int
	s := newWALSyncFunc(func() error { syncs++; return results[syncs-1] })

	if err := s.wait(); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	for i := range 2 {
		if err := s.wait(); !errors.Is(err, failure) {
			t.Fatalf("wait %d after the failed sync: %v, want %v", i+1, err, failure)
		}
	}
	if syncs != 2 {
		t.Fatalf("%d syncs, want 2 (none after the failure)", syncs)
	}
}

func TestSyncFile(t *testing.T) {
	dir := t.TempDir()
	if err := syncFile(filepath.Join(dir, "missing-wal")); err != nil {
		t.Fatalf("a missing log: %v, want nil", err)
	}

	path := filepath.Join(dir, "db-wal")
	if err := os.WriteFile(path, []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syncFile(path); err != nil {
		t.Fatal(err)
	}
}
