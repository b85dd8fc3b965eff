package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/mint-wallet/mint/internal/notifications"
	"github.com/mint-wallet/mint/internal/platform/money"
)

// reader reads what each user sees, straight from the services' replicas (not through the gateway,
// whose rate limit is for clients), one replica after the other.
type reader struct {
	c    *client
	urls map[string][]string
	mu   sync.Mutex
	next map[string]int
}

func newReader(s *stack) *reader {
	return &reader{c: &client{http: &http.Client{Timeout: 30 * time.Second}}, urls: s.services, next: map[string]int{}}
}

// get reads path from the next replica of svc as user a into out, retrying what a client retries.
func (rd *reader) get(ctx context.Context, svc, path string, a account, out any) error {
	rd.mu.Lock()
	base := rd.urls[svc][rd.next[svc]%len(rd.urls[svc])]
	rd.next[svc]++
	rd.mu.Unlock()
	ans := rd.c.retry(ctx, &counts{}, func() answer { return rd.c.do(ctx, http.MethodGet, base+path, a.token, nil, nil) })
	if ans.status != http.StatusOK {
		return fmt.Errorf("GET %s%s as %s: %s %s", base, path, a.email, ans.kind(), ans.body)
	}
	if err := json.Unmarshal(ans.body, out); err != nil {
		return fmt.Errorf("GET %s%s: %w", base, path, err)
	}
	return nil
}

// transactions reads every transaction user a sees, with the query q (e.g. "status=pending").
func (rd *reader) transactions(ctx context.Context, a account, q string) ([]txView, error) {
	var all []txView
	for offset := 0; ; offset += 100 {
		var page struct {
			Transactions []txView `json:"transactions"`
			Total        int      `json:"total"`
		}
		path := fmt.Sprintf("/api/v1/transactions?limit=100&offset=%d", offset)
		if q != "" {
			path += "&" + q
		}
		if err := rd.get(ctx, "transactions", path, a, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Transactions...)
		if len(page.Transactions) == 0 || len(all) >= page.Total {
			return all, nil
		}
	}
}

// open counts the transactions the users still see pending or processing.
func (rd *reader) open(ctx context.Context, users []account) (int, error) {
	n := 0
	for _, a := range users {
		for _, status := range []string{"pending", "processing"} {
			var page struct {
				Total int `json:"total"`
			}
			if err := rd.get(ctx, "transactions", "/api/v1/transactions?limit=1&status="+status, a, &page); err != nil {
				return 0, err
			}
			n += page.Total
		}
	}
	return n, nil
}

// drain waits until no user sees a transaction pending or processing, or deadline; it returns when
// that was, or an error naming how many are still open.
func (r *run) drain(ctx context.Context, deadline time.Time) (time.Time, error) {
	for {
		open, err := r.reader.open(ctx, r.users)
		if err != nil {
			return time.Time{}, err
		}
		if open == 0 {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d transactions still pending or processing at %s", open, deadline.Format(time.TimeOnly))
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return time.Time{}, err
		}
	}
}

// ledger is what the checks read back once every transaction is terminal.
type ledger struct {
	byID     map[string]txView // every transaction any user sees
	balances []money.Amount    // by user
}

// readLedger reads every user's transactions and wallet.
func (r *run) readLedger(ctx context.Context) (*ledger, error) {
	l := &ledger{byID: map[string]txView{}, balances: make([]money.Amount, len(r.users))}
	for i, a := range r.users {
		txs, err := r.reader.transactions(ctx, a, "")
		if err != nil {
			return nil, err
		}
		for _, tx := range txs {
			l.byID[tx.ID] = tx
		}
		var w struct {
			Balance money.Amount `json:"balance"`
		}
		if err := r.reader.get(ctx, "wallet", "/api/v1/wallet/user", a, &w); err != nil {
			return nil, err
		}
		l.balances[i] = w.Balance
	}
	return l, nil
}

// checkMoney: Σ balances = Σ top-ups, no balance negative, and each wallet equal to the sum of its
// history, every entry's balanceAfter the running sum.
func (r *run) checkMoney(ctx context.Context, l *ledger) error {
	var total int64
	for i, a := range r.users {
		b := l.balances[i].Cents()
		total += b
		if b < 0 {
			r.violate("wallet of %s is negative: %s", a.email, l.balances[i])
		}
		entries, err := r.history(ctx, a)
		if err != nil {
			return err
		}
		// Newest first: the running sum is checked from the oldest.
		var sum int64
		for j := len(entries) - 1; j >= 0; j-- {
			sum += entries[j].Amount.Cents()
			if entries[j].BalanceAfter.Cents() != sum {
				r.violate("wallet of %s: entry %d (%s) has balanceAfter %s, the running sum is %s", a.email,
					len(entries)-j, entries[j].TransactionID, entries[j].BalanceAfter, money.FromCents(sum))
				break
			}
		}
		if sum != b {
			r.violate("wallet of %s: balance %s, its history sums to %s", a.email, l.balances[i], money.FromCents(sum))
		}
	}
	if total != r.funded {
		r.violate("Σ balances = %s, Σ top-ups = %s: money was created or lost", money.FromCents(total), money.FromCents(r.funded))
	}
	return nil
}

