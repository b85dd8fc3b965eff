package mongotest_test

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest"
)

func TestOpenEmbedded(t *testing.T) {
	c := mongotest.Open(t)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a, b := mongotest.DBName(t, "wallet"), mongotest.DBName(t, "wallet"); a != b {
		t.Errorf("DBName not stable within a test: %q, %q", a, b)
	}
}

// TestExternalServerDatabasesAreDropped points the helper at a server of its own (an embedded one
// standing in for MINT_TEST_MONGODB_URI) and checks the test's databases are gone afterwards.
func TestExternalServerDatabasesAreDropped(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "mongotest-ext-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	srv, err := mongox.Open(ctx, mongox.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(ctx) })
	if _, err := srv.Database("keepme").Collection("x").InsertOne(ctx, bson.D{{Key: "a", Value: 1}}); err != nil {
		t.Fatal(err)
	}

	var name string
	t.Run("user", func(t *testing.T) {
		t.Setenv(mongotest.EnvURI, srv.EmbeddedURI())
		c := mongotest.Open(t)
		name = mongotest.DBName(t, "wallet")
		if _, err := c.Database(name).Collection("x").InsertOne(ctx, bson.D{{Key: "a", Value: 1}}); err != nil {
			t.Fatal(err)
		}
	})
	names, err := srv.Mongo().ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, name) || !slices.Contains(names, "keepme") {
		t.Errorf("databases after the test: %v; want %q dropped and keepme kept", names, name)
	}
}
