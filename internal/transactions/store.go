package transactions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/memo"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/platform/outbox"
)

// DatabaseName is the transactions service's own database.
const DatabaseName = "transactions_db"

// txDoc is a transaction as stored. DrivenAt is when the event of the current state was last owed (at
// creation, at each transition, at each re-drive by the sweeper): the sweeper's clock, kept apart from
// UpdatedAt so that re-driving does not change what clients see. The outbox holds the events owed and
// not yet published, written by the same single-document write as the state change that owes them.
type txDoc struct {
	ID             bson.ObjectID `bson:"_id"`
	Type           string        `bson:"type"`
	UserID         string        `bson:"userId"`
	RecipientID    string        `bson:"recipientId,omitempty"`
	Amount         int64         `bson:"amount"` // cents
	Currency       string        `bson:"currency"`
	Description    string        `bson:"description,omitempty"`
	Status         string        `bson:"status"`
	FailureReason  string        `bson:"failureReason,omitempty"`
	CreatedAt      time.Time     `bson:"createdAt"`
	UpdatedAt      time.Time     `bson:"updatedAt"`
	CompletedAt    *time.Time    `bson:"completedAt,omitempty"`
	DrivenAt       time.Time     `bson:"drivenAt"`
	Redrives       int           `bson:"redrives,omitempty"` // re-drives of the current state; sets the back-off
	outbox.Pending `bson:",inline"`
}

// view is the public view of d, as GET /transactions/{id} answers it.
func (d txDoc) view() Transaction { return fromData(d.data()) }

// fromData is the public view of the transaction an event carries.
func fromData(d contract.TransactionData) Transaction {
	t := Transaction{ID: d.ID, Type: d.Type, UserID: d.UserID, RecipientID: d.RecipientID,
		Amount: money.FromCents(d.Amount), Currency: d.Currency, Description: d.Description, Status: d.Status,
		FailureReason: d.FailureReason, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if d.CompletedAt != nil {
		c := d.CompletedAt.UTC()
		t.CompletedAt = &c
	}
	return t
}

// data is the full transaction as events carry it.
func (d txDoc) data() contract.TransactionData {
	t := contract.TransactionData{ID: d.ID.Hex(), Type: d.Type, UserID: d.UserID, RecipientID: d.RecipientID,
		Amount: d.Amount, Currency: d.Currency, Description: d.Description, Status: d.Status,
		FailureReason: d.FailureReason, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	if d.CompletedAt != nil {
		c := d.CompletedAt.UTC()
		t.CompletedAt = &c
	}
	return t
}

// userDoc is a user this service knows of from user.signup: the set of valid transfer recipients.
type userDoc struct {
	ID        string    `bson:"_id"`
	CreatedAt time.Time `bson:"createdAt"`
}

// errDuplicate reports an insert whose _id exists already.
var errDuplicate = errors.New("duplicate _id")

// store runs the queries. Collections: transactions, idempotency_keys, users.
type store struct {
	txs   *mongo.Collection
	keys  *mongo.Collection
	users *mongo.Collection
	// known holds the users found to exist. A user is never removed, so a remembered one is never
	// stale, and a transfer to a frequent recipient needs no query; an unknown one is always asked
	// again (its user.signup may arrive any moment).
	known *memo.Map[string, struct{}]
	// writing holds the transactions this process moved on, as it wrote them, until they end: the
	// wallet's answer usually comes back to the process that asked, and finalizing then needs no read.
	// A remembered document is only a first guess, never newer than what is stored, since a status only
	// moves forward: the step is written guarded by the status it holds, and a miss (another replica
	// moved it on) forgets it and reads the stored one. Every other field a step or its event takes
	// from the guess never changes after the insert.
	writing *memo.Map[bson.ObjectID, txDoc]
}

// Bounds of the store's memories (known, writing); past one, that memory starts afresh.
const (
	maxKnownUsers  = 1 << 16
	maxLastWritten = 1 << 14
)

func newStore(db *mongo.Database) *store {
	return &store{txs: db.Collection("transactions"), keys: db.Collection("idempotency_keys"), users: db.Collection("users"),
		known: memo.New[string, struct{}](maxKnownUsers), writing: memo.New[bson.ObjectID, txDoc](maxLastWritten)}
}

func (s *store) ensureIndexes(ctx context.Context) error {
	idx := func(name string, keys bson.D) mongo.IndexModel {
		return mongo.IndexModel{Keys: keys, Options: options.Index().SetName(name)}
	}
	if err := mongox.EnsureIndexes(ctx, s.txs,
		// The list query: the caller as sender/owner or as recipient, newest first.
		idx("userId_createdAt", bson.D{{Key: "userId", Value: 1}, {Key: "createdAt", Value: -1}}),
		idx("recipientId_createdAt", bson.D{{Key: "recipientId", Value: 1}, {Key: "createdAt", Value: -1}}),
		// The sweeper's query.
		idx("status_drivenAt", bson.D{{Key: "status", Value: 1}, {Key: "drivenAt", Value: 1}}),
	); err != nil {
		return fmt.Errorf("transactions indexes: %w", err)
	}
	// Uniqueness lives in _id on every collection (transaction id derived from the idempotency record,
	// user+key, user id): _id is always present, unique on every server, and checked atomically on insert.
	if err := mongox.EnsureIndexes(ctx, s.keys, idx("createdAt", bson.D{{Key: "createdAt", Value: 1}})); err != nil {
		return fmt.Errorf("idempotency_keys indexes: %w", err)
	}
	return nil
}

var noOutbox = options.FindOne().SetProjection(bson.D{{Key: outbox.Field, Value: 0}, {Key: outbox.DeadField, Value: 0}})

func (s *store) insertTx(ctx context.Context, d txDoc) error {
	if _, err := s.txs.InsertOne(ctx, d); err != nil {
		if mongox.IsDuplicateKey(err) {
			return errDuplicate
		}
		return fmt.Errorf("insert transaction: %w", err)
	}
	return nil
}

func (s *store) txByID(ctx context.Context, id bson.ObjectID) (txDoc, error) {
	var d txDoc
	err := s.txs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, noOutbox).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, failure.New(failure.NotFound, "no such transaction")
	}
	if err != nil {
		return d, fmt.Errorf("find transaction %s: %w", id.Hex(), err)
	}
	return d, nil
}

