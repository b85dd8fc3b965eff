package wallet_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/wallet"
)

func TestRoutesNeedASession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	for _, path := range []string{"/api/v1/wallet/user", "/api/v1/wallet/history"} {
		expectProblem(t, h.get(path, ""), 401, "unauthenticated")
		expectProblem(t, h.get(path, "not-a-token"), 401, "unauthenticated")
	}
}

func TestHistoryNewestFirstWithPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	alice, bob := h.signedUp(), h.signedUp()
	h.topup(alice, 10_00)
	h.topup(alice, 2_50)
	txID, _ := h.transfer(alice, bob, 50)
	h.topup(alice, 1)

	hist := h.historyOf(alice, "")
	if hist.Total != 4 || hist.Limit != 20 || hist.Offset != 0 || len(hist.Entries) != 4 {
		t.Fatalf("history = %+v", hist)
	}
	wantAmounts := []int64{1, -50, 2_50, 10_00}
	wantAfter := []int64{12_01, 12_00, 12_50, 10_00}
	for i, e := range hist.Entries {
		if e.Amount.Cents() != wantAmounts[i] || e.BalanceAfter.Cents() != wantAfter[i] || e.At.IsZero() {
			t.Errorf("entry %d = %+v, want amount %d after %d", i, e, wantAmounts[i], wantAfter[i])
		}
	}
	if hist.Entries[1].TransactionID != txID || hist.Entries[1].Type != wallet.TypeTransferOut || hist.Entries[0].Type != wallet.TypeTopup {
		t.Errorf("entries = %+v", hist.Entries)
	}
	raw := string(h.get("/api/v1/wallet/history", alice.token).Body)
	for _, want := range []string{`"amount":-0.50`, `"amount":0.01`, `"balanceAfter":12.01`} {
		if !strings.Contains(raw, want) {
			t.Errorf("history %s lacks %s", raw, want)
		}
	}

	page := h.historyOf(alice, "?limit=2&offset=1")
	if page.Total != 4 || page.Limit != 2 || page.Offset != 1 || len(page.Entries) != 2 ||
		page.Entries[0].Amount != -50 || page.Entries[1].Amount != 2_50 {
		t.Fatalf("page = %+v", page)
	}
	if beyond := h.historyOf(alice, "?offset=10"); beyond.Total != 4 || len(beyond.Entries) != 0 || beyond.Entries == nil {
		t.Fatalf("page past the end = %+v (entries must be [] not null)", beyond)
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?offset=-1", "?limit=x"} {
		expectProblem(t, h.get("/api/v1/wallet/history"+q, alice.token), 400, "validation_failed")
	}
	if got := h.historyOf(bob, ""); got.Total != 1 || got.Entries[0].Type != wallet.TypeTransferIn || got.Entries[0].Amount != 50 {
		t.Fatalf("bob's history = %+v", got)
	}
}

// TestCacheNeverShowsAStaleBalance reads the wallet (filling the cache) between every change.
func TestCacheNeverShowsAStaleBalance(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	alice, bob := h.signedUp(), h.signedUp()
	var a, b int64
	for i := range 5 {
		h.walletOf(alice) // cached now
		h.walletOf(bob)
		h.topup(alice, 3_00)
		a += 3_00
		if got := h.balanceOf(alice); got != a {
			t.Fatalf("round %d: alice reads %d after a top-up, want %d", i, got, a)
		}
		h.walletOf(alice)
		h.transfer(alice, bob, 1_01)
		a, b = a-1_01, b+1_01
		if ga, gb := h.balanceOf(alice), h.balanceOf(bob); ga != a || gb != b {
			t.Fatalf("round %d: balances read %d and %d after a transfer, want %d and %d", i, ga, gb, a, b)
		}
	}
}

// TestHistoryIsNeverStale reads the history (caching its page) before every change.
func TestHistoryIsNeverStale(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	alice, bob := h.signedUp(), h.signedUp()
	h.topup(alice, 10_00)
	for i := range 3 {
		h.historyOf(alice, "")
		h.historyOf(bob, "")
		txID, _ := h.transfer(alice, bob, 1_00)
		a, b := h.historyOf(alice, ""), h.historyOf(bob, "")
		if a.Total != int64(i+2) || a.Entries[0].TransactionID != txID || b.Total != int64(i+1) || b.Entries[0].TransactionID != txID {
			t.Fatalf("round %d: histories after a transfer: alice %+v, bob %+v", i, a, b)
		}
	}
}

