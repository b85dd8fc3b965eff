package mongox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// tempDir is os.MkdirTemp, not t.TempDir: subtest dirs contain '#', which the SQLite URL cannot hold.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mongox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func openEmbeddedT(t *testing.T, dir string, reg prometheus.Registerer) *Client {
	t.Helper()
	c, err := Open(context.Background(), Config{DataDir: dir, Registerer: reg})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

type thing struct {
	ID   string `bson:"_id"`
	Name string `bson:"name"`
	N    int64  `bson:"n"`
}

func TestEmbeddedKeepsDataAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := tempDir(t)

	c, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !c.IsFerretDB() {
		t.Error("embedded server not detected as FerretDB")
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	coll := c.Database("mongox").Collection("things")
	if _, err := coll.InsertOne(ctx, thing{ID: "a", Name: "alpha", N: 1 << 60}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var got thing
	if err := coll.FindOne(ctx, bson.D{{Key: "name", Value: "alpha"}}).Decode(&got); err != nil {
		t.Fatalf("find: %v", err)
	}
	if got.N != 1<<60 {
		t.Errorf("n = %d, want %d", got.N, int64(1<<60))
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}

	c2 := openEmbeddedT(t, dir, nil)
	got = thing{}
	if err := c2.Database("mongox").Collection("things").FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil {
		t.Fatalf("find after restart: %v", err)
	}
	if got.Name != "alpha" {
		t.Errorf("after restart got %+v", got)
	}
}

func TestOpenRejectsDataDirWithURLCharacters(t *testing.T) {
	for _, dir := range []string{"", "/tmp/a#b", "/tmp/a?b"} {
		if c, err := Open(context.Background(), Config{DataDir: dir}); err == nil {
			_ = c.Close(context.Background())
			t.Errorf("Open(DataDir=%q) succeeded, want error", dir)
		}
	}
}

// TestDataDirTakesOneServer: a second embedded server on a data dir in use is refused, naming the
// holder, and the dir is free again once the first one closes.
func TestDataDirTakesOneServer(t *testing.T) {
	ctx := context.Background()
	dir := tempDir(t)
	first, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Open(ctx, Config{DataDir: dir})
	if err == nil {
		_ = second.Close(ctx)
		_ = first.Close(ctx)
		t.Fatal("a second server opened a data dir in use")
	}
	if want := fmt.Sprintf("in use by another process (pid %d)", os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatalf("open after the holder closed: %v", err)
	}
	_ = again.Close(ctx)
}

func TestUniqueIndexAndDuplicateKey(t *testing.T) {
	ctx := context.Background()
	c := openEmbeddedT(t, tempDir(t), nil)
	coll := c.Database("mongox").Collection("users")
	idx := mongo.IndexModel{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetUnique(true)}
	for range 2 { // idempotent
		if err := EnsureIndexes(ctx, coll, idx); err != nil {
			t.Fatalf("EnsureIndexes: %v", err)
		}
	}
	if _, err := coll.InsertOne(ctx, thing{ID: "1", Name: "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, thing{ID: "2", Name: "bob"}); err != nil {
		t.Fatal(err)
	}

	_, err := coll.InsertOne(ctx, thing{ID: "3", Name: "ann"})
	if !IsDuplicateKey(err) {
		t.Errorf("insert of a duplicate: IsDuplicateKey(%v) = false", err)
	}
	// FerretDB reports a duplicate caused by an update as code 1, not 11000.
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "2"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "ann"}}}})
	if !IsDuplicateKey(err) {
		t.Errorf("update to a duplicate: IsDuplicateKey(%v) = false", err)
	}
	if _, err := coll.InsertOne(ctx, thing{ID: "4", Name: "cy"}); IsDuplicateKey(err) || err != nil {
		t.Errorf("insert of a new key: %v", err)
	}
}

