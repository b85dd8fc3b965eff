package bustest

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/bus"
)

// testDelivery: every field the publisher sets arrives unchanged (the timestamp to the second, all AMQP
// carries), Attempt is 1, and a missing ID or timestamp is filled in.
func testDelivery(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	f.declare(map[string]string{"q": "user.signup"})
	got := collect(t, b, f.queue("q"))

	want := bus.Message{
		ID:        randomID(),
		Exchange:  f.exchange,
		Type:      "user.signup",
		Timestamp: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		Headers:   map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x-custom": "v"},
		Body:      []byte(`{"id":"1","type":"user.signup","data":{"email":"a@b.c"}}`),
	}
	if err := b.Publish(ctxT(t), want); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := b.Publish(ctxT(t), bus.Message{Exchange: f.exchange, Type: "user.signup", Body: []byte(`{}`)}); err != nil {
		t.Fatalf("Publish without ID: %v", err)
	}
	msgs := receive(t, got, 2)

	m := msgs[0]
	if m.ID != want.ID || m.Exchange != want.Exchange || m.Type != want.Type || !m.Timestamp.Equal(want.Timestamp) ||
		!maps.Equal(m.Headers, want.Headers) || !bytes.Equal(m.Body, want.Body) || m.Attempt != 1 {
		t.Errorf("delivered\n %+v\nwant\n %+v (Attempt 1)", m, want)
	}
	m = msgs[1]
	if m.ID == "" || m.ID == want.ID {
		t.Errorf("message published without ID was delivered with ID %q, want a fresh one", m.ID)
	}
	if d := time.Since(m.Timestamp); d < -time.Second || d > time.Minute {
		t.Errorf("message published without timestamp was delivered with %v, want about now", m.Timestamp)
	}
}

// testRouting: a queue receives exactly the routing keys its binding pattern matches, including the
// topic wildcards "*" (one word) and "#" (any words). Queues are FIFO and each consumer is serial, so a
// wrongly routed message would show up before the expected ones; a trailing repeat of a key closes the
// window after them.
func testRouting(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	f.declare(map[string]string{"a": "a.created", "b": "b.created", "star": "*.created", "hash": "a.#"})
	got := map[string]<-chan bus.Message{}
	for _, q := range []string{"a", "b", "star", "hash"} {
		got[q] = collect(t, b, f.queue(q))
	}
	x1 := f.publish("a.created.v2")
	x2 := f.publish("b.created")
	x3 := f.publish("a.created")
	x4 := f.publish("b.created")

	want := map[string][]bus.Message{
		"a":    {x3},
		"b":    {x2, x4},
		"star": {x2, x3, x4},
		"hash": {x1, x3},
	}
	for q, msgs := range want {
		for i, m := range receive(t, got[q], len(msgs)) {
			if m.ID != msgs[i].ID {
				t.Errorf("queue %s: message %d is %s (%s), want %s (%s)", q, i, m.ID, m.Type, msgs[i].ID, msgs[i].Type)
			}
		}
	}
}

// testFanOut: two queues bound to the same key each get their own copy.
func testFanOut(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	f.declare(map[string]string{"one": "transaction.completed", "two": "transaction.completed"})
	one, two := collect(t, b, f.queue("one")), collect(t, b, f.queue("two"))
	sent := f.publish("transaction.completed")
	for name, ch := range map[string]<-chan bus.Message{"one": one, "two": two} {
		if m := receive(t, ch, 1)[0]; m.ID != sent.ID {
			t.Errorf("queue %s got %s, want %s", name, m.ID, sent.ID)
		}
	}
}

// testRedelivery: a message whose handler is still running when its consumer stops is not lost: the
// next consumer gets it (at-least-once).
func testRedelivery(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	f.declare(map[string]string{"q": "k"})
	started := make(chan string, 1)
	stop := consume(t, b, f.queue("q"), func(ctx context.Context, msg bus.Message) error {
		started <- msg.ID
		<-ctx.Done() // a consumer shut down (or dying) mid-work
		return ctx.Err()
	})
	sent := f.publish("k")
	select {
	case id := <-started:
		if id != sent.ID {
			t.Fatalf("first consumer got %s, want %s", id, sent.ID)
		}
	case <-time.After(timeout):
		t.Fatal("first consumer got nothing")
	}
	stop()

	if m := receive(t, collect(t, b, f.queue("q")), 1)[0]; m.ID != sent.ID {
		t.Errorf("second consumer got %s, want the redelivered %s", m.ID, sent.ID)
	}
}

// testConcurrentPublishers: many goroutines publishing at once lose nothing.
func testConcurrentPublishers(t *testing.T, b bus.Bus) {
	const publishers, each = 8, 200
	f := newFixture(t, b)
	f.declare(map[string]string{"q": "k"})
	got := collect(t, b, f.queue("q"))

	ctx := ctxT(t)
	sent := make(chan string, publishers*each)
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for range each {
				msg := bus.Message{ID: randomID(), Exchange: f.exchange, Type: "k", Body: []byte(`{}`)}
				if err := b.Publish(ctx, msg); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
				sent <- msg.ID
			}
		})
	}
	wg.Wait()
	close(sent)
	if t.Failed() {
		return
	}

	want := map[string]bool{}
	for id := range sent {
		want[id] = true
	}
	deadline := time.After(timeout)
	for len(want) > 0 {
		select {
		case m := <-got:
			delete(want, m.ID)
		case <-deadline:
			t.Fatalf("%d of %d published messages not delivered", len(want), publishers*each)
		}
	}
}

// testUnroutable: a message no queue receives is an error, not a silent loss; so is a missing exchange.
// Either failure leaves the bus usable.
func testUnroutable(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	f.declare(map[string]string{"q": "bound"})
	got := collect(t, b, f.queue("q"))

	err := b.Publish(ctxT(t), bus.Message{ID: randomID(), Exchange: f.exchange, Type: "unbound", Body: []byte(`{}`)})
	if !errors.Is(err, bus.ErrUnroutable) {
		t.Errorf("Publish to an unbound key: %v, want ErrUnroutable", err)
	}
	err = b.Publish(ctxT(t), bus.Message{ID: randomID(), Exchange: f.prefix + "missing", Type: "bound", Body: []byte(`{}`)})
	if err == nil {
		t.Error("Publish to a missing exchange succeeded")
	}

	sent := f.publish("bound")
	if m := receive(t, got, 1)[0]; m.ID != sent.ID {
		t.Errorf("got %s, want %s", m.ID, sent.ID)
	}
}

// testDeclareIdempotent: declaring the same topology again (every service declares it at start-up)
// succeeds and does not duplicate bindings.
func testDeclareIdempotent(t *testing.T, b bus.Bus) {
	f := newFixture(t, b)
	topo := f.declare(map[string]string{"q": "k"})
	if err := b.Declare(ctxT(t), topo); err != nil {
		t.Fatalf("second Declare: %v", err)
	}
	got := collect(t, b, f.queue("q"))
	m1, m2 := f.publish("k"), f.publish("k")
	msgs := receive(t, got, 2)
	if msgs[0].ID != m1.ID || msgs[1].ID != m2.ID {
		t.Errorf("got %s, %s; want %s, %s once each", msgs[0].ID, msgs[1].ID, m1.ID, m2.ID)
	}
}
