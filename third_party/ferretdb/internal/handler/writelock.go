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

package handler

import "sync"

// AtomicWritesFeature is the buildInfo.ferretdbFeatures key that tells clients this server applies
// update, findAndModify and delete atomically per document, so they may use many connections.
// (Patch: not in upstream FerretDB.)
const AtomicWritesFeature = "atomicWrites"

// writeLocks serializes the writes to each database: update, findAndModify and delete from their
// read to their last write, and inserts. FerretDB reads the matching documents, applies the change in
// Go and writes the result back in separate statements, so two such commands on one document could
// interleave: both of two guarded updates succeed, two $inc lose one. Holding the database's lock from
// the read to the last write makes each command atomic, as in MongoDB, for every connection of this
// process; the SQLite files belong to one process (the embedding application locks the directory),
// so that is every client. One lock per database rather than per collection: a database is one
// SQLite file, which takes one writer at a time anyway, and a second writer would only wait in
// SQLite's busy handler, which sleeps. Reads take no lock: they see committed rows, in parallel.
type writeLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

// lock takes database db's write lock and returns its release.
func (l *writeLocks) lock(db string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*sync.Mutex{}
	}
	m, ok := l.m[db]
	if !ok {
		m = new(sync.Mutex)
		l.m[db] = m
	}
	l.mu.Unlock()

	m.Lock()
	return m.Unlock
}
