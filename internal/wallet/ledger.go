package wallet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/memo"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/platform/mongox"
)

// DatabaseName is the wallet service's own database.
const DatabaseName = "wallet_db"

// maxApplyAttempts bounds the optimistic-concurrency loop of apply. Each failed attempt means another
// writer appended to the same wallet, so the loop only runs long under heavy contention on one wallet.
const maxApplyAttempts = 50

// errWalletNotFound: the user has no wallet yet (its user.signup has not been consumed).
var errWalletNotFound = errors.New("wallet not found")

// walletDoc is a wallet as stored: a projection of its entries. Balance and Version are those of the
// entry with seq = Version; they only move forward (every update is guarded by version).
type walletDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	UserID    string        `bson:"userId"`
	Balance   int64         `bson:"balance"`
	Version   int64         `bson:"version"`
	Currency  string        `bson:"currency"`
	CreatedAt time.Time     `bson:"createdAt"`
	UpdatedAt time.Time     `bson:"updatedAt"`
}

func (d walletDoc) view() Wallet {
	return Wallet{ID: d.ID.Hex(), UserID: d.UserID, Balance: money.FromCents(d.Balance), Currency: d.Currency,
		Version: d.Version, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

// entryDoc is one immutable balance change. (walletId, seq) is unique: two writers cannot both take
// the next seq. (walletId, transactionId, leg) is unique: a leg is applied once. The _id is entryID,
// so that finding a leg is a lookup by _id, one index read on MongoDB and on the embedded FerretDB
// alike (which uses no other index for reads). UserID is the wallet's owner, copied so that history
// and reversals need no second lookup.
type entryDoc struct {
	ID            string        `bson:"_id"`
	WalletID      bson.ObjectID `bson:"walletId"`
	UserID        string        `bson:"userId"`
	Seq           int64         `bson:"seq"`
	TransactionID string        `bson:"transactionId"`
	Leg           string        `bson:"leg"`
	Type          string        `bson:"type"`
	Amount        int64         `bson:"amount"`
	BalanceAfter  int64         `bson:"balanceAfter"`
	At            time.Time     `bson:"at"`
}

func (e entryDoc) view() Entry {
	return Entry{TransactionID: e.TransactionID, Type: e.Type, Amount: money.FromCents(e.Amount),
		BalanceAfter: money.FromCents(e.BalanceAfter), At: e.At.UTC()}
}

// entryID is the _id of the entry of a transaction's leg. A transaction has at most one leg of each
// name (the debit is the sender's, the credit the recipient's), so the pair is unique.
func entryID(txID, legName string) string { return txID + "/" + legName }

// ledger runs the queries on wallets and entries. It is the only writer of both.
type ledger struct {
	wallets *mongo.Collection
	entries *mongo.Collection
	// ids remembers whose wallet has which _id. A wallet is never deleted or given to another user,
	// so a remembered id is never stale; and reading a wallet by _id is a lookup in the primary key on
	// every server, cheaper than one through the userId index.
	ids *memo.Map[string, bson.ObjectID]
}

func newLedger(db *mongo.Database) *ledger {
	return &ledger{wallets: db.Collection("wallets"), entries: db.Collection("entries"), ids: memo.New[string, bson.ObjectID](maxRememberedWallets)}
}

// maxRememberedWallets bounds ledger.ids; past it the memory starts afresh.
const maxRememberedWallets = 1 << 16

func (l *ledger) ensureIndexes(ctx context.Context) error {
	if err := mongox.EnsureIndexes(ctx, l.wallets,
		mongo.IndexModel{Keys: bson.D{{Key: "userId", Value: 1}}, Options: options.Index().SetUnique(true).SetName("userId_unique")},
	); err != nil {
		return fmt.Errorf("wallets indexes: %w", err)
	}
	if err := mongox.EnsureIndexes(ctx, l.entries,
		mongo.IndexModel{Keys: bson.D{{Key: "walletId", Value: 1}, {Key: "seq", Value: 1}},
			Options: options.Index().SetUnique(true).SetName("walletId_seq_unique")},
		mongo.IndexModel{Keys: bson.D{{Key: "walletId", Value: 1}, {Key: "transactionId", Value: 1}, {Key: "leg", Value: 1}},
			Options: options.Index().SetUnique(true).SetName("walletId_transactionId_leg_unique")},
		mongo.IndexModel{Keys: bson.D{{Key: "transactionId", Value: 1}}, Options: options.Index().SetName("transactionId")},
		mongo.IndexModel{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "seq", Value: -1}}, Options: options.Index().SetName("userId_seq")},
	); err != nil {
		return fmt.Errorf("entries indexes: %w", err)
	}
	return nil
}

