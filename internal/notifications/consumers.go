package notifications

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// consumers returns the notifications queues. A handler only records which mails the event owes
// (keyed by business keys, so redelivery adds nothing) and never talks to SMTP: an SMTP outage never
// holds up, retries or dead-letters an event.
func (m *Module) consumers() bus.Handlers {
	return bus.Handlers{
		contract.Queue("notifications", contract.UserSignup):           event.On(contract.UserSignup, m.onUserSignup),
		contract.Queue("notifications", contract.TransactionCompleted): event.On(contract.TransactionCompleted, m.onTransactionCompleted),
		contract.Queue("notifications", contract.TransactionFailed):    event.On(contract.TransactionFailed, m.onTransactionFailed),
	}
}

func (m *Module) onUserSignup(ctx context.Context, ev event.Received[contract.UserSignupData]) error {
	d := ev.Data
	if d.UserID == "" || d.FirstName == "" {
		return bus.Permanent(fmt.Errorf("user.signup %s: missing userId or firstName", ev.ID))
	}
	if a, err := mail.ParseAddress(d.Email); err != nil || a.Address != d.Email {
		return bus.Permanent(fmt.Errorf("user.signup %s: email %q is not a plain address", ev.ID, d.Email))
	}
	u := User{ID: d.UserID, Email: d.Email, FirstName: d.FirstName, LastName: d.LastName}
	if err := m.store.addUser(ctx, u); err != nil {
		return err
	}
	return m.owe(ctx, ev.ID, owed{TemplateWelcome, u.ID, u, mailData{FirstName: u.FirstName, LastName: u.LastName}})
}

// validTransaction checks what the mails need of a transaction event.
func validTransaction(tx contract.TransactionData) error {
	switch {
	case tx.ID == "" || tx.UserID == "":
		return errors.New("missing id or userId")
	case tx.Amount <= 0:
		return fmt.Errorf("amount %d is not positive", tx.Amount)
	case tx.Type == contract.TypeTransfer && tx.RecipientID == "":
		return errors.New("transfer without recipientId")
	case tx.Type != contract.TypeTopup && tx.Type != contract.TypeTransfer:
		return fmt.Errorf("type %q", tx.Type)
	}
	return nil
}

func (m *Module) onTransactionCompleted(ctx context.Context, ev event.Received[contract.TransactionData]) error {
	tx := ev.Data
	if err := validTransaction(tx); err != nil {
		return bus.Permanent(fmt.Errorf("transaction.completed %s: %w", ev.ID, err))
	}
	parties := []string{tx.UserID}
	if tx.Type == contract.TypeTransfer {
		parties = append(parties, tx.RecipientID)
	}
	users, err := m.known(ctx, ev.Attempt, parties...)
	if err != nil {
		return err
	}
	user := users[0]
	d := m.txData(tx)
	if tx.Type == contract.TypeTopup {
		d.FirstName, d.LastName = user.FirstName, user.LastName
		return m.owe(ctx, ev.ID, owed{TemplateTopupCompleted, tx.ID, user, d})
	}
	recipient := users[1]
	sent, received := d, d
	sent.FirstName, sent.LastName, sent.Counterparty = user.FirstName, user.LastName, recipient.FullName()
	received.FirstName, received.LastName, received.Counterparty = recipient.FirstName, recipient.LastName, user.FullName()
	return m.owe(ctx, ev.ID, owed{TemplateTransferSent, tx.ID, user, sent}, owed{TemplateTransferReceived, tx.ID, recipient, received})
}

func (m *Module) onTransactionFailed(ctx context.Context, ev event.Received[contract.TransactionData]) error {
	tx := ev.Data
	if err := validTransaction(tx); err != nil {
		return bus.Permanent(fmt.Errorf("transaction.failed %s: %w", ev.ID, err))
	}
	users, err := m.known(ctx, ev.Attempt, tx.UserID)
	if err != nil {
		return err
	}
	user := users[0]
	d := m.txData(tx)
	d.FirstName, d.LastName, d.Reason = user.FirstName, user.LastName, reasonInWords(tx.FailureReason)
	if tx.Type == contract.TypeTransfer {
		// Naming the recipient is a courtesy: the alert does not wait for a recipient it does not know.
		if r, err := m.store.usersByID(ctx, tx.RecipientID); err == nil {
			d.Counterparty = r[0].FullName()
		}
	}
	return m.owe(ctx, ev.ID, owed{TemplateTransactionFailed, tx.ID, user, d})
}

// known returns the users with ids, in that order, read at once; or a retryable error while the
// user.signup of one of them has not arrived: the bus brings the event back later, and dead-letters it
// if the user never shows up.
func (m *Module) known(ctx context.Context, attempt int, ids ...string) ([]User, error) {
	users, err := m.store.usersByID(ctx, ids...)
	if errors.Is(err, errUnknownUser) { // the log context names the event (bustrace)
		m.logger.InfoContext(ctx, "user not known yet; the event will come back", "err", err, "attempt", attempt)
	}
	return users, err
}

func (m *Module) txData(tx contract.TransactionData) mailData {
	currency := tx.Currency
	if currency == "" {
		currency = m.cfg.Currency
	}
	return mailData{Amount: formatAmount(tx.Amount, currency), Kind: kindOf(tx.Type), Description: tx.Description,
		TransactionID: tx.ID}
}

// owed is one mail an event owes: template rendered with data for recipient, about subjectID (the user
// for a welcome, the transaction otherwise).
type owed struct {
	template, subjectID string
	recipient           User
	data                mailData
}

// owe renders each mail and records them, in one insert, under their dedupe keys
// <template>:<subjectID>:<recipient id>. Business keys rather than the event id: a transaction
// re-published under a new event id still owes each of its mails once.
func (m *Module) owe(ctx context.Context, eventID string, mails ...owed) error {
	now := m.now()
	trace := observe.TraceParent(ctx)
	records := make([]Mail, len(mails))
	for i, o := range mails {
		r, err := render(o.template, o.data)
		if err != nil {
			return bus.Permanent(fmt.Errorf("render %s for event %s: %w", o.template, eventID, err))
		}
		key := mailKey(o.template, o.subjectID, o.recipient.ID)
		// Recorded claimed by this process: its next attempt is the end of this deliverer's lease, so
		// the deliverer sends it at once without a claim of its own, and if this process dies first
		// the mail is due to every sender when the lease ends.
		records[i] = Mail{ID: key, EventID: eventID, Template: o.template, UserID: o.recipient.ID, From: m.cfg.From,
			To: o.recipient.Email, ToName: o.recipient.FullName(), Subject: r.Subject, Text: r.Text, HTML: r.HTML,
			MessageID: MessageID(o.template, o.subjectID, o.recipient.ID, m.msgIDDom), State: StatePending, NextAttemptAt: m.deliver.leaseEnd(now), CreatedAt: now,
			TraceParent: trace}
	}
	isNew, err := m.store.owe(ctx, records)
	if err != nil {
		return err
	}
	var fresh []Mail
	for i, mail := range records {
		if isNew[i] {
			fresh = append(fresh, mail)
		}
	}
	m.deliver.handOver(ctx, fresh)
	return nil
}