func TestIsDuplicateKey(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("E11000 duplicate key"), false},
		{"mongodb 11000", mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000 duplicate key error"}}}, true},
		{"ferretdb sqlite", mongo.CommandError{Code: 1, Name: "InternalError", Message: "UNIQUE constraint failed: users.name"}, true},
		{"ferretdb postgresql", mongo.CommandError{Code: 1, Name: "InternalError", Message: `ERROR: duplicate key value violates unique constraint "x"`}, true},
		{"other internal error", mongo.CommandError{Code: 1, Name: "InternalError", Message: "disk full"}, false},
		{"wrapped", errors.Join(errors.New("ctx"), mongo.CommandError{Code: 11000}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsDuplicateKey(tt.err); got != tt.want {
				t.Errorf("IsDuplicateKey(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestServerFromBuildInfo(t *testing.T) {
	doc := func(d bson.D) bson.Raw {
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	tests := []struct {
		name string
		info bson.D
		want server
	}{
		{"MongoDB", bson.D{{Key: "version", Value: "7.0.12"}}, server{}},
		{"FerretDB", bson.D{{Key: "version", Value: "7.0.42"}, {Key: "ferretdbVersion", Value: "v1.24.2"},
			{Key: "ferretdbFeatures", Value: bson.D{{Key: "aggregationStages", Value: bson.A{"$match"}}}}}, server{ferret: true}},
		{"FerretDB with atomic writes", bson.D{{Key: "ferretdbVersion", Value: "v1.24.2"},
			{Key: "ferretdbFeatures", Value: bson.D{{Key: "atomicWrites", Value: true}}}}, server{ferret: true, atomicWrites: true}},
		{"atomic writes off", bson.D{{Key: "ferretdbVersion", Value: "x"},
			{Key: "ferretdbFeatures", Value: bson.D{{Key: "atomicWrites", Value: false}}}}, server{ferret: true}},
		{"atomic writes not a boolean", bson.D{{Key: "ferretdbVersion", Value: "x"},
			{Key: "ferretdbFeatures", Value: bson.D{{Key: "atomicWrites", Value: "yes"}}}}, server{ferret: true}},
	}
	for _, tt := range tests {
		if got := serverFrom(doc(tt.info)); got != tt.want {
			t.Errorf("%s: serverFrom = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestAtomicWritesOnManyConnections: the embedded server is patched to apply each write atomically,
// so clients get a normal pool, and several clients (as several processes would be) racing on the
// same documents through many connections lose nothing and double nothing.
func TestAtomicWritesOnManyConnections(t *testing.T) {
	ctx := context.Background()
	srv, err := ServeEmbedded(tempDir(t), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	var colls []*mongo.Collection
	for range 3 {
		c, err := Open(ctx, Config{URI: srv.URI() + "?maxPoolSize=20"})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = c.Close(ctx) })
		if !c.IsFerretDB() || c.singleConn {
			t.Fatalf("IsFerretDB = %v, singleConn = %v; want FerretDB with a normal pool", c.IsFerretDB(), c.singleConn)
		}
		colls = append(colls, c.Database("mongox").Collection("race"))
	}
	const workers = 24
	race := func(op func(coll *mongo.Collection, w int)) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { op(colls[w%len(colls)], w) })
		}
		wg.Wait()
	}
	id := func(s string) bson.D { return bson.D{{Key: "_id", Value: s}} }
	if _, err := colls[0].InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "counter"}, {Key: "n", Value: int64(0)}},
		bson.D{{Key: "_id", Value: "wallet"}, {Key: "balance", Value: int64(50)}},
		bson.D{{Key: "_id", Value: "tx"}, {Key: "status", Value: "pending"}},
	}); err != nil {
		t.Fatal(err)
	}
	read := func(key string) bson.M {
		var m bson.M
		if err := colls[0].FindOne(ctx, id(key)).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	t.Run("$inc loses nothing", func(t *testing.T) {
		race(func(coll *mongo.Collection, _ int) {
			for range 20 {
				if _, err := coll.UpdateOne(ctx, id("counter"), bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int64(1)}}}}); err != nil {
					t.Error(err)
				}
			}
		})
		if n := read("counter")["n"]; n != int64(workers*20) {
			t.Errorf("n = %v, want %d", n, workers*20)
		}
	})
	t.Run("a guarded transition succeeds once", func(t *testing.T) {
		var won atomic.Int32
		race(func(coll *mongo.Collection, w int) {
			res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "tx"}, {Key: "status", Value: "pending"}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "processing"}, {Key: "by", Value: w}}}})
			if err != nil {
				t.Error(err)
				return
			}
			won.Add(int32(res.ModifiedCount))
		})
		if won.Load() != 1 {
			t.Errorf("%d of %d concurrent pending → processing updates succeeded, want exactly 1", won.Load(), workers)
		}
	})
	t.Run("a guarded debit never overdraws", func(t *testing.T) {
		var debits atomic.Int32
		race(func(coll *mongo.Collection, _ int) {
			for range 5 {
				res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "wallet"}, {Key: "balance", Value: bson.D{{Key: "$gte", Value: int64(1)}}}},
					bson.D{{Key: "$inc", Value: bson.D{{Key: "balance", Value: int64(-1)}}}})
				if err != nil {
					t.Error(err)
					return
				}
				debits.Add(int32(res.ModifiedCount))
			}
		})
		if b := read("wallet")["balance"]; debits.Load() != 50 || b != int64(0) {
			t.Errorf("%d debits of a balance of 50, balance now %v; want 50 and 0", debits.Load(), b)
		}
	})
	t.Run("findAndModify hands out each number once", func(t *testing.T) {
		var mu sync.Mutex
		seen := map[int64]bool{}
		race(func(coll *mongo.Collection, _ int) {
			for range 10 {
				var d struct {
					N int64 `bson:"n"`
				}
				err := coll.FindOneAndUpdate(ctx, id("seq"), bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int64(1)}}}},
					options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
				if err != nil && !IsDuplicateKey(err) { // two first upserts: one inserts, the other is told so
					t.Error(err)
					return
				}
				mu.Lock()
				if err == nil && seen[d.N] {
					t.Errorf("number %d handed out twice", d.N)
				}
				seen[d.N] = true
				mu.Unlock()
			}
		})
	})
}

func TestQueryMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewPedanticRegistry()
	dir := tempDir(t)
	c := openEmbeddedT(t, dir, reg)
	coll := c.Database("mongox").Collection("metered")
	if _, err := coll.InsertOne(ctx, thing{ID: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "m"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "m"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "x"}}}}); err != nil {
		t.Fatal(err)
	}
	cur, err := coll.Aggregate(ctx, mongo.Pipeline{{{Key: "$match", Value: bson.D{}}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = cur.Close(ctx)

	// A second client in the same process registers on the same registry without error.
	srvDir := tempDir(t)
	c2 := openEmbeddedT(t, srvDir, reg)
	if err := c2.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "db_query_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			seen[labels["operation"]+"/"+labels["collection"]] += m.GetHistogram().GetSampleCount()
		}
	}
	for _, want := range []string{"insert/metered", "find/metered", "update/metered", "aggregate/metered"} {
		if seen[want] == 0 {
			t.Errorf("no sample for %s; have %v", want, seen)
		}
	}
	for k := range seen {
		switch k[:len(k)-len("/metered")] {
		case "hello", "isMaster", "ping", "buildInfo", "endSessions":
			t.Errorf("handshake/admin command recorded: %s", k)
		}
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	ctx := context.Background()
	dir := tempDir(t)
	// Warm up once: the driver and FerretDB start a few process-wide goroutines on first use.
	c, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close(ctx)

	before := runtime.NumGoroutine()
	c, err = Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Database("x").Collection("y").FindOne(ctx, bson.D{}).Err(); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before Open, %d after Close\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestEnsureIndexesAfterRestartWithSeveralIndexes pins the FerretDB crash EnsureIndexes works around:
// one createIndexes naming several existing indexes dropped the connection on every restart.
func TestEnsureIndexesAfterRestartWithSeveralIndexes(t *testing.T) {
	dir := tempDir(t)
	ctx := context.Background()
	models := []mongo.IndexModel{
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true).SetName("email_unique")},
		{Keys: bson.D{{Key: "createdAt", Value: 1}}, Options: options.Index().SetName("createdAt")},
	}
	for round := range 3 {
		c, err := Open(ctx, Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		coll := c.Database("db").Collection("users")
		if err := EnsureIndexes(ctx, coll, models...); err != nil {
			t.Fatalf("start %d: %v", round+1, err)
		}
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: fmt.Sprint(round)}, {Key: "createdAt", Value: round}}); err != nil {
			t.Fatalf("start %d: insert after EnsureIndexes: %v", round+1, err)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
