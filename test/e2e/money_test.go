package e2e

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

type user struct {
	id, token string
}

func newUser(t *testing.T, base, name string) user {
	t.Helper()
	res := must(t, signup(t, base, name+"@example.com", "password-123"), 201, "signup "+name)
	return user{id: res.field(t, "id"), token: res.field(t, "token")}
}

// cents reads an exact decimal JSON amount ("balance": 19.25) as integer cents.
func cents(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	s := string(raw)
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		t.Fatalf("amount %s: %v", s, err)
	}
	return n
}

// balance waits until the user's wallet exists and returns its balance in cents.
func balance(t *testing.T, base string, u user) int64 {
	t.Helper()
	return pollBalance(t, u, 20*time.Millisecond, func() result {
		return call(t, "GET", base+"/api/v1/wallet/user", nil, u.token)
	})
}

// pollBalance reads u's wallet with get, every interval for up to 30 s until it exists, and returns
// its balance in cents.
func pollBalance(t *testing.T, u user, interval time.Duration, get func() result) int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := get()
		if res.status == 200 {
			var w struct {
				Balance json.RawMessage `json:"balance"`
			}
			if err := json.Unmarshal(res.body, &w); err != nil {
				t.Fatal(err)
			}
			return cents(t, w.Balance)
		}
		if time.Now().After(deadline) {
			t.Fatalf("wallet of %s: %d %s", u.id, res.status, res.body)
		}
		time.Sleep(interval)
	}
}

// settle waits up to 30 s until transaction id reads as terminal and returns it.
func settle(t *testing.T, base string, u user, id string) map[string]any {
	t.Helper()
	return settleBy(t, base, u, id, time.Now().Add(30*time.Second))
}

// settleBy waits until deadline for transaction id to read as terminal and returns it.
func settleBy(t *testing.T, base string, u user, id string, deadline time.Time) map[string]any {
	t.Helper()
	return pollTerminal(t, id, deadline, 10*time.Millisecond, func() result {
		return call(t, "GET", base+"/api/v1/transactions/"+id, nil, u.token)
	})
}

// pollTerminal reads transaction id with get, every interval until it is terminal or deadline, and
// returns it.
func pollTerminal(t *testing.T, id string, deadline time.Time, interval time.Duration, get func() result) map[string]any {
	t.Helper()
	for {
		res := must(t, get(), 200, "transaction")
		var tx map[string]any
		if err := json.Unmarshal(res.body, &tx); err != nil {
			t.Fatal(err)
		}
		if s := tx["status"]; s == "completed" || s == "failed" {
			return tx
		}
		if time.Now().After(deadline) {
			t.Fatalf("transaction %s still %v at the deadline", id, tx["status"])
		}
		time.Sleep(interval)
	}
}

// TestDevMoneyPath walks the money path through mint dev: exact top-ups, a transfer, an overdraft that
// fails with its reason and moves nothing, and reads that never show a settled transaction as pending.
func TestDevMoneyPath(t *testing.T) {
	p := startDev(t, tempDir(t))
	ada, bob := newUser(t, p.base, "ada"), newUser(t, p.base, "bob")
	var topups []string
	for range 10 {
		topups = append(topups, must(t, call(t, "POST", p.base+"/api/v1/transactions/topup", map[string]any{"amount": 0.1}, ada.token), 201, "topup").field(t, "id"))
	}
	for _, id := range topups { // they settle in no particular order
		if tx := settle(t, p.base, ada, id); tx["status"] != "completed" {
			t.Fatalf("top-up %s = %v", id, tx)
		}
	}
	if got := balance(t, p.base, ada); got != 100 {
		t.Fatalf("ten top-ups of 0.1 give %d cents, want exactly 100", got)
	}

	tr := must(t, call(t, "POST", p.base+"/api/v1/transactions/transfer", map[string]any{"recipientId": bob.id, "amount": "0.35"}, ada.token), 201, "transfer")
	if tx := settle(t, p.base, ada, tr.field(t, "id")); tx["status"] != "completed" || tx["completedAt"] == nil {
		t.Fatalf("transfer = %v", tx)
	}
	if a, b := balance(t, p.base, ada), balance(t, p.base, bob); a != 65 || b != 35 {
		t.Fatalf("after transfer: ada %d, bob %d cents; want 65 and 35", a, b)
	}
	// The list, read right after settling, agrees with the detail.
	list := must(t, call(t, "GET", p.base+"/api/v1/transactions?type=transfer&direction=received", nil, bob.token), 200, "list")
	if !strings.Contains(string(list.body), `"status":"completed"`) || strings.Contains(string(list.body), `"pending"`) {
		t.Fatalf("bob's received transfers: %s", list.body)
	}

	over := must(t, call(t, "POST", p.base+"/api/v1/transactions/transfer", map[string]any{"recipientId": ada.id, "amount": 1}, bob.token), 201, "overdraft")
	if tx := settle(t, p.base, bob, over.field(t, "id")); tx["status"] != "failed" || tx["failureReason"] != "insufficient_funds" {
		t.Fatalf("overdraft = %v", tx)
	}
	if a, b := balance(t, p.base, ada), balance(t, p.base, bob); a != 65 || b != 35 {
		t.Fatalf("after the failed overdraft: ada %d, bob %d cents; want 65 and 35", a, b)
	}
	must(t, call(t, "POST", p.base+"/api/v1/transactions/transfer", map[string]any{"recipientId": ada.id, "amount": 1}, ada.token), 400, "self transfer")
	must(t, call(t, "POST", p.base+"/api/v1/transactions/transfer", map[string]any{"recipientId": "5f0000000000000000000000", "amount": 1}, ada.token), 404, "unknown recipient")
}

// TestDevBankInvariant: many wallets, random transfers at high concurrency through mint dev. Afterwards
// every transaction is terminal, Σ balances = Σ top-ups, no balance is negative, and
// `mint wallet reconcile` finds every wallet equal to the sum of its entries.
func TestDevBankInvariant(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test")
	}
	nWallets, nTransfers, nClients := bankScale(t)
	data := tempDir(t)
	p := startDev(t, data)
	b := openBank(t, p.base, p.base, p.base, nWallets, "bank")

	b.run(nTransfers, nClients)
	if err := p.stop(os.Interrupt); err != nil {
		t.Fatalf("stop mint dev: %v", err)
	}
	reconcile(t, data)
}
