// Package transactions is the transactions service: users ask for top-ups and transfers over HTTP, and
// each transaction is driven through a saga (pending → processing → completed|failed) whose money legs
// the wallet service applies. Routes are in http.go, the rules in this file and service.go, the saga in
// saga.go and sweeper.go, idempotent creation in idempotency.go, the status streams in changes.go, the
// queries in store.go, the metrics in metrics.go and the composition in module.go.
package transactions

import (
	"fmt"
	"strings"
	"time"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/freetext"
	"github.com/mint-wallet/mint/internal/platform/money"
)

// Transaction is the public view of a transaction (CONTRACT "Transactions service").
type Transaction struct {
	ID            string       `json:"id" doc:"24-hex transaction id"`
	Type          string       `json:"type" enum:"topup,transfer"`
	UserID        string       `json:"userId" doc:"who asked: the top-up's owner or the transfer's sender"`
	RecipientID   string       `json:"recipientId,omitempty" doc:"the transfer's recipient"`
	Amount        money.Amount `json:"amount"`
	Currency      string       `json:"currency" doc:"ISO 4217"`
	Description   string       `json:"description,omitempty"`
	Status        string       `json:"status" enum:"pending,processing,completed,failed"`
	FailureReason string       `json:"failureReason,omitempty" doc:"why it failed, e.g. insufficient_funds"`
	CreatedAt     time.Time    `json:"createdAt"`
	UpdatedAt     time.Time    `json:"updatedAt"`
	CompletedAt   *time.Time   `json:"completedAt,omitempty"`
}

// visibleTo reports whether userID may see t: its sender or owner, or its recipient once it completed.
// Until then the money has not reached the recipient and may never (a failed transfer's reason is the
// sender's business), so a recipient is never shown a payment that later vanishes.
func (t Transaction) visibleTo(userID string) bool {
	return userID != "" && (t.UserID == userID || t.RecipientID == userID && t.Status == contract.StatusCompleted)
}

// TopupRequest is the body of POST /transactions/topup.
type TopupRequest struct {
	Amount      money.Requested `json:"amount"`
	Description *string         `json:"description,omitempty" maxLength:"500"`
}

// TransferRequest is the body of POST /transactions/transfer.
type TransferRequest struct {
	RecipientID string          `json:"recipientId" doc:"the recipient's user id" pattern:"^[0-9a-fA-F]{24}$"`
	Amount      money.Requested `json:"amount"`
	Description *string         `json:"description,omitempty" maxLength:"500"`
}

// command is a validated request to create a transaction; it is also what the idempotency hash covers.
type command struct {
	Type        string `json:"type"`
	UserID      string `json:"-"` // the caller; the idempotency record is already scoped by it
	RecipientID string `json:"recipientId,omitempty"`
	Amount      int64  `json:"amount"` // cents
	Description string `json:"description,omitempty"`
}

func (r TopupRequest) validate(userID string) (command, error) {
	var errs failure.Fields
	amount, desc := validateCommon(r.Amount, r.Description, &errs)
	if err := errs.Err(); err != nil {
		return command{}, err
	}
	return command{Type: contract.TypeTopup, UserID: userID, Amount: amount.Cents(), Description: desc}, nil
}

func (r TransferRequest) validate(userID string) (command, error) {
	var errs failure.Fields
	amount, desc := validateCommon(r.Amount, r.Description, &errs)
	recipient := strings.ToLower(r.RecipientID) // 24 hex digits (its tag); ids are printed in lower case
	if err := errs.Err(); err != nil {
		return command{}, err
	}
	if recipient == userID {
		return command{}, failure.New(SelfTransfer, "you cannot transfer money to yourself")
	}
	return command{Type: contract.TypeTransfer, UserID: userID, RecipientID: recipient,
		Amount: amount.Cents(), Description: desc}, nil
}

// validateCommon checks the fields every creation request has; money.Requested already rejected a
// malformed amount while decoding, so here only an absent one remains. A description (its length
// checked by its tag) is free text — it is shown in mails and statements — stored normalised.
func validateCommon(a money.Requested, desc *string, errs *failure.Fields) (money.Amount, string) {
	amount, err := a.Required(money.DefaultField)
	if err != nil {
		errs.Add(money.DefaultField, "is required")
	}
	var d string
	if desc != nil {
		d = freetext.Normalize(*desc)
		if msg := freetext.Problem(d); msg != "" {
			errs.Add("body.description", msg)
		}
	}
	return amount, d
}

// Rules of the state machine (ARCHITECTURE §2: a terminal state never changes).

func isTerminal(status string) bool {
	return status == contract.StatusCompleted || status == contract.StatusFailed
}

// canTransition reports whether a transaction may move from → to. A finalization may also end a
// pending transaction: the wallet's answer is a fact about money that moved (or did not), and it must
// be recorded whenever it arrives, even before this service saw its own processing step.
func canTransition(from, to string) bool {
	switch from {
	case contract.StatusPending:
		return to == contract.StatusProcessing || isTerminal(to)
	case contract.StatusProcessing:
		return isTerminal(to)
	default:
		return false
	}
}

// moveTo is the state machine: d moved to status to at time at, with reason when it fails — every
// field a transition sets (status, failureReason, updatedAt, drivenAt and redrives, completedAt). A move
// the machine does not have is an error. The store persists what it returns (movedFields), guarded by
// d's status.
func moveTo(d txDoc, to, reason string, at time.Time) (txDoc, error) {
	if !canTransition(d.Status, to) {
		return d, fmt.Errorf("transaction %s: %s → %s is not a transition", d.ID.Hex(), d.Status, to)
	}
	next := d
	next.Status, next.FailureReason, next.UpdatedAt, next.DrivenAt, next.Redrives = to, "", at, at, 0
	switch to {
	case contract.StatusFailed:
		next.FailureReason = reason
	case contract.StatusCompleted:
		next.CompletedAt = &at
	}
	return next, nil
}

// outcomeStatus maps the wallet's answer to the terminal status and failure reason it means.
func outcomeStatus(outcome, reason string) (status, failureReason string, ok bool) {
	switch outcome {
	case contract.OutcomeApplied:
		return contract.StatusCompleted, "", true
	case contract.OutcomeRejected:
		if reason == "" {
			reason = "rejected"
		}
		return contract.StatusFailed, reason, true
	default:
		return "", "", false
	}
}

// Filters of the list query; the router checks each against its enum (http.go).
var (
	validTypes      = []string{contract.TypeTopup, contract.TypeTransfer}
	validStatuses   = []string{contract.StatusPending, contract.StatusProcessing, contract.StatusCompleted, contract.StatusFailed}
	validDirections = []string{directionSent, directionReceived}
)

const (
	directionSent     = "sent"
	directionReceived = "received"
)

// ListFilter narrows the caller's transactions; empty fields do not filter.
type ListFilter struct {
	Type      string
	Status    string
	Direction string
}
