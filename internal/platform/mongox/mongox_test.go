package mongox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest/atomicrace"
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
// so clients get a normal pool, and two clients of four connections each (as two processes would be,
// see test/e2e TestAtomicWritesAcrossProcesses) racing on the same documents lose nothing and double
// nothing: 8 × 500 $inc, 4,000 guarded debits of a balance of 2,000, 16 callers of one guarded
// transition, 2,000 findOneAndUpdate counter numbers.
func TestAtomicWritesOnManyConnections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := ServeEmbedded(tempDir(t), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	w := atomicrace.Default()
	colls := make([]*mongo.Collection, w.Shares)
	for i := range colls {
		c, err := Open(ctx, Config{URI: srv.URI() + "?maxPoolSize=4"})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		if !c.IsFerretDB() || c.singleConn {
			t.Fatalf("IsFerretDB = %v, singleConn = %v; want FerretDB with a normal pool", c.IsFerretDB(), c.singleConn)
		}
		colls[i] = c.Database("mongox").Collection("race")
	}
	if err := w.Seed(ctx, colls[0]); err != nil {
		t.Fatal(err)
	}
	results := make([]atomicrace.Result, w.Shares)
	errs := make([]error, w.Shares)
	var wg sync.WaitGroup
	for share := range w.Shares {
		wg.Go(func() { results[share], errs[share] = w.Run(ctx, colls[share], share) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := w.Check(ctx, colls[0], results); err != nil {
		t.Error(err)
	}
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

// A server that went away makes every store's error Unavailable — the kind a client retries and the
// bus redelivers without counting it — whether a connection broke mid-command or none could be made.
func TestAServerThatWentAwayIsUnavailable(t *testing.T) {
	ctx := context.Background()
	srv, err := ServeEmbedded(tempDir(t), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(ctx, Config{URI: srv.URI()})
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	coll := c.Database("mongox").Collection("gone")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	for i := range 2 { // the first find meets the dead connection, the second finds no server
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := coll.FindOne(qctx, bson.D{{Key: "_id", Value: 1}}).Err()
		cancel()
		if !IsUnavailable(err) || failure.KindOf(fmt.Errorf("store: %w", err)) != failure.Unavailable {
			t.Errorf("find %d after the server stopped: %v (IsUnavailable %v, kind %q)", i+1, err, IsUnavailable(err),
				failure.KindOf(err))
		}
	}
	if IsUnavailable(errors.New("disk on fire")) || IsUnavailable(mongo.ErrNoDocuments) || IsUnavailable(nil) {
		t.Error("an error of another kind is not Unavailable")
	}
}
