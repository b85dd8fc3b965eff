package notifications

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/notifications/mailer"
	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest"
	"github.com/mint-wallet/mint/internal/platform/testenv"
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

// countingSender accepts every mail and counts them by id.
type countingSender struct {
	mu   sync.Mutex
	sent map[string]int
}

func (s *countingSender) Send(_ context.Context, m mailer.Mail) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]int{}
	}
	s.sent[m.ID]++
	return nil
}

// A mail sent while the database is away is never sent again by the process that sent it: it is
// remembered as sent, skipped when it comes due again, and recorded once the database answers.
func TestAMailSentWhileTheDatabaseIsAwayIsRecordedNotResent(t *testing.T) {
	ctx := context.Background()
	client := mongotest.Open(t)
	dbName := mongotest.DBName(t, "notifications")
	st, err := newStore(ctx, client.Database(dbName))
	if err != nil {
		t.Fatal(err)
	}
	// A second connection to the same database, closed below: the deliverer's database "goes away".
	away, err := mongox.Open(ctx, mongox.Config{URI: client.EmbeddedURI(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	broken := *st
	broken.mails = away.Database(dbName).Collection("mails")
	metrics, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	sender := &countingSender{}
	d := &deliverer{store: &broken, sender: sender, metrics: metrics, logger: slog.New(slog.DiscardHandler), now: time.Now,
		lease: time.Minute, retry: Retry{}.withDefaults()}
	m := Mail{ID: "welcome:u1:u1", State: StatePending, NextAttemptAt: d.leaseEnd(time.Now())}
	if _, err := st.owe(ctx, []Mail{m}); err != nil {
		t.Fatal(err)
	}
	if err := away.Close(ctx); err != nil {
		t.Fatal(err)
	}

	d.attempt(ctx, []Mail{m}) // sent (a handed-over mail needs no claim), its record fails
	d.attempt(ctx, []Mail{m}) // due again: must not go out again
	if n := sender.sent[m.ID]; n != 1 {
		t.Fatalf("sent %d times, want once", n)
	}

	broken.mails = st.mails // the database is back
	d.recordUnrecorded(ctx)
	var got Mail
	if err := st.mails.FindOne(ctx, bson.D{{Key: "_id", Value: m.ID}}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.State != StateSent || d.sentUnrecorded(m.ID) {
		t.Fatalf("after the database came back: state %q, still unrecorded %v; want sent and forgotten", got.State, d.sentUnrecorded(m.ID))
	}
}

// A mail held under the lease of a process that died is sent by the next one as soon as the lease
// ends, not at its next rescan (here an hour away).
func TestAMailLeftUnderADeadProcesssLeaseIsSentWhenTheLeaseEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := newStore(ctx, mongotest.Open(t).Database(mongotest.DBName(t, "notifications")))
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	m := Mail{ID: "welcome:u2:u2", State: StatePending, NextAttemptAt: time.Now().Add(time.Second).UTC().Truncate(time.Millisecond)}
	if _, err := st.owe(ctx, []Mail{m}); err != nil {
		t.Fatal(err)
	}
	sender := &countingSender{}
	d := &deliverer{store: st, sender: sender, metrics: metrics, logger: slog.New(slog.DiscardHandler), now: time.Now,
		lease: time.Hour, poll: 20 * time.Millisecond, parallel: 1, retry: Retry{}.withDefaults(), fresh: make(chan []Mail)}
	go func() { _ = d.run(ctx) }()
	testenv.Eventually(t, time.Minute, "the mail sent once its lease ended", func() bool {
		sender.mu.Lock()
		defer sender.mu.Unlock()
		return sender.sent[m.ID] == 1
	})
}