// createWallet inserts userID's empty wallet, or returns the one that exists (created = false): the
// unique userId index makes a redelivered user.signup harmless.
func (l *ledger) createWallet(ctx context.Context, userID, currency string, now time.Time) (walletDoc, bool, error) {
	d := walletDoc{ID: bson.NewObjectIDFromTimestamp(now), UserID: userID, Currency: currency, CreatedAt: now, UpdatedAt: now}
	_, err := l.wallets.InsertOne(ctx, d)
	if err == nil {
		l.ids.Put(userID, d.ID)
		return d, true, nil
	}
	if !mongox.IsDuplicateKey(err) {
		return walletDoc{}, false, fmt.Errorf("insert wallet: %w", err)
	}
	existing, err := l.walletOf(ctx, userID)
	return existing, false, err
}

// walletOf returns userID's wallet as stored (possibly lagging behind its entries), or
// errWalletNotFound.
func (l *ledger) walletOf(ctx context.Context, userID string) (walletDoc, error) {
	ws, err := l.walletsOf(ctx, []string{userID})
	if err != nil {
		return walletDoc{}, err
	}
	d, ok := ws[userID]
	if !ok {
		return d, errWalletNotFound
	}
	return d, nil
}

// walletsOf returns the wallets of userIDs that exist, by owner, with one query.
func (l *ledger) walletsOf(ctx context.Context, userIDs []string) (map[string]walletDoc, error) {
	ids := make(bson.A, 0, len(userIDs))
	for _, u := range userIDs {
		if id, ok := l.ids.Get(u); ok {
			ids = append(ids, id)
		}
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	if len(ids) < len(userIDs) {
		filter = bson.D{{Key: "userId", Value: bson.D{{Key: "$in", Value: userIDs}}}}
	}
	cur, err := l.wallets.Find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("find wallets: %w", err)
	}
	var docs []walletDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read wallets: %w", err)
	}
	out := make(map[string]walletDoc, len(docs))
	for _, d := range docs {
		l.ids.Put(d.UserID, d.ID)
		out[d.UserID] = d
	}
	return out, nil
}

// currentWallet returns userID's wallet rolled forward to its last entry: a NotFound failure when there
// is none.
func (l *ledger) currentWallet(ctx context.Context, userID string) (walletDoc, error) {
	d, err := l.walletOf(ctx, userID)
	if errors.Is(err, errWalletNotFound) {
		return d, failure.New(failure.NotFound, "no wallet yet: it is created right after sign-up")
	}
	if err != nil {
		return d, err
	}
	d, _, err = l.rollForward(ctx, d)
	return d, err
}

// apply appends lg to the ledger of lg.UserID unless that leg is there already; applied reports
// whether this call wrote it. It owns the optimistic-concurrency loop: the entry is
// inserted with seq = version+1 and _id = entryID, and a duplicate means the leg is there already, or
// the projection lagged or another writer won, so the projection is rolled forward and the rule decided
// again. The common case, a new leg on an up-to-date projection, costs one read and two writes. Errors:
// errWalletNotFound, errInsufficientFunds (nothing written), money.ErrOverflow, or the database's.
func (l *ledger) apply(ctx context.Context, lg leg, now time.Time) (bool, error) {
	w, err := l.walletOf(ctx, lg.UserID)
	if err != nil {
		return false, err
	}
	_, applied, err := l.applyTo(ctx, w, lg, now)
	return applied, err
}

// applyTo is apply on lg.UserID's wallet w as read (possibly lagging behind its entries), returning
// the leg's entry too.
func (l *ledger) applyTo(ctx context.Context, w walletDoc, lg leg, now time.Time) (entryDoc, bool, error) {
	for range maxApplyAttempts {
		next, ruleErr := nextBalance(money.FromCents(w.Balance), lg.Amount)
		if ruleErr != nil {
			// A redelivered debit must be found applied, not judged again against a balance it has
			// already lowered; and the rule is decided on the latest balance only, since the
			// projection may lag behind a credit.
			if e, found, err := l.appliedLeg(ctx, w, lg); err != nil || found {
				return e, false, err
			}
			fresh, moved, err := l.rollForward(ctx, w)
			if err != nil {
				return entryDoc{}, false, err
			}
			if moved {
				w = fresh
				continue
			}
			return entryDoc{}, false, ruleErr
		}
		e := entryDoc{ID: entryID(lg.TransactionID, lg.Name), WalletID: w.ID, UserID: w.UserID, Seq: w.Version + 1,
			TransactionID: lg.TransactionID, Leg: lg.Name, Type: lg.Type, Amount: lg.Amount.Cents(), BalanceAfter: next.Cents(), At: now}
		_, err := l.entries.InsertOne(ctx, e)
		if err == nil {
			return e, true, l.project(ctx, w.ID, e)
		}
		if !mongox.IsDuplicateKey(err) {
			return entryDoc{}, false, fmt.Errorf("insert entry: %w", err)
		}
		// The leg's _id (applied already, maybe by a concurrent delivery) or the seq (another writer
		// took it): look for the leg, else catch up and decide again.
		if e, found, err := l.appliedLeg(ctx, w, lg); err != nil || found {
			return e, false, err
		}
		if w, _, err = l.rollForward(ctx, w); err != nil {
			return entryDoc{}, false, err
		}
	}
	return entryDoc{}, false, fmt.Errorf("apply %s of %s to wallet %s: still conflicting after %d attempts",
		lg.Name, lg.TransactionID, w.ID.Hex(), maxApplyAttempts)
}