// step is one state change of a transaction (the document moveTo returned) and the event it owes.
type step struct {
	Next  txDoc
	Event event.Event
}

// movedFields is the $set that persists what moveTo changed in d.
func movedFields(d txDoc) bson.D {
	set := bson.D{{Key: "status", Value: d.Status}, {Key: "updatedAt", Value: d.UpdatedAt}, {Key: "drivenAt", Value: d.DrivenAt},
		{Key: "redrives", Value: d.Redrives}}
	if d.FailureReason != "" {
		set = append(set, bson.E{Key: "failureReason", Value: d.FailureReason})
	}
	if d.CompletedAt != nil {
		set = append(set, bson.E{Key: "completedAt", Value: *d.CompletedAt})
	}
	return set
}

// remember keeps d as this process wrote it (writing), or forgets it once it has ended.
func (s *store) remember(d txDoc) {
	if isTerminal(d.Status) {
		s.writing.Delete(d.ID)
		return
	}
	s.writing.Put(d.ID, d)
}

// maxStepTries bounds advance's compare-and-swap loop; each miss means another writer moved the
// transaction on, so a handful of tries always settles.
const maxStepTries = 5

// advance reads the transaction, asks decide for the next step and writes it guarded by the status it
// read, together with the step's event in the outbox: one single-document update, so a crash cannot split
// the state from its event, and a duplicate or concurrent writer matches nothing. When the guard misses,
// it reads again and asks decide again. It returns the document after the step, and false when decide
// found nothing to do. The first try starts from the document as this process last wrote it, when it
// remembers one (writing), instead of reading it.
func (s *store) advance(ctx context.Context, id bson.ObjectID, decide func(cur txDoc) (step, bool, error)) (txDoc, bool, error) {
	for range maxStepTries {
		cur, guessed := s.writing.Get(id)
		if !guessed {
			var err error
			if cur, err = s.txByID(ctx, id); err != nil {
				return cur, false, err
			}
		}
		st, ok, err := decide(cur)
		if err != nil || !ok {
			return cur, false, err
		}
		res, err := s.txs.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: cur.Status}},
			outbox.Push(bson.D{{Key: "$set", Value: movedFields(st.Next)}}, st.Event))
		if err != nil {
			return cur, false, fmt.Errorf("transaction %s %s → %s: %w", id.Hex(), cur.Status, st.Next.Status, err)
		}
		if res.MatchedCount == 1 {
			s.remember(st.Next)
			return st.Next, true, nil
		}
		s.writing.Delete(id)
	}
	return txDoc{}, false, fmt.Errorf("transaction %s: status kept changing under %d tries", id.Hex(), maxStepTries)
}

// begin moves d from pending to processing with its event ev, guarded by the pending status and by
// every field d states (type, parties, amount, currency, description, creation time), so that an event
// whose copy of the transaction differs from the stored one changes nothing, and a match leaves d as
// stored. It reports whether it matched.
func (s *store) begin(ctx context.Context, d txDoc, ev event.Event) (bool, error) {
	filter := bson.D{{Key: "_id", Value: d.ID}, {Key: "status", Value: contract.StatusPending}, {Key: "type", Value: d.Type},
		{Key: "userId", Value: d.UserID}, {Key: "amount", Value: d.Amount}, {Key: "currency", Value: d.Currency},
		{Key: "createdAt", Value: d.CreatedAt}}
	for _, f := range []struct{ key, value string }{{"recipientId", d.RecipientID}, {"description", d.Description}} {
		if f.value != "" {
			filter = append(filter, bson.E{Key: f.key, Value: f.value})
		} else {
			filter = append(filter, bson.E{Key: f.key, Value: bson.D{{Key: "$exists", Value: false}}})
		}
	}
	res, err := s.txs.UpdateOne(ctx, filter, outbox.Push(bson.D{{Key: "$set", Value: movedFields(d)}}, ev))
	if err != nil {
		return false, fmt.Errorf("transaction %s pending → processing: %w", d.ID.Hex(), err)
	}
	if res.MatchedCount == 1 {
		s.remember(d)
	}
	return res.MatchedCount == 1, nil
}

