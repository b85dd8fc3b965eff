package wallet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/platform/outbox"
)

// WalletCacheTTL bounds how long a cached wallet can outlive a failed invalidation (the cache swallows
// errors). Every balance change deletes the key, so in normal operation it never shows a stale balance.
const WalletCacheTTL = time.Minute

func walletKey(userID string) string { return "wallet:wallets:" + userID }

// Service holds the wallet's use cases: reads for the API, and the saga steps the consumers drive.
type Service struct {
	ledger          *ledger
	final           *finalizations
	cache           cache.Cache
	outbox          outbox.Notifier
	metrics         *metrics
	logger          *slog.Logger
	now             func() time.Time
	currency        string
	initial         money.Amount
	missingAttempts int
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Wallet returns userID's wallet, cache-aside.
//
// The race cache-aside is known for: this read sees version n, a balance change commits n+1 and deletes
// the key, then this read stores n — stale until the TTL. So after storing, the read checks the ledger's
// last seq again and deletes its own copy if the ledger moved. Either the change's delete came after
// our store (and removed it), or the change committed before our check (and the check sees it): no
// stale copy survives the pair. Writers delete after the entry and its projection are written.
func (s *Service) Wallet(ctx context.Context, userID string) (Wallet, error) {
	var w Wallet
	if hit, _ := cache.GetJSON(ctx, s.cache, walletKey(userID), &w); hit {
		return w, nil
	}
	d, err := s.ledger.currentWallet(ctx, userID)
	if err != nil {
		return Wallet{}, err
	}
	w = d.view()
	_ = cache.SetJSON(ctx, s.cache, walletKey(userID), w, WalletCacheTTL)
	if head, err := s.ledger.headSeq(ctx, d.ID); err != nil || head != d.Version {
		s.invalidate(ctx, userID)
	}
	return w, nil
}

// History returns a page of userID's ledger, newest first, encoded as the response body. It is read
// from the entries themselves; a page read at a wallet version is the same forever (entries are never
// changed or removed), so it is cached, as encoded, under that version, and a balance change, which
// gives the wallet a new version, moves readers to new keys.
func (s *Service) History(ctx context.Context, userID string, limit, offset int) ([]byte, error) {
	w, err := s.Wallet(ctx, userID)
	if err != nil {
		return nil, err
	}
	key := historyKey(userID, w.Version, limit, offset)
	if body, err := s.cache.Get(ctx, key); err == nil {
		return body, nil
	}
	docs, total, err := s.ledger.history(ctx, userID, limit, offset)
	if err != nil {
		return nil, err
	}
	page := History{Entries: make([]Entry, len(docs)), Total: total, Limit: limit, Offset: offset}
	for i, d := range docs {
		page.Entries[i] = d.view()
	}
	body, err := httpx.EncodeJSON(page)
	if err != nil {
		return nil, fmt.Errorf("encode history page: %w", err)
	}
	// Entries are numbered 1, 2, … per wallet, so the page is the one of version w.Version exactly when
	// the wallet holds that many; otherwise an entry came since (or the wallet read was stale).
	if total == w.Version {
		_ = s.cache.Set(ctx, key, body, WalletCacheTTL)
	}
	return body, nil
}

// historyKey is where a history page is kept, as the response body it is.
func historyKey(userID string, version int64, limit, offset int) string {
	return fmt.Sprintf("wallet:historybody:%s:%d:%d:%d", userID, version, limit, offset)
}

// CreateWallet opens userID's wallet, once whatever the redeliveries, with the configured initial
// balance as an opening entry so that Σ entries = balance holds from the start. Wallet and opening
// entry are two writes; a crash between them is healed by the redelivery, which finds the wallet and
// applies the (idempotent) opening leg.
func (s *Service) CreateWallet(ctx context.Context, userID string) error {
	now := s.clock()
	d, created, err := s.ledger.createWallet(ctx, userID, s.currency, now)
	if err != nil {
		return err
	}
	if created {
		s.logger.InfoContext(ctx, "wallet created", "user_id", userID, "wallet_id", d.ID.Hex())
	}
	if s.initial <= 0 {
		return nil
	}
	applied, err := s.ledger.apply(ctx, leg{UserID: userID, TransactionID: openingTransaction, Name: legOpening,
		Type: TypeOpening, Amount: s.initial}, now)
	s.invalidate(ctx, userID)
	if err != nil {
		return fmt.Errorf("opening balance of %s: %w", userID, err)
	}
	if applied {
		s.metrics.legApplied(legOpening)
	}
	return nil
}

// Process applies a transaction's legs and records its outcome, answering with
// wallet.transactionFinalized. lastAttempt says a missing wallet will not be waited for any longer.
//
// Whatever is redelivered, the first recorded outcome wins: a redelivery re-sends it (and makes sure a
// rejection's reversals are done), never decides again — a transfer rejected for insufficient funds
// stays rejected even if a top-up arrived since. Two deliveries may decide at once, differently (a
// top-up lands between them); only one outcome is recorded, so no money may become spendable before
// it is: a delivery applies its debits, records, and only then the credits. A debit applied by the
// loser of a rejection is reversed, which always succeeds; a credit is never reversed for a race.
func (s *Service) Process(ctx context.Context, p contract.TransactionProcessingData, lastAttempt bool) error {
	f, found, err := s.final.get(ctx, p.TransactionID)
	if err != nil {
		return err
	}
	if found {
		return s.settle(ctx, f, p, decision{})
	}
	d, err := s.decide(ctx, p, lastAttempt)
	if err != nil {
		return err
	}
	return s.commit(ctx, p, d)
}

// decision is what one delivery of transaction.processing decided before recording it.
type decision struct {
	outcome, reason string
	wallets         map[string]walletDoc // every leg's wallet, as read
	entries         map[string]entryDoc  // the entries of the legs applied so far, by leg name
}

// decide applies p's debits and returns the outcome to record. It returns an error (and records
// nothing) when trying again later may succeed: a wallet that does not exist yet, a database failure.
func (s *Service) decide(ctx context.Context, p contract.TransactionProcessingData, lastAttempt bool) (decision, error) {
	legs := legsOf(p)
	owners := make([]string, len(legs))
	for i, lg := range legs {
		owners[i] = lg.UserID
	}
	wallets, err := s.ledger.walletsOf(ctx, owners) // every leg's wallet with one read
	if err != nil {
		return decision{}, fmt.Errorf("apply %s: %w", p.TransactionID, err)
	}
	d := decision{outcome: contract.OutcomeApplied, wallets: wallets, entries: map[string]entryDoc{}}
	for _, lg := range legs {
		if _, found := wallets[lg.UserID]; found {
			continue
		}
		if !lastAttempt {
			return decision{}, fmt.Errorf("apply %s of %s: wallet of user %s does not exist yet: %w", lg.Name, p.TransactionID, lg.UserID, errWalletNotFound)
		}
		s.logger.WarnContext(ctx, "transaction rejected: wallet still missing", "transaction_id", p.TransactionID, "user_id", lg.UserID)
		d.outcome, d.reason = contract.OutcomeRejected, contract.ReasonWalletNotFound
		return d, nil
	}
	for _, lg := range legs {
		if lg.Amount >= 0 {
			continue
		}
		err := s.applyLeg(ctx, d, lg)
		if errors.Is(err, errInsufficientFunds) {
			d.outcome, d.reason = contract.OutcomeRejected, contract.ReasonInsufficientFunds
			return d, nil
		}
		if err != nil {
			return decision{}, err
		}
	}
	return d, nil
}

// applyLeg applies lg to its wallet in d.wallets and keeps its entry in d.entries.
func (s *Service) applyLeg(ctx context.Context, d decision, lg leg) error {
	w, found := d.wallets[lg.UserID]
	if !found {
		return fmt.Errorf("apply %s of %s: wallet of user %s: %w", lg.Name, lg.TransactionID, lg.UserID, errWalletNotFound)
	}
	e, applied, err := s.ledger.applyTo(ctx, w, lg, s.clock())
	s.invalidate(ctx, lg.UserID)
	if err != nil {
		return fmt.Errorf("apply %s of %s: %w", lg.Name, lg.TransactionID, err)
	}
	if applied {
		s.metrics.legApplied(lg.Name)
	}
	d.entries[lg.Name] = e
	return nil
}

// commit records d's outcome, with its answer, unless one is recorded already, and settles the one
// that is. A rejection's answer goes out at once; an application's waits for its credits.
func (s *Service) commit(ctx context.Context, p contract.TransactionProcessingData, d decision) error {
	f, inserted, err := s.recordOutcome(ctx, p, d)
	if err != nil {
		return err
	}
	if inserted {
		s.metrics.finalized(f.Outcome)
		if f.Outcome == contract.OutcomeRejected && len(d.entries) == 0 {
			s.outbox.Notify(f.TransactionID)
			return nil
		}
	}
	// Another delivery, or transaction.failed, may have recorded first: its outcome wins.
	return s.settle(ctx, f, p, d)
}

// recordOutcome inserts d's outcome and its answer unless an outcome is recorded already, and
// returns the recorded one; inserted reports whether it is d's.
func (s *Service) recordOutcome(ctx context.Context, p contract.TransactionProcessingData, d decision) (finalizationDoc, bool, error) {
	rec := finalizationDoc{TransactionID: p.TransactionID, Outcome: d.outcome, Reason: d.reason, Source: sourceProcessing,
		CreatedAt: s.clock()}
	var balances map[string]int64 // the debits'; the credits come after the record
	if len(d.entries) > 0 {
		balances = make(map[string]int64, len(d.entries))
		for _, e := range d.entries {
			balances[e.UserID] = e.BalanceAfter
		}
	}
	ev, err := event.New(ctx, contract.WalletEvents, contract.WalletTxFinalized, s.clock(), contract.WalletFinalizedData{
		TransactionID: p.TransactionID, Outcome: d.outcome, Reason: d.reason, Balances: balances})
	if err != nil {
		return finalizationDoc{}, false, fmt.Errorf("finalize %s: %w", p.TransactionID, err)
	}
	rec.Event, rec.Pending = &ev, outbox.Owe(ev)
	if d.outcome == contract.OutcomeApplied {
		rec.Pending = outbox.Park(ev)
	}
	return s.final.record(ctx, rec)
}

// settle finishes what a recorded outcome implies: a rejection has all its applied legs reversed; an
// application whose answer has not gone out yet has all its legs applied (d holds what this delivery
// read and applied already, if it decided), which releases the answer. An answer that went out is
// owed again.
func (s *Service) settle(ctx context.Context, f finalizationDoc, p contract.TransactionProcessingData, d decision) error {
	switch {
	case f.Outcome == contract.OutcomeRejected:
		if err := s.reverseAll(ctx, f.TransactionID); err != nil {
			return err
		}
	case len(f.Outbox) > 0:
		if err := s.applyAll(ctx, legsOf(p), d); err != nil {
			return err
		}
		s.outbox.Notify(f.TransactionID)
		return nil
	}
	queued, err := s.final.resend(ctx, f)
	if err != nil {
		return err
	}
	if queued {
		s.outbox.Notify(f.TransactionID)
	}
	return nil
}

// applyAll applies every leg not in d.entries yet, each once whoever applies it.
func (s *Service) applyAll(ctx context.Context, legs []leg, d decision) error {
	if d.wallets == nil {
		owners := make([]string, len(legs))
		for i, lg := range legs {
			owners[i] = lg.UserID
		}
		wallets, err := s.ledger.walletsOf(ctx, owners)
		if err != nil {
			return fmt.Errorf("apply legs: %w", err)
		}
		d = decision{wallets: wallets, entries: map[string]entryDoc{}}
	}
	for _, lg := range legs {
		if _, done := d.entries[lg.Name]; done {
			continue
		}
		if err := s.applyLeg(ctx, d, lg); err != nil {
			return err
		}
	}
	return nil
}

// Fail handles transaction.failed: it records a tombstone, so that a processing event arriving late
// can never apply the transaction, then reverses whatever legs were applied. If an application was
// recorded first (the transactions service failed a transaction the wallet applied: a broken
// contract), its legs are completed before they are reversed, so that no credit lands after.
func (s *Service) Fail(ctx context.Context, tx contract.TransactionData) error {
	reason := tx.FailureReason
	if reason == "" {
		reason = reasonTransactionFailed
	}
	f, inserted, err := s.final.record(ctx, finalizationDoc{TransactionID: tx.ID, Outcome: contract.OutcomeRejected, Reason: reason,
		Source: sourceFailed, CreatedAt: s.clock()})
	if err != nil {
		return err
	}
	if !inserted && f.Outcome == contract.OutcomeApplied {
		s.logger.WarnContext(ctx, "transaction.failed for a transaction the wallet applied; reversing it", "transaction_id", tx.ID)
		p := contract.TransactionProcessingData{TransactionID: tx.ID, Type: tx.Type, UserID: tx.UserID, RecipientID: tx.RecipientID,
			Amount: tx.Amount, Currency: tx.Currency}
		if err := s.applyAll(ctx, legsOf(p), decision{}); err != nil {
			return err
		}
	}
	return s.reverseAll(ctx, tx.ID)
}

// reverseAll writes a compensating entry for every applied, not yet reversed leg of txID, credits
// first. A credit whose recipient no longer holds the money cannot be reversed without a negative
// balance: that is an error (retried, then dead-lettered for an operator), and the debits stay until it
// is resolved, so no money is created meanwhile.
func (s *Service) reverseAll(ctx context.Context, txID string) error {
	entries, err := s.ledger.entriesOfTransaction(ctx, txID)
	if err != nil {
		return err
	}
	for _, lg := range reversalsDue(entries) {
		applied, err := s.ledger.apply(ctx, lg, s.clock())
		s.invalidate(ctx, lg.UserID)
		if errors.Is(err, errInsufficientFunds) {
			s.logger.ErrorContext(ctx, "reversal blocked: the recipient has spent the money", "transaction_id", txID,
				"user_id", lg.UserID, "leg", lg.Name, "err", err)
		}
		if err != nil {
			return fmt.Errorf("reverse %s of %s: %w", lg.Name, txID, err)
		}
		if applied {
			s.metrics.legApplied(lg.Name)
		}
	}
	return nil
}

// invalidate drops userID's cached wallet after a balance change (or an attempt at one: deleting too
// often costs a cache miss, too rarely a stale balance).
func (s *Service) invalidate(ctx context.Context, userID string) {
	if err := s.cache.Delete(ctx, walletKey(userID)); err != nil {
		s.logger.WarnContext(ctx, "wallet cache not invalidated", "user_id", userID, "err", err)
	}
}
