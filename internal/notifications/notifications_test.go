package notifications_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.opentelemetry.io/otel/trace"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/notifications"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/smtptest"
)

func checkMail(t *testing.T, m smtptest.Message, subject string, both ...string) {
	t.Helper()
	if m.Subject != subject {
		t.Errorf("subject %q, want %q", m.Subject, subject)
	}
	if from := m.Header.Get("From"); !strings.Contains(from, "Mint Test") || !strings.Contains(from, "<hello@mint.test>") {
		t.Errorf("From %q", from)
	}
	if !strings.HasSuffix(m.MessageID, "@mint.test>") {
		t.Errorf("Message-ID %q", m.MessageID)
	}
	for _, s := range both {
		if !strings.Contains(m.Text, s) {
			t.Errorf("%q: text part lacks %q:\n%s", subject, s, m.Text)
		}
		if !strings.Contains(m.HTML, s) {
			t.Errorf("%q: HTML part lacks %q:\n%s", subject, s, m.HTML)
		}
	}
	if !strings.Contains(m.HTML, "<html") || strings.Contains(m.Text, "<p>") {
		t.Errorf("%q: parts mixed up:\ntext %s\nhtml %s", subject, m.Text, m.HTML)
	}
}

// TestEveryTemplate publishes each event the service consumes and checks each mail the SMTP server
// received: subject, both parts, exact amount with currency, escaping.
func TestEveryTemplate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	alice, _ := h.signUp("Alice", "Martin")
	evil, _ := h.signUp("<script>alert(1)</script>", "O'Hara & Co")

	w := h.waitMail(alice.email, "Welcome")
	checkMail(t, w, "Welcome to Mint, Alice", "Hello Alice Martin", "Your wallet is ready")
	we := h.waitMail(evil.email, "Welcome")
	checkMail(t, we, "Welcome to Mint, <script>alert(1)</script>")
	if !strings.Contains(we.Text, "Hello <script>alert(1)</script> O'Hara & Co") {
		t.Errorf("text part shows the name as is:\n%s", we.Text)
	}
	if strings.Contains(we.HTML, "<script>") || !strings.Contains(we.HTML, "&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Hara &amp; Co") {
		t.Errorf("HTML part does not escape the name:\n%s", we.HTML)
	}

	h.transaction(contract.TransactionCompleted, contract.TransactionData{Type: contract.TypeTopup, UserID: alice.id, Amount: 10_50,
		Description: "pocket <money>", Status: contract.StatusCompleted})
	top := h.waitMail(alice.email, "top-up")
	checkMail(t, top, "Your top-up of 10.50 USD is in your wallet", "10.50 USD")
	if !strings.Contains(top.HTML, "pocket &lt;money&gt;") || !strings.Contains(top.Text, "pocket <money>") {
		t.Errorf("description: text %s html %s", top.Text, top.HTML)
	}

	h.transaction(contract.TransactionCompleted, contract.TransactionData{Type: contract.TypeTransfer, UserID: alice.id,
		RecipientID: evil.id, Amount: 1_000_000_00, Status: contract.StatusCompleted})
	sent := h.waitMail(alice.email, "You sent")
	checkMail(t, sent, "You sent 1000000.00 USD to <script>alert(1)</script> O'Hara & Co", "1000000.00 USD")
	if strings.Contains(sent.HTML, "<script>") {
		t.Errorf("money sent HTML does not escape the recipient:\n%s", sent.HTML)
	}
	recv := h.waitMail(evil.email, "You received")
	checkMail(t, recv, "You received 1000000.00 USD from Alice Martin", "1000000.00 USD", "Alice Martin sent you")

	h.transaction(contract.TransactionFailed, contract.TransactionData{Type: contract.TypeTransfer, UserID: alice.id,
		RecipientID: evil.id, Amount: 7, Status: contract.StatusFailed, FailureReason: contract.ReasonInsufficientFunds})
	failed := h.waitMail(alice.email, "did not go through")
	checkMail(t, failed, "Your transfer of 0.07 USD did not go through", "0.07 USD",
		"you did not have enough money in your wallet")
	h.transaction(contract.TransactionFailed, contract.TransactionData{Type: contract.TypeTopup, UserID: alice.id, Amount: 1,
		Status: contract.StatusFailed, FailureReason: "gremlins"})
	f2 := h.waitMail(alice.email, "top-up of 0.01 USD did not go through")
	checkMail(t, f2, "Your top-up of 0.01 USD did not go through", "something went wrong on our side")

	time.Sleep(300 * time.Millisecond)
	if a, e := len(h.mailsTo(alice.email)), len(h.mailsTo(evil.email)); a != 5 || e != 2 {
		t.Errorf("alice got %d mails (want 5), the other user %d (want 2)", a, e)
	}
}

// TestRedeliveryMailsOnce publishes every event twice (and the transfer under a new event id too):
// still one mail per event and recipient.
func TestRedeliveryMailsOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a, sa := h.signUp("Ann", "A")
	b, sb := h.signUp("Bob", "B")
	h.send(sa)
	h.send(sb)
	top := h.transaction(contract.TransactionCompleted, contract.TransactionData{Type: contract.TypeTopup, UserID: a.id, Amount: 5_00})
	h.send(top)
	tx := contract.TransactionData{ID: bson.NewObjectID().Hex(), Type: contract.TypeTransfer, UserID: a.id, RecipientID: b.id, Amount: 2_25}
	tr := h.transaction(contract.TransactionCompleted, tx)
	h.send(tr)
	h.transaction(contract.TransactionCompleted, tx) // re-published: a new event id, the same transaction
	fl := h.transaction(contract.TransactionFailed, contract.TransactionData{Type: contract.TypeTransfer, UserID: b.id, RecipientID: a.id,
		Amount: 9_99, FailureReason: contract.ReasonInsufficientFunds})
	h.send(fl)

	h.waitMail(b.email, "did not go through")
	h.waitMail(b.email, "You received 2.25 USD")
	h.waitMail(a.email, "You sent 2.25 USD")
	h.waitMail(a.email, "top-up of 5.00 USD")
	time.Sleep(time.Second) // room for a duplicate to show up
	if n := len(h.mailsTo(a.email)); n != 3 {
		t.Errorf("%s got %d mails, want 3 (welcome, top-up, sent)", a.email, n)
	}
	if n := len(h.mailsTo(b.email)); n != 3 {
		t.Errorf("%s got %d mails, want 3 (welcome, received, failed)", b.email, n)
	}
}

