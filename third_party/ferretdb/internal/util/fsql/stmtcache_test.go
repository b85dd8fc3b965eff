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
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite" // register database/sql driver
)

func openTestDB(t *testing.T) *DB {
	t.Helper()

	sqlDB, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "test.sqlite")+"?_pragma=journal_mode(wal)&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}

	db := WrapDB(sqlDB, "test", slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = db.Close() })

	if _, err = db.ExecContext(context.Background(), `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}

	return db
}

func (c *stmtCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()

	return len(c.stmts)
}

func TestStatementsArePreparedOncePerText(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)

	for i := range 50 {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}

	var wg sync.WaitGroup

	for i := range 50 {
		wg.Go(func() {
			var v string
			if err := db.QueryRowContext(ctx, `SELECT v FROM t WHERE k = ?`, i).Scan(&v); err != nil {
				t.Error(err)
				return
			}

			if want := fmt.Sprint("v", i); v != want {
				t.Errorf("row %d: got %q, want %q", i, v, want)
			}
		})
	}

	wg.Wait()

	// Both texts, and the CREATE TABLE, once each.
	if n := db.stmts.len(); n != 3 {
		t.Errorf("%d statements cached, want 3", n)
	}
}

func TestTransactionsRunCachedWritesAndTheirOwnQueries(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)

	err := db.InTransaction(ctx, func(tx *Tx) error {
		for i := range 10 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`, i, "a"); err != nil {
				return err
			}
		}

		// Two queries of one text open at once on the transaction's connection: each must keep its
		// own position.
		outer, err := tx.QueryContext(ctx, `SELECT k FROM t ORDER BY k`)
		if err != nil {
			return err
		}
		defer outer.Close()

		for want := 0; outer.Next(); want++ {
			var k int
			if err := outer.Scan(&k); err != nil {
				return err
			}

			if k != want {
				return fmt.Errorf("outer query at %d, want %d", k, want)
			}

			inner, err := tx.QueryContext(ctx, `SELECT k FROM t ORDER BY k`)
			if err != nil {
				return err
			}

			inner.Next()
			_ = inner.Close()
		}

		return outer.Err()
	})
	if err != nil {
		t.Fatal(err)
	}

	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM t WHERE v = 'a'`).Scan(&n); err != nil || n != 10 {
		t.Fatalf("count: %d, %v; want 10", n, err)
	}
}

func TestTheCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)

	for i := range maxCachedStmts + 20 {
		var k int

		q := fmt.Sprintf(`SELECT %d`, i)
		if err := db.QueryRowContext(ctx, q).Scan(&k); err != nil || k != i {
			t.Fatalf("%s: %d, %v", q, k, err)
		}
	}

	if n := db.stmts.len(); n != maxCachedStmts {
		t.Errorf("%d statements cached, want the bound %d", n, maxCachedStmts)
	}
}

func TestAnInvalidStatementFailsAsBefore(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)

	if _, err := db.ExecContext(ctx, `INSERT INTO missing VALUES (1)`); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("exec: %v, want no such table", err)
	}

	if _, err := db.QueryContext(ctx, `SELECT * FROM missing`); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("query: %v, want no such table", err)
	}

	if err := db.QueryRowContext(ctx, `SELECT * FROM missing`).Scan(); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("query row: %v, want no such table", err)
	}

	// Once the table exists, the same text runs.
	if _, err := db.ExecContext(ctx, `CREATE TABLE missing (k)`); err != nil {
		t.Fatal(err)
	}

	if _, err := db.ExecContext(ctx, `INSERT INTO missing VALUES (1)`); err != nil {
		t.Errorf("exec after create: %v", err)
	}
}
