package transactions

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

func TestCanTransition(t *testing.T) {
	const (
		pe = contract.StatusPending
		pr = contract.StatusProcessing
		co = contract.StatusCompleted
		fa = contract.StatusFailed
	)
	allowed := map[[2]string]bool{
		{pe, pr}: true, {pe, co}: true, {pe, fa}: true, // early finalization ends a pending one
		{pr, co}: true, {pr, fa}: true,
	}
	all := []string{pe, pr, co, fa, "", "unknown"}
	for _, from := range all {
		for _, to := range all {
			if got, want := canTransition(from, to), allowed[[2]string{from, to}]; got != want {
				t.Errorf("canTransition(%q, %q) = %v, want %v", from, to, got, want)
			}
		}
	}
	for _, s := range []string{co, fa} {
		if !isTerminal(s) {
			t.Errorf("%s is terminal", s)
		}
	}
	for _, s := range []string{pe, pr, ""} {
		if isTerminal(s) {
			t.Errorf("%s is not terminal", s)
		}
	}
}

func TestOutcomeStatus(t *testing.T) {
	tests := []struct {
		outcome, reason    string
		status, wantReason string
		ok                 bool
	}{
		{contract.OutcomeApplied, "", contract.StatusCompleted, "", true},
		{contract.OutcomeApplied, "ignored", contract.StatusCompleted, "", true},
		{contract.OutcomeRejected, contract.ReasonInsufficientFunds, contract.StatusFailed, contract.ReasonInsufficientFunds, true},
		{contract.OutcomeRejected, "", contract.StatusFailed, "rejected", true},
		{"", "", "", "", false},
		{"APPLIED", "", "", "", false},
	}
	for _, tt := range tests {
		status, reason, ok := outcomeStatus(tt.outcome, tt.reason)
		if status != tt.status || reason != tt.wantReason || ok != tt.ok {
			t.Errorf("outcomeStatus(%q, %q) = %q, %q, %v; want %q, %q, %v", tt.outcome, tt.reason,
				status, reason, ok, tt.status, tt.wantReason, tt.ok)
		}
	}
}

const (
	alice = "aaaaaaaaaaaaaaaaaaaaaaaa"
	bob   = "bbbbbbbbbbbbbbbbbbbbbbbb"
)