// listFilter is the query of the caller's transactions: all they sent, and what they received once it
// completed (visibleTo). ok is false when the filter can match nothing.
func listFilter(userID string, f ListFilter) (q bson.D, ok bool) {
	var parties bson.A
	if f.Direction != directionReceived {
		sent := bson.D{{Key: "userId", Value: userID}}
		if f.Status != "" {
			sent = append(sent, bson.E{Key: "status", Value: f.Status})
		}
		parties = append(parties, sent)
	}
	if f.Direction != directionSent && (f.Status == "" || f.Status == contract.StatusCompleted) {
		parties = append(parties, bson.D{{Key: "recipientId", Value: userID}, {Key: "status", Value: contract.StatusCompleted}})
	}
	switch len(parties) {
	case 0:
		return nil, false
	case 1:
		q = parties[0].(bson.D)
	default:
		q = bson.D{{Key: "$or", Value: parties}}
	}
	if f.Type != "" {
		q = append(q, bson.E{Key: "type", Value: f.Type})
	}
	return q, true
}

func (s *store) list(ctx context.Context, userID string, f ListFilter, limit, offset int) ([]txDoc, int64, error) {
	q, ok := listFilter(userID, f)
	if !ok {
		return []txDoc{}, 0, nil
	}
	total, err := s.txs.CountDocuments(ctx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("count transactions: %w", err)
	}
	opts := options.Find().SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}).
		SetSkip(int64(offset)).SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: outbox.Field, Value: 0}, {Key: outbox.DeadField, Value: 0}})
	docs, err := s.find(ctx, q, opts)
	return docs, total, err
}

func (s *store) find(ctx context.Context, q bson.D, opts *options.FindOptionsBuilder) ([]txDoc, error) {
	cur, err := s.txs.Find(ctx, q, opts)
	if err != nil {
		return nil, fmt.Errorf("find transactions: %w", err)
	}
	docs := []txDoc{}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read transactions: %w", err)
	}
	return docs, nil
}

// stuck returns up to limit transactions in a non-terminal state whose event was last owed before
// cutoff and has been published (an empty outbox): their saga lost its way and needs a re-drive. While
// events wait in the outbox the relay is still on them, and pushing more would only pile up copies.
func (s *store) stuck(ctx context.Context, cutoff time.Time, limit int) ([]txDoc, error) {
	q := bson.D{
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{contract.StatusPending, contract.StatusProcessing}}}},
		{Key: "drivenAt", Value: bson.D{{Key: "$lt", Value: cutoff}}},
		{Key: outbox.Field + ".0", Value: bson.D{{Key: "$exists", Value: false}}},
	}
	return s.find(ctx, q, options.Find().SetSort(bson.D{{Key: "drivenAt", Value: 1}}).SetLimit(int64(limit)))
}

// redrive owes ev again for d's current state, guarded by the state and drive time read, so that two
// sweepers (replicas) re-drive a transaction once per back-off.
func (s *store) redrive(ctx context.Context, d txDoc, ev event.Event, now time.Time) (bool, error) {
	res, err := s.txs.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "status", Value: d.Status}, {Key: "drivenAt", Value: d.DrivenAt}},
		outbox.Push(bson.D{{Key: "$set", Value: bson.D{{Key: "drivenAt", Value: now}, {Key: "redrives", Value: d.Redrives + 1}}}}, ev))
	if err != nil {
		return false, fmt.Errorf("re-drive transaction %s: %w", d.ID.Hex(), err)
	}
	return res.MatchedCount == 1, nil
}

// addUser records a known user; a second signup event of the same user changes nothing.
func (s *store) addUser(ctx context.Context, u userDoc) error {
	if _, err := s.users.InsertOne(ctx, u); err != nil && !mongox.IsDuplicateKey(err) {
		return fmt.Errorf("insert user %s: %w", u.ID, err)
	}
	s.known.Put(u.ID, struct{}{})
	return nil
}

func (s *store) userExists(ctx context.Context, id string) (bool, error) {
	if _, ok := s.known.Get(id); ok {
		return true, nil
	}
	err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find user %s: %w", id, err)
	}
	s.known.Put(id, struct{}{})
	return true, nil
}
