package wallet_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/testenv"
	"github.com/mint-wallet/mint/internal/wallet"
)

func TestWalletCreatedOnceOnSignup(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	u := h.newUser()
	expectProblem(t, h.get("/api/v1/wallet/user", u.token), 404, "not_found")
	expectProblem(t, h.get("/api/v1/wallet/history", u.token), 404, "not_found")

	msg := h.signUp(u)
	h.send(msg) // redelivered
	h.signUp(u) // and published again under another event id
	testenv.Eventually(t, 10*time.Second, "the wallet", func() bool { return h.get("/api/v1/wallet/user", u.token).Status == 200 })
	w := h.walletOf(u)
	if w.UserID != u.id || w.Balance != 0 || w.Version != 0 || w.Currency != "USD" || len(w.ID) != 24 || w.CreatedAt.IsZero() {
		t.Fatalf("new wallet = %+v", w)
	}
	time.Sleep(200 * time.Millisecond) // let the duplicates be consumed
	if n, err := h.db.Collection("wallets").CountDocuments(context.Background(), bson.D{{Key: "userId", Value: u.id}}); err != nil || n != 1 {
		t.Fatalf("%d wallets for the user (%v), want 1", n, err)
	}
	if again := h.walletOf(u); again.ID != w.ID {
		t.Fatalf("wallet id changed from %s to %s", w.ID, again.ID)
	}
}

func TestInitialBalanceIsAnOpeningEntry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{cfg: wallet.Config{InitialBalance: 2500, Currency: "EUR"}})
	u := h.signedUp()
	h.signUp(u) // a second signup must not open twice
	time.Sleep(200 * time.Millisecond)
	w := h.walletOf(u)
	if w.Balance != 2500 || w.Version != 1 || w.Currency != "EUR" {
		t.Fatalf("wallet = %+v, want 25.00 EUR at version 1", w)
	}
	hist := h.historyOf(u, "")
	if hist.Total != 1 || hist.Entries[0].Type != wallet.TypeOpening || hist.Entries[0].Amount != 2500 {
		t.Fatalf("history = %+v, want one opening entry of 25.00", hist)
	}
	rep, err := h.mod.Reconcile(context.Background())
	if err != nil || !rep.OK() || rep.Total != 2500 {
		t.Fatalf("reconcile = %+v, %v", rep, err)
	}
}

func TestTenDimesMakeOneUnit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	u := h.signedUp()
	for i := range 10 {
		f := h.topup(u, 10)
		// An application is answered only once its credit is applied: the balance shows it already.
		if got := h.balanceOf(u); f.Outcome != contract.OutcomeApplied || got != int64(10*(i+1)) {
			t.Fatalf("top-up %d finalized as %+v with the balance at %d", i+1, f, got)
		}
	}
	res := h.get("/api/v1/wallet/user", u.token)
	if !strings.Contains(string(res.Body), `"balance":1.00,`) {
		t.Fatalf("wallet %s: want the balance printed exactly as 1.00", res.Body)
	}
	if w := h.walletOf(u); w.Balance != 100 || w.Version != 10 {
		t.Fatalf("wallet = %+v, want 1.00 at version 10", w)
	}
	if got := h.counter("wallet_legs_applied_total", "leg", "credit"); got != 10 {
		t.Errorf("wallet_legs_applied_total{leg=credit} = %v, want 10", got)
	}
	if got := h.counter("wallet_finalizations_total", "outcome", "applied"); got != 10 {
		t.Errorf("wallet_finalizations_total{outcome=applied} = %v, want 10", got)
	}
}

func TestTransferMovesExactAmounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	alice, bob := h.signedUp(), h.signedUp()
	h.topup(alice, 100_00)
	txID, f := h.transfer(alice, bob, 33_33)
	if f.Outcome != contract.OutcomeApplied || f.Reason != "" || f.Balances[alice.id] != 66_67 || len(f.Balances) != 1 {
		t.Fatalf("transfer finalized as %+v", f)
	}
	if a, b := h.balanceOf(alice), h.balanceOf(bob); a != 66_67 || b != 33_33 {
		t.Fatalf("balances %d and %d, want 6667 and 3333", a, b)
	}
	out, in := h.historyOf(alice, "").Entries[0], h.historyOf(bob, "").Entries[0]
	if out.TransactionID != txID || out.Type != wallet.TypeTransferOut || out.Amount != -33_33 || out.BalanceAfter != 66_67 {
		t.Errorf("sender's entry = %+v", out)
	}
	if in.TransactionID != txID || in.Type != wallet.TypeTransferIn || in.Amount != 33_33 || in.BalanceAfter != 33_33 {
		t.Errorf("recipient's entry = %+v", in)
	}
}

func TestInsufficientFundsRejectsAndMovesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	alice, bob := h.signedUp(), h.signedUp()
	h.topup(alice, 10_00)
	p := contract.TransactionProcessingData{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTransfer,
		UserID: alice.id, RecipientID: bob.id, Amount: 10_01}
	msg := h.processing(p)
	f := h.waitFinalized(p.TransactionID)
	if f.Outcome != contract.OutcomeRejected || f.Reason != contract.ReasonInsufficientFunds {
		t.Fatalf("finalized as %+v, want rejected for insufficient_funds", f)
	}
	if a, b := h.balanceOf(alice), h.balanceOf(bob); a != 10_00 || b != 0 {
		t.Fatalf("balances %d and %d after a rejected transfer", a, b)
	}

	// Money arrives; then the same processing event is redelivered. The recorded outcome wins: it is
	// answered again, identically, and still nothing moves.
	h.topup(alice, 5_00)
	h.send(msg)
	testenv.Eventually(t, 10*time.Second, "the re-sent answer", func() bool { return len(h.finalizedOf(p.TransactionID)) >= 2 })
	answers := h.finalizedOf(p.TransactionID)
	for _, a := range answers {
		if a.data.Outcome != contract.OutcomeRejected || a.msg.ID != answers[0].msg.ID {
			t.Fatalf("answers %+v: want the same rejection, same event id", answers)
		}
	}
	if a, b := h.balanceOf(alice), h.balanceOf(bob); a != 15_00 || b != 0 {
		t.Fatalf("balances %d and %d: a rejected transfer was applied on redelivery", a, b)
	}
	if got := h.historyOf(alice, "").Total; got != 2 {
		t.Fatalf("alice has %d entries, want her 2 top-ups", got)
	}
}