func TestRequestValidation(t *testing.T) {
	tests := []struct {
		name  string
		kind  string // "topup" or "transfer"
		body  string
		want  command
		code  failure.Kind
		field string
	}{
		{"topup", "topup", `{"amount": 10.5}`, command{Type: "topup", UserID: alice, Amount: 1050}, "", ""},
		{"topup string amount", "topup", `{"amount": "0.01", "description": "coffee"}`, command{Type: "topup", UserID: alice, Amount: 1, Description: "coffee"}, "", ""},
		{"topup max", "topup", `{"amount": 1000000}`, command{Type: "topup", UserID: alice, Amount: 100000000}, "", ""},
		{"missing amount", "topup", `{}`, command{}, failure.Invalid, "body.amount"},
		{"description 500 runes", "topup", `{"amount": 1, "description": "` + strings.Repeat("é", 500) + `"}`, command{Type: "topup", UserID: alice, Amount: 100, Description: strings.Repeat("é", 500)}, "", ""},
		{"description 501", "topup", `{"amount": 1, "description": "` + strings.Repeat("x", 501) + `"}`, command{}, failure.Invalid, "body.description"},
		{"transfer", "transfer", `{"amount": 2, "recipientId": "` + bob + `"}`, command{Type: "transfer", UserID: alice, RecipientID: bob, Amount: 200}, "", ""},
		{"no recipient", "transfer", `{"amount": 2}`, command{}, failure.Invalid, "body.recipientId"},
		{"bad recipient", "transfer", `{"amount": 2, "recipientId": "bob"}`, command{}, failure.Invalid, "body.recipientId"},
		{"upper-case hex recipient", "transfer", `{"amount": 2, "recipientId": "BBBBBBBBBBBBBBBBBBBBBBBB"}`, command{Type: "transfer", UserID: alice, RecipientID: bob, Amount: 200}, "", ""},
		{"self in upper case", "transfer", `{"amount": 2, "recipientId": "AAAAAAAAAAAAAAAAAAAAAAAA"}`, command{}, SelfTransfer, ""},
		{"self", "transfer", `{"amount": 2, "recipientId": "` + alice + `"}`, command{}, SelfTransfer, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// As the handlers do: decoded (which checks the tags), then validated.
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			var got command
			var err error
			if tt.kind == "topup" {
				var r TopupRequest
				if err = httpx.Decode(req, &r); err == nil {
					got, err = r.validate(alice)
				}
			} else {
				var r TransferRequest
				if err = httpx.Decode(req, &r); err == nil {
					got, err = r.validate(alice)
				}
			}
			if tt.code == "" {
				if err != nil || got != tt.want {
					t.Fatalf("validate = %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			if !failure.Is(err, tt.code) {
				t.Fatalf("validate error = %v, want kind %s", err, tt.code)
			}
			if tt.field != "" {
				var fe *failure.Error
				if !errors.As(err, &fe) || len(fe.Fields) == 0 || fe.Fields[0].Field != tt.field {
					t.Fatalf("validate error %v does not name %s", err, tt.field)
				}
			}
		})
	}
}

func TestRequestHash(t *testing.T) {
	const topup, transfer = "/api/v1/transactions/topup", "/api/v1/transactions/transfer"
	base := command{Type: "topup", UserID: alice, Amount: 1050}
	h := requestHash(http.MethodPost, topup, base)
	if len(h) != 64 {
		t.Fatalf("hash %q is not hex SHA-256", h)
	}
	// The same request, however its JSON was written, hashes alike.
	var a, b TopupRequest
	_ = json.Unmarshal([]byte(`{"amount": 10.5}`), &a)
	_ = json.Unmarshal([]byte(`{"amount":"10.50"}`), &b)
	ca, _ := a.validate(alice)
	cb, _ := b.validate(alice)
	if requestHash("POST", topup, ca) != h || requestHash("POST", topup, cb) != h {
		t.Error("10.5 and \"10.50\" must hash as the same request")
	}
	// The caller is not part of the hash: records are scoped per user by their _id.
	other := base
	other.UserID = bob
	if requestHash("POST", topup, other) != h {
		t.Error("the hash must not depend on the caller")
	}
	differs := map[string]string{
		"amount":      requestHash("POST", topup, command{Type: "topup", Amount: 1051}),
		"description": requestHash("POST", topup, command{Type: "topup", Amount: 1050, Description: "x"}),
		"path":        requestHash("POST", transfer, base),
		"method":      requestHash("PUT", topup, base),
		"recipient":   requestHash("POST", topup, command{Type: "topup", Amount: 1050, RecipientID: bob}),
	}
	for what, got := range differs {
		if got == h {
			t.Errorf("another %s must change the hash", what)
		}
	}
}

func TestIdempotencyKeyParam(t *testing.T) {
	check := idempotencyParam.Check()
	for _, k := range []string{"a", "0b6f3c9e-1d2a-4e5b-8c7d-9f0a1b2c3d4e", strings.Repeat("k", 255), "with space ~!"} {
		if msg := check([]string{k}); msg != "" {
			t.Errorf("key %q: %s, want it accepted", k, msg)
		}
	}
	for _, k := range [][]string{{""}, {strings.Repeat("k", 256)}, {"tab\there"}, {"é"}, {"nul\x00"}, {"a", "b"}} {
		if msg := check(k); msg == "" {
			t.Errorf("key %q accepted, want it refused", k)
		}
	}
	if msg := check(nil); msg != "" {
		t.Errorf("no key: %s; a key is optional", msg)
	}
}

func TestListFilterParams(t *testing.T) {
	checks := map[string]openapi.ParamCheck{}
	for _, p := range listParams {
		checks[p.Name] = p.Check()
	}
	good := []ListFilter{{}, {Type: "topup"}, {Type: "transfer", Status: "failed", Direction: "received"}, {Status: "pending", Direction: "sent"}}
	bad := []ListFilter{{Type: "TOPUP"}, {Status: "done"}, {Direction: "both"}, {Type: "x", Status: "y"}}
	refused := func(f ListFilter) bool {
		for name, v := range map[string]string{"type": f.Type, "status": f.Status, "direction": f.Direction} {
			if v != "" && checks[name]([]string{v}) != "" {
				return true
			}
		}
		return false
	}
	for _, f := range good {
		if refused(f) {
			t.Errorf("%+v refused", f)
		}
	}
	for _, f := range bad {
		if !refused(f) {
			t.Errorf("%+v accepted", f)
		}
	}
}

func TestRedriveBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 30 * time.Second}, {1, time.Minute}, {2, 2 * time.Minute}, {4, 8 * time.Minute},
		{5, maxRedriveBackoff}, {100, maxRedriveBackoff},
	}
	for _, tt := range tests {
		if got := redriveBackoff(30*time.Second, tt.n); got != tt.want {
			t.Errorf("redriveBackoff(30s, %d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestMoveTo(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := created.Add(time.Minute)
	earlier := created.Add(time.Second)
	base := txDoc{Type: contract.TypeTransfer, UserID: "a", RecipientID: "b", Amount: 5, Currency: "USD",
		CreatedAt: created, UpdatedAt: earlier, DrivenAt: earlier, Redrives: 3}
	in := func(status string) txDoc { d := base; d.Status = status; return d }
	tests := []struct {
		from, to, reason string
		ok               bool
		completed        bool
		wantReason       string
	}{
		{contract.StatusPending, contract.StatusProcessing, "", true, false, ""},
		{contract.StatusPending, contract.StatusCompleted, "", true, true, ""}, // the wallet's answer may come first
		{contract.StatusPending, contract.StatusFailed, contract.ReasonInsufficientFunds, true, false, contract.ReasonInsufficientFunds},
		{contract.StatusProcessing, contract.StatusCompleted, "", true, true, ""},
		{contract.StatusProcessing, contract.StatusFailed, contract.ReasonInsufficientFunds, true, false, contract.ReasonInsufficientFunds},
		{contract.StatusProcessing, contract.StatusCompleted, "ignored", true, true, ""}, // only a failure has a reason
		{contract.StatusProcessing, contract.StatusPending, "", false, false, ""},
		{contract.StatusProcessing, contract.StatusProcessing, "", false, false, ""},
		{contract.StatusCompleted, contract.StatusFailed, "x", false, false, ""},
		{contract.StatusFailed, contract.StatusCompleted, "", false, false, ""},
		{contract.StatusFailed, contract.StatusFailed, "x", false, false, ""},
		{contract.StatusPending, "cancelled", "", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.from+"→"+tt.to, func(t *testing.T) {
			got, err := moveTo(in(tt.from), tt.to, tt.reason, at)
			if !tt.ok {
				if err == nil || got.Status != tt.from {
					t.Fatalf("moved to %q, err %v: want refused", got.Status, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := in(tt.to)
			want.FailureReason, want.UpdatedAt, want.DrivenAt, want.Redrives = tt.wantReason, at, at, 0
			if tt.completed {
				want.CompletedAt = &at
			}
			if got.CompletedAt != nil && want.CompletedAt != nil && got.CompletedAt.Equal(*want.CompletedAt) {
				got.CompletedAt = want.CompletedAt
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("moveTo =\n%+v\nwant\n%+v", got, want)
			}
			set := movedFields(got)
			fields := map[string]bool{}
			for _, e := range set {
				fields[e.Key] = true
			}
			if !fields["status"] || !fields["updatedAt"] || !fields["drivenAt"] || !fields["redrives"] ||
				fields["failureReason"] != (tt.wantReason != "") || fields["completedAt"] != tt.completed {
				t.Errorf("movedFields = %v", set)
			}
		})
	}
}

// A status stream sends the transaction an event carries as it is: it must read exactly as the
// document it came from does through GET /transactions/{id}, after the event's trip through JSON.
func TestEventCarriesTheView(t *testing.T) {
	done := time.Date(2026, 12, 3, 10, 0, 1, 123456789, time.UTC)
	for _, d := range []txDoc{
		{ID: bson.NewObjectID(), Type: contract.TypeTopup, UserID: "u1", Amount: 2510, Currency: "USD", Status: contract.StatusPending,
			CreatedAt: done.Add(-time.Second), UpdatedAt: done.Add(-time.Second)},
		{ID: bson.NewObjectID(), Type: contract.TypeTransfer, UserID: "u1", RecipientID: "u2", Amount: 1005, Currency: "USD",
			Description: "lunch", Status: contract.StatusCompleted, CreatedAt: done.Add(-time.Second), UpdatedAt: done, CompletedAt: &done},
		{ID: bson.NewObjectID(), Type: contract.TypeTransfer, UserID: "u1", RecipientID: "u2", Amount: 10000, Currency: "EUR",
			Status: contract.StatusFailed, FailureReason: contract.ReasonInsufficientFunds, CreatedAt: done.In(time.FixedZone("x", 3600)), UpdatedAt: done},
	} {
		wire, err := json.Marshal(d.data())
		if err != nil {
			t.Fatal(err)
		}
		var carried contract.TransactionData
		if err := json.Unmarshal(wire, &carried); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(d.view())
		got, _ := json.Marshal(fromData(carried))
		if string(got) != string(want) {
			t.Errorf("from the event: %s\nfrom the document: %s", got, want)
		}
	}
}
