package mongox

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The embedded FerretDB is patched (third_party/ferretdb/PATCHES.md) so that a filter with an _id
// reads that one row through the _id index, even when the filter has more keys. These tests pin both
// halves: the plan uses the index, and the other keys still decide.

func sqlitePlan(t *testing.T, db *mongo.Database, coll string, filter bson.D) string {
	t.Helper()
	var res bson.M
	cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: coll}, {Key: "filter", Value: filter}}}}
	if err := db.RunCommand(context.Background(), cmd).Decode(&res); err != nil {
		t.Fatalf("explain %v: %v", filter, err)
	}
	return fmt.Sprint(res["queryPlanner"])
}

func TestEmbeddedIDLookupsUseTheIndex(t *testing.T) {
	ctx := context.Background()
	c := openEmbeddedT(t, tempDir(t), nil)
	db := c.Database("mongox")
	coll := db.Collection("things")
	var docs []any
	for i := range 200 {
		docs = append(docs, thing{ID: fmt.Sprintf("t%03d", i), Name: "pending", N: int64(i)})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	oid := bson.NewObjectID()
	if _, err := db.Collection("oids").InsertOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: "x"}}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		coll   string
		filter bson.D
		index  bool
	}{
		{"things", bson.D{{Key: "_id", Value: "t150"}}, true},
		{"things", bson.D{{Key: "_id", Value: "t150"}, {Key: "name", Value: "pending"}}, true},
		{"things", bson.D{{Key: "name", Value: "pending"}, {Key: "_id", Value: "t150"}}, true},
		{"oids", bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: "x"}}, true},
		{"things", bson.D{{Key: "name", Value: "pending"}}, false},
		{"things", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"t1", "t2"}}}}}, true},
	} {
		plan := sqlitePlan(t, db, tc.coll, tc.filter)
		if got := strings.Contains(plan, "USING INDEX"); got != tc.index {
			t.Errorf("%v: uses the _id index = %v, want %v; plan %s", tc.filter, got, tc.index, plan)
		}
	}

	// The other keys still decide: a guarded update whose guard does not hold matches nothing.
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "t150"}, {Key: "name", Value: "done"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: int64(-1)}}}})
	if err != nil || res.MatchedCount != 0 {
		t.Fatalf("update with a false guard: %+v, %v", res, err)
	}
	res, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "t150"}, {Key: "name", Value: "pending"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "done"}}}})
	if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
		t.Fatalf("update with a true guard: %+v, %v", res, err)
	}
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: "t150"}, {Key: "name", Value: "pending"}})
	if err != nil || n != 0 {
		t.Fatalf("count after the guarded update: %d, %v", n, err)
	}
	var got thing
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "t150"}}).Decode(&got); err != nil || got.Name != "done" || got.N != 150 {
		t.Fatalf("t150 = %+v, %v", got, err)
	}
	del, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "t151"}, {Key: "name", Value: "done"}})
	if err != nil || del.DeletedCount != 0 {
		t.Fatalf("delete with a false guard: %+v, %v", del, err)
	}
}

// BenchmarkEmbeddedGuardedUpdate is the saga's hot write, an update guarded by state, on a collection
// of 5,000 documents: with the patch it reads one row (an unpatched FerretDB scans all 5,000).
func BenchmarkEmbeddedGuardedUpdate(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	c, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = c.Close(ctx) }()
	coll := c.Database("mongox").Collection("things")
	var docs []any
	for i := range 5000 {
		docs = append(docs, thing{ID: fmt.Sprintf("t%05d", i), Name: "v0", N: int64(i)})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("t%05d", i%5000)
		from, to := fmt.Sprintf("v%d", i/5000), fmt.Sprintf("v%d", i/5000+1)
		res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "name", Value: from}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: to}}}})
		if err != nil || res.ModifiedCount != 1 {
			b.Fatalf("update %s: %+v, %v", id, res, err)
		}
	}
}
