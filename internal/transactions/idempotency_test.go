package transactions

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
)

const topupPath = "/api/v1/transactions/topup"

// countTxs counts u's transactions in the database.
func (h *harness) countTxs(u user) int64 {
	h.t.Helper()
	n, err := h.mod.svc.store.txs.CountDocuments(context.Background(), bson.D{{Key: "userId", Value: u.id}})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestIdempotency(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	u, bob := h.newUser(), h.newUser()
	post := func(u user, path, body, key string) response {
		t.Helper()
		return h.do("POST", path, body, u, IdempotencyHeader, key)
	}

	t.Run("replay", func(t *testing.T) {
		first := post(u, topupPath, `{"amount": 10.5, "description": "a"}`, "replay-1")
		if first.Status != http.StatusCreated || first.Header.Get(ReplayedHeader) != "" {
			t.Fatalf("first: %d %v %s", first.Status, first.Header, first.Body)
		}
		id := first.tx(t).ID
		h.waitStatus(u, id, contract.StatusCompleted) // the replay is the original answer, not today's state
		// The same request, written differently, is the same request.
		again := post(u, topupPath, `{"description": "a", "amount": "10.50"}`, "replay-1")
		if again.Status != http.StatusCreated || again.Header.Get(ReplayedHeader) != "true" || !bytes.Equal(again.Body, first.Body) {
			t.Fatalf("replay: %d %v %s, want the original %s", again.Status, again.Header, again.Body, first.Body)
		}
		if n := h.countTxs(u); n != 1 {
			t.Fatalf("%d transactions, want 1", n)
		}
		// Another user's key space is separate.
		other := post(bob, topupPath, `{"amount": 10.5, "description": "a"}`, "replay-1")
		if other.Status != http.StatusCreated || other.Header.Get(ReplayedHeader) != "" || other.tx(t).ID == id {
			t.Fatalf("same key, other user: %d %s", other.Status, other.Body)
		}
	})

	t.Run("other body", func(t *testing.T) {
		if res := post(u, topupPath, `{"amount": 1}`, "reuse-1"); res.Status != http.StatusCreated {
			t.Fatalf("first: %d %s", res.Status, res.Body)
		}
		expectProblem(t, post(u, topupPath, `{"amount": 2}`, "reuse-1"), 422, "idempotency_key_reused", "")
		expectProblem(t, post(u, "/api/v1/transactions/transfer", `{"amount": 1, "recipientId": "`+bob.id+`"}`, "reuse-1"),
			422, "idempotency_key_reused", "")
		// An invalid request stores nothing under its key.
		expectProblem(t, post(u, topupPath, `{"amount": 0}`, "reuse-2"), 400, "validation_failed", "body.amount")
		if res := post(u, topupPath, `{"amount": 3}`, "reuse-2"); res.Status != http.StatusCreated {
			t.Fatalf("after a rejected request: %d %s", res.Status, res.Body)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		c := h.newUser()
		const n = 8
		results := make([]response, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				results[i] = post(c, topupPath, `{"amount": 42}`, "burst")
			})
		}
		close(start)
		wg.Wait()
		var body []byte
		for _, r := range results {
			switch r.Status {
			case http.StatusCreated:
				if body != nil && !bytes.Equal(body, r.Body) {
					t.Fatalf("two different 201 bodies: %s / %s", body, r.Body)
				}
				body = r.Body
			case http.StatusConflict:
				expectProblem(t, r, 409, "idempotency_in_progress", "")
			default:
				t.Fatalf("concurrent answer %d %s", r.Status, r.Body)
			}
		}
		if body == nil {
			t.Fatal("no request succeeded")
		}
		if got := h.countTxs(c); got != 1 {
			t.Fatalf("%d transactions, want exactly 1", got)
		}
	})
}

