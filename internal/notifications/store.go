package notifications

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mint-wallet/mint/internal/platform/memo"
	"github.com/mint-wallet/mint/internal/platform/mongox"
)

// DatabaseName is the notifications service's own database.
const DatabaseName = "notifications_db"

// Mail states. A mail is inserted pending; it becomes sent once the SMTP server accepted it, or dead
// after Retry.MaxAttempts failed attempts (the mail's dead-letter: kept, logged, counted, and sent
// again if an operator sets it back to pending).
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateDead    = "dead"
)

// User is what the service knows of a user, learnt from user.signup: enough to address and greet.
type User struct {
	ID        string `bson:"_id"`
	Email     string `bson:"email"`
	FirstName string `bson:"firstName"`
	LastName  string `bson:"lastName"`
}

// FullName is "First Last".
func (u User) FullName() string { return u.FirstName + " " + u.LastName }

// Mail is one mail the service owes, rendered, keyed by its dedupe key: the record that makes each
// mail go out once and the outbox the sender works from.
type Mail struct {
	ID            string    `bson:"_id"` // dedupe key: <template>:<subject id>:<recipient user id>
	EventID       string    `bson:"eventId"`
	Template      string    `bson:"template"`
	UserID        string    `bson:"userId"`
	From          string    `bson:"from"`
	To            string    `bson:"to"`
	ToName        string    `bson:"toName"`
	Subject       string    `bson:"subject"`
	Text          string    `bson:"text"`
	HTML          string    `bson:"html"`
	MessageID     string    `bson:"messageId"`
	State         string    `bson:"state"`
	Attempts      int       `bson:"attempts"`
	NextAttemptAt time.Time `bson:"nextAttemptAt"`
	LastError     string    `bson:"lastError,omitempty"`
	CreatedAt     time.Time `bson:"createdAt"`
	SentAt        time.Time `bson:"sentAt"`
	TraceParent   string    `bson:"traceparent,omitempty"` // the trace of the event that owed it (W3C traceparent)
}

var errUnknownUser = errors.New("notifications: user not known yet (its user.signup has not been consumed)")

type store struct {
	users *mongo.Collection
	mails *mongo.Collection
	// known remembers users as stored. A user is written once, by the first user.signup consumed,
	// and never changed or removed, so a remembered one is never stale, and mailing frequent
	// correspondents needs no query.
	known *memo.Map[string, User]
}

// maxKnownUsers bounds store.known; past it the memory starts afresh.
const maxKnownUsers = 1 << 16

func newStore(ctx context.Context, db *mongo.Database) (*store, error) {
	s := &store{users: db.Collection("users"), mails: db.Collection("mails"), known: memo.New[string, User](maxKnownUsers)}
	err := mongox.EnsureIndexes(ctx, s.mails, mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}, {Key: "nextAttemptAt", Value: 1}}})
	return s, err
}

// addUser records u once; a redelivered user.signup changes nothing.
func (s *store) addUser(ctx context.Context, u User) error {
	_, err := s.users.InsertOne(ctx, u)
	switch {
	case err == nil:
		s.known.Put(u.ID, u)
	case !mongox.IsDuplicateKey(err): // a duplicate: the first one stored stays, whatever this one says
		return fmt.Errorf("insert user %s: %w", u.ID, err)
	}
	return nil
}

// usersByID returns the users with ids, in that order, with one query for those not remembered;
// errUnknownUser names the first one missing.
func (s *store) usersByID(ctx context.Context, ids ...string) ([]User, error) {
	out := make([]User, len(ids))
	remembered := true
	for i, id := range ids {
		var ok bool
		out[i], ok = s.known.Get(id)
		remembered = remembered && ok
	}
	if remembered {
		return out, nil
	}
	cur, err := s.users.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("find users %v: %w", ids, err)
	}
	var found []User
	if err := cur.All(ctx, &found); err != nil {
		return nil, fmt.Errorf("read users %v: %w", ids, err)
	}
	for _, u := range found {
		s.known.Put(u.ID, u)
	}
	for i, id := range ids {
		j := slices.IndexFunc(found, func(u User) bool { return u.ID == id })
		if j < 0 {
			return nil, fmt.Errorf("%w: %s", errUnknownUser, id)
		}
		out[i] = found[j]
	}
	return out, nil
}

