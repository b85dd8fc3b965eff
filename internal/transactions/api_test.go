package transactions

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/cache"
)

func TestCreateRejectsBadInput(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	u := h.newUser()
	stranger := bson.NewObjectID().Hex() // never signed up
	tests := []struct {
		name   string
		path   string
		body   string
		header []string
		status int
		code   string
		field  string
	}{
		{"zero", "topup", `{"amount": 0}`, nil, 400, "validation_failed", "body.amount"},
		{"negative", "topup", `{"amount": -1}`, nil, 400, "validation_failed", "body.amount"},
		{"three decimals", "topup", `{"amount": 10.005}`, nil, 400, "validation_failed", "body.amount"},
		{"not a number", "topup", `{"amount": "abc"}`, nil, 400, "validation_failed", "body.amount"},
		{"huge exponent", "topup", `{"amount": 1e400}`, nil, 400, "validation_failed", "body.amount"},
		{"null", "topup", `{"amount": null}`, nil, 400, "validation_failed", "body.amount"},
		{"over the max", "topup", `{"amount": 1000000.01}`, nil, 400, "validation_failed", "body.amount"},
		{"missing amount", "topup", `{"description": "x"}`, nil, 400, "validation_failed", "body.amount"},
		{"transfer three decimals", "transfer", `{"recipientId": "` + stranger + `", "amount": 10.005}`, nil, 400, "validation_failed", "body.amount"},
		{"long description", "topup", `{"amount": 1, "description": "` + strings.Repeat("d", 501) + `"}`, nil, 400, "validation_failed", "body.description"},
		{"unknown field", "topup", `{"amount": 1, "userId": "x"}`, nil, 400, "validation_failed", "body.userId"},
		{"duplicate amount", "topup", `{"amount": 1, "amount": 1000000}`, nil, 400, "validation_failed", "body.amount"},
		{"case-variant amount", "topup", `{"Amount": 7.77}`, nil, 400, "validation_failed", "body.Amount"},
		{"case variant beside the amount", "transfer", `{"recipientId": "` + stranger + `", "amount": 1, "AMOUNT": 100}`, nil, 400, "validation_failed", "body.AMOUNT"},
		{"description with CR LF", "topup", `{"amount": 1, "description": "Rent\r\nBcc: all@example.com"}`, nil, 400, "validation_failed", "body.description"},
		{"description with NUL", "topup", `{"amount": 1, "description": "a\u0000b"}`, nil, 400, "validation_failed", "body.description"},
		{"description with a bidi override", "topup", `{"amount": 1, "description": "refund \u202egnp.exe"}`, nil, 400, "validation_failed", "body.description"},
		{"description with a zero-width space", "topup", `{"amount": 1, "description": "pay\u200bpal"}`, nil, 400, "validation_failed", "body.description"},
		{"description not UTF-8", "topup", "{\"amount\": 1, \"description\": \"\xff\"}", nil, 400, "validation_failed", "body.description"},
		{"empty idempotency key", "topup", `{"amount": 1}`, []string{IdempotencyHeader, ""}, 400, "validation_failed", "header.Idempotency-Key"},
		{"long idempotency key", "topup", `{"amount": 1}`, []string{IdempotencyHeader, strings.Repeat("k", 256)}, 400, "validation_failed", "header.Idempotency-Key"},
		{"self transfer", "transfer", `{"recipientId": "` + u.id + `", "amount": 1}`, nil, 400, "self_transfer", ""},
		{"unknown recipient", "transfer", `{"recipientId": "` + stranger + `", "amount": 1}`, nil, 404, "recipient_not_found", ""},
		{"malformed recipient", "transfer", `{"recipientId": "nobody", "amount": 1}`, nil, 400, "validation_failed", "body.recipientId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectProblem(t, h.do("POST", "/api/v1/transactions/"+tt.path, tt.body, u, tt.header...), tt.status, tt.code, tt.field)
		})
	}
	expectProblem(t, h.do("POST", "/api/v1/transactions/topup", `{"amount": 1}`, user{}), 401, "unauthenticated", "")
	if res := h.do("GET", "/api/v1/transactions", nil, u); res.JSON(t)["total"] != 0.0 {
		t.Fatalf("rejected requests created transactions: %s", res.Body)
	}
}