// appliedLeg returns lg's entry if it was written, first bringing w's projection up to it when a crash
// kept the entry from it.
func (l *ledger) appliedLeg(ctx context.Context, w walletDoc, lg leg) (entryDoc, bool, error) {
	e, found, err := l.entryOfLeg(ctx, lg.TransactionID, lg.Name)
	if err != nil || !found {
		return e, found, err
	}
	if e.Seq > w.Version {
		_, _, err = l.rollForward(ctx, w)
	}
	return e, true, err
}

// entryOfLeg returns the entry of txID's leg legName, if it was written.
func (l *ledger) entryOfLeg(ctx context.Context, txID, legName string) (entryDoc, bool, error) {
	var e entryDoc
	err := l.entries.FindOne(ctx, bson.D{{Key: "_id", Value: entryID(txID, legName)}}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("find entry: %w", err)
	}
	return e, true, nil
}

// project moves the wallet document forward to entry e. The version guard keeps it from ever moving
// back when two writers (or a writer and a roll-forward) race: the newest entry wins.
func (l *ledger) project(ctx context.Context, walletID bson.ObjectID, e entryDoc) error {
	_, err := l.wallets.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: walletID}, {Key: "version", Value: bson.D{{Key: "$lt", Value: e.Seq}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "balance", Value: e.BalanceAfter}, {Key: "version", Value: e.Seq}, {Key: "updatedAt", Value: e.At}}}})
	if err != nil {
		return fmt.Errorf("project entry %d onto wallet %s: %w", e.Seq, walletID.Hex(), err)
	}
	return nil
}

// rollForward brings w up to its last entry when the projection lags (a crash between an entry and its
// projection, or another writer's entry), and reports whether it moved. The entries must follow on
// from w.Version without a gap; a gap is corruption, left for Reconcile to report.
func (l *ledger) rollForward(ctx context.Context, w walletDoc) (walletDoc, bool, error) {
	cur, err := l.entries.Find(ctx,
		bson.D{{Key: "walletId", Value: w.ID}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: w.Version}}}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return w, false, fmt.Errorf("find entries after %d: %w", w.Version, err)
	}
	var later []entryDoc
	if err := cur.All(ctx, &later); err != nil {
		return w, false, fmt.Errorf("read entries after %d: %w", w.Version, err)
	}
	if len(later) == 0 {
		return w, false, nil
	}
	for i, e := range later {
		if e.Seq != w.Version+int64(i)+1 {
			return w, false, fmt.Errorf("wallet %s: ledger gap after seq %d (found %d)", w.ID.Hex(), w.Version+int64(i), e.Seq)
		}
	}
	last := later[len(later)-1]
	if err := l.project(ctx, w.ID, last); err != nil {
		return w, false, err
	}
	w.Balance, w.Version, w.UpdatedAt = last.BalanceAfter, last.Seq, last.At
	return w, true, nil
}

// headSeq returns the seq of walletID's last entry (0 for none): the version the projection must
// reach.
func (l *ledger) headSeq(ctx context.Context, walletID bson.ObjectID) (int64, error) {
	var e entryDoc
	err := l.entries.FindOne(ctx, bson.D{{Key: "walletId", Value: walletID}},
		options.FindOne().SetSort(bson.D{{Key: "seq", Value: -1}}).SetProjection(bson.D{{Key: "seq", Value: 1}})).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find last entry: %w", err)
	}
	return e.Seq, nil
}

// transferLegs are the legs a transaction can have entries for, reversals included.
var transferLegs = []string{legDebit, legCredit, legDebit + reversalSuffix, legCredit + reversalSuffix}

// entriesOfTransaction returns every entry of txID, in every wallet, in the order they were written:
// one lookup by _id per leg it can have, cheaper than a query by transactionId on the embedded
// database (which would read every entry).
func (l *ledger) entriesOfTransaction(ctx context.Context, txID string) ([]entryDoc, error) {
	var out []entryDoc
	for _, name := range transferLegs {
		e, found, err := l.entryOfLeg(ctx, txID, name)
		if err != nil {
			return nil, fmt.Errorf("entries of %s: %w", txID, err)
		}
		if found {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b entryDoc) int { return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Seq, b.Seq)) })
	return out, nil
}

// history returns a page of userID's entries, newest first, and how many there are.
func (l *ledger) history(ctx context.Context, userID string, limit, offset int) ([]entryDoc, int64, error) {
	filter := bson.D{{Key: "userId", Value: userID}}
	total, err := l.entries.CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, fmt.Errorf("count entries: %w", err)
	}
	cur, err := l.entries.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "seq", Value: -1}}).
		SetSkip(int64(offset)).SetLimit(int64(limit)))
	if err != nil {
		return nil, 0, fmt.Errorf("find entries: %w", err)
	}
	out := []entryDoc{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, 0, fmt.Errorf("read entries: %w", err)
	}
	return out, total, nil
}