// hookCache runs a function once, just before the next Set: the moment a balance change can slip
// between a read of the database and the store of what it read.
type hookCache struct {
	cache.Cache
	mu        sync.Mutex
	beforeSet func()
}

func (c *hookCache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	c.mu.Lock()
	f := c.beforeSet
	c.beforeSet = nil
	c.mu.Unlock()
	if f != nil {
		f()
	}
	return c.Cache.Set(ctx, key, value, ttl)
}

// TestCacheReadRacingAChange pins the cache-aside race: a change commits and invalidates between a
// read's database query and its cache store. The stale copy must not survive.
func TestCacheReadRacingAChange(t *testing.T) {
	t.Parallel()
	hc := &hookCache{}
	h := newHarness(t, harnessOptions{wrapCache: func(c cache.Cache) cache.Cache { hc.Cache = c; return hc }})
	u := h.signedUp()
	h.topup(u, 1_00)
	if err := h.cache.Delete(context.Background(), "wallet:wallets:"+u.id); err != nil {
		t.Fatal(err)
	}
	hc.mu.Lock()
	hc.beforeSet = func() {
		p := contract.TransactionProcessingData{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTopup, UserID: u.id, Amount: 2_00, Currency: "USD"}
		if err := h.mod.Service().Process(context.Background(), p, false); err != nil {
			t.Errorf("process during the read: %v", err)
		}
	}
	hc.mu.Unlock()
	if got := h.balanceOf(u); got != 1_00 {
		t.Fatalf("the racing read returned %d, want what it read (100)", got)
	}
	if got := h.balanceOf(u); got != 3_00 {
		t.Fatalf("after the change the wallet reads %d, want 300: a stale copy stayed cached", got)
	}
}

// TestLaggingProjectionHeals simulates a crash between an entry and its projection: reads and the next
// change roll the wallet forward from its entries.
func TestLaggingProjectionHeals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	u := h.signedUp()
	h.topup(u, 4_00)
	h.topup(u, 6_00)
	ctx := context.Background()
	lag := func() {
		t.Helper()
		w := h.walletOf(u)
		_, err := h.db.Collection("wallets").UpdateOne(ctx, bson.D{{Key: "userId", Value: u.id}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: w.Version - 1}, {Key: "balance", Value: int64(4_00)}}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.cache.Delete(ctx, "wallet:wallets:"+u.id); err != nil {
			t.Fatal(err)
		}
	}

	lag()
	if w := h.walletOf(u); w.Balance != 10_00 || w.Version != 2 {
		t.Fatalf("read of a lagging wallet = %+v, want 10.00 at version 2", w)
	}
	var doc struct {
		Balance int64 `bson:"balance"`
		Version int64 `bson:"version"`
	}
	if err := h.db.Collection("wallets").FindOne(ctx, bson.D{{Key: "userId", Value: u.id}}).Decode(&doc); err != nil || doc.Balance != 10_00 || doc.Version != 2 {
		t.Fatalf("stored wallet after the read = %+v, %v; want it rolled forward", doc, err)
	}

	// The next change finds the projection lagging again and appends after the true last entry.
	if _, err := h.db.Collection("wallets").UpdateOne(ctx, bson.D{{Key: "userId", Value: u.id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: int64(1)}, {Key: "balance", Value: int64(4_00)}}}}); err != nil {
		t.Fatal(err)
	}
	if f := h.topup(u, 1); f.Outcome != contract.OutcomeApplied {
		t.Fatalf("top-up on a lagging wallet finalized as %+v", f)
	}
	if w := h.walletOf(u); w.Balance != 10_01 || w.Version != 3 {
		t.Fatalf("wallet = %+v, want 10.01 at version 3", w)
	}
	if rep, err := h.mod.Reconcile(ctx); err != nil || !rep.OK() {
		t.Fatalf("reconcile = %+v, %v", rep, err)
	}
	lag()
	rep, err := h.mod.Reconcile(ctx)
	if err != nil || !rep.OK() || rep.Healed != 1 {
		t.Fatalf("reconcile of a lagging wallet = %+v, %v; want it healed, no drift", rep, err)
	}
}
