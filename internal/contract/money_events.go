package contract

import "time"

// Transaction types and states (CONTRACT.md "Transactions service").
const (
	TypeTopup    = "topup"
	TypeTransfer = "transfer"

	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
)

// Outcomes of wallet.transactionFinalized.
const (
	OutcomeApplied  = "applied"
	OutcomeRejected = "rejected"
)

// Failure reasons carried by wallet.transactionFinalized and transaction.failed.
const (
	ReasonInsufficientFunds = "insufficient_funds"
	ReasonWalletNotFound    = "wallet_not_found"
)

// Amounts in events are integer minor units (cents) of Currency, never decimals (ARCHITECTURE §2):
// "amount": 1050 is 10.50.

// TransactionData is the full transaction: the data of transaction.created, transaction.completed and
// transaction.failed.
type TransactionData struct {
	ID            string     `json:"id"`
	Type          string     `json:"type"`
	UserID        string     `json:"userId"`
	RecipientID   string     `json:"recipientId,omitempty"`
	Amount        int64      `json:"amount"` // cents
	Currency      string     `json:"currency"`
	Description   string     `json:"description,omitempty"`
	Status        string     `json:"status"`
	FailureReason string     `json:"failureReason,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
	CompletedAt   *time.Time `json:"completedAt,omitempty"`
}

// TransactionProcessingData asks the wallet service to apply a transaction's legs: a top-up credits
// UserID; a transfer debits UserID (rejected when the balance would go negative) and credits
// RecipientID.
type TransactionProcessingData struct {
	TransactionID string `json:"transactionId"`
	Type          string `json:"type"`
	UserID        string `json:"userId"`
	RecipientID   string `json:"recipientId,omitempty"`
	Amount        int64  `json:"amount"` // cents, > 0
	Currency      string `json:"currency"`
}

// WalletFinalizedData is the wallet's answer: the legs were applied (money moved) or rejected (nothing
// moved). Balances, when present, are the payer's balance in cents after the debit, by user id (a
// credit is applied after the outcome is recorded, so its balance is not known when the answer is).
type WalletFinalizedData struct {
	TransactionID string           `json:"transactionId"`
	Outcome       string           `json:"outcome"`
	Reason        string           `json:"reason,omitempty"`
	Balances      map[string]int64 `json:"balances,omitempty"`
}
