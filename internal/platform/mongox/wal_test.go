package mongox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The embedded FerretDB is patched (third_party/ferretdb/PATCHES.md) to end an update's query before
// its write. Upstream kept the query's read transaction open across the write, so SQLite could never
// restart its write-ahead log under a run of updates: the log grew by every page written (about 1.7 GB
// in 10,000 transfers) and every read had to search it. With the patch the log restarts once a
// checkpoint has copied it back, and stays near SQLite's checkpoint size (1,000 pages, 4 MiB).
func TestWriteAheadLogRestartsUnderUpdates(t *testing.T) {
	ctx := context.Background()
	dir := tempDir(t)
	c := openEmbeddedT(t, dir, nil)
	coll := c.Database("walrestart").Collection("things")
	pad := strings.Repeat("x", 2000)
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 0}, {Key: "pad", Value: pad}}); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		// As the saga writes: an update guarded by a field, and a find-and-modify.
		res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: i}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "pad", Value: fmt.Sprint(i, pad)}}}})
		if err != nil || res.ModifiedCount != 1 {
			t.Fatalf("update %d: %+v, %v", i, res, err)
		}
	}
	if err := coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}},
		options.FindOneAndUpdate()).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "db", "walrestart.sqlite-wal"))
	if err != nil {
		t.Fatal(err)
	}
	// 3,000 commits of at least two 4 KiB pages each would be 24 MiB without a restart.
	if st.Size() > 8<<20 {
		t.Fatalf("write-ahead log is %d bytes after 3,000 updates: it never restarted", st.Size())
	}
}
