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

// writeLocks serializes the read-modify-write commands — update, findAndModify, delete — of each
// collection. FerretDB reads the matching documents, applies the change in Go and writes the result
// back in separate statements, so two such commands on one collection could interleave: both of two
// guarded updates succeed, two $inc lose one. Holding one lock per collection from the read to the
// last write makes each command atomic, as in MongoDB, for every connection of this process; the
// SQLite files belong to one process (the embedding application locks the directory), so that is
// every client. Reads and inserts take no lock: reads see committed rows, and a unique index decides
// between inserts inside SQLite.
type writeLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

// lock takes collection db.coll's lock and returns its release.
func (l *writeLocks) lock(db, coll string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*sync.Mutex{}
	}
	key := db + "\x00" + coll
	m, ok := l.m[key]
	if !ok {
		m = new(sync.Mutex)
		l.m[key] = m
	}
	l.mu.Unlock()

	m.Lock()
	return m.Unlock
}
