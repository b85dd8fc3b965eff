package wallet_test

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestReconcileFindsTampering(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	alice, bob, empty := h.signedUp(), h.signedUp(), h.signedUp()
	h.topup(alice, 20_00)
	h.transfer(alice, bob, 7_50)
	h.topup(bob, 25)
	ctx := context.Background()

	rep, err := h.mod.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Wallets != 3 || rep.Entries != 4 || rep.Total != 20_25 || rep.Healed != 0 {
		t.Fatalf("reconcile of a sound ledger = %+v", rep)
	}

	// Someone edits a balance by hand.
	if _, err := h.db.Collection("wallets").UpdateOne(ctx, bson.D{{Key: "userId", Value: bob.id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "balance", Value: int64(1_000_00)}}}}); err != nil {
		t.Fatal(err)
	}
	// And an entry of an empty wallet appears from nowhere, breaking the chain.
	var w struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := h.db.Collection("wallets").FindOne(ctx, bson.D{{Key: "userId", Value: empty.id}}).Decode(&w); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Collection("entries").InsertOne(ctx, bson.D{{Key: "_id", Value: "forged/credit"}, {Key: "walletId", Value: w.ID},
		{Key: "userId", Value: empty.id}, {Key: "seq", Value: int64(2)}, {Key: "transactionId", Value: "forged"}, {Key: "leg", Value: "credit"},
		{Key: "type", Value: "topup"}, {Key: "amount", Value: int64(5_00)}, {Key: "balanceAfter", Value: int64(9_00)}}); err != nil {
		t.Fatal(err)
	}

	rep, err = h.mod.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatalf("reconcile after tampering found nothing: %+v", rep)
	}
	var bobs, emptys []string
	for _, d := range rep.Drifts {
		switch d.UserID {
		case bob.id:
			bobs = append(bobs, d.Problem)
		case empty.id:
			emptys = append(emptys, d.Problem)
		case alice.id:
			t.Errorf("alice's sound wallet reported: %s", d)
		}
	}
	if len(bobs) != 1 || !strings.Contains(bobs[0], "balance 1000.00, Σ entries 7.75") {
		t.Errorf("bob's drifts = %q", bobs)
	}
	joined := strings.Join(emptys, "\n")
	for _, want := range []string{"seq 2 follows 0", "balanceAfter 9.00", "balance 0.00, Σ entries 5.00"} {
		if !strings.Contains(joined, want) {
			t.Errorf("forged entry's drifts %q lack %q", emptys, want)
		}
	}
}
