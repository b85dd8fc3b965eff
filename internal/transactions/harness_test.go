package transactions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/bus/memory"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/servicetest"
)

// Queues the tests consume: the wallet's own (no wallet runs beside the tests), and a recorder of every
// event the service publishes.
var (
	walletQueue   = contract.Queue("wallet", contract.TransactionProcessing)
	recorderQueue = "test.recorder.transaction.events"
)

// testClock is the service clock; tests move it forward to age transactions for the sweeper.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// answer is what the fake wallet does with one transaction.processing.
type answer struct {
	outcome string // "" = do not answer (the event is lost)
	reason  string
	times   int // how many times to publish the finalization (duplicates); 0 = 1
}

// fakeWallet plays the wallet service against the real broker: it consumes transaction.processing
// from a private queue and answers with wallet.transactionFinalized. By default it applies everything.
type fakeWallet struct {
	mu      sync.Mutex
	answers map[string][]answer // per transaction id, consumed in order; then applied
}

func (w *fakeWallet) plan(txID string, a ...answer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.answers[txID] = append(w.answers[txID], a...)
}

func (w *fakeWallet) next(txID string) answer {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q := w.answers[txID]; len(q) > 0 {
		w.answers[txID] = q[1:]
		return q[0]
	}
	return answer{outcome: contract.OutcomeApplied}
}

// recorded is one event the service published.
type recorded struct {
	id, typ, txID string
}

type recorder struct {
	mu     sync.Mutex
	events []recorded
}

// count returns the distinct events (by event id: a relay may publish one twice) of type typ for txID.
func (r *recorder) count(typ, txID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, e := range r.events {
		if e.typ == typ && e.txID == txID {
			seen[e.id] = true
		}
	}
	return len(seen)
}

func (r *recorder) find(typ, txID string) (recorded, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.typ == typ && e.txID == txID {
			return e, true
		}
	}
	return recorded{}, false
}

// gate holds consumers back until it opens: a consumer down for a while.
type gate struct {
	open chan struct{}
	once sync.Once
}

