package openapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/mint-wallet/mint/internal/platform/openapi"
)

type TopupRequest struct {
	Amount      float64 `json:"amount" exclusiveMinimum:"0" maximum:"1000000" multipleOf:"0.01" example:"10.5"`
	Description string  `json:"description,omitempty" maxLength:"500"`
}

type Transaction struct {
	ID     string `json:"id"`
	Status string `json:"status" enum:"pending,processing,completed,failed"`
}

func Example() {
	doc := openapi.New("Transactions", "1.0.0", "Top-ups and transfers.")
	doc.Tag("transactions", "Moving money.")
	doc.Add(openapi.Operation{
		Method: "POST", Path: "/api/v1/transactions/topup", ID: "topup",
		Summary: "Add money to your wallet", Tags: []string{"transactions"}, Auth: true,
		Headers: []openapi.Param{{Name: "Idempotency-Key", Constraints: `minLength:"1" maxLength:"255"`}},
		Request: TopupRequest{},
		Responses: []openapi.Response{{Status: http.StatusCreated, Body: Transaction{},
			Description: "The transaction, pending."}},
		Errors: []int{400, 409, 413, 415, 422},
	})

	gateway := openapi.Merge("Mint", doc /*, authDoc, walletDoc */)
	mux := http.NewServeMux()
	h := openapi.Handler(gateway)
	mux.Handle("/api-docs", h)
	mux.Handle("/api-docs/", h)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api-docs/openapi.json", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output: 200 application/json; charset=utf-8
}
