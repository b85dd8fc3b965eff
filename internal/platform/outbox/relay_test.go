package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest"
	"github.com/mint-wallet/mint/internal/platform/outbox"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// recorder is a bus.Publisher double: it records confirmed messages and fails while fail says so.
type recorder struct {
	mu       sync.Mutex
	msgs     []bus.Message
	attempts int
	fail     func(bus.Message) error
}

func (p *recorder) Publish(_ context.Context, msg bus.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts++
	if p.fail != nil {
		if err := p.fail(msg); err != nil {
			return err
		}
	}
	p.msgs = append(p.msgs, msg)
	return nil
}

func (p *recorder) setFail(f func(bus.Message) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = f
}

func (p *recorder) ids() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]string, len(p.msgs))
	for i, m := range p.msgs {
		ids[i] = m.ID
	}
	return ids
}

func (p *recorder) attemptCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts
}

type doc struct {
	ID             string `bson:"_id"`
	State          string `bson:"state"`
	outbox.Pending `bson:",inline"`
}

func newEvent(t *testing.T, n int, at time.Time) event.Event {
	t.Helper()
	ev, err := event.New(context.Background(), "orders.events", "order.placed", at, map[string]int{"n": n})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func collection(t *testing.T) *mongo.Collection {
	t.Helper()
	c := mongotest.Open(t)
	return c.Database(mongotest.DBName(t, "outbox")).Collection("docs")
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func startRelay(t *testing.T, coll *mongo.Collection, pub bus.Publisher, opts outbox.Options) (*outbox.Relay, context.CancelFunc) {
	t.Helper()
	r, err := outbox.NewRelay(coll, pub, quiet(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}
	t.Cleanup(func() {
		select {
		case <-ctx.Done():
		default:
			stop()
		}
	})
	return r, stop
}

func pendingIDs(t *testing.T, coll *mongo.Collection, id string) []string {
	t.Helper()
	var d doc
	if err := coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, ev := range d.Outbox {
		ids = append(ids, ev.ID)
	}
	return ids
}

// marked reports whether document id carries outbox.SinceField.
func marked(t *testing.T, coll *mongo.Collection, id string) bool {
	t.Helper()
	var d bson.M
	if err := coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	_, ok := d[outbox.SinceField]
	return ok
}

func countPending(t *testing.T, coll *mongo.Collection) int64 {
	t.Helper()
	n, err := coll.CountDocuments(context.Background(), outbox.PendingFilter())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNotifyPublishesInOrderAndEmptiesOutbox(t *testing.T) {
	ctx := context.Background()
	coll := collection(t)
	pub := &recorder{}
	// No sweep during the test: only Notify can make it publish.
	r, _ := startRelay(t, coll, pub, outbox.Options{SweepInterval: time.Hour})
	time.Sleep(50 * time.Millisecond) // let the startup sweep pass

	now := time.Now()
	e1, e2, e3 := newEvent(t, 1, now), newEvent(t, 2, now), newEvent(t, 3, now)
	if _, err := coll.InsertOne(ctx, doc{ID: "tx1", State: "PENDING", Pending: outbox.Owe(e1)}); err != nil {
		t.Fatal(err)
	}
	// The state change and its events in one update.
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "tx1"}},
		outbox.Push(bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: "COMPLETED"}}}}, e2, e3)); err != nil {
		t.Fatal(err)
	}
	if !marked(t, coll, "tx1") {
		t.Fatalf("a document owing events has no %s", outbox.SinceField)
	}
	r.Notify("tx1")

	// The sweep is an hour away: whatever is published, Notify published.
	testenv.Eventually(t, 10*time.Second, "3 events published", func() bool { return len(pub.ids()) == 3 })
	if got, want := pub.ids(), []string{e1.ID, e2.ID, e3.ID}; !slices.Equal(got, want) {
		t.Errorf("published %v, want %v in order", got, want)
	}
	// The events are pulled and the marker unset in two writes: wait for both.
	testenv.Eventually(t, 10*time.Second, "outbox emptied and "+outbox.SinceField+" unset", func() bool {
		return len(pendingIDs(t, coll, "tx1")) == 0 && !marked(t, coll, "tx1")
	})

	var msg bus.Message
	func() { pub.mu.Lock(); defer pub.mu.Unlock(); msg = pub.msgs[1] }()
	var data map[string]int
	env, err := event.Decode(msg, &data)
	if err != nil || env.ID != e2.ID || msg.Exchange != "orders.events" || msg.Type != "order.placed" || data["n"] != 2 {
		t.Errorf("wire form: msg %+v env %+v data %v err %v", msg, env, data, err)
	}
}

