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
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/outbox"
)

// The transactions service's own failure kinds (the problem codes of CONTRACT.md).
var (
	RecipientNotFound   = failure.Define("recipient_not_found", http.StatusNotFound, "Recipient not found")
	SelfTransfer        = failure.Define("self_transfer", http.StatusBadRequest, "Cannot transfer to yourself")
	IdempotencyReused   = failure.Define("idempotency_key_reused", http.StatusUnprocessableEntity, "Idempotency key reused with a different request")
	IdempotencyInFlight = failure.Define("idempotency_in_progress", http.StatusConflict, "Request with this idempotency key is in progress")
)

// TxCacheTTL is how long a transaction stays cached (3 minutes).
const TxCacheTTL = 3 * time.Minute

// Service holds the transactions rules: creation, reads and the saga steps.
type Service struct {
	store   *store
	cfg     Config
	cache   cache.Cache
	outbox  outbox.Notifier
	backlog bus.BacklogCounter // what waits in the queues, asked before a re-drive
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
		return Response{}, failure.New(RecipientNotFound, "no user with this recipientId")
	}
	return s.create(ctx, key, "/api/v1/transactions/transfer", c)
}

func (s *Service) create(ctx context.Context, key, path string, c command) (Response, error) {
	if key == "" {
		return s.insert(ctx, bson.NewObjectIDFromTimestamp(s.clock()), c)
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
	ev, err := event.New(ctx, contract.TransactionEvents, contract.TransactionCreated, now, d.data())
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
		s.metrics.created(d)
		s.outbox.Notify(d.ID)
		s.listsChanged(ctx, d)
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

// ListCacheTTL bounds how long a cached page of a list can outlive an invalidation the cache lost.
const ListCacheTTL = 10 * time.Second

// A user's list pages are cached under a generation: a random token stored at listGenKey, part of every
// page's key. Every write that changes one of the user's transactions deletes the token after it
// committed, so the pages of before are never read again. A reader that finds no token stores a new
// one before it reads the database, so that a write committed before the token's deletion is seen by
// the read; a page read under a token is therefore never older than the token.
func listGenKey(userID string) string { return "transactions:listgen:" + userID }

// listKey is where a list page is kept, as the response body it is.
func listKey(userID, gen string, f ListFilter, limit, offset int) string {
	return fmt.Sprintf("transactions:listbody:%s:%s:%s:%s:%s:%d:%d", userID, gen, f.Type, f.Status, f.Direction, limit, offset)
}

// listGeneration returns userID's list generation, starting one if there is none; ok is false when
// the cache fails, and the list is then read and not kept.
func (s *Service) listGeneration(ctx context.Context, userID string) (gen string, ok bool) {
	b, err := s.cache.Get(ctx, listGenKey(userID))
	if err == nil {
		return string(b), true
	}
	if !errors.Is(err, cache.ErrMiss) {
		return "", false
	}
	gen = bson.NewObjectID().Hex() // unique per process and time: a token never reused
	if err := s.cache.Set(ctx, listGenKey(userID), []byte(gen), ListCacheTTL); err != nil {
		return "", false
	}
	return gen, true
}

// listsChanged ends the list generation of d's parties, after a write to d committed.
func (s *Service) listsChanged(ctx context.Context, d txDoc) {
	keys := []string{listGenKey(d.UserID)}
	if d.RecipientID != "" {
		keys = append(keys, listGenKey(d.RecipientID))
	}
	if err := s.cache.Delete(ctx, keys...); err != nil {
		s.logger.WarnContext(ctx, "transaction lists not invalidated; cached pages may lag until they expire",
			"transaction_id", d.ID.Hex(), "ttl", ListCacheTTL, "err", err)
	}
}

// TransactionList is a page of the caller's transactions (sent, received or both), newest first,
// encoded as the response body. Pages are cached as encoded, per list generation (listGenKey), so a
// page read again costs no decoding or encoding.
func (s *Service) TransactionList(ctx context.Context, userID string, f ListFilter, limit, offset int) ([]byte, error) {
	gen, cached := s.listGeneration(ctx, userID)
	key := listKey(userID, gen, f, limit, offset)
	if cached {
		if body, err := s.cache.Get(ctx, key); err == nil {
			return body, nil
		}
	}
	docs, total, err := s.store.list(ctx, userID, f, limit, offset)
	if err != nil {
		return nil, err
	}
	page := TransactionList{Transactions: make([]Transaction, len(docs)), Total: total, Limit: limit, Offset: offset}
	for i, d := range docs {
		page.Transactions[i] = d.view()
	}
	body, err := httpx.EncodeJSON(page)
	if err != nil {
		return nil, fmt.Errorf("encode list page: %w", err)
	}
	if cached {
		if err := s.cache.Set(ctx, key, body, ListCacheTTL); err != nil {
			s.logger.DebugContext(ctx, "transaction list not cached", "err", err)
		}
	}
	return body, nil
}