type entry struct {
	TransactionID string       `json:"transactionId"`
	Amount        money.Amount `json:"amount"`
	BalanceAfter  money.Amount `json:"balanceAfter"`
}

func (r *run) history(ctx context.Context, a account) ([]entry, error) {
	var all []entry
	for offset := 0; ; offset += 100 {
		var page struct {
			Entries []entry `json:"entries"`
			Total   int     `json:"total"`
		}
		if err := r.reader.get(ctx, "wallet", fmt.Sprintf("/api/v1/wallet/history?limit=100&offset=%d", offset), a, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Entries...)
		if len(page.Entries) == 0 || len(all) >= page.Total {
			return all, nil
		}
	}
}

// checkKeys: every idempotency key made exactly one transaction. Each accepted answer for a key named
// the same transaction; each payer has as many transfers as keys it was accepted under; and the
// transfers are as many as the run sent.
func (r *run) checkKeys(l *ledger) {
	perPayer := map[string]int{}
	for key, u := range r.keys.keys {
		if len(u.ids) != 1 {
			r.violate("idempotency key %s made %d transactions: %v", key, len(u.ids), u.ids)
		}
		perPayer[u.payer]++
	}
	transfers := map[string]int{}
	n := 0
	for _, tx := range l.byID {
		if tx.Type == "transfer" {
			transfers[tx.UserID]++
			n++
		}
	}
	for _, a := range r.users {
		if transfers[a.id] != perPayer[a.id] {
			r.violate("%s sent %d transfers under %d idempotency keys", a.email, transfers[a.id], perPayer[a.id])
		}
	}
	if n != r.o.Transfers {
		r.violate("%d transfers stored, %d sent", n, r.o.Transfers)
	}
}

// promisedMails are the Message-IDs and recipients of every mail the run was promised: a welcome per
// user, a receipt per top-up, for each completed transfer one to its payer and one to its
// recipient, and a notice to the payer of each failed transaction.
func (r *run) promisedMails(l *ledger) (map[string]string, error) {
	domain, err := notifications.MessageIDDomain(notifications.DefaultFrom)
	if err != nil {
		return nil, err
	}
	email := map[string]string{}
	for _, a := range r.users {
		email[a.id] = a.email
	}
	out := map[string]string{}
	promise := func(template, subject, recipient string) {
		out[notifications.MessageID(template, subject, recipient, domain)] = email[recipient]
	}
	for _, a := range r.users {
		promise(notifications.TemplateWelcome, a.id, a.id)
	}
	for id, tx := range l.byID {
		switch {
		case tx.Status == "failed":
			promise(notifications.TemplateTransactionFailed, id, tx.UserID)
		case tx.Type == "topup":
			promise(notifications.TemplateTopupCompleted, id, tx.UserID)
		default:
			promise(notifications.TemplateTransferSent, id, tx.UserID)
			promise(notifications.TemplateTransferReceived, id, tx.RecipientID)
		}
	}
	return out, nil
}

// mailpitMessage is what Mailpit lists of one message.
type mailpitMessage struct {
	MessageID string `json:"MessageID"`
	To        []struct {
		Address string `json:"Address"`
	} `json:"To"`
	Created time.Time `json:"Created"`
}

