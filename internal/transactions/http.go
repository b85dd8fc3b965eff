package transactions

import (
	"net/http"
	"slices"
	"strings"

	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

// TransactionList is a page of the caller's transactions.
type TransactionList struct {
	Transactions []Transaction `json:"transactions"`
	Total        int64         `json:"total"`
	Limit        int           `json:"limit"`
	Offset       int           `json:"offset"`
}

type handlers struct{ svc *Service }

var (
	idempotencyParam = openapi.Param{Name: IdempotencyHeader, Constraints: `minLength:"1" maxLength:"255" pattern:"^[ -~]*$"`,
		Description: "makes retries safe: the same key with the same body returns the original response; 1–255 printable ASCII characters"}
	replayedHeader = openapi.Param{Name: ReplayedHeader, Type: "", Description: `"true" when the response is a replay`}
	listParams     = slices.Concat(httpx.PageParams, []openapi.Param{
		{Name: "type", Description: "only this type", Constraints: enumTag(validTypes)},
		{Name: "status", Description: "only this status", Constraints: enumTag(validStatuses)},
		{Name: "direction", Description: "only those the caller sent or received", Constraints: enumTag(validDirections)},
	})
)

// enumTag is the constraint that a parameter is one of values.
func enumTag(values []string) string { return `enum:"` + strings.Join(values, ",") + `"` }

func (h *handlers) register(rt *httpx.Router) {
	tags := []string{"transactions"}
	created := []openapi.Response{{Status: 201, Description: "the transaction, pending; a replay carries Idempotency-Replayed",
		Body: Transaction{}, Headers: []openapi.Param{replayedHeader}}}
	rt.Handle(openapi.Operation{Method: "POST", Path: "/api/v1/transactions/topup", ID: "topup", Tags: tags, Auth: true,
		Summary: "Add money to your wallet", Request: TopupRequest{}, Headers: []openapi.Param{idempotencyParam},
		Responses: created, Errors: []int{400, 401, 409, 413, 415, 422}}, h.topup)
	rt.Handle(openapi.Operation{Method: "POST", Path: "/api/v1/transactions/transfer", ID: "transfer", Tags: tags, Auth: true,
		Summary: "Send money to another user", Request: TransferRequest{}, Headers: []openapi.Param{idempotencyParam},
		Responses: created, Errors: []int{400, 401, 404, 409, 413, 415, 422}}, h.transfer)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/transactions", ID: "listTransactions", Tags: tags, Auth: true,
		Summary: "Your transactions, sent and received, newest first", Query: listParams,
		Responses: []openapi.Response{{Status: 200, Description: "a page of transactions", Body: TransactionList{}}},
		Errors:    []int{400, 401}}, h.list)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/transactions/{id}", ID: "getTransaction", Tags: tags, Auth: true,
		Summary:   "One of your transactions",
		Responses: []openapi.Response{{Status: 200, Description: "the transaction", Body: Transaction{}}},
		Errors:    []int{401, 404}}, h.get)
}

// idempotencyKey returns the request's key, "" when the header is absent; the router checked that a
// present one is one valid key (idempotencyParam), so an empty one is an error, not "no key".
func idempotencyKey(r *http.Request) string { return r.Header.Get(IdempotencyHeader) }

func (h *handlers) topup(w http.ResponseWriter, r *http.Request) error {
	var req TopupRequest
	key := idempotencyKey(r)
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.svc.Topup(r.Context(), jwtverify.Caller(r), key, req)
	if err != nil {
		return err
	}
	writeResponse(w, res)
	return nil
}

func (h *handlers) transfer(w http.ResponseWriter, r *http.Request) error {
	var req TransferRequest
	key := idempotencyKey(r)
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	res, err := h.svc.Transfer(r.Context(), jwtverify.Caller(r), key, req)
	if err != nil {
		return err
	}
	writeResponse(w, res)
	return nil
}

// writeResponse writes a creation's stored response byte for byte, so a replay equals the original.
func writeResponse(w http.ResponseWriter, res Response) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if res.Replayed {
		w.Header().Set(ReplayedHeader, "true")
	}
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body)
}

func (h *handlers) list(w http.ResponseWriter, r *http.Request) error {
	page := httpx.ParsePage(r)
	q := r.URL.Query()
	f := ListFilter{Type: q.Get("type"), Status: q.Get("status"), Direction: q.Get("direction")}
	body, err := h.svc.TransactionList(r.Context(), jwtverify.Caller(r), f, page.Limit, page.Offset)
	if err != nil {
		return err
	}
	httpx.WriteEncoded(w, http.StatusOK, body)
	return nil
}

func (h *handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	t, err := h.svc.Transaction(r.Context(), jwtverify.Caller(r), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, t)
	return nil
}