// TestSagaSurvivesRedeliveryAndDisorder sends every saga event twice and out of order, and checks that
// nothing is applied twice and Σ balances = Σ applied top-ups.
func TestSagaSurvivesRedeliveryAndDisorder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{cfg: wallet.Config{MissingWalletAttempts: 100}})
	alice, bob, carol := h.signedUp(), h.signedUp(), h.newUser()
	var topups int64

	// Processing before the recipient's wallet exists: retried until it does, moving nothing meanwhile.
	h.topup(alice, 50_00)
	topups += 50_00
	early := contract.TransactionProcessingData{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTransfer,
		UserID: alice.id, RecipientID: carol.id, Amount: 20_00}
	h.processing(early)
	time.Sleep(150 * time.Millisecond) // a few retries go by
	if got := h.finalizedOf(early.TransactionID); len(got) != 0 {
		t.Fatalf("finalized %+v before the recipient's wallet exists", got)
	}
	if got := h.balanceOf(alice); got != 50_00 {
		t.Fatalf("alice's balance is %d while the recipient's wallet is missing, want 5000 (nothing moved)", got)
	}
	h.signUp(carol)
	if f := h.waitFinalized(early.TransactionID); f.Outcome != contract.OutcomeApplied || h.balanceOf(carol) != 20_00 {
		t.Fatalf("early transfer finalized as %+v", f)
	}

	// A top-up processed twice: credited once.
	tp := contract.TransactionProcessingData{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTopup, UserID: bob.id, Amount: 7_77}
	m := h.processing(tp)
	h.send(m)
	h.waitFinalized(tp.TransactionID)
	topups += 7_77

	// A transfer processed twice, then failed twice: reversed once.
	tr := contract.TransactionProcessingData{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTransfer, UserID: bob.id, RecipientID: alice.id, Amount: 5_00}
	m = h.processing(tr)
	h.send(m)
	h.waitFinalized(tr.TransactionID)
	fm := h.failed(tr.TransactionID, tr, "timeout")
	h.send(fm)

	// Failed before processing: the late processing never applies it.
	late := contract.TransactionProcessingData{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTransfer, UserID: alice.id, RecipientID: bob.id, Amount: 1_00}
	h.failed(late.TransactionID, late, "timeout")
	testenv.Eventually(t, 5*time.Second, "the tombstone of the late transfer", func() bool {
		n, err := h.db.Collection("finalizations").CountDocuments(context.Background(), bson.D{{Key: "_id", Value: late.TransactionID}})
		return err == nil && n == 1
	})
	h.processing(late)

	// A top-up failed after it was applied: reversed (the money never counts as topped up).
	gone := contract.TransactionProcessingData{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTopup, UserID: carol.id, Amount: 3_00}
	h.processing(gone)
	h.waitFinalized(gone.TransactionID)
	h.failed(gone.TransactionID, gone, "timeout")

	want := map[string]int64{alice.id: 30_00, bob.id: 7_77, carol.id: 20_00}
	testenv.Eventually(t, 10*time.Second, "the reversals", func() bool {
		for _, u := range []user{alice, bob, carol} {
			if h.balanceOf(u) != want[u.id] {
				return false
			}
		}
		return true
	})
	time.Sleep(300 * time.Millisecond) // anything still in flight would show now
	var sum int64
	for _, u := range []user{alice, bob, carol} {
		got := h.balanceOf(u)
		if got != want[u.id] {
			t.Errorf("balance of %s = %d, want %d", u.id, got, want[u.id])
		}
		sum += got
	}
	if sum != topups {
		t.Errorf("Σ balances = %d, Σ applied top-ups = %d", sum, topups)
	}
	byLeg := map[string]int{}
	for _, u := range []user{alice, bob, carol} {
		for _, e := range h.historyOf(u, "?limit=100").Entries {
			byLeg[e.TransactionID+"/"+e.Type+"/"+e.Amount.String()]++
		}
	}
	for k, n := range byLeg {
		if n != 1 {
			t.Errorf("entry %s applied %d times", k, n)
		}
	}
	if n := byLeg[tr.TransactionID+"/reversal/5.00"] + byLeg[tr.TransactionID+"/reversal/-5.00"]; n != 2 {
		t.Errorf("failed transfer has %d reversal entries, want 2 (one per leg): %v", n, byLeg)
	}
	if n := len(h.finalizedOf(late.TransactionID)); n != 0 {
		t.Errorf("a transaction failed before processing was answered %d times", n)
	}
	rep, err := h.mod.Reconcile(context.Background())
	if err != nil || !rep.OK() || rep.Total != topups {
		t.Fatalf("reconcile = %+v, %v", rep, err)
	}
}

// TestMissingWalletGivesUp: a recipient whose wallet never appears ends the transfer as rejected, with
// nothing moved.
func TestMissingWalletGivesUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{cfg: wallet.Config{MissingWalletAttempts: 3}})
	alice, ghost := h.signedUp(), h.newUser()
	h.topup(alice, 10_00)
	txID, f := h.transfer(alice, ghost, 4_00)
	if f.Outcome != contract.OutcomeRejected || f.Reason != contract.ReasonWalletNotFound {
		t.Fatalf("finalized as %+v, want rejected for wallet_not_found", f)
	}
	if got := h.balanceOf(alice); got != 10_00 {
		t.Errorf("alice's balance = %d, want 1000", got)
	}
	if hist := h.historyOf(alice, ""); hist.Total != 1 || hist.Entries[0].TransactionID == txID {
		t.Fatalf("history = %+v, want the top-up alone", hist)
	}
}

