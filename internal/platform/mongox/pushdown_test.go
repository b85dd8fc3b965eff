package mongox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The embedded FerretDB is patched (third_party/ferretdb/PATCHES.md) to push filters and sorts on
// top-level fields down to SQLite's indexes. These tests pin both halves: the hot queries' plans use an
// index, and a pushed-down query answers exactly what the same query evaluated in Go answers, for
// fields holding every kind of value.

func planOf(t *testing.T, db *mongo.Database, coll string, filter, sort bson.D) string {
	t.Helper()
	find := bson.D{{Key: "find", Value: coll}, {Key: "filter", Value: filter}}
	if sort != nil {
		find = append(find, bson.E{Key: "sort", Value: sort})
	}
	var res bson.M
	if err := db.RunCommand(context.Background(), bson.D{{Key: "explain", Value: find}}).Decode(&res); err != nil {
		t.Fatalf("explain %v: %v", filter, err)
	}
	return fmt.Sprint(res["queryPlanner"])
}

func TestEmbeddedQueriesUseTheirIndex(t *testing.T) {
	ctx := context.Background()
	db := openEmbeddedT(t, tempDir(t), nil).Database("mongox")
	txs, mails, terms := db.Collection("txs"), db.Collection("mails"), db.Collection("terms")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	idx := func(name string, keys bson.D, unique bool) mongo.IndexModel {
		return mongo.IndexModel{Keys: keys, Options: options.Index().SetName(name).SetUnique(unique)}
	}
	must(EnsureIndexes(ctx, txs,
		idx("user", bson.D{{Key: "userId", Value: 1}, {Key: "createdAt", Value: -1}}, false),
		idx("recipient", bson.D{{Key: "recipientId", Value: 1}, {Key: "createdAt", Value: -1}}, false),
		idx("key", bson.D{{Key: "key", Value: 1}}, true),
		idx("status", bson.D{{Key: "status", Value: 1}, {Key: "drivenAt", Value: 1}}, false),
		idx("outboxSince", bson.D{{Key: "outboxSince", Value: 1}}, false)))
	must(EnsureIndexes(ctx, mails, idx("due", bson.D{{Key: "state", Value: 1}, {Key: "nextAttemptAt", Value: 1}}, false)))
	must(EnsureIndexes(ctx, terms, idx("term", bson.D{{Key: "term", Value: 1}}, false)))
	now := time.Now()
	var docs []any
	for i := range 300 {
		docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("tx%03d", i)}, {Key: "userId", Value: fmt.Sprintf("u%d", i%10)},
			{Key: "recipientId", Value: fmt.Sprintf("u%d", (i+1)%10)}, {Key: "key", Value: fmt.Sprintf("k%03d", i)},
			{Key: "status", Value: []string{"completed", "failed", "pending"}[i%3]}, {Key: "type", Value: "transfer"},
			{Key: "createdAt", Value: now.Add(time.Duration(i) * time.Second)}})
		if i%100 == 0 { // a few documents owing events (the outbox relay's marker)
			docs[i] = append(docs[i].(bson.D), bson.E{Key: "outboxSince", Value: now})
		}
	}
	_, err := txs.InsertMany(ctx, docs)
	must(err)
	_, err = mails.InsertOne(ctx, bson.D{{Key: "state", Value: "pending"}, {Key: "nextAttemptAt", Value: now}})
	must(err)
	_, err = terms.InsertMany(ctx, []any{bson.D{{Key: "term", Value: "ADA"}}, bson.D{{Key: "term", Value: "DA"}}})
	must(err)

	for _, tc := range []struct {
		coll         string
		filter, sort bson.D
	}{
		{"txs", bson.D{{Key: "userId", Value: "u3"}}, bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{"txs", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "userId", Value: "u3"}}, bson.D{{Key: "recipientId", Value: "u3"}}}}},
			bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		// The transaction list as the transactions service asks it: what the caller sent, and what it
		// received once completed; with a type filter too.
		{"txs", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "userId", Value: "u3"}},
			bson.D{{Key: "recipientId", Value: "u3"}, {Key: "status", Value: "completed"}}}}},
			bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{"txs", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "userId", Value: "u3"}, {Key: "status", Value: "completed"}},
			bson.D{{Key: "recipientId", Value: "u3"}, {Key: "status", Value: "completed"}}}}, {Key: "type", Value: "transfer"}},
			bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{"txs", bson.D{{Key: "key", Value: "k007"}}, nil},
		{"txs", bson.D{{Key: "outboxSince", Value: bson.D{{Key: "$lt", Value: now.Add(time.Second)}}}}, nil}, // the outbox sweep
		{"txs", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"tx001", "tx002"}}}}}, nil},
		{"mails", bson.D{{Key: "state", Value: "pending"}, {Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: now}}}},
			bson.D{{Key: "nextAttemptAt", Value: 1}}},
		{"terms", bson.D{{Key: "term", Value: bson.D{{Key: "$gte", Value: "AD"}, {Key: "$lt", Value: "AD\U0010FFFF"}}}}, // the user search
			bson.D{{Key: "term", Value: 1}}},
	} {
		plan := planOf(t, db, tc.coll, tc.filter, tc.sort)
		if !strings.Contains(plan, "USING INDEX") || strings.Contains(plan, "SCAN") {
			t.Errorf("%s %v: the plan does not search an index: %s", tc.coll, tc.filter, plan)
		}
	}
	if plan := planOf(t, db, "txs", bson.D{{Key: "createdAt", Value: bson.D{{Key: "$ne", Value: now}}}}, nil); !strings.Contains(plan, "SCAN") {
		t.Errorf("a filter that cannot be pushed down searched an index: %s", plan)
	}
}