func TestNewRelayPublishesLeftoversOfAPreviousRun(t *testing.T) {
	ctx := context.Background()
	coll := collection(t)
	old := time.Now().Add(-time.Minute)

	// A previous process wrote these and died before publishing; the last two were written by a
	// version that did not mark its documents.
	var want []string
	for i := range 5 {
		ev1, ev2 := newEvent(t, i, old), newEvent(t, i+100, old)
		want = append(want, ev1.ID, ev2.ID)
		pending := outbox.Owe(ev1, ev2)
		if i >= 3 {
			pending.Since = nil
		}
		if _, err := coll.InsertOne(ctx, doc{ID: fmt.Sprint("d", i), Pending: pending}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := coll.InsertOne(ctx, doc{ID: "nothing-owed"}); err != nil {
		t.Fatal(err)
	}

	pub := &recorder{}
	startRelay(t, coll, pub, outbox.Options{SweepInterval: 50 * time.Millisecond, SweepMinAge: 100 * time.Millisecond})
	testenv.Eventually(t, 10*time.Second, "all leftovers published", func() bool { return len(pub.ids()) >= len(want) })
	// The events are pulled and the marker unset in two writes: wait for both.
	testenv.Eventually(t, 10*time.Second, "no document pending or marked", func() bool {
		if countPending(t, coll) != 0 {
			return false
		}
		for i := range 5 {
			if marked(t, coll, fmt.Sprint("d", i)) {
				return false
			}
		}
		return true
	})
	got := pub.ids()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("published %v, want %v", got, want)
	}
}

func TestSweepLeavesYoungEventsToTheirWriter(t *testing.T) {
	ctx := context.Background()
	coll := collection(t)
	ev := newEvent(t, 1, time.Now())
	if _, err := coll.InsertOne(ctx, doc{ID: "young", Pending: outbox.Owe(ev)}); err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	startRelay(t, coll, pub, outbox.Options{SweepInterval: 20 * time.Millisecond, SweepMinAge: 400 * time.Millisecond})
	time.Sleep(150 * time.Millisecond)
	if n := len(pub.ids()); n != 0 {
		t.Fatalf("sweep published %d young events", n)
	}
	testenv.Eventually(t, 3*time.Second, "published once old enough", func() bool { return len(pub.ids()) == 1 })
}

func TestPublisherOutageThenRecovery(t *testing.T) {
	ctx := context.Background()
	coll := collection(t)
	reg := prometheus.NewPedanticRegistry()
	pub := &recorder{}
	pub.setFail(func(bus.Message) error { return errors.New("broker down") })
	r, _ := startRelay(t, coll, pub, outbox.Options{
		SweepInterval: 50 * time.Millisecond, SweepMinAge: time.Millisecond,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond, Registerer: reg,
	})

	var want []string
	for i := range 4 {
		ev1, ev2 := newEvent(t, i, time.Now()), newEvent(t, i+10, time.Now())
		want = append(want, ev1.ID, ev2.ID)
		id := fmt.Sprint("tx", i)
		if _, err := coll.InsertOne(ctx, doc{ID: id, Pending: outbox.Owe(ev1, ev2)}); err != nil {
			t.Fatal(err)
		}
		r.Notify(id)
	}

	testenv.Eventually(t, 3*time.Second, "several failed attempts", func() bool { return pub.attemptCount() >= 5 })
	if n := countPending(t, coll); n != 4 {
		t.Fatalf("%d documents still pending during the outage, want 4: nothing may be removed unpublished", n)
	}
	for i := range 4 {
		if got := pendingIDs(t, coll, fmt.Sprint("tx", i)); len(got) != 2 {
			t.Fatalf("tx%d outbox during outage = %v, want both events", i, got)
		}
	}
	if v := counterValue(t, reg, "outbox_publish_errors_total"); v < 5 {
		t.Errorf("outbox_publish_errors_total = %v, want >= 5", v)
	}

	pub.setFail(nil)
	testenv.Eventually(t, 5*time.Second, "every event published after recovery", func() bool {
		got := pub.ids()
		for _, id := range want {
			if !slices.Contains(got, id) {
				return false
			}
		}
		return true
	})
	testenv.Eventually(t, 2*time.Second, "no document pending", func() bool { return countPending(t, coll) == 0 })
	if v := counterValue(t, reg, "outbox_published_events_total"); int(v) != len(pub.ids()) {
		t.Errorf("outbox_published_events_total = %v, want %d", v, len(pub.ids()))
	}
}

func TestFailedEventStaysAndBlocksOnlyItsDocument(t *testing.T) {
	ctx := context.Background()
	coll := collection(t)
	old := time.Now().Add(-time.Minute)
	bad, after := newEvent(t, 1, old), newEvent(t, 2, old)
	other := newEvent(t, 3, old)
	pub := &recorder{}
	pub.setFail(func(m bus.Message) error {
		if m.ID == bad.ID {
			return errors.New("nacked")
		}
		return nil
	})
	if _, err := coll.InsertOne(ctx, doc{ID: "stuck", Pending: outbox.Owe(bad, after)}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, doc{ID: "fine", Pending: outbox.Owe(other)}); err != nil {
		t.Fatal(err)
	}
	r, stop := startRelay(t, coll, pub, outbox.Options{SweepInterval: 20 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	r.Notify("fine")
	testenv.Eventually(t, 3*time.Second, "the other document published", func() bool { return slices.Contains(pub.ids(), other.ID) })
	testenv.Eventually(t, 3*time.Second, "retries of the failing event", func() bool { return pub.attemptCount() >= 6 })
	stop()

	if got := pendingIDs(t, coll, "stuck"); !slices.Equal(got, []string{bad.ID, after.ID}) {
		t.Errorf("stuck outbox = %v, want the failed event and the one after it, in order", got)
	}
	if slices.Contains(pub.ids(), after.ID) {
		t.Error("an event was published before the earlier event of its document")
	}
}

func TestUnencodableEventIsMovedAside(t *testing.T) {
	ctx := context.Background()
	coll := collection(t)
	good := newEvent(t, 1, time.Now().Add(-time.Minute))
	broken := bson.D{{Key: "id", Value: "broken"}} // no exchange, no type
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "x"}, {Key: outbox.Field, Value: bson.A{broken, good}}}); err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	startRelay(t, coll, pub, outbox.Options{SweepInterval: 20 * time.Millisecond, SweepMinAge: 10 * time.Millisecond})
	testenv.Eventually(t, 3*time.Second, "the good event published", func() bool { return slices.Contains(pub.ids(), good.ID) })
	testenv.Eventually(t, 2*time.Second, "outbox emptied", func() bool { return countPending(t, coll) == 0 })
	var d bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "x"}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if dead, _ := d[outbox.DeadField].(bson.A); len(dead) != 1 {
		t.Errorf("%s = %v, want the broken event", outbox.DeadField, d[outbox.DeadField])
	}
}

