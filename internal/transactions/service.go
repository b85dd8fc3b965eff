package transactions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/outbox"
)

// TxCacheTTL is how long a transaction stays cached (3 minutes).
const TxCacheTTL = 3 * time.Minute

// Notifier is told which documents got pending events, so they are published now rather than at the
// relay's next sweep.
type Notifier interface{ Notify(ids ...any) }

// Service holds the transactions rules: creation, reads and the saga steps.
type Service struct {
	store   *store
	cfg     Config
	cache   cache.Cache
	outbox  Notifier
	metrics *metrics
	logger  *slog.Logger
	clock   func() time.Time
}

// now is the service clock at the precision BSON stores, so a time written and read back compares equal
// (the sweeper's guard relies on it).
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

func txKey(id string) string { return "transactions:tx:" + id }

// Topup asks for money to be added to the caller's wallet. key is the Idempotency-Key ("" for none).
func (s *Service) Topup(ctx context.Context, userID, key string, req TopupRequest) (Response, error) {
	c, err := req.validate(userID)
	if err != nil {
		return Response{}, err
	}
	return s.create(ctx, key, "/api/v1/transactions/topup", c)
}

// Transfer asks for money to move from the caller to a known recipient.
func (s *Service) Transfer(ctx context.Context, userID, key string, req TransferRequest) (Response, error) {
	c, err := req.validate(userID)
	if err != nil {
		return Response{}, err
	}
	known, err := s.store.userExists(ctx, c.RecipientID)
	if err != nil {
		return Response{}, err
	}
	if !known {
		return Response{}, failure.New(failure.RecipientNotFound, "no user with this recipientId")
	}
	return s.create(ctx, key, "/api/v1/transactions/transfer", c)
}

func (s *Service) create(ctx context.Context, key, path string, c command) (Response, error) {
	if key == "" {
		return s.insert(ctx, bson.NewObjectIDFromTimestamp(s.clock()), c)
	}
	if err := validKey(key); err != nil {
		return Response{}, err
	}
	return s.idempotent(ctx, c.UserID, key, requestHash(http.MethodPost, path, c), func(id bson.ObjectID) (Response, error) {
		return s.insert(ctx, id, c)
	})
}

// insert creates the transaction id as pending, owing transaction.created in the same insert. An id
// that exists already is a retry of an interrupted idempotent request: that transaction is the answer.
func (s *Service) insert(ctx context.Context, id bson.ObjectID, c command) (Response, error) {
	now := s.now()
	d := txDoc{ID: id, Type: c.Type, UserID: c.UserID, RecipientID: c.RecipientID, Amount: c.Amount,
		Currency: s.cfg.Currency, Description: c.Description, Status: contract.StatusPending,
		CreatedAt: now, UpdatedAt: now, DrivenAt: now}
	ev, err := contract.NewEvent(ctx, contract.TransactionEvents, contract.TransactionCreated, now, d.data())
	if err != nil {
		return Response{}, fmt.Errorf("create transaction: %w", err)
	}
	d.Pending = outbox.Owe(ev)
	switch err := s.store.insertTx(ctx, d); {
	case errors.Is(err, errDuplicate):
		if d, err = s.store.txByID(ctx, id); err != nil {
			return Response{}, err
		}
		if d.UserID != c.UserID {
			return Response{}, fmt.Errorf("transaction %s exists for another user", id.Hex())
		}
	case err != nil:
		return Response{}, err
	default:
		s.outbox.Notify(d.ID)
		s.metrics.created(d)
	}
	body, err := json.Marshal(d.view())
	if err != nil {
		return Response{}, fmt.Errorf("encode transaction: %w", err)
	}
	return Response{Status: http.StatusCreated, Body: body}, nil
}

// Transaction returns transaction id when the caller is a party to it, cache-aside. Only terminal
// transactions are cached: they never change again, so a cached copy can never be stale, while a
// pending or processing one would read as such after it completed.
func (s *Service) Transaction(ctx context.Context, userID, id string) (Transaction, error) {
	notFound := failure.New(failure.NotFound, "no such transaction")
	var t Transaction
	if hit, _ := cache.GetJSON(ctx, s.cache, txKey(id), &t); hit && isTerminal(t.Status) {
		if !t.visibleTo(userID) {
			return Transaction{}, notFound
		}
		return t, nil
	}
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return Transaction{}, notFound
	}
	d, err := s.store.txByID(ctx, oid)
	if err != nil {
		return Transaction{}, err
	}
	t = d.view()
	if isTerminal(t.Status) {
		if err := cache.SetJSON(ctx, s.cache, txKey(id), t, TxCacheTTL); err != nil {
			s.logger.DebugContext(ctx, "transaction not cached", "err", err)
		}
	}
	if !t.visibleTo(userID) {
		return Transaction{}, notFound
	}
	return t, nil
}

// Transactions lists the caller's transactions (sent, received or both), newest first. Lists are not
// cached: any state change of any of the caller's transactions would make a page stale, and an
// invalidation lost in a Redis blip would then show a completed transaction as pending.
func (s *Service) Transactions(ctx context.Context, userID string, f ListFilter, limit, offset int) ([]Transaction, int64, error) {
	if err := f.validate(); err != nil {
		return nil, 0, err
	}
	docs, total, err := s.store.list(ctx, userID, f, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Transaction, len(docs))
	for i, d := range docs {
		out[i] = d.view()
	}
	return out, total, nil
}
