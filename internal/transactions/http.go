package transactions

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mint-wallet/mint/internal/platform/failure"
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

type handlers struct {
	svc     *Service
	changes *changes
}

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
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/transactions/stream", ID: "streamTransactions", Tags: tags, Auth: true,
		Summary: "Your transactions as they change state, as server-sent events",
		Description: "A text/event-stream: an event \"transaction\" carrying the transaction (as GET /transactions/{id} answers it) " +
			"each time one of yours is created or changes state, and a comment every 15 s. " +
			"At most " + strconv.Itoa(MaxStreamsPerUser) + " streams per user on one server (429 beyond). " +
			"A stream that ends is to be opened again, and the list read again: changes in between are not replayed.",
		Responses: []openapi.Response{{Status: 200, Description: "the stream of changes", ContentType: "text/event-stream",
			Body: openapi.Schema{"type": "string"}}},
		Errors: []int{401, 429}}, h.stream)
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

// announced is the transaction a change announces to caller: the one its event carried, or else as
// read now; NotFound when it is not the caller's to see.
func (h *handlers) announced(ctx context.Context, caller string, ch change) (Transaction, error) {
	if ch.tx == nil {
		return h.svc.Transaction(ctx, caller, ch.id)
	}
	if !ch.tx.visibleTo(caller) {
		return Transaction{}, failure.New(failure.NotFound, "no such transaction")
	}
	return *ch.tx, nil
}

// streamHeartbeat is how often an idle status stream sends a comment, so that proxies and the
// client see it alive.
const streamHeartbeat = 15 * time.Second

// stream answers GET /api/v1/transactions/stream: a server-sent event "transaction" (the transaction
// as GET /transactions/{id} answers it) each time one of the caller's transactions changes state,
// until the client leaves. Once the stream is open, nothing is answered as a problem: a failure ends
// it, and the client reconnects.
func (h *handlers) stream(w http.ResponseWriter, r *http.Request) error {
	caller := jwtverify.Caller(r)
	s, closeStream, ok := h.changes.open(caller)
	if !ok {
		err := failure.Newf(failure.RateLimited, "at most %d status streams may be open at once", MaxStreamsPerUser)
		err.RetryAfter = 3 * time.Second
		return err
	}
	defer closeStream()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	send := func(chunk []byte) bool {
		_, err := w.Write(chunk) //nolint:gosec // G705: JSON-encoded events of a text/event-stream, never HTML
		return err == nil && rc.Flush() == nil
	}
	// retry: how long the browser waits before reconnecting to a stream that ended.
	if !send([]byte("retry: 3000\n: open\n\n")) {
		return nil
	}
	heartbeat := time.NewTicker(streamHeartbeat)
	defer heartbeat.Stop()
	sent := map[string]time.Time{} // id → updatedAt last sent: one event per state, however it was heard
	for {
		var chunk []byte
		select {
		case <-r.Context().Done():
			return nil
		case <-s.done:
			return nil
		case <-heartbeat.C:
			chunk = []byte(": keep-alive\n\n")
		case ch := <-s.changes:
			t, err := h.announced(r.Context(), caller, ch)
			switch {
			case failure.Is(err, failure.NotFound):
				continue // not the caller's to see (a transfer, for its recipient, until it completed)
			case err != nil:
				return nil
			case !t.UpdatedAt.After(sent[ch.id]):
				continue // sent already, or older than what was (events may arrive out of order)
			}
			if len(sent) >= streamBacklog {
				clear(sent)
			}
			sent[ch.id] = t.UpdatedAt
			if chunk, err = encodeChange(t); err != nil {
				return nil
			}
		}
		if !send(chunk) {
			return nil
		}
	}
}
