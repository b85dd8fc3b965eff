// Package notifications is Mint's notifications service: it learns users from user.signup and mails
// them (welcome, top-up confirmation, money sent, money received, failed transaction) exactly once per
// event and recipient, over SMTP or, in development, into a catcher shown at /dev/mail.
//
// The service is stateless in that it owns no business state another service depends on. It
// still keeps two collections of its own: the users it learnt from user.signup (events about
// transactions carry user ids, not addresses, and services never call each other) and the mails it
// owes, which are both the deduplication record and the outbox the sender retries from.
package notifications

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"

	"github.com/mint-wallet/mint/internal/notifications/mailer"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// DefaultFrom is the sender of every mail unless configured.
const DefaultFrom = "Mint <no-reply@mint.local>"

// Config is what an operator sets for the notifications service.
type Config struct {
	// From is the sender of every mail (default DefaultFrom).
	From string
	// SMTPURL is where mails are sent: smtp://[user:pass@]host[:port] (STARTTLS when offered) or
	// smtps://… (implicit TLS); see mailer.SMTPConfig. "" catches mails instead (Module.Catcher):
	// for `mint dev` only — `mint serve notifications` must insist on a URL.
	SMTPURL string
	// InsecureSkipVerify turns off TLS certificate verification (never in production).
	InsecureSkipVerify bool
	// SMTPTimeout bounds one SMTP conversation (default 10 s).
	SMTPTimeout time.Duration
	// Currency shown when an event carries none (default money.DefaultCurrency).
	Currency string
	// Retry is the schedule of send attempts of one mail (see Retry).
	Retry Retry
	// PollInterval is how often the sender looks for mails whose retry is due (default 1 s); new mails
	// are sent at once.
	PollInterval time.Duration
	// Parallel is how many groups of mails are sent at the same time (default 4): a group is the mails
	// one event owes (both of a transfer), or one mail due again.
	Parallel int
	// ConsumersPerQueue runs that many handlers per queue (default 1): a mail is recorded once by its
	// event's id, whichever handler gets there first.
	ConsumersPerQueue int
	// CatcherSize is how many caught mails are kept when SMTPURL is "" (default 200).
	CatcherSize int
}

// Deps are the adapters the notifications service runs on.
type Deps struct {
	DB         *mongo.Database
	Bus        bus.Bus // consumes notifications.* queues; publishes nothing
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil disables the metrics
	Now        func() time.Time      // time.Now when nil
}

// Module is the assembled notifications service.
type Module struct {
	cfg      Config
	store    *store
	bus      bus.Bus
	deliver  *deliverer
	catcher  *mailer.Catcher
	logger   *slog.Logger
	now      func() time.Time
	msgIDDom string
}

// setDefaults fills the settings left zero with their documented defaults.
func (c *Config) setDefaults() {
	if c.From == "" {
		c.From = DefaultFrom
	}
	if c.Currency == "" {
		c.Currency = money.DefaultCurrency
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Parallel <= 0 {
		c.Parallel = 4
	}
	if c.SMTPTimeout <= 0 {
		c.SMTPTimeout = 10 * time.Second
	}
	c.Retry = c.Retry.withDefaults()
}

// New assembles the service and creates its indexes. With cfg.SMTPURL empty, mails go to a catcher.
func New(ctx context.Context, cfg Config, d Deps) (*Module, error) {
	if d.DB == nil || d.Bus == nil {
		return nil, errors.New("notifications: Deps.DB and Deps.Bus are required")
	}
	cfg.setDefaults()
	domain, err := MessageIDDomain(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notifications: From: %w", err)
	}
	d.Logger, d.Registerer = observe.Defaults(d.Logger, d.Registerer)
	if d.Now == nil {
		d.Now = time.Now
	}
	m := &Module{cfg: cfg, bus: d.Bus, logger: d.Logger, now: d.Now, msgIDDom: domain}
	var sender mailer.Sender
	if cfg.SMTPURL == "" {
		m.catcher = mailer.NewCatcher(cfg.CatcherSize, d.Logger)
		sender = m.catcher
	} else {
		smtp, err := mailer.NewSMTP(mailer.SMTPConfig{URL: cfg.SMTPURL, InsecureSkipVerify: cfg.InsecureSkipVerify, Timeout: cfg.SMTPTimeout})
		if err != nil {
			return nil, err
		}
		sender = smtp
	}
	met, err := newMetrics(d.Registerer)
	if err != nil {
		return nil, err
	}
	if m.store, err = newStore(ctx, d.DB); err != nil {
		return nil, err
	}
	m.deliver = &deliverer{store: m.store, sender: sender, metrics: met, logger: d.Logger, now: d.Now, retry: cfg.Retry,
		poll: cfg.PollInterval, lease: leaseFor(cfg.SMTPTimeout), parallel: cfg.Parallel, fresh: make(chan []Mail, batchSize)}
	return m, nil
}

// Catcher returns the mail catcher, or nil when mails are really sent.
func (m *Module) Catcher() *mailer.Catcher { return m.catcher }

// Register adds the service's routes to rt: GET /dev/mail and GET /dev/mail/{id} when mails are
// caught (no SMTP URL), nothing otherwise.
func (m *Module) Register(rt *httpx.Router) {
	if m.catcher == nil {
		return
	}
	const base = "/dev/mail"
	rt.HandleRaw("GET "+base, m.catcher.ListHandler(base))
	rt.HandleRaw("GET "+base+"/{id}", m.catcher.ViewHandler(base))
}

// Run consumes the notifications queues and sends the mails owed until ctx ends; it returns nil then.
// The topology must have been declared (contract.Topology).
func (m *Module) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.deliver.run(ctx) })
	g.Go(func() error { return bus.ConsumeAll(ctx, m.bus, m.consumers(), m.cfg.ConsumersPerQueue) })
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// mailKey is the dedupe key of the mail rendered from template about subjectID (the user of a
// welcome, else the transaction) for the user recipientID: each mail is owed, recorded and sent once
// under it.
func mailKey(template, subjectID, recipientID string) string {
	return template + ":" + subjectID + ":" + recipientID
}

// MessageID is the Message-ID (without angle brackets) of the mail rendered from template about
// subjectID for the user recipientID, sent from an address at domain. It is derived from the mail's
// dedupe key, so a mail sent twice (a crash between the SMTP server's acceptance and the record)
// carries the same Message-ID both times, and whoever checks the mails a deployment sent (mint chaos)
// can name each one it was promised.
func MessageID(template, subjectID, recipientID, domain string) string {
	sum := sha256.Sum256([]byte(mailKey(template, subjectID, recipientID)))
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

// MessageIDDomain is the domain of the Message-IDs of mails sent from the address from (a
// mail.ParseAddress form: "Mint <no-reply@mint.local>").
func MessageIDDomain(from string) (string, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "", fmt.Errorf("%q is not an address: %w", from, err)
	}
	return a.Address[strings.LastIndexByte(a.Address, '@')+1:], nil
}
