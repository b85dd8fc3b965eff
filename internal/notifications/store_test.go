package notifications

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/platform/memo"
	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest"
)

func openStore(t *testing.T) *store {
	t.Helper()
	st, err := newStore(context.Background(), mongotest.Open(t).Database(mongotest.DBName(t, "notifications")))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The users a store answers with are the ones stored, whether it remembers them or reads them: a second
// user.signup of a user changes nothing, not even in the memory of the process that consumed it.
func TestUsersAreTheStoredOnes(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	ada := User{ID: "u1", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace"}
	for _, u := range []User{ada, {ID: "u1", Email: "other@example.com", FirstName: "Other", LastName: "Name"}} {
		if err := st.addUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	fresh := &store{users: st.users, mails: st.mails, known: memo.New[string, User](maxKnownUsers)} // another process: nothing remembered
	for _, step := range []struct {
		name string
		s    *store
	}{{"remembering", st}, {"reading", fresh}, {"having read", fresh}} {
		got, err := step.s.usersByID(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != ada {
			t.Errorf("%s: got %+v, want %+v", step.name, got, ada)
		}
	}
	if _, err := fresh.usersByID(ctx, "u1", "u2"); !errors.Is(err, errUnknownUser) {
		t.Errorf("an unknown user among known ones: err = %v, want errUnknownUser", err)
	}
}

// One write records every outcome of a group of attempts, and leaves alone a mail that is no longer
// pending (another sender recorded it first).
func TestRecordAttempts(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var mails []Mail
	for _, id := range []string{"sent", "retry", "dead", "taken"} {
		mails = append(mails, Mail{ID: id, State: StatePending, Attempts: 2, NextAttemptAt: t0, CreatedAt: t0, LastError: "earlier"})
	}
	mails[3].State = StateSent
	if _, err := st.owe(ctx, mails); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Minute)
	if err := st.recordAttempts(ctx, []attempted{
		{ID: "sent", State: StateSent, Attempts: 3, At: t0},
		{ID: "retry", State: StatePending, Attempts: 3, NextAttemptAt: later, LastError: "refused"},
		{ID: "dead", State: StateDead, Attempts: 3, NextAttemptAt: later, LastError: "refused"},
		{ID: "taken", State: StateDead, Attempts: 3, NextAttemptAt: later, LastError: "refused"},
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]Mail{
		"sent":  {State: StateSent, Attempts: 3, NextAttemptAt: t0, SentAt: t0},
		"retry": {State: StatePending, Attempts: 3, NextAttemptAt: later, LastError: "refused"},
		"dead":  {State: StateDead, Attempts: 3, NextAttemptAt: later, LastError: "refused"},
		"taken": {State: StateSent, Attempts: 2, NextAttemptAt: t0, LastError: "earlier"},
	}
	for id, w := range want {
		var got Mail
		if err := st.mails.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if got.State != w.State || got.Attempts != w.Attempts || !got.NextAttemptAt.Equal(w.NextAttemptAt) ||
			!got.SentAt.Equal(w.SentAt) || got.LastError != w.LastError {
			t.Errorf("%s: stored %+v, want state %s, %d attempts, next %v, sent %v, last error %q", id, got, w.State,
				w.Attempts, w.NextAttemptAt, w.SentAt, w.LastError)
		}
	}
}