// TestIdempotencyCrashRecovery plays a process dying inside an idempotent request: after the record was
// written, and after the transaction was. The key answers 409 while the dead request's lease runs, then
// the next retry resumes it with the same transaction id: one transaction, never a stuck key.
func TestIdempotencyCrashRecovery(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	svc := h.mod.svc
	ctx := context.Background()
	u := h.newUser()
	cmd := command{Type: contract.TypeTopup, UserID: u.id, Amount: 700}
	hash := requestHash(http.MethodPost, topupPath, cmd)
	begin := func(key string) keyDoc {
		t.Helper()
		now := svc.now()
		rec, fresh, err := svc.store.beginKey(ctx, keyDoc{ID: keyID(u.id, key), UserID: u.id, Hash: hash,
			TxID: bson.NewObjectID(), State: keyInProgress, LockedUntil: now.Add(svc.cfg.InFlightTimeout), CreatedAt: now})
		if err != nil || !fresh {
			t.Fatalf("begin %s: %v %v", key, fresh, err)
		}
		return rec
	}

	// Crash 1: the record exists, the transaction does not.
	rec1 := begin("crash-1")
	// Crash 2: the record and the transaction exist, the response was never stored.
	rec2 := begin("crash-2")
	if _, err := svc.insert(ctx, rec2.TxID, cmd); err != nil {
		t.Fatal(err)
	}

	for _, key := range []string{"crash-1", "crash-2"} {
		expectProblem(t, h.do("POST", topupPath, `{"amount": 7}`, u, IdempotencyHeader, key), 409, "idempotency_in_progress", "")
		// A different body is still a misuse of the key, in progress or not.
		expectProblem(t, h.do("POST", topupPath, `{"amount": 8}`, u, IdempotencyHeader, key), 422, "idempotency_key_reused", "")
	}

	h.clock.advance(svc.cfg.InFlightTimeout + time.Second) // the dead requests' leases run out
	for _, rec := range []keyDoc{rec1, rec2} {
		key := rec.ID[len(u.id)+1:]
		res := h.do("POST", topupPath, `{"amount": 7}`, u, IdempotencyHeader, key)
		if res.Status != http.StatusCreated || res.tx(t).ID != rec.TxID.Hex() {
			t.Fatalf("retry of %s: %d %s, want 201 with transaction %s", key, res.Status, res.Body, rec.TxID.Hex())
		}
		replay := h.do("POST", topupPath, `{"amount": 7}`, u, IdempotencyHeader, key)
		if replay.Header.Get(ReplayedHeader) != "true" || !bytes.Equal(replay.Body, res.Body) {
			t.Fatalf("replay of %s: %d %s", key, replay.Status, replay.Body)
		}
		h.waitStatus(u, rec.TxID.Hex(), contract.StatusCompleted)
	}
	if n := h.countTxs(u); n != 2 {
		t.Fatalf("%d transactions, want 2", n)
	}
}

// TestIdempotencyInFlight holds a first request inside its creation and sends the same key meanwhile.
func TestIdempotencyInFlight(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	svc := h.mod.svc
	u := h.newUser()
	cmd := command{Type: contract.TypeTopup, UserID: u.id, Amount: 100}
	entered, release := make(chan bson.ObjectID), make(chan struct{})
	done := make(chan Response, 1)
	go func() {
		res, err := svc.idempotent(context.Background(), u.id, "slow", requestHash(http.MethodPost, topupPath, cmd),
			func(id bson.ObjectID) (Response, error) {
				entered <- id
				<-release
				return svc.insert(context.Background(), id, cmd)
			})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	id := <-entered
	expectProblem(t, h.do("POST", topupPath, `{"amount": 1}`, u, IdempotencyHeader, "slow"), 409, "idempotency_in_progress", "")
	close(release)
	first := <-done
	replay := h.do("POST", topupPath, `{"amount": 1}`, u, IdempotencyHeader, "slow")
	if replay.Status != 201 || replay.Header.Get(ReplayedHeader) != "true" || !bytes.Equal(replay.Body, first.Body) || replay.tx(t).ID != id.Hex() {
		t.Fatalf("after the first finished: %d %s", replay.Status, replay.Body)
	}
}
