package notifications

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest"
)

// A mail recorded under the deliverer's lease is sent without a claim while half the lease remains,
// renewed after that, and never taken from a sender that took it since; a due mail is claimed.
func TestClaimOfAHandedOverMail(t *testing.T) {
	ctx := context.Background()
	st, err := newStore(ctx, mongotest.Open(t).Database(mongotest.DBName(t, "notifications")))
	if err != nil {
		t.Fatal(err)
	}
	d := &deliverer{store: st, lease: time.Minute}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	m := Mail{ID: "m1", State: StatePending, NextAttemptAt: d.leaseEnd(t0), CreatedAt: t0}
	if _, err := st.owe(ctx, []Mail{m}); err != nil {
		t.Fatal(err)
	}
	stored := func() time.Time {
		t.Helper()
		var got Mail
		if err := st.mails.FindOne(ctx, bson.D{{Key: "_id", Value: m.ID}}).Decode(&got); err != nil {
			t.Fatal(err)
		}
		return got.NextAttemptAt.UTC()
	}
	claim := func(m Mail, at time.Duration) bool {
		t.Helper()
		ok, err := d.claim(ctx, m, t0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	if !claim(m, 10*time.Second) || !stored().Equal(d.leaseEnd(t0)) {
		t.Fatalf("a fresh hand-over: want it sent under its lease, unchanged (stored %v)", stored())
	}
	if !claim(m, 40*time.Second) || !stored().Equal(d.leaseEnd(t0.Add(40*time.Second))) {
		t.Fatalf("late in its lease: want it renewed to %v, stored %v", d.leaseEnd(t0.Add(40*time.Second)), stored())
	}
	if claim(m, 45*time.Second) {
		t.Fatal("renewed with a lease end that is no longer the stored one: another sender's mail was taken")
	}
	due := Mail{ID: m.ID, NextAttemptAt: stored()}
	if claim(due, 2*time.Minute) != true || !stored().Equal(d.leaseEnd(t0.Add(2*time.Minute))) {
		t.Fatalf("a due mail: want it claimed until %v, stored %v", d.leaseEnd(t0.Add(2*time.Minute)), stored())
	}
}

// Mails recorded together are deduplicated one by one: a key recorded before is not new, the others are.
func TestOweReportsWhichMailsAreNew(t *testing.T) {
	ctx := context.Background()
	st, err := newStore(ctx, mongotest.Open(t).Database(mongotest.DBName(t, "notifications")))
	if err != nil {
		t.Fatal(err)
	}
	mail := func(id string) Mail { return Mail{ID: id, State: StatePending} }
	for _, step := range []struct {
		mails []Mail
		want  []bool
	}{
		{[]Mail{mail("a"), mail("b")}, []bool{true, true}},
		{[]Mail{mail("a"), mail("c")}, []bool{false, true}},
		{[]Mail{mail("c"), mail("d"), mail("b")}, []bool{false, true, false}},
		{[]Mail{mail("a"), mail("b")}, []bool{false, false}},
	} {
		got, err := st.owe(ctx, step.mails)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, step.want) {
			t.Errorf("owe %v: new = %v, want %v", step.mails, got, step.want)
		}
	}
	if n, err := st.mails.CountDocuments(ctx, bson.D{}); err != nil || n != 4 {
		t.Errorf("%d mails stored (err %v), want 4", n, err)
	}
}