// TestEmbeddedPushdownAnswersLikeGo runs each filter and sort through find (pushed down to SQL) and
// through an aggregate whose filter is wrapped in a double $nor, which nothing pushes down and whose
// $sort is applied in Go, and wants the same documents in the same order.
func TestEmbeddedPushdownAnswersLikeGo(t *testing.T) {
	ctx := context.Background()
	db := openEmbeddedT(t, tempDir(t), nil).Database("mongox")
	day := func(y int) time.Time { return time.Date(y, 6, 1, 12, 0, 0, 0, time.UTC) }
	oid1, oid2 := bson.NewObjectID(), bson.NewObjectID()
	scalars := []any{"a", "b", "B", "ä", "", "[x", int32(1), int64(2), 1.5, 1.0, int64(-3), int64(1) << 60,
		day(2020), day(1999), day(1960), day(2030), true, false, nil, oid1, oid2}
	composites := []any{bson.A{"b", int32(5)}, bson.A{}, bson.A{day(2021)}, bson.D{{Key: "x", Value: 1}},
		bson.Binary{Subtype: 0, Data: []byte{1, 2}}}
	fill := func(name string, values []any, unique bool) *mongo.Collection {
		coll := db.Collection(name)
		keys := bson.D{{Key: "f", Value: 1}}
		if err := EnsureIndexes(ctx, coll, mongo.IndexModel{Keys: keys, Options: options.Index().SetUnique(unique)},
			mongo.IndexModel{Keys: bson.D{{Key: "g", Value: 1}, {Key: "f", Value: -1}}}); err != nil {
			t.Fatal(err)
		}
		for i, v := range values {
			d := bson.D{{Key: "_id", Value: fmt.Sprintf("d%02d", i)}, {Key: "g", Value: []string{"x", "y"}[i%2]}, {Key: "f", Value: v}}
			if _, err := coll.InsertOne(ctx, d); err != nil {
				t.Fatalf("insert %v: %v", d, err)
			}
		}
		if _, err := coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "missing"}, {Key: "g", Value: "x"}},
			bson.D{{Key: "_id", Value: "reserved"}, {Key: "g", Value: "y"}, {Key: "_ferretdb_sjson", Value: "x"}}}); err != nil {
			t.Fatal(err)
		}
		return coll
	}
	uniqueValues := slices.DeleteFunc(slices.Clone(scalars), func(v any) bool { return v == nil || v == 1.0 }) // 1.0 equals 1
	colls := []*mongo.Collection{fill("scalars", scalars, false), fill("all", append(slices.Clone(scalars), composites...), false),
		fill("unique", uniqueValues, true)}

	op := func(o string, v any) bson.D { return bson.D{{Key: "f", Value: bson.D{{Key: o, Value: v}}}} }
	filters := []bson.D{
		{},
		{{Key: "f", Value: "b"}}, {{Key: "f", Value: int64(5)}}, {{Key: "f", Value: 1.0}}, {{Key: "f", Value: true}},
		{{Key: "f", Value: day(2021)}}, {{Key: "f", Value: oid1}}, {{Key: "f", Value: "[x"}},
		op("$in", bson.A{"a", "b", int32(2)}), op("$in", bson.A{"ä", oid2}), op("$eq", "B"),
		op("$gt", int32(1)), op("$lte", int64(2)), op("$gte", "b"), op("$lt", "b"), op("$lt", "\uffff"),
		op("$lte", day(2020)), op("$gt", day(1999)), op("$lt", day(1970)),
		{{Key: "f", Value: bson.D{{Key: "$gte", Value: day(1999)}, {Key: "$lt", Value: day(2021)}}}},
		{{Key: "$or", Value: bson.A{bson.D{{Key: "f", Value: "a"}}, bson.D{{Key: "g", Value: "y"}}}}},
		{{Key: "$or", Value: bson.A{bson.D{{Key: "f", Value: "a"}}, bson.D{{Key: "f", Value: bson.D{{Key: "$ne", Value: "b"}}}}}}},
		// Branches of several conditions, of which the pushdown keeps one on a field leading an index.
		{{Key: "$or", Value: bson.A{bson.D{{Key: "g", Value: "x"}, {Key: "f", Value: "a"}}, bson.D{{Key: "f", Value: true}, {Key: "g", Value: "y"}}}}},
		{{Key: "$or", Value: bson.A{bson.D{{Key: "g", Value: "y"}, op("$gt", int32(1))[0]}, bson.D{{Key: "f", Value: oid1}}}}, {Key: "g", Value: "y"}},
		{{Key: "$and", Value: bson.A{bson.D{{Key: "g", Value: "x"}}, op("$gte", int64(0))}}},
		{{Key: "g", Value: "x"}, {Key: "f", Value: bson.D{{Key: "$exists", Value: true}}}},
		{{Key: "_ferretdb_sjson", Value: "x"}}, // the name of the table's column
	}
	sorts := []bson.D{
		nil,
		{{Key: "f", Value: 1}, {Key: "_id", Value: 1}},
		{{Key: "f", Value: -1}, {Key: "_id", Value: -1}},
		{{Key: "g", Value: 1}, {Key: "f", Value: -1}, {Key: "_id", Value: 1}},
	}
	ids := func(cur *mongo.Cursor, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var docs []struct {
			ID string `bson:"_id"`
		}
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(docs))
		for i, d := range docs {
			out[i] = d.ID
		}
		return out
	}
	for _, coll := range colls {
		for _, filter := range filters {
			for _, sort := range sorts {
				for _, page := range [][2]int64{{0, 0}, {2, 3}} {
					opts := options.Find().SetSkip(page[0]).SetLimit(page[1])
					pipeline := bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "$nor", Value: bson.A{bson.D{{Key: "$nor", Value: bson.A{filter}}}}}}}}}
					if sort != nil {
						opts.SetSort(sort)
						pipeline = append(pipeline, bson.D{{Key: "$sort", Value: sort}})
					}
					if page[0] > 0 {
						pipeline = append(pipeline, bson.D{{Key: "$skip", Value: page[0]}})
					}
					if page[1] > 0 {
						pipeline = append(pipeline, bson.D{{Key: "$limit", Value: page[1]}})
					}
					got := ids(coll.Find(ctx, filter, opts))
					want := ids(coll.Aggregate(ctx, pipeline))
					if sort == nil && page[1] == 0 { // no order to compare
						slices.Sort(got)
						slices.Sort(want)
					}
					if sort == nil && page[1] > 0 {
						continue // which page of an unsorted result is unspecified
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s: find %v sort %v skip/limit %v = %v, evaluated in Go %v", coll.Name(), filter, sort, page, got, want)
					}
				}
				n, err := coll.CountDocuments(ctx, filter)
				if err != nil {
					t.Fatal(err)
				}
				if want := len(ids(coll.Aggregate(ctx, bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "$nor",
					Value: bson.A{bson.D{{Key: "$nor", Value: bson.A{filter}}}}}}}}}))); n != int64(want) {
					t.Errorf("%s: count %v = %d, want %d", coll.Name(), filter, n, want)
				}
			}
		}
	}
}