// owe records each of mails unless a mail with its key exists, with one insert, and reports which are
// new. The unique _id is the deduplication: a redelivered event finds its mails already owed (or sent)
// and adds nothing.
func (s *store) owe(ctx context.Context, mails []Mail) ([]bool, error) {
	docs := make([]any, len(mails))
	isNew := make([]bool, len(mails))
	for i, m := range mails {
		docs[i], isNew[i] = m, true
	}
	_, err := s.mails.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return isNew, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, fmt.Errorf("insert mails: %w", err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != duplicateKeyCode || we.Index < 0 || we.Index >= len(mails) {
			return nil, fmt.Errorf("insert mail %d of %d: %w", we.Index+1, len(mails), err)
		}
		isNew[we.Index] = false
	}
	return isNew, nil
}

// duplicateKeyCode is the server's code of an insert whose _id exists, on MongoDB and FerretDB alike.
const duplicateKeyCode = 11000

// due returns up to limit pending mails whose next attempt is due, oldest first.
func (s *store) due(ctx context.Context, now time.Time, limit int) ([]Mail, error) {
	cur, err := s.mails.Find(ctx, bson.D{{Key: "state", Value: StatePending}, {Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetSort(bson.D{{Key: "nextAttemptAt", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("find due mails: %w", err)
	}
	var out []Mail
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read due mails: %w", err)
	}
	return out, nil
}

// nextDue returns when the earliest pending mail falls due; false when none is pending.
func (s *store) nextDue(ctx context.Context) (time.Time, bool, error) {
	var m Mail
	err := s.mails.FindOne(ctx, bson.D{{Key: "state", Value: StatePending}},
		options.FindOne().SetSort(bson.D{{Key: "nextAttemptAt", Value: 1}}).SetProjection(bson.D{{Key: "nextAttemptAt", Value: 1}})).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("find the next due mail: %w", err)
	}
	return m.NextAttemptAt, true, nil
}

// claim takes a due mail for one attempt by pushing its next attempt past the lease, so that another
// sender (another replica) does not send it meanwhile. If this sender dies mid-attempt, the mail is
// due again when the lease ends.
func (s *store) claim(ctx context.Context, id string, now, leaseEnd time.Time) (bool, error) {
	res, err := s.mails.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: StatePending}, {Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "nextAttemptAt", Value: leaseEnd}}}})
	if err != nil {
		return false, fmt.Errorf("claim mail %s: %w", id, err)
	}
	return res.ModifiedCount == 1, nil
}

// renew extends the lease of a mail this sender holds: guarded by the lease's end as this sender set it,
// so that it fails once another sender has taken the mail after the lease ended.
func (s *store) renew(ctx context.Context, id string, leaseEnd, newEnd time.Time) (bool, error) {
	res, err := s.mails.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: StatePending}, {Key: "nextAttemptAt", Value: leaseEnd}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "nextAttemptAt", Value: newEnd}}}})
	if err != nil {
		return false, fmt.Errorf("renew the lease of mail %s: %w", id, err)
	}
	return res.ModifiedCount == 1, nil
}

// recordAttempts stores the outcome of each attempt in one write, each guarded by the mail still
// being pending: sent (and when), or failed (due again at its next attempt, or dead).
func (s *store) recordAttempts(ctx context.Context, outcomes []attempted) error {
	models := make([]mongo.WriteModel, len(outcomes))
	for i, o := range outcomes {
		update := bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: o.State}, {Key: "sentAt", Value: o.At},
			{Key: "attempts", Value: o.Attempts}}}, {Key: "$unset", Value: bson.D{{Key: "lastError", Value: ""}}}}
		if o.State != StateSent {
			update = bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: o.State}, {Key: "attempts", Value: o.Attempts},
				{Key: "nextAttemptAt", Value: o.NextAttemptAt}, {Key: "lastError", Value: o.LastError}}}}
		}
		models[i] = mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: o.ID}, {Key: "state", Value: StatePending}}).
			SetUpdate(update)
	}
	if _, err := s.mails.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("record the attempts at %d mails: %w", len(outcomes), err)
	}
	return nil
}
