package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig is how to reach the SMTP server.
type SMTPConfig struct {
	// URL is smtp://[user:pass@]host[:port] (STARTTLS when the server offers it, port 25 by default)
	// or smtps://[user:pass@]host[:port] (implicit TLS, port 465 by default). Add ?starttls=required
	// to an smtp:// URL to refuse a server that does not offer STARTTLS.
	URL string
	// InsecureSkipVerify turns certificate verification off (a self-signed test server only).
	InsecureSkipVerify bool
	// Timeout bounds dialling and every SMTP command (default 10 s), so that a hanging server does
	// not hold the sender forever.
	Timeout time.Duration
}

// Endpoint is a parsed SMTP URL.
type Endpoint struct {
	Host      string
	Port      int
	Implicit  bool             // smtps://: TLS from the first byte
	TLSPolicy gomail.TLSPolicy // for smtp://: opportunistic STARTTLS unless required
	Username  string           // "" = no authentication
	Password  string           //nolint:gosec // a credential read from the operator's URL, never logged
	Auth      gomail.SMTPAuthType
}

// ParseURL parses an SMTP URL (see SMTPConfig.URL).
func ParseURL(raw string) (Endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("mailer: SMTP URL does not parse: %w", redact(err))
	}
	var e Endpoint
	switch u.Scheme {
	case "smtp":
		e.Port, e.TLSPolicy = 25, gomail.TLSOpportunistic
		switch u.Query().Get("starttls") {
		case "", "opportunistic":
		case "required":
			e.TLSPolicy = gomail.TLSMandatory
		default:
			return Endpoint{}, fmt.Errorf("mailer: starttls=%q, want opportunistic or required", u.Query().Get("starttls"))
		}
	case "smtps":
		e.Port, e.Implicit, e.TLSPolicy = 465, true, gomail.TLSMandatory
	default:
		return Endpoint{}, fmt.Errorf("mailer: SMTP URL scheme %q, want smtp or smtps", u.Scheme)
	}
	e.Host = u.Hostname()
	if e.Host == "" {
		return Endpoint{}, errors.New("mailer: SMTP URL has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return Endpoint{}, fmt.Errorf("mailer: SMTP URL port %q is not a port", p)
		}
		e.Port = n
	}
	if u.User != nil {
		e.Username = u.User.Username()
		e.Password, _ = u.User.Password()
		e.Auth = gomail.SMTPAuthAutoDiscover
	}
	return e, nil
}

// redact drops the URL (and its password) from a url.Parse error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// SMTP sends mails through an SMTP server, one connection per mail: a mail never waits behind
// another one's connection, and a server that went away is dialled afresh next time.
type SMTP struct {
	endpoint Endpoint
	tls      *tls.Config
	timeout  time.Duration
}

// NewSMTP checks cfg and returns the sender. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	e, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &SMTP{endpoint: e, timeout: cfg.Timeout,
		tls: &tls.Config{ServerName: e.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}}, nil //nolint:gosec // off only when the operator says so
}

// Endpoint returns the parsed URL (for logs: never print Password).
func (s *SMTP) Endpoint() Endpoint { return s.endpoint }

func (s *SMTP) options() []gomail.Option {
	e := s.endpoint
	opts := []gomail.Option{gomail.WithPort(e.Port), gomail.WithTimeout(s.timeout), gomail.WithTLSConfig(s.tls),
		gomail.WithTLSPolicy(e.TLSPolicy)}
	if e.Implicit {
		opts = append(opts, gomail.WithSSL())
	}
	if e.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(e.Auth), gomail.WithUsername(e.Username), gomail.WithPassword(e.Password))
	}
	return opts
}

// Send delivers m; nil means the server accepted it.
func (s *SMTP) Send(ctx context.Context, m Mail) error {
	msg, err := Message(m)
	if err != nil {
		return err
	}
	c, err := gomail.NewClient(s.endpoint.Host, s.options()...)
	if err != nil {
		return fmt.Errorf("mailer: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout+5*time.Second)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mailer: send to %s: %w", net.JoinHostPort(s.endpoint.Host, strconv.Itoa(s.endpoint.Port)), err)
	}
	return nil
}

// Message builds the MIME message of m: multipart/alternative with the text part first and the HTML
// part last (the one clients prefer).
func Message(m Mail) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("mailer: From %q: %w", m.From, err)
	}
	// net/mail quotes and encodes the display name whatever it holds (go-mail's *Format helpers do not).
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("mailer: To %q: %w", m.To, err)
	}
	msg.ToMailAddress(&mail.Address{Name: m.ToName, Address: to.Address})
	msg.Subject(m.Subject)
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(m.MessageID)
	} else {
		msg.SetMessageID()
	}
	if m.Date.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.Date)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}
