package transactions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/mongox"
)

// IdempotencyHeader carries the client's idempotency key; ReplayedHeader marks a replayed answer.
const (
	IdempotencyHeader = "Idempotency-Key"
	ReplayedHeader    = "Idempotency-Replayed"
)

// Idempotent creation (CONTRACT "Idempotency"), crash-safe without multi-document transactions:
//
//  1. Insert the record {_id: user+key, hash, txId, lockedUntil} first. The unique _id decides which of
//     concurrent requests does the work; the others read the record and answer 409 (in progress), 422
//     (other request) or the stored response.
//  2. Insert the transaction with _id = the record's txId. The id is fixed before anything else is
//     written, so every retry of this key creates or finds the same transaction: never a second one.
//  3. Store the response in the record (completed).
//
// A crash after 1 or 2 leaves the record in progress. Its lease (lockedUntil) then runs out and the
// next retry with the same key takes it over and redoes 2 and 3: inserting the transaction again finds
// the one already there. A key is thus never stuck "in progress", and money is asked for at most once.

const (
	keyInProgress = "in_progress"
	keyCompleted  = "completed"
)

// keyDoc is an idempotency record.
type keyDoc struct {
	ID          string        `bson:"_id"` // userId + ":" + key; user ids are hex, so the split is unambiguous
	UserID      string        `bson:"userId"`
	Hash        string        `bson:"hash"`
	TxID        bson.ObjectID `bson:"txId"`
	State       string        `bson:"state"`
	LockedUntil time.Time     `bson:"lockedUntil"`
	Status      int           `bson:"status,omitempty"`
	Body        []byte        `bson:"body,omitempty"`
	CreatedAt   time.Time     `bson:"createdAt"`
}

// requestHash identifies a request for idempotency: method, path and the canonical body — the
// validated command, so 10.5 and "10.50", or another member order, are the same request.
func requestHash(method, path string, c command) string {
	body, _ := json.Marshal(c) // a struct of strings and an int64: cannot fail
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%s %s\n", method, path)
	_, _ = h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func keyID(userID, key string) string { return userID + ":" + key }

// beginKey inserts a fresh record, or returns the existing one (fresh false).
func (s *store) beginKey(ctx context.Context, d keyDoc) (keyDoc, bool, error) {
	_, err := s.keys.InsertOne(ctx, d)
	if err == nil {
		return d, true, nil
	}
	if !mongox.IsDuplicateKey(err) {
		return d, false, fmt.Errorf("insert idempotency record: %w", err)
	}
	var cur keyDoc
	if err := s.keys.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&cur); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			// Expired and swept between the insert and the read: the client may simply retry.
			return d, false, failure.New(IdempotencyInFlight, "a request with this idempotency key is in progress")
		}
		return d, false, fmt.Errorf("find idempotency record: %w", err)
	}
	return cur, false, nil
}

// takeOverKey extends the lease of an in-progress record whose lease ran out, guarded by the lease
// read, so only one retry resumes it.
func (s *store) takeOverKey(ctx context.Context, d keyDoc, until time.Time) (bool, error) {
	res, err := s.keys.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "state", Value: keyInProgress}, {Key: "lockedUntil", Value: d.LockedUntil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lockedUntil", Value: until}}}})
	if err != nil {
		return false, fmt.Errorf("take over idempotency record: %w", err)
	}
	return res.MatchedCount == 1, nil
}

// completeKey stores the response of the request.
func (s *store) completeKey(ctx context.Context, id string, status int, body []byte) error {
	_, err := s.keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: keyInProgress}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: keyCompleted}, {Key: "status", Value: status}, {Key: "body", Value: body}}}})
	if err != nil {
		return fmt.Errorf("complete idempotency record: %w", err)
	}
	return nil
}

// releaseKey ends the lease of a record whose request failed, so the client's retry resumes it at once
// (with the same transaction id) instead of waiting for the lease.
func (s *store) releaseKey(ctx context.Context, d keyDoc, at time.Time) error {
	_, err := s.keys.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: d.ID}, {Key: "state", Value: keyInProgress}, {Key: "lockedUntil", Value: d.LockedUntil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lockedUntil", Value: at}}}})
	if err != nil {
		return fmt.Errorf("release idempotency record: %w", err)
	}
	return nil
}

// sweepKeys deletes records older than cutoff (no TTL index on FerretDB).
func (s *store) sweepKeys(ctx context.Context, cutoff time.Time) error {
	if _, err := s.keys.DeleteMany(ctx, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: cutoff}}}}); err != nil {
		return fmt.Errorf("sweep idempotency records: %w", err)
	}
	return nil
}

// Response is the answer to a creation request, kept byte for byte for replays.
type Response struct {
	Status   int
	Body     []byte
	Replayed bool
}

// idempotent runs create at most once per user and key. create receives the transaction id to use
// and returns the response to store; it must itself be idempotent for that id (a retry after a crash
// calls it again with the same id).
func (s *Service) idempotent(ctx context.Context, userID, key, hash string, create func(txID bson.ObjectID) (Response, error)) (Response, error) {
	now := s.now()
	rec, fresh, err := s.store.beginKey(ctx, keyDoc{ID: keyID(userID, key), UserID: userID, Hash: hash,
		TxID: bson.NewObjectIDFromTimestamp(now), State: keyInProgress, LockedUntil: now.Add(s.cfg.InFlightTimeout), CreatedAt: now})
	if err != nil {
		return Response{}, err
	}
	if !fresh {
		switch {
		case rec.Hash != hash:
			return Response{}, failure.New(IdempotencyReused, "this idempotency key was used with a different request")
		case rec.State == keyCompleted:
			return Response{Status: rec.Status, Body: rec.Body, Replayed: true}, nil
		case now.Before(rec.LockedUntil):
			return Response{}, failure.New(IdempotencyInFlight, "a request with this idempotency key is in progress")
		}
		// The request that began this record died or failed: resume it with its transaction id.
		took, err := s.store.takeOverKey(ctx, rec, now.Add(s.cfg.InFlightTimeout))
		if err != nil {
			return Response{}, err
		}
		if !took {
			return Response{}, failure.New(IdempotencyInFlight, "a request with this idempotency key is in progress")
		}
		rec.LockedUntil = now.Add(s.cfg.InFlightTimeout)
		s.logger.InfoContext(ctx, "resuming an interrupted idempotent request", "user_id", userID, "transaction_id", rec.TxID.Hex())
	}
	res, err := create(rec.TxID)
	if err == nil {
		err = s.store.completeKey(ctx, rec.ID, res.Status, res.Body)
	}
	if err != nil {
		// Best effort: without it the retry waits for the lease. Use a context that outlives a
		// cancelled request.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := s.store.releaseKey(rctx, rec, s.now()); rerr != nil {
			s.logger.WarnContext(ctx, "idempotency record not released", "err", rerr)
		}
		return Response{}, err
	}
	return res, nil
}
