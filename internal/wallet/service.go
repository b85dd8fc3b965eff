package wallet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/platform/outbox"
)

// WalletCacheTTL bounds how long a cached wallet can outlive a failed invalidation (the cache swallows
// errors). Every balance change deletes the key, so in normal operation it never shows a stale balance.
const WalletCacheTTL = time.Minute

func walletKey(userID string) string { return "wallet:wallets:" + userID }

// Notifier is told which finalizations got events to publish, so they go out now rather than at the
// relay's next sweep.
type Notifier interface{ Notify(ids ...any) }

// Service holds the wallet's use cases: reads for the API, and the saga steps the consumers drive.
type Service struct {
	ledger          *ledger
	final           *finalizations
	cache           cache.Cache
	outbox          Notifier
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

// History returns a page of userID's ledger, newest first. It is read from the entries themselves;
// a page read at a wallet version is the same forever (entries are never changed or removed), so it is
// cached under that version, and a balance change, which gives the wallet a new version, moves readers
// to new keys.
func (s *Service) History(ctx context.Context, userID string, limit, offset int) ([]Entry, int64, error) {
	w, err := s.Wallet(ctx, userID)
	if err != nil {
		return nil, 0, err
	}
	key := historyKey(userID, w.Version, limit, offset)
	var page historyPage
	if hit, _ := cache.GetJSON(ctx, s.cache, key, &page); hit {
		return page.Entries, page.Total, nil
	}
	docs, total, err := s.ledger.history(ctx, userID, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	page = historyPage{Entries: make([]Entry, len(docs)), Total: total}
	for i, d := range docs {
		page.Entries[i] = d.view()
	}
	// Entries are numbered 1, 2, … per wallet, so the page is the one of version w.Version exactly when
	// the wallet holds that many; otherwise an entry came since (or the wallet read was stale).
	if total == w.Version {
		_ = cache.SetJSON(ctx, s.cache, key, page, WalletCacheTTL)
	}
	return page.Entries, page.Total, nil
}

func historyKey(userID string, version int64, limit, offset int) string {
	return fmt.Sprintf("wallet:history:%s:%d:%d:%d", userID, version, limit, offset)
}

// historyPage is a cached page of a wallet's history.
type historyPage struct {
	Entries []Entry `json:"entries"`
	Total   int64   `json:"total"`
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
// stays rejected even if a top-up arrived since.
func (s *Service) Process(ctx context.Context, p contract.TransactionProcessingData, lastAttempt bool) error {
	if f, found, err := s.final.get(ctx, p.TransactionID); err != nil || found {
		if err != nil {
			return err
		}
		return s.settle(ctx, f)
	}
	outcome, reason, balances, err := s.applyLegs(ctx, p, lastAttempt)
	if err != nil {
		return err
	}
	now := s.clock()
	ev, err := contract.NewEvent(ctx, contract.WalletEvents, contract.WalletTxFinalized, now, contract.WalletFinalizedData{
		TransactionID: p.TransactionID, Outcome: outcome, Reason: reason, Balances: balances})
	if err != nil {
		return fmt.Errorf("finalize %s: %w", p.TransactionID, err)
	}
	d := finalizationDoc{TransactionID: p.TransactionID, Outcome: outcome, Reason: reason, Source: sourceProcessing,
		Event: &ev, CreatedAt: now}
	d.Pending = outbox.Owe(ev)
	recorded, inserted, err := s.final.record(ctx, d)
	if err != nil {
		return err
	}
	if !inserted {
		// Another delivery, or transaction.failed, recorded first: its outcome wins.
		return s.settle(ctx, recorded)
	}
	s.outbox.Notify(recorded.TransactionID)
	s.metrics.finalized(outcome)
	if outcome == contract.OutcomeRejected {
		// A leg applied before the rejection (a debit whose credit can never be applied) is compensated.
		return s.reverseAll(ctx, p.TransactionID)
	}
	return nil
}

// applyLegs applies p's legs in order and returns the outcome to record. It returns an error (and
// records nothing) when trying again later may succeed: a wallet that does not exist yet, a database
// failure.
func (s *Service) applyLegs(ctx context.Context, p contract.TransactionProcessingData, lastAttempt bool) (outcome, reason string, balances map[string]int64, err error) {
	balances = map[string]int64{}
	legs := legsOf(p)
	owners := make([]string, len(legs))
	for i, lg := range legs {
		owners[i] = lg.UserID
	}
	wallets, err := s.ledger.walletsOf(ctx, owners) // every leg's wallet with one read
	if err != nil {
		return "", "", nil, fmt.Errorf("apply %s: %w", p.TransactionID, err)
	}
	for _, lg := range legs {
		e, applied, legErr := entryDoc{}, false, errWalletNotFound
		if w, found := wallets[lg.UserID]; found {
			e, applied, legErr = s.ledger.applyTo(ctx, w, lg, s.clock())
			s.invalidate(ctx, lg.UserID)
		}
		switch {
		case errors.Is(legErr, errInsufficientFunds):
			return contract.OutcomeRejected, contract.ReasonInsufficientFunds, nil, nil
		case errors.Is(legErr, errWalletNotFound) && lastAttempt:
			s.logger.WarnContext(ctx, "transaction rejected: wallet still missing", "transaction_id", p.TransactionID, "user_id", lg.UserID)
			return contract.OutcomeRejected, contract.ReasonWalletNotFound, nil, nil
		case errors.Is(legErr, errWalletNotFound):
			return "", "", nil, fmt.Errorf("apply %s of %s: wallet of user %s does not exist yet: %w", lg.Name, p.TransactionID, lg.UserID, legErr)
		case legErr != nil:
			return "", "", nil, fmt.Errorf("apply %s of %s: %w", lg.Name, p.TransactionID, legErr)
		}
		if applied {
			s.metrics.legApplied(lg.Name)
		}
		balances[lg.UserID] = e.BalanceAfter
	}
	return contract.OutcomeApplied, "", balances, nil
}

// settle finishes what a recorded outcome implies, for a redelivery or a lost race: a rejection has all
// its applied legs reversed, and the answer to transaction.processing is owed again.
func (s *Service) settle(ctx context.Context, f finalizationDoc) error {
	if f.Outcome == contract.OutcomeRejected {
		if err := s.reverseAll(ctx, f.TransactionID); err != nil {
			return err
		}
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

// Fail handles transaction.failed: it records a tombstone, so that a processing event arriving late
// can never apply the transaction, then reverses whatever legs were applied.
func (s *Service) Fail(ctx context.Context, tx contract.TransactionData) error {
	reason := tx.FailureReason
	if reason == "" {
		reason = reasonTransactionFailed
	}
	_, _, err := s.final.record(ctx, finalizationDoc{TransactionID: tx.ID, Outcome: contract.OutcomeRejected, Reason: reason,
		Source: sourceFailed, CreatedAt: s.clock()})
	if err != nil {
		return err
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