// mails lists every message Mailpit received.
func (r *run) mails(ctx context.Context) ([]mailpitMessage, error) {
	var all []mailpitMessage
	for start := 0; ; start += 1000 {
		var page struct {
			Messages []mailpitMessage `json:"messages"`
			Total    int              `json:"total"`
		}
		a := r.reader.c.do(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/messages?start=%d&limit=1000", r.st.mail.APIURL(), start), "", nil, nil)
		if a.status != http.StatusOK {
			return nil, fmt.Errorf("mailpit: %s", a.kind())
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			return nil, fmt.Errorf("mailpit: %w", err)
		}
		all = append(all, page.Messages...)
		if len(page.Messages) == 0 || len(all) >= page.Total {
			return all, nil
		}
	}
}

// awaitMails waits until Mailpit holds every promised mail, or deadline, and returns the messages it
// holds then, and when the last promised one came (zero if one is missing).
func (r *run) awaitMails(ctx context.Context, promised map[string]string, deadline time.Time) ([]mailpitMessage, time.Time, error) {
	for {
		var total struct {
			Total int `json:"total"`
		}
		a := r.reader.c.do(ctx, http.MethodGet, r.st.mail.APIURL()+"/api/v1/messages?limit=1", "", nil, nil)
		last := time.Now().After(deadline)
		if a.status == http.StatusOK && json.Unmarshal(a.body, &total) == nil && (total.Total >= len(promised) || last) {
			got, err := r.mails(ctx)
			if err != nil {
				return nil, time.Time{}, err
			}
			if at, ok := allPromised(promised, got); ok || last {
				return got, at, nil
			}
		}
		if last {
			return nil, time.Time{}, fmt.Errorf("mailpit: %s", a.kind())
		}
		if err := sleep(ctx, time.Second); err != nil {
			return nil, time.Time{}, err
		}
	}
}

// allPromised reports whether got holds every promised mail, and when the last of them arrived.
func allPromised(promised map[string]string, got []mailpitMessage) (time.Time, bool) {
	first := map[string]time.Time{}
	for _, m := range got {
		k := m.key()
		if t, ok := first[k]; !ok || m.Created.Before(t) {
			first[k] = m.Created
		}
	}
	var last time.Time
	for id, to := range promised {
		t, ok := first[id+" "+to]
		if !ok {
			return time.Time{}, false
		}
		last = later(last, t)
	}
	return last, true
}

// key names a message by its Message-ID and recipient.
func (m mailpitMessage) key() string {
	to := ""
	if len(m.To) > 0 {
		to = m.To[0].Address
	}
	return strings.Trim(m.MessageID, "<>") + " " + to
}

// checkMails: every promised mail reached its recipient, counted by Message-ID and recipient, and no
// other mail was sent. It returns the copies: deliveries of a mail already delivered, under its
// Message-ID, which a mail client shows once — what a sender killed between the SMTP server's
// acceptance and its own record of it sends again (SMTP gives a sender no way to ask whether a
// message it sent got through).
func (r *run) checkMails(promised map[string]string, got []mailpitMessage) (copies int) {
	seen := map[string]int{}
	for _, m := range got {
		k := m.key()
		seen[k]++
		id, to, _ := strings.Cut(k, " ")
		if want, ok := promised[id]; (!ok || want != to) && seen[k] == 1 {
			r.violate("a mail nobody was promised: Message-ID %s to %s", id, to)
		}
	}
	missing := 0
	for id, to := range promised {
		switch n := seen[id+" "+to]; {
		case n == 0:
			missing++
			if missing <= 5 {
				r.violate("mail %s to %s never sent", id, to)
			}
		case n > 1:
			copies += n - 1
		}
	}
	if missing > 5 {
		r.violate("in all %d promised mails never sent", missing)
	}
	return copies
}

// reconcile runs `mint wallet reconcile` against the stack's database, as an operator would.
func (r *run) reconcile(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, r.o.Bin, "wallet", "reconcile", "--mongodb-uri", r.st.dbURI).CombinedOutput() //nolint:gosec // the mint binary the run was given, on its own stack
	summary := strings.TrimSpace(string(out))
	if err != nil || !strings.Contains(summary, "drifts 0") {
		r.violate("mint wallet reconcile: %v: %s", err, summary)
	}
	return summary
}

// replayKeys sends again, with its key, every transfer whose first sending met an error (the ones a
// crash may have cut in the middle) and every hundredth other one, and checks that each answer names
// the transaction the key made.
func (r *run) replayKeys(ctx context.Context, c *client) {
	for key, u := range r.keys.keys {
		if !u.retried && u.index%100 != 0 {
			continue
		}
		from, to, amount := r.transfer(u.index)
		payer := r.users[from]
		a := c.retry(ctx, r.errs, func() answer {
			return c.do(ctx, http.MethodPost, r.st.gateway+"/api/v1/transactions/transfer", payer.token,
				map[string]string{"recipientId": r.users[to].id, "amount": amount}, map[string]string{"Idempotency-Key": key})
		})
		r.replayed++
		var tx txView
		if a.status != http.StatusCreated || json.Unmarshal(a.body, &tx) != nil {
			r.violate("replay of %s: %s %s", key, a.kind(), a.body)
			continue
		}
		if len(u.ids) != 1 || u.ids[0] != tx.ID {
			r.violate("replay of %s answered transaction %s; the key's answers named %v", key, tx.ID, u.ids)
		}
	}
}