func TestTopupCompletes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	u := h.newUser()
	res := h.do("POST", "/api/v1/transactions/topup", `{"amount": "1000000.00", "description": "salary"}`, u)
	if res.Status != http.StatusCreated {
		t.Fatalf("topup: %d %s", res.Status, res.Body)
	}
	if !bytes.Contains(res.Body, []byte(`"amount":1000000.00`)) || !bytes.Contains(res.Body, []byte(`"currency":"USD"`)) {
		t.Fatalf("amount not printed exactly: %s", res.Body)
	}
	tx := res.tx(t)
	if tx.Status != contract.StatusPending || tx.Type != contract.TypeTopup || tx.UserID != u.id || tx.Amount.Cents() != 100000000 ||
		tx.Description != "salary" || tx.CompletedAt != nil || tx.RecipientID != "" {
		t.Fatalf("created = %+v", tx)
	}

	done := h.waitStatus(u, tx.ID, contract.StatusCompleted)
	if done.CompletedAt == nil || done.Amount != tx.Amount || !done.UpdatedAt.After(done.CreatedAt.Add(-1)) || done.FailureReason != "" {
		t.Fatalf("completed = %+v", done)
	}
	// Right after completion every read says completed: the detail (from the database, then from the
	// cache) and the list.
	for range 2 {
		if got := h.get(u, tx.ID).tx(t); got.Status != contract.StatusCompleted {
			t.Fatalf("detail after completion = %s", got.Status)
		}
	}
	var cached Transaction
	if hit, err := cache.GetJSON(context.Background(), h.cache, txKey(tx.ID), &cached); !hit || err != nil || cached.Status != contract.StatusCompleted {
		t.Fatalf("completed transaction not cached: %v %v %+v", hit, err, cached)
	}
	list := h.do("GET", "/api/v1/transactions", nil, u)
	var page TransactionList
	if err := json.Unmarshal(list.Body, &page); err != nil || page.Total != 1 || page.Transactions[0].Status != contract.StatusCompleted {
		t.Fatalf("list after completion: %s", list.Body)
	}
	if !bytes.Contains(list.Body, []byte(`"amount":1000000.00`)) {
		t.Fatalf("list amount not exact: %s", list.Body)
	}
	h.expectPublished(contract.TransactionCompleted, tx.ID, 1)
	for _, m := range []struct {
		name   string
		labels map[string]string
	}{
		{"transactions_total", map[string]string{"type": "topup", "status": "pending"}},
		{"transactions_total", map[string]string{"type": "topup", "status": "completed"}},
		{"transaction_amount", map[string]string{"type": "topup"}},
		{"transaction_processing_duration_seconds", map[string]string{"type": "topup", "status": "completed"}},
	} {
		if got := h.counter(m.name, m.labels); got != 1 {
			t.Errorf("%s%v = %v, want 1", m.name, m.labels, got)
		}
	}
}

func TestNonTerminalIsNeverCached(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	u := h.newUser()
	id := bson.NewObjectID()
	h.wallet.plan(id.Hex(), answer{}) // the wallet's answer is lost: it stays processing
	if _, err := h.mod.svc.insert(context.Background(), id, command{Type: contract.TypeTopup, UserID: u.id, Amount: 5}); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(u, id.Hex(), contract.StatusProcessing)
	var cached Transaction
	if hit, _ := cache.GetJSON(context.Background(), h.cache, txKey(id.Hex()), &cached); hit {
		t.Fatalf("a processing transaction was cached: %+v", cached)
	}
	h.publish(context.Background(), contract.WalletEvents, contract.WalletTxFinalized,
		contract.WalletFinalizedData{TransactionID: id.Hex(), Outcome: contract.OutcomeApplied})
	h.waitStatus(u, id.Hex(), contract.StatusCompleted)
}

func TestTransferRejected(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	alice, bob := h.newUser(), h.newUser()
	res := h.do("POST", "/api/v1/transactions/transfer", `{"recipientId": "`+bob.id+`", "amount": 0.1, "description": "lunch"}`, alice)
	if res.Status != http.StatusCreated {
		t.Fatalf("transfer: %d %s", res.Status, res.Body)
	}
	tx := res.tx(t)
	if tx.Type != contract.TypeTransfer || tx.RecipientID != bob.id || tx.Amount.Cents() != 10 || tx.Status != contract.StatusPending {
		t.Fatalf("created = %+v", tx)
	}
	h.wallet.plan(tx.ID, answer{outcome: contract.OutcomeRejected, reason: contract.ReasonInsufficientFunds})
	failed := h.waitStatus(alice, tx.ID, contract.StatusFailed)
	if failed.FailureReason != contract.ReasonInsufficientFunds || failed.CompletedAt != nil {
		t.Fatalf("failed = %+v", failed)
	}
	// The money never reached the recipient, and why it failed is the sender's business: the
	// recipient sees it neither by id nor in any list; nor does a stranger.
	expectProblem(t, h.get(bob, tx.ID), 404, "not_found", "")
	for _, q := range []string{"", "?direction=received", "?status=failed", "?type=transfer"} {
		if res := h.do("GET", "/api/v1/transactions"+q, nil, bob); res.JSON(t)["total"] != 0.0 {
			t.Errorf("recipient's list %q shows the failed transfer: %s", q, res.Body)
		}
	}
	expectProblem(t, h.get(h.newUser(), tx.ID), 404, "not_found", "")
	h.expectPublished(contract.TransactionFailed, tx.ID, 1)
	if got := h.counter("transactions_total", map[string]string{"type": "transfer", "status": "failed"}); got != 1 {
		t.Fatalf("transactions_total{transfer,failed} = %v", got)
	}
}

