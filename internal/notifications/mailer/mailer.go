// Package mailer sends Mint's mails: over SMTP (SMTP, with go-mail) or into memory for development
// (Catcher). Both implement Sender.
package mailer

import (
	"context"
	"time"
)

// Mail is one rendered message to one recipient.
type Mail struct {
	ID        string // stable id of the mail (the notifications dedupe key); also seeds the Message-ID
	MessageID string // Message-ID header value without angle brackets; "" lets the sender make one
	Template  string // which template produced it, e.g. "welcome" (for logs and metrics)
	From      string // "Mint <no-reply@mint.local>"
	To        string // the recipient's address
	ToName    string // the recipient's display name, "" for none
	Subject   string
	Text      string // text/plain part
	HTML      string // text/html part
	Date      time.Time
}

// Sender delivers a mail. An error means the mail may not have been delivered; the caller retries.
type Sender interface {
	Send(ctx context.Context, m Mail) error
}
