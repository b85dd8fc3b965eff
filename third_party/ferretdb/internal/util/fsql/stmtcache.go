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

package fsql

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statements a stmtCache keeps. The backends build their SQL from a
// handful of templates per collection (a query with an IN list makes one text per list length), so
// a busy server needs far fewer; texts beyond the bound run unprepared, as they did before the cache.
const maxCachedStmts = 512

// stmtCache keeps one prepared statement per SQL text, so that a query or write that runs again is
// not compiled again: without it the SQLite driver parses and plans every statement at every call,
// which took about 6 % of an embedded server's CPU under load. database/sql prepares a cached
// statement on each pool connection the first time it runs there, and keeps it until the cache is
// closed.
type stmtCache struct {
	db *sql.DB

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// get returns the prepared statement of query, or nil when the cache is full (the caller then runs
// query unprepared). An error is the one preparing query gave: the statement is invalid.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	s, ok := c.stmts[query]
	full := len(c.stmts) >= maxCachedStmts
	c.mu.RUnlock()

	if ok || full {
		return s, nil
	}

	// Prepared outside the lock: preparing takes a pool connection, which may have to wait for one
	// that a caller blocked on this lock holds.
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	if prev, ok := c.stmts[query]; ok {
		_ = s.Close()
		return prev, nil
	}

	if len(c.stmts) >= maxCachedStmts {
		_ = s.Close()
		return nil, nil
	}

	c.stmts[query] = s

	return s, nil
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()

	for q, s := range c.stmts {
		_ = s.Close()
		delete(c.stmts, q)
	}
}
