// Package mongotest gives integration tests a MongoDB-wire server: by default an embedded FerretDB in a
// fresh temp dir per test; with MINT_TEST_MONGODB_URI set, that server (e.g. a real MongoDB in CI,
// the source of truth for concurrency tests), with database names unique to the test.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"hash/fnv"
	"log/slog"
	"os"
	"regexp"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// EnvURI names the variable that points tests at an external server.
const EnvURI = "MINT_TEST_MONGODB_URI"

// runID keeps databases of concurrent test runs against one shared server apart.
var runID = func() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

// Open returns a client closed when t ends. Against an external server, the databases named by
// DBName for t are dropped then too.
func Open(t testing.TB) *mongox.Client {
	t.Helper()
	testenv.Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cfg := mongox.Config{URI: os.Getenv(EnvURI), Logger: slog.New(slog.DiscardHandler)}
	if cfg.URI == "" {
		// Not t.TempDir(): subtest names put '#' in it, which the SQLite URL cannot hold.
		dir, err := os.MkdirTemp("", "mint-mongotest-")
		if err != nil {
			t.Fatalf("temp dir: %v", err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		cfg.DataDir = dir
	}
	c, err := mongox.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("mongotest: open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if cfg.URI != "" {
			dropTestDatabases(ctx, t, c)
		}
		if err := c.Close(ctx); err != nil {
			t.Errorf("mongotest: close: %v", err)
		}
	})
	return c
}

// DBName returns the database name a test uses for base: unique to the test and the run, stable
// within the test so that several components of one test share it.
func DBName(t testing.TB, base string) string {
	t.Helper()
	return prefix(t) + "_" + base
}

func prefix(t testing.TB) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(t.Name()))
	return "t" + runID + hex.EncodeToString(h.Sum(nil))
}

func dropTestDatabases(ctx context.Context, t testing.TB, c *mongox.Client) {
	filter := bson.D{{Key: "name", Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(prefix(t)+"_")}}}}
	names, err := c.Mongo().ListDatabaseNames(ctx, filter)
	if err != nil {
		t.Logf("mongotest: list databases: %v", err)
		return
	}
	for _, n := range names {
		if err := c.Database(n).Drop(ctx); err != nil {
			t.Logf("mongotest: drop %s: %v", n, err)
		}
	}
}
