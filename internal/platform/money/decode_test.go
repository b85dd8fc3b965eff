package money_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/money"
)

// request is a request body as a handler declares it.
type request struct {
	Amount      money.Requested `json:"amount"`
	Description string          `json:"description,omitempty"`
}

// TestRequestedThroughDecode pins the contract with httpx.Decode: the field error reaches the client
// as it is, and a missing amount is reported by Decode (the member is required), as by Required.
func TestRequestedThroughDecode(t *testing.T) {
	decode := func(body string) (request, error) {
		r := httptest.NewRequest("POST", "/api/v1/transactions/topup", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var req request
		err := httpx.Decode(r, &req)
		return req, err
	}

	_, err := decode(`{"amount": 10.005}`)
	checkField(t, err, money.DefaultField, "must have at most two decimals")
	p := httpx.ProblemFor(httptest.NewRequest("POST", "/", nil), err)
	if p.Status != 400 || p.Code != failure.Invalid || len(p.Errors) != 1 || p.Errors[0].Field != "body.amount" {
		t.Errorf("problem %+v, want a 400 validation_failed naming body.amount", p)
	}

	_, err = decode(`{"description": "no amount"}`)
	checkField(t, err, "body.amount", "is required")
	_, err = money.Requested{}.Required("body.amount")
	checkField(t, err, "body.amount", "is required")

	req, err := decode(`{"amount": 10.50}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := req.Amount.Required("body.amount"); err != nil || got != 1050 {
		t.Errorf("amount %d, %v; want 1050 cents", got, err)
	}
}

func checkField(t *testing.T, err error, field, message string) {
	t.Helper()
	var fe *failure.Error
	if !errors.As(err, &fe) || fe.Kind != failure.Invalid || len(fe.Fields) != 1 ||
		fe.Fields[0] != (failure.FieldError{Field: field, Message: message}) {
		t.Errorf("error %v (%+v), want %s %s", err, fe, field, message)
	}
}

// A handler decodes the body, then asks for the amount by the field's name.
func ExampleRequested() {
	r := httptest.NewRequest("POST", "/api/v1/transactions/topup", strings.NewReader(`{"amount": "10.5"}`))
	r.Header.Set("Content-Type", "application/json")
	var body request
	if err := httpx.Decode(r, &body); err != nil {
		fmt.Println(err)
		return
	}
	amount, err := body.Amount.Required("body.amount")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(amount, amount.Cents())
	// Output: 10.50 1050
}