// TestPoisonEventsGoToTheDeadLetterQueue: malformed events are dead-lettered at once and do not hold up
// the events behind them.
func TestPoisonEventsGoToTheDeadLetterQueue(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	u := h.signedUp()
	raw := func(body string) bus.Message {
		return bus.Message{ID: bson.NewObjectID().Hex(), Exchange: contract.TransactionEvents, Type: contract.TransactionProcessing,
			Timestamp: time.Now(), Body: []byte(body)}
	}
	envelope := func(data string) bus.Message {
		return raw(`{"id":"` + bson.NewObjectID().Hex() + `","type":"transaction.processing","occurredAt":"2025-01-01T00:00:00Z","data":` + data + `}`)
	}
	tx := bson.NewObjectID().Hex()
	poison := []bus.Message{
		raw(`{not json`),
		raw(`{"id":"x","type":"transaction.processing","occurredAt":"2025-01-01T00:00:00Z"}`),
		// Read two ways by two parsers: the amount twice, a case-variant name, invalid UTF-8.
		envelope(`{"transactionId":"` + tx + `","type":"topup","userId":"` + u.id + `","amount":1,"amount":100000000,"currency":"USD"}`),
		envelope(`{"transactionId":"` + tx + `","type":"topup","userId":"` + u.id + `","amount":1,"AMOUNT":100000000,"currency":"USD"}`),
		envelope("{\"transactionId\":\"" + tx + "\",\"type\":\"topup\",\"userId\":\"" + u.id + "\",\"amount\":1,\"currency\":\"USD\xff\"}"),
	}
	for _, p := range []contract.TransactionProcessingData{
		{Type: contract.TypeTopup, UserID: u.id, Amount: 100, Currency: "USD"},                                         // no transaction id
		{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTopup, UserID: u.id, Amount: 0, Currency: "USD"},  // zero
		{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTopup, UserID: u.id, Amount: -5, Currency: "USD"}, // negative
		{TransactionID: bson.NewObjectID().Hex(), Type: "gift", UserID: u.id, Amount: 100, Currency: "USD"},
	} {
		ev, err := event.New(context.Background(), contract.TransactionEvents, contract.TransactionProcessing, time.Now(), p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ev.Message()
		if err != nil {
			t.Fatal(err)
		}
		poison = append(poison, m)
	}
	poisonIDs := map[string]bool{}
	for _, m := range poison {
		poisonIDs[m.ID] = true
		h.send(m)
	}
	f := h.topup(u, 1_23) // behind the poison
	if f.Outcome != contract.OutcomeApplied || h.balanceOf(u) != 1_23 {
		t.Fatalf("the event behind the poison: %+v, balance %d", f, h.balanceOf(u))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := map[string]bool{}
	_ = h.bus.Consume(ctx, bus.DeadLetterQueue(contract.Queue("wallet", contract.TransactionProcessing)), func(_ context.Context, m bus.Message) error {
		seen[m.ID] = true
		if len(seen) == len(poison) {
			cancel()
		}
		return nil
	})
	for id := range poisonIDs {
		if !seen[id] {
			t.Errorf("poison message %s is not in the dead-letter queue (saw %v)", id, seen)
		}
	}
	if w := h.walletOf(u); w.Version != 1 {
		t.Errorf("wallet at version %d: a poison event was applied", w.Version)
	}
}

// TestRacingDeliveriesNeverExposeACredit: two deliveries of one transfer decide differently, because a
// top-up lands between them. Whichever outcome is recorded first wins, and until it is recorded the
// recipient holds nothing: a transfer that ends rejected never lent the recipient money to spend.
func TestRacingDeliveriesNeverExposeACredit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		rejectedFirst bool
	}{
		{"the rejection is recorded first", true},
		{"the application is recorded first", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			h := newHarness(t, harnessOptions{})
			alice, bob := h.signedUp(), h.signedUp()
			h.topup(alice, 5_00)
			p := contract.TransactionProcessingData{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTransfer,
				UserID: alice.id, RecipientID: bob.id, Amount: 10_00, Currency: "USD"}

			refused, err := h.mod.Decide(ctx, p)
			if err != nil || refused.Outcome() != contract.OutcomeRejected {
				t.Fatalf("first delivery decided %q, %v; want rejected", refused.Outcome(), err)
			}
			h.topup(alice, 10_00)
			debited, err := h.mod.Decide(ctx, p)
			if err != nil || debited.Outcome() != contract.OutcomeApplied {
				t.Fatalf("second delivery decided %q, %v; want applied", debited.Outcome(), err)
			}
			if got := h.balanceOf(bob); got != 0 {
				t.Fatalf("bob holds %d before any outcome is recorded, want 0", got)
			}

			first, second := refused, debited
			wantOutcome, wantAlice, wantBob := contract.OutcomeRejected, int64(15_00), int64(0)
			if !tc.rejectedFirst {
				first, second = debited, refused
				wantOutcome, wantAlice, wantBob = contract.OutcomeApplied, 5_00, 10_00
			}
			if err := h.mod.Commit(ctx, p, first); err != nil {
				t.Fatal(err)
			}
			if err := h.mod.Commit(ctx, p, second); err != nil {
				t.Fatal(err)
			}
			if f := h.waitFinalized(p.TransactionID); f.Outcome != wantOutcome {
				t.Fatalf("finalized as %+v, want %s", f, wantOutcome)
			}
			if got, want := h.balanceOf(alice), wantAlice; got != want {
				t.Errorf("alice's balance = %d, want %d", got, want)
			}
			if got, want := h.balanceOf(bob), wantBob; got != want {
				t.Errorf("bob's balance = %d, want %d", got, want)
			}
			for _, f := range h.finalizedOf(p.TransactionID) {
				if f.data.Outcome != wantOutcome {
					t.Errorf("also answered %+v", f.data)
				}
			}
			rep, err := h.mod.Reconcile(ctx)
			if err != nil || !rep.OK() || rep.Total != 15_00 {
				t.Fatalf("reconcile = %+v, %v", rep, err)
			}
		})
	}
}

