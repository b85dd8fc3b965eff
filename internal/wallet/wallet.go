// Package wallet is the wallet service: one wallet per user, kept as an append-only ledger
// (ARCHITECTURE §3). Inserting one immutable entry is a balance change; the wallet document is a
// projection of its entries. The service creates wallets on user.signup, applies the legs of
// transaction.processing and answers wallet.transactionFinalized, and reverses applied legs on
// transaction.failed.
//
// Routes are in http.go, the event handlers in consumers.go, the saga in service.go, the rules in
// wallet.go, the ledger queries in ledger.go, the recorded outcomes in finalizations.go, the audit in
// reconcile.go, the metrics in metrics.go and the composition in module.go.
package wallet

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/platform/objectid"
)

// Wallet is a user's wallet as the API shows it.
type Wallet struct {
	ID        string       `json:"id" doc:"24-hex wallet id"`
	UserID    string       `json:"userId"`
	Balance   money.Amount `json:"balance"`
	Currency  string       `json:"currency" doc:"ISO 4217"`
	Version   int64        `json:"version" doc:"sequence number of the last ledger entry applied"`
	CreatedAt time.Time    `json:"createdAt"`
	UpdatedAt time.Time    `json:"updatedAt"`
}

// Entry is one balance change as the history shows it.
type Entry struct {
	TransactionID string       `json:"transactionId"`
	Type          string       `json:"type" enum:"opening,topup,transfer_out,transfer_in,reversal"`
	Amount        money.Amount `json:"amount" doc:"signed: negative for money leaving the wallet"`
	BalanceAfter  money.Amount `json:"balanceAfter"`
	At            time.Time    `json:"at"`
}

// Entry types shown in the history.
const (
	TypeOpening     = "opening"
	TypeTopup       = "topup"
	TypeTransferOut = "transfer_out"
	TypeTransferIn  = "transfer_in"
	TypeReversal    = "reversal"
)

// Leg names: with the wallet and the transaction they form the idempotency key of an entry, so a leg
// is applied at most once whatever is redelivered.
const (
	legOpening     = "opening"
	legCredit      = "credit"
	legDebit       = "debit"
	reversalSuffix = ".reversal"
)

// openingTransaction is the transaction id of an opening-balance entry: one per wallet.
const openingTransaction = "opening"

// errInsufficientFunds rejects a leg that would take a balance below zero.
var errInsufficientFunds = errors.New("insufficient funds")

// nextBalance is the ledger's money rule: the balance after adding delta (negative for a debit), which
// may never go below zero. Overflow is an error too (money.ErrOverflow): no real balance comes near
// it, so it means corrupt data.
func nextBalance(balance, delta money.Amount) (money.Amount, error) {
	next, err := balance.Add(delta)
	if err != nil {
		return 0, err
	}
	if next < 0 {
		return 0, fmt.Errorf("%w: balance %s, change %s", errInsufficientFunds, balance, delta)
	}
	return next, nil
}

// leg is one balance change a transaction asks for.
type leg struct {
	UserID        string
	TransactionID string
	Name          string       // legCredit, legDebit, …: unique per wallet and transaction
	Type          string       // the history type
	Amount        money.Amount // signed
}

// legsOf returns the legs of a validated transaction.processing, in the order they must be applied:
// a transfer debits the sender before it credits the recipient, so a rejected debit moves nothing.
func legsOf(p contract.TransactionProcessingData) []leg {
	amount := money.FromCents(p.Amount)
	if p.Type == contract.TypeTopup {
		return []leg{{UserID: p.UserID, TransactionID: p.TransactionID, Name: legCredit, Type: TypeTopup, Amount: amount}}
	}
	return []leg{
		{UserID: p.UserID, TransactionID: p.TransactionID, Name: legDebit, Type: TypeTransferOut, Amount: -amount},
		{UserID: p.RecipientID, TransactionID: p.TransactionID, Name: legCredit, Type: TypeTransferIn, Amount: amount},
	}
}

// isReversal reports whether a leg name is a compensation.
func isReversal(name string) bool { return strings.HasSuffix(name, reversalSuffix) }

// reversalOf returns the compensating leg of an applied one: the same amount the other way, under its
// own idempotency key, so a leg is reversed at most once and the original entry is never edited.
func reversalOf(e entryDoc) leg {
	return leg{UserID: e.UserID, TransactionID: e.TransactionID, Name: e.Leg + reversalSuffix, Type: TypeReversal,
		Amount: -money.FromCents(e.Amount)}
}

// reversalsDue returns the reversals still owed for a transaction's entries, credits first: taking
// money back before giving money back keeps Σ balances from ever exceeding Σ top-ups, and if a credit
// cannot be taken back (the recipient spent it) nothing has been given back either.
func reversalsDue(entries []entryDoc) []leg {
	done := map[string]bool{}
	for _, e := range entries {
		if isReversal(e.Leg) {
			done[e.WalletID.Hex()+"/"+strings.TrimSuffix(e.Leg, reversalSuffix)] = true
		}
	}
	var credits, debits []leg
	for _, e := range entries {
		if isReversal(e.Leg) || e.Leg == legOpening || done[e.WalletID.Hex()+"/"+e.Leg] {
			continue
		}
		if e.Amount > 0 {
			credits = append(credits, reversalOf(e))
		} else {
			debits = append(debits, reversalOf(e))
		}
	}
	return append(credits, debits...)
}

// validateProcessing checks a transaction.processing payload against the contract. Whatever it rejects
// no redelivery can fix.
func validateProcessing(p contract.TransactionProcessingData, currency string) error {
	var problems []string
	if !objectid.Valid(p.TransactionID) {
		problems = append(problems, "transactionId must be a 24-hex id")
	}
	if !objectid.Valid(p.UserID) {
		problems = append(problems, "userId must be a 24-hex id")
	}
	switch p.Type {
	case contract.TypeTopup:
		if p.RecipientID != "" {
			problems = append(problems, "a topup has no recipientId")
		}
	case contract.TypeTransfer:
		switch {
		case !objectid.Valid(p.RecipientID):
			problems = append(problems, "recipientId must be a 24-hex id")
		case p.RecipientID == p.UserID:
			problems = append(problems, "a transfer needs two different users")
		}
	default:
		problems = append(problems, fmt.Sprintf("type %q is neither topup nor transfer", p.Type))
	}
	if p.Amount <= 0 || money.FromCents(p.Amount) > money.MaxTransaction {
		problems = append(problems, fmt.Sprintf("amount %d is outside (0, %d] cents", p.Amount, money.MaxTransaction.Cents()))
	}
	if p.Currency != currency {
		problems = append(problems, fmt.Sprintf("currency %q is not the wallets' %q", p.Currency, currency))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