// TestSMTPOutageDuringBurst: the SMTP server refuses every mail for a while in the middle of a burst;
// afterwards every mail has arrived exactly once. MINT_TEST_SMTP_OUTAGE=30s runs the 30 s outage.
func TestSMTPOutageDuringBurst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 20
	users := make([]user, 0, n)
	for i := range n {
		if i == n/2 {
			h.smtp.Refuse(true)
		}
		u, _ := h.signUp(fmt.Sprintf("User%02d", i), "Burst")
		users = append(users, u)
		h.transaction(contract.TransactionCompleted, contract.TransactionData{Type: contract.TypeTopup, UserID: u.id, Amount: int64(100 + i)})
	}
	before := h.smtp.Attempts()
	time.Sleep(outage(t))
	if h.smtp.Attempts() <= before {
		t.Error("no send attempt during the outage: the test did not exercise retries")
	}
	h.smtp.Refuse(false)
	// Retries are at most 500 ms apart, so the mails follow within seconds; the bound only keeps a
	// loaded machine (-race, other packages' tests) from failing what is not a timing.
	for deadline := time.Now().Add(2 * time.Minute); len(h.smtp.Messages()) < 2*n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			var short []string
			for _, u := range users {
				if got := len(h.mailsTo(u.email)); got < 2 {
					short = append(short, fmt.Sprintf("%s %s: %d", u.first, u.email, got))
				}
			}
			t.Fatalf("%d of %d mails 2 min after the outage; short of their 2: %v", len(h.smtp.Messages()), 2*n, short)
		}
	}
	time.Sleep(time.Second)
	if got := len(h.smtp.Messages()); got != 2*n {
		t.Errorf("%d mails, want %d", got, 2*n)
	}
	for i, u := range users {
		ms := h.mailsTo(u.email)
		if len(ms) != 2 {
			t.Errorf("%s got %d mails, want 2", u.email, len(ms))
			continue
		}
		want := fmt.Sprintf("%d.%02d USD", (100+i)/100, (100+i)%100)
		if !strings.Contains(ms[0].Subject+ms[1].Subject, want) {
			t.Errorf("%s: no top-up mail of %s: %q, %q", u.email, want, ms[0].Subject, ms[1].Subject)
		}
	}
}

// TestPoisonEventsGoToTheDeadLetterQueue: malformed events are dead-lettered and do not hold up the
// events behind them.
func TestPoisonEventsGoToTheDeadLetterQueue(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	raw := bus.Message{ID: bson.NewObjectID().Hex(), Exchange: contract.TransactionEvents, Type: contract.TransactionCompleted,
		Timestamp: time.Now(), Body: []byte(`{not json`)}
	h.send(raw)
	bad := h.transaction(contract.TransactionCompleted, contract.TransactionData{Type: contract.TypeTopup, UserID: "u", Amount: -1})
	u, _ := h.signUp("Good", "Event")
	h.transaction(contract.TransactionCompleted, contract.TransactionData{Type: contract.TypeTopup, UserID: u.id, Amount: 3_00})
	h.waitMail(u.email, "3.00 USD")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := map[string]bool{}
	_ = h.env.Bus.Consume(ctx, bus.DeadLetterQueue(contract.Queue("notifications", contract.TransactionCompleted)),
		func(_ context.Context, m bus.Message) error {
			seen[m.ID] = true
			if seen[raw.ID] && seen[bad.ID] {
				cancel()
			}
			return nil
		})
	if !seen[raw.ID] || !seen[bad.ID] {
		t.Errorf("dead-letter queue holds %v, want %s and %s", seen, raw.ID, bad.ID)
	}
}

// TestTheMailRecordKeepsTheTraceOfItsEvent: a mail is recorded with the trace of the event that owed
// it, so an operator can follow one transfer from its request to the mails it caused.
func TestTheMailRecordKeepsTheTraceOfItsEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u, _ := h.signUp("Grace", "Hopper")
	h.waitMail(u.email, "Welcome")
	traceID := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: trace.FlagsSampled, Remote: true}))
	txID := bson.NewObjectID().Hex()
	if _, err := h.env.Publish(ctx, contract.TransactionEvents, contract.TransactionCompleted, contract.TransactionData{ID: txID,
		Type: contract.TypeTopup, UserID: u.id, Amount: 1_00, Currency: "USD", Status: contract.StatusCompleted,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	h.waitMail(u.email, "top-up")
	var rec struct {
		TraceParent string `bson:"traceparent"`
	}
	mails := h.env.Database(t, notifications.DatabaseName).Collection("mails")
	if err := mails.FindOne(context.Background(), bson.D{{Key: "_id", Value: notifications.TemplateTopupCompleted + ":" + txID + ":" + u.id}}).Decode(&rec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rec.TraceParent, "00-"+traceID.String()+"-") {
		t.Errorf("mail record traceparent %q, want the event's trace %s", rec.TraceParent, traceID)
	}
}
