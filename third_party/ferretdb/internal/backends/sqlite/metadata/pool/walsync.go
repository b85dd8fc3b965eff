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
	"io/fs"
	"os"
	"sync"
)

// walSync makes a database's committed transactions durable, many at a time (patch: not in upstream
// FerretDB). The pool opens every database with synchronous=NORMAL, so a commit writes its frames to
// the write-ahead log without waiting for the disk; the handler then calls wait before it answers a
// write, and wait returns once an fsync of the log that started after the call has finished. One
// fsync serves every writer that committed while the previous one was running: group commit. A
// process crash loses nothing either way (the frames are in the kernel's page cache); a power cut
// loses no answered write, as with synchronous=FULL, while the write lock is held only for the
// commit, not for the fsync.
type walSync struct {
	sync func() error // fsyncs the log; a field so that the batching can be tested

	mu        sync.Mutex
	cond      *sync.Cond
	requested uint64 // tickets handed out
	done      uint64 // every ticket up to this one has had its fsync
	err       error  // the first failed fsync: sticky, see wait
	running   bool
}

// newWALSync returns the syncer of the log at path (a database file's path + "-wal").
func newWALSync(path string) *walSync {
	return newWALSyncFunc(func() error { return syncFile(path) })
}

func newWALSyncFunc(fsync func() error) *walSync {
	s := &walSync{sync: fsync}
	s.cond = sync.NewCond(&s.mu)

	return s
}

// wait returns once every transaction committed before the call is on disk. After one failed fsync
// every wait fails: the kernel may have dropped the pages it could not write, so a later fsync that
// succeeds proves nothing about them.
func (s *walSync) wait() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.err != nil {
		return s.err
	}

	s.requested++
	ticket := s.requested

	for s.done < ticket {
		if s.running {
			s.cond.Wait()
			continue
		}

		// This caller runs the next fsync for every ticket handed out so far; a ticket taken while
		// it runs waits for the one after, since its commit may have come after the fsync began.
		s.running = true
		covers := s.requested
		s.mu.Unlock()
		err := s.sync()
		s.mu.Lock()
		s.running = false
		s.done = covers
		if err != nil && s.err == nil {
			s.err = err
		}
		s.cond.Broadcast()
	}

	return s.err
}

// syncFile flushes the file at path to the disk; a missing file (no write since the log was removed)
// has nothing to sync.
func syncFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}

	err = syncData(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}

	return err
}