func TestPendingFilter(t *testing.T) {
	ctx := context.Background()
	coll := collection(t)
	docs := []any{
		bson.D{{Key: "_id", Value: "missing"}},
		bson.D{{Key: "_id", Value: "null"}, {Key: outbox.Field, Value: nil}},
		bson.D{{Key: "_id", Value: "empty"}, {Key: outbox.Field, Value: bson.A{}}},
		bson.D{{Key: "_id", Value: "one"}, {Key: outbox.Field, Value: bson.A{bson.D{{Key: "id", Value: "e"}}}}},
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	cur, err := coll.Find(ctx, outbox.PendingFilter())
	if err != nil {
		t.Fatal(err)
	}
	var got []bson.M
	if err := cur.All(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["_id"] != "one" {
		t.Errorf("PendingFilter matched %v, want only \"one\"", got)
	}
}

// counterValue sums a counter's series as /metrics would show them.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			var sum float64
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// An event pushed while the relay publishes the document's earlier ones keeps the document marked, so
// a sweep finds it even though its writer never notified the relay.
func TestEventPushedDuringPublishIsSwept(t *testing.T) {
	ctx := context.Background()
	coll := collection(t)
	first, late := newEvent(t, 1, time.Now()), newEvent(t, 2, time.Now())
	if _, err := coll.InsertOne(ctx, doc{ID: "busy", Pending: outbox.Owe(first)}); err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	var pushErr error
	pub.setFail(func(m bus.Message) error {
		if m.ID == first.ID {
			_, pushErr = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "busy"}}, outbox.Push(nil, late))
		}
		return nil
	})
	r, _ := startRelay(t, coll, pub, outbox.Options{SweepInterval: 20 * time.Millisecond, SweepMinAge: 50 * time.Millisecond})
	time.Sleep(50 * time.Millisecond) // let the startup sweep, which marks unmarked documents, pass
	r.Notify("busy")
	testenv.Eventually(t, 5*time.Second, "the late event published by a sweep", func() bool { return slices.Contains(pub.ids(), late.ID) })
	if pushErr != nil {
		t.Fatal(pushErr)
	}
	testenv.Eventually(t, 2*time.Second, "outbox emptied and unmarked", func() bool {
		return len(pendingIDs(t, coll, "busy")) == 0 && !marked(t, coll, "busy")
	})
}

// TestParkedEventsWaitForNotify: no sweep publishes a parked outbox, however old; a Notify of its
// document does, and the document ends unmarked like any other.
func TestParkedEventsWaitForNotify(t *testing.T) {
	ctx := context.Background()
	coll := collection(t)
	old := time.Now().Add(-time.Minute)
	parked, owed := newEvent(t, 1, old), newEvent(t, 2, old)
	if _, err := coll.InsertOne(ctx, doc{ID: "parked", Pending: outbox.Park(parked)}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, doc{ID: "owed", Pending: outbox.Owe(owed)}); err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	r, _ := startRelay(t, coll, pub, outbox.Options{SweepInterval: 20 * time.Millisecond, SweepMinAge: 10 * time.Millisecond})
	testenv.Eventually(t, 10*time.Second, "the owed event swept", func() bool { return slices.Contains(pub.ids(), owed.ID) })
	time.Sleep(200 * time.Millisecond) // more sweeps go by
	if slices.Contains(pub.ids(), parked.ID) {
		t.Fatal("a sweep published a parked event")
	}
	r.Notify("parked")
	testenv.Eventually(t, 10*time.Second, "the parked event published after Notify", func() bool { return slices.Contains(pub.ids(), parked.ID) })
	testenv.Eventually(t, 10*time.Second, "the parked document emptied and unmarked", func() bool {
		return len(pendingIDs(t, coll, "parked")) == 0 && !marked(t, coll, "parked")
	})
}