// TestCrashAfterTheRecordIsFinishedByTheRedelivery: a delivery that recorded an application and died
// before the credit leaves the answer parked; the redelivery applies the credit, then answers.
func TestCrashAfterTheRecordIsFinishedByTheRedelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, harnessOptions{})
	alice, bob := h.signedUp(), h.signedUp()
	h.topup(alice, 10_00)
	p := contract.TransactionProcessingData{TransactionID: bson.NewObjectID().Hex(), Type: contract.TypeTransfer,
		UserID: alice.id, RecipientID: bob.id, Amount: 4_00, Currency: "USD"}
	d, err := h.mod.Decide(ctx, p)
	if err != nil || d.Outcome() != contract.OutcomeApplied {
		t.Fatalf("decided %q, %v; want applied", d.Outcome(), err)
	}
	if err := h.mod.Record(ctx, p, d); err != nil {
		t.Fatal(err)
	}
	if got := h.finalizedOf(p.TransactionID); len(got) != 0 || h.balanceOf(bob) != 0 {
		t.Fatalf("answered %+v with bob at %d before the credit", got, h.balanceOf(bob))
	}

	h.processing(p) // the redelivery
	if f := h.waitFinalized(p.TransactionID); f.Outcome != contract.OutcomeApplied {
		t.Fatalf("finalized as %+v", f)
	}
	if a, b := h.balanceOf(alice), h.balanceOf(bob); a != 6_00 || b != 4_00 {
		t.Fatalf("balances %d and %d, want 600 and 400", a, b)
	}
	rep, err := h.mod.Reconcile(ctx)
	if err != nil || !rep.OK() || rep.Total != 10_00 {
		t.Fatalf("reconcile = %+v, %v", rep, err)
	}
}
