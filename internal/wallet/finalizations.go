package wallet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/platform/outbox"
)

// Sources of a finalization record.
const (
	// sourceProcessing: the wallet decided the outcome of transaction.processing and owes
	// wallet.transactionFinalized.
	sourceProcessing = "processing"
	// sourceFailed: transaction.failed came first (or alone). The record is a tombstone: it keeps a
	// late or redelivered transaction.processing from applying a transaction that has already failed.
	sourceFailed = "failed"
)

// reasonTransactionFailed is the reason of a tombstone whose transaction.failed named none.
const reasonTransactionFailed = "transaction_failed"

// finalizationDoc is the wallet's one recorded outcome of a transaction, keyed by its id: inserting it
// decides the outcome once and for all (the first insert wins, on every MongoDB-wire server), and the
// answer it owes travels in its outbox, written in the same insert: an application's answer parked
// (outbox.Park) until its credits are applied, so that it never goes out before the money moved.
// Event is kept after publication so that a redelivered transaction.processing re-sends the very same
// event (same id) rather than a new decision.
type finalizationDoc struct {
	TransactionID  string       `bson:"_id"`
	Outcome        string       `bson:"outcome"`
	Reason         string       `bson:"reason,omitempty"`
	Source         string       `bson:"source"`
	Event          *event.Event `bson:"event,omitempty"`
	CreatedAt      time.Time    `bson:"createdAt"`
	outbox.Pending `bson:",inline"`
}

// finalizations stores the recorded outcomes; its outbox is published by a Relay.
type finalizations struct {
	coll *mongo.Collection
}

func newFinalizations(db *mongo.Database) *finalizations {
	return &finalizations{coll: db.Collection("finalizations")}
}

// record inserts d unless an outcome is recorded already, and returns the recorded one; inserted
// reports whether it is d.
func (f *finalizations) record(ctx context.Context, d finalizationDoc) (finalizationDoc, bool, error) {
	_, err := f.coll.InsertOne(ctx, d)
	if err == nil {
		return d, true, nil
	}
	if !mongox.IsDuplicateKey(err) {
		return finalizationDoc{}, false, fmt.Errorf("insert finalization of %s: %w", d.TransactionID, err)
	}
	existing, found, err := f.get(ctx, d.TransactionID)
	if err == nil && !found {
		err = fmt.Errorf("finalization of %s: duplicate on insert, absent on read", d.TransactionID)
	}
	return existing, false, err
}

func (f *finalizations) get(ctx context.Context, txID string) (finalizationDoc, bool, error) {
	var d finalizationDoc
	err := f.coll.FindOne(ctx, bson.D{{Key: "_id", Value: txID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("find finalization of %s: %w", txID, err)
	}
	return d, true, nil
}

// resend owes d's event again, unless it is still waiting in the outbox. It reports whether it queued it.
func (f *finalizations) resend(ctx context.Context, d finalizationDoc) (bool, error) {
	if d.Event == nil {
		return false, nil
	}
	res, err := f.coll.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.TransactionID}, {Key: outbox.Field + ".0", Value: bson.D{{Key: "$exists", Value: false}}}},
		outbox.Push(nil, *d.Event))
	if err != nil {
		return false, fmt.Errorf("re-send finalization of %s: %w", d.TransactionID, err)
	}
	return res.ModifiedCount > 0, nil
}