func newGate(open bool) *gate {
	g := &gate{open: make(chan struct{})}
	if open {
		g.release()
	}
	return g
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) wait(ctx context.Context) error {
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// gatedBus is a bus whose consumers start only once gate opens; publishing, listening and counting
// work meanwhile.
type gatedBus struct {
	bus.Bus
	gate *gate
}

func (b gatedBus) Consume(ctx context.Context, queue string, h bus.Handler) error {
	if err := b.gate.wait(ctx); err != nil {
		return err
	}
	return b.Bus.Consume(ctx, queue, h)
}

type harness struct {
	t         testing.TB
	env       *servicetest.Env
	client    *servicetest.Client
	mod       *Module
	bus       bus.Bus // the bus the service runs on, as the tests use it
	cache     cache.Cache
	reg       *prometheus.Registry
	clock     *testClock
	wallet    *fakeWallet
	recorder  *recorder
	messages  sync.Map // event id → bus.Message, as recorded, for re-publishing
	consumers *gate    // the service's consumers
	walletUp  *gate    // the fake wallet
}

type harnessOptions struct {
	stuckAfter    time.Duration // default 30s
	inProcessBus  bool          // the in-process bus of `mint dev` instead of RabbitMQ
	consumersDown bool          // the service's consumers start only at startConsumers
	walletDown    bool          // the fake wallet starts only at startWallet
	manualSweeps  bool          // no sweep runs but those the test calls (sweep)
}

// newHarness serves the transactions service over HTTP against the embedded MongoDB-wire server, the
// real RabbitMQ (an isolated vhost) or the in-process bus, and a real Redis, wired as `mint serve
// transactions` wires it, with a fake wallet and an event recorder on the same bus.
func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	queues := []bus.Queue{{Name: recorderQueue, Exchange: contract.TransactionEvents, RoutingKey: "#"}}
	var inProcess *memory.Bus
	if o.inProcessBus {
		// Made before the environment, so that it closes after everything running on it has stopped.
		inProcess = memory.New(memory.Config{RetryBase: 20 * time.Millisecond})
		t.Cleanup(func() { _ = inProcess.Close() })
	}
	env := servicetest.New(t, servicetest.Options{RetryBase: 20 * time.Millisecond, Queues: queues})
	var b, events bus.Bus = env.Bus, env.Events
	if inProcess != nil {
		top := contract.Topology()
		top.Queues = append(top.Queues, queues...)
		if err := inProcess.Declare(env.Ctx, top); err != nil {
			t.Fatal(err)
		}
		b, events = inProcess, inProcess
	}
	sweepInterval := 50 * time.Millisecond
	if o.manualSweeps {
		sweepInterval = 24 * time.Hour
	}
	clock := &testClock{}
	consumers := newGate(!o.consumersDown)
	mod, err := New(env.Ctx, Config{StuckAfter: o.stuckAfter, SweepInterval: sweepInterval},
		Deps{DB: env.Database(t, DatabaseName), Bus: gatedBus{Bus: events, gate: consumers}, Cache: env.Cache,
			Logger: env.Logger, Registerer: env.Registry, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, env: env, mod: mod, bus: b, cache: env.Cache, reg: env.Registry, clock: clock,
		client: env.Serve(t, servicetest.Service{Name: "transactions", Register: mod.Register}),
		wallet: &fakeWallet{answers: map[string][]answer{}}, recorder: &recorder{},
		consumers: consumers, walletUp: newGate(!o.walletDown)}
	env.Run("transactions background work", mod.Run)
	env.Run("the fake wallet", func(ctx context.Context) error {
		return gatedBus{Bus: b, gate: h.walletUp}.Consume(ctx, walletQueue, h.playWallet)
	})
	env.Run("the event recorder", func(ctx context.Context) error { return b.Consume(ctx, recorderQueue, h.record) })
	return h
}

// startConsumers starts the service's consumers, held back by harnessOptions.consumersDown.
func (h *harness) startConsumers() { h.consumers.release() }

// startWallet starts the fake wallet, held back by harnessOptions.walletDown.
func (h *harness) startWallet() { h.walletUp.release() }

// send publishes an event as its publisher would, on the bus the service runs on.
func (h *harness) send(ctx context.Context, exchange, key string, data any) error {
	ev, err := event.New(ctx, exchange, key, time.Now(), data)
	if err != nil {
		return err
	}
	msg, err := ev.Message()
	if err != nil {
		return err
	}
	if err := h.bus.Publish(ctx, msg); err != nil {
		return fmt.Errorf("publish %s: %w", key, err)
	}
	return nil
}

// backlog is what waits for the consumers of key on exchange (bus.BacklogCounter).
func (h *harness) backlog(exchange, key string) int {
	h.t.Helper()
	n, err := h.bus.Backlog(context.Background(), exchange, key)
	if err != nil {
		h.t.Fatalf("backlog of %s: %v", key, err)
	}
	return n
}

func (h *harness) playWallet(ctx context.Context, msg bus.Message) error {
	var p contract.TransactionProcessingData
	if _, err := event.Decode(msg, &p); err != nil {
		return err
	}
	a := h.wallet.next(p.TransactionID)
	if a.outcome == "" {
		return nil // lost
	}
	for range max(a.times, 1) {
		err := h.send(ctx, contract.WalletEvents, contract.WalletTxFinalized, contract.WalletFinalizedData{
			TransactionID: p.TransactionID, Outcome: a.outcome, Reason: a.reason})
		if err != nil {
			return err // the consumer stopping at the end of the test, or a broker error: redelivered either way
		}
	}
	return nil
}

func (h *harness) record(_ context.Context, msg bus.Message) error {
	// Every event the service publishes, whatever its type: the envelope strictly, the data only for
	// the transaction id.
	var raw json.RawMessage
	if _, err := event.Decode(msg, &raw); err != nil {
		return err
	}
	var data struct {
		ID            string `json:"id"`
		TransactionID string `json:"transactionId"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return err
	}
	txID := data.ID
	if msg.Type == contract.TransactionProcessing {
		txID = data.TransactionID
	}
	h.messages.Store(msg.ID, msg)
	h.recorder.mu.Lock()
	h.recorder.events = append(h.recorder.events, recorded{id: msg.ID, typ: msg.Type, txID: txID})
	h.recorder.mu.Unlock()
	return nil
}

// publish sends an event as its publisher would.
func (h *harness) publish(ctx context.Context, exchange, key string, data any) {
	h.t.Helper()
	if err := h.send(ctx, exchange, key, data); err != nil {
		h.t.Error(err)
	}
}

func (h *harness) publishRaw(ctx context.Context, msg bus.Message) {
	h.t.Helper()
	if err := h.bus.Publish(ctx, msg); err != nil {
		h.t.Errorf("publish %s: %v", msg.Type, err)
	}
}

// republish sends again the event the service published of type typ for txID.
func (h *harness) republish(typ, txID string) {
	h.t.Helper()
	e, ok := h.recorder.find(typ, txID)
	if !ok {
		h.t.Fatalf("no %s recorded for %s", typ, txID)
	}
	msg, _ := h.messages.Load(e.id)
	h.publishRaw(context.Background(), msg.(bus.Message))
}

type user struct{ id, token string }

// newUser makes a user known to the service through user.signup, as the auth service would, and
// returns it with a session token.
func (h *harness) newUser() user {
	h.t.Helper()
	id := bson.NewObjectID().Hex()
	h.publish(context.Background(), contract.AuthEvents, contract.UserSignup, contract.UserSignupData{
		UserID: id, Email: id + "@example.com", FirstName: "Test", LastName: "User", CreatedAt: time.Now()})
	tok := h.env.Token(h.t, id)
	h.eventually("user "+id+" known", func() bool {
		ok, err := h.mod.svc.store.userExists(context.Background(), id)
		return err == nil && ok
	})
	return user{id: id, token: tok}
}

// eventually polls cond for up to 15 s.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// response adds the transaction decoder to servicetest.Response.
type response struct{ servicetest.Response }

func (r response) tx(t testing.TB) Transaction {
	t.Helper()
	var tx Transaction
	r.Decode(t, &tx)
	return tx
}

// do sends a request (servicetest.Client.Do) with u's token.
func (h *harness) do(method, path string, body any, u user, headers ...string) response {
	h.t.Helper()
	return response{h.client.Do(h.t, method, path, body, u.token, headers...)}
}

// topup creates a top-up of amount (a JSON literal) and returns it.
func (h *harness) topup(u user, amount string) Transaction {
	h.t.Helper()
	res := h.do("POST", "/api/v1/transactions/topup", `{"amount": `+amount+`}`, u)
	if res.Status != http.StatusCreated {
		h.t.Fatalf("topup %s: %d %s", amount, res.Status, res.Body)
	}
	return res.tx(h.t)
}

func (h *harness) transfer(from, to user, amount string) Transaction {
	h.t.Helper()
	res := h.do("POST", "/api/v1/transactions/transfer", `{"recipientId": "`+to.id+`", "amount": `+amount+`}`, from)
	if res.Status != http.StatusCreated {
		h.t.Fatalf("transfer %s: %d %s", amount, res.Status, res.Body)
	}
	return res.tx(h.t)
}

func (h *harness) get(u user, id string) response {
	h.t.Helper()
	return h.do("GET", "/api/v1/transactions/"+id, nil, u)
}

// waitStatus waits until u sees transaction id in status and returns it.
func (h *harness) waitStatus(u user, id, status string) Transaction {
	h.t.Helper()
	var last Transaction
	h.eventually("transaction "+id+" "+status, func() bool {
		res := h.get(u, id)
		if res.Status != http.StatusOK {
			h.t.Fatalf("GET %s: %d %s", id, res.Status, res.Body)
		}
		last = res.tx(h.t)
		return last.Status == status
	})
	return last
}

// dbTx reads a transaction as the service does, without its outbox.
func (h *harness) dbTx(id string) txDoc {
	h.t.Helper()
	d, err := h.mod.svc.store.txByID(context.Background(), h.objectID(id))
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// stored reads a transaction whole, with the outbox that every read of the service projects away
// (not empty while it still owes an event).
func (h *harness) stored(id string) txDoc {
	h.t.Helper()
	var d txDoc
	if err := h.mod.svc.store.txs.FindOne(context.Background(), bson.D{{Key: "_id", Value: h.objectID(id)}}).Decode(&d); err != nil {
		h.t.Fatal(err)
	}
	return d
}

func (h *harness) objectID(hex string) bson.ObjectID {
	h.t.Helper()
	oid, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		h.t.Fatal(err)
	}
	return oid
}

// counter reads a counter of the registry with the given labels (0 when absent).
func (h *harness) counter(name string, labels map[string]string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metric
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// expectPublished waits until the service has published want distinct events of type typ for txID (the
// relay publishes just after the write the tests observe), then checks no more follow.
func (h *harness) expectPublished(typ, txID string, want int) {
	h.t.Helper()
	h.eventually(typ+" of "+txID, func() bool { return h.recorder.count(typ, txID) >= want })
	time.Sleep(50 * time.Millisecond)
	if got := h.recorder.count(typ, txID); got != want {
		h.t.Errorf("%s of %s published %d times, want %d", typ, txID, got, want)
	}
}

// expectProblem checks a problem response (servicetest.Response.ExpectProblem).
func expectProblem(t testing.TB, res response, status int, code, field string) {
	t.Helper()
	res.ExpectProblem(t, status, code, field)
}
