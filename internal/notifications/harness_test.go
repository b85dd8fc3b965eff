package notifications_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/notifications"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/servicetest"
	"github.com/mint-wallet/mint/internal/platform/smtptest"
	"github.com/mint-wallet/mint/internal/platform/testenv"
)

type harness struct {
	t    testing.TB
	env  *servicetest.Env
	smtp *smtptest.Server
	mod  *notifications.Module
}

// newHarness runs the notifications service against the embedded database, an isolated RabbitMQ
// vhost and a real SMTP server in the test process, with fast retries.
func newHarness(t testing.TB) *harness {
	t.Helper()
	// A transaction event whose user.signup is not handled yet is retried until it is (consumers.go:
	// known). The tests publish both at once, on a machine that may be busy: twelve attempts give the
	// signup tens of seconds to land rather than the few hundred milliseconds of five fast ones.
	env := servicetest.New(t, servicetest.Options{MaxAttempts: 12, RetryBase: 25 * time.Millisecond})
	srv := smtptest.Start(t)
	mod, err := notifications.New(env.Ctx, notifications.Config{From: "Mint Test <hello@mint.test>", SMTPURL: srv.URL(),
		SMTPTimeout: 5 * time.Second, PollInterval: 50 * time.Millisecond,
		Retry: notifications.Retry{Base: 50 * time.Millisecond, Max: 500 * time.Millisecond, MaxAttempts: 1000}},
		notifications.Deps{DB: env.Database(t, notifications.DatabaseName), Bus: env.Events, Logger: env.Logger, Registerer: env.Registry})
	if err != nil {
		t.Fatal(err)
	}
	env.Run("notifications", mod.Run)
	return &harness{t: t, env: env, smtp: srv, mod: mod}
}

func (h *harness) publish(exchange, key string, data any) bus.Message {
	h.t.Helper()
	msg, err := h.env.Publish(context.Background(), exchange, key, data)
	if err != nil {
		h.t.Fatal(err)
	}
	return msg
}

func (h *harness) send(msg bus.Message) {
	h.t.Helper()
	if err := h.env.Bus.Publish(context.Background(), msg); err != nil {
		h.t.Fatal(err)
	}
}

type user struct{ id, email, first, last string }

func (h *harness) signUp(first, last string) (user, bus.Message) {
	h.t.Helper()
	id := bson.NewObjectID().Hex()
	u := user{id: id, email: id + "@example.com", first: first, last: last}
	return u, h.publish(contract.AuthEvents, contract.UserSignup, contract.UserSignupData{UserID: id, Email: u.email,
		FirstName: first, LastName: last, CreatedAt: time.Now()})
}

func (h *harness) transaction(key string, tx contract.TransactionData) bus.Message {
	h.t.Helper()
	if tx.ID == "" {
		tx.ID = bson.NewObjectID().Hex()
	}
	tx.Currency, tx.CreatedAt, tx.UpdatedAt = "USD", time.Now(), time.Now()
	return h.publish(contract.TransactionEvents, key, tx)
}

// mailsTo returns the messages received for address.
func (h *harness) mailsTo(address string) []smtptest.Message {
	var out []smtptest.Message
	for _, m := range h.smtp.Messages() {
		if len(m.To) == 1 && m.To[0] == address {
			out = append(out, m)
		}
	}
	return out
}

// waitMail waits until address has received a mail whose subject contains subject, and returns it.
func (h *harness) waitMail(address, subject string) smtptest.Message {
	h.t.Helper()
	var got smtptest.Message
	testenv.Eventually(h.t, 15*time.Second, "a mail "+subject+" to "+address, func() bool {
		for _, m := range h.mailsTo(address) {
			if strings.Contains(m.Subject, subject) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// outage is how long TestSMTPOutageDuringBurst keeps the server refusing: MINT_TEST_SMTP_OUTAGE (e.g.
// 30s) or 3 s.
func outage(t testing.TB) time.Duration {
	if v := os.Getenv("MINT_TEST_SMTP_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("MINT_TEST_SMTP_OUTAGE: %v", err)
		}
		return d
	}
	return 3 * time.Second
}