func TestList(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	alice, bob, carol := h.newUser(), h.newUser(), h.newUser()
	// alice: 3 top-ups (one fails), sends 2 transfers to bob; bob sends 1 to alice; carol has her own.
	var ids []string
	for i, amount := range []string{"1", "2", "3"} {
		tx := h.topup(alice, amount)
		if i == 1 {
			h.wallet.plan(tx.ID, answer{outcome: contract.OutcomeRejected, reason: "wallet_not_found"})
		}
		ids = append(ids, tx.ID)
	}
	ids = append(ids, h.transfer(alice, bob, "4").ID, h.transfer(alice, bob, "5").ID, h.transfer(bob, alice, "6").ID)
	carolTx := h.topup(carol, "7")
	for _, id := range append(ids, carolTx.ID) {
		h.eventually("terminal "+id, func() bool { return isTerminal(h.dbTx(id).Status) })
	}

	list := func(u user, query string) TransactionList {
		t.Helper()
		res := h.do("GET", "/api/v1/transactions"+query, nil, u)
		if res.Status != 200 {
			t.Fatalf("GET %s: %d %s", query, res.Status, res.Body)
		}
		var p TransactionList
		if err := json.Unmarshal(res.Body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	amounts := func(p TransactionList) string {
		var s []string
		for _, tx := range p.Transactions {
			s = append(s, tx.Amount.String())
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		u       user
		query   string
		total   int64
		amounts string
	}{
		{alice, "", 6, "6.00,5.00,4.00,3.00,2.00,1.00"},
		{alice, "?limit=2", 6, "6.00,5.00"},
		{alice, "?limit=2&offset=2", 6, "4.00,3.00"},
		{alice, "?offset=5", 6, "1.00"},
		{alice, "?offset=6", 6, ""},
		{alice, "?type=topup", 3, "3.00,2.00,1.00"},
		{alice, "?type=transfer", 3, "6.00,5.00,4.00"},
		{alice, "?direction=sent", 5, "5.00,4.00,3.00,2.00,1.00"},
		{alice, "?direction=received", 1, "6.00"},
		{alice, "?status=failed", 1, "2.00"},
		{alice, "?status=completed&type=topup", 2, "3.00,1.00"},
		{alice, "?status=pending", 0, ""},
		{bob, "", 3, "6.00,5.00,4.00"},
		{bob, "?direction=received&limit=1", 2, "5.00"},
		{carol, "", 1, "7.00"},
	}
	for _, tt := range tests {
		p := list(tt.u, tt.query)
		if p.Total != tt.total || amounts(p) != tt.amounts {
			t.Errorf("list %s = total %d [%s], want %d [%s]", tt.query, p.Total, amounts(p), tt.total, tt.amounts)
		}
	}
	if p := list(alice, "?limit=3&offset=1"); p.Limit != 3 || p.Offset != 1 {
		t.Errorf("page echo = %d/%d", p.Limit, p.Offset)
	}
	for _, q := range []string{"limit=101", "limit=0", "offset=-1", "type=gift", "status=done", "direction=both"} {
		expectProblem(t, h.do("GET", "/api/v1/transactions?"+q, nil, alice), 400, "validation_failed", "")
	}
	expectProblem(t, h.get(alice, carolTx.ID), 404, "not_found", "")
	expectProblem(t, h.get(alice, bson.NewObjectID().Hex()), 404, "not_found", "")
	expectProblem(t, h.get(alice, "not-an-id"), 404, "not_found", "")
	if got := h.get(carol, carolTx.ID); got.Status != 200 {
		t.Fatalf("owner GET: %d", got.Status)
	}
	// A cached terminal transaction is still not shown to a stranger.
	expectProblem(t, h.get(alice, carolTx.ID), 404, "not_found", "")
}

// TestListIsNeverStale reads both parties' lists (caching them) before every change: each change shows
// at once, and so does the transaction's end.
func TestListIsNeverStale(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	alice, bob := h.newUser(), h.newUser()
	list := func(u user) TransactionList {
		t.Helper()
		res := h.do("GET", "/api/v1/transactions?limit=5", nil, u)
		var p TransactionList
		if res.Status != 200 || json.Unmarshal(res.Body, &p) != nil {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		return p
	}
	for i := range 3 {
		list(alice)
		list(bob)
		tx := h.transfer(alice, bob, "1")
		if p := list(alice); p.Total != int64(i+1) || p.Transactions[0].ID != tx.ID {
			t.Fatalf("round %d: the sender's list read after the transfer shows total %d, first %+v", i, p.Total, p.Transactions[0])
		}
		h.waitStatus(alice, tx.ID, contract.StatusCompleted)
		// The recipient's list shows the transfer once it completed (it may already have).
		for _, u := range []user{alice, bob} {
			if p := list(u); p.Total != int64(i+1) || p.Transactions[0].ID != tx.ID || p.Transactions[0].Status != contract.StatusCompleted {
				t.Fatalf("round %d: a list read after completion shows total %d, first %+v", i, p.Total, p.Transactions[0])
			}
		}
	}
}
