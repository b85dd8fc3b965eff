// Package httpx is the HTTP edge every service shares: the router (which also writes the OpenAPI
// document), middleware, strict JSON decoding, and the one place where a failure kind becomes an HTTP
// status and an RFC 9457 problem body.
package httpx

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// Problem is an RFC 9457 problem body with Mint's stable code and field errors.
type Problem struct {
	Type      string               `json:"type"`
	Title     string               `json:"title"`
	Status    int                  `json:"status"`
	Detail    string               `json:"detail,omitempty"`
	Code      failure.Kind         `json:"code"`
	Errors    []failure.FieldError `json:"errors,omitempty"`
	Instance  string               `json:"instance,omitempty"`
	RequestID string               `json:"requestId,omitempty"`
}

type kindInfo struct {
	status int
	title  string
}

var kinds = map[failure.Kind]kindInfo{
	failure.Invalid:              {http.StatusBadRequest, "Validation failed"},
	failure.MalformedJSON:        {http.StatusBadRequest, "Malformed JSON"},
	failure.SelfTransfer:         {http.StatusBadRequest, "Cannot transfer to yourself"},
	failure.Unauthenticated:      {http.StatusUnauthorized, "Authentication required"},
	failure.InvalidCredentials:   {http.StatusUnauthorized, "Invalid credentials"},
	failure.Forbidden:            {http.StatusForbidden, "Forbidden"},
	failure.NotFound:             {http.StatusNotFound, "Not found"},
	failure.RecipientNotFound:    {http.StatusNotFound, "Recipient not found"},
	failure.EmailTaken:           {http.StatusConflict, "Email already registered"},
	failure.InsufficientFunds:    {http.StatusConflict, "Insufficient funds"},
	failure.IdempotencyInFlight:  {http.StatusConflict, "Request with this idempotency key is in progress"},
	failure.PayloadTooLarge:      {http.StatusRequestEntityTooLarge, "Payload too large"},
	failure.UnsupportedMediaType: {http.StatusUnsupportedMediaType, "Unsupported media type"},
	failure.IdempotencyReused:    {http.StatusUnprocessableEntity, "Idempotency key reused with a different request"},
	failure.RateLimited:          {http.StatusTooManyRequests, "Too many requests"},
	failure.Unavailable:          {http.StatusServiceUnavailable, "Service unavailable"},
	failure.Internal:             {http.StatusInternalServerError, "Internal server error"},
}

// StatusOf returns the HTTP status for kind.
func StatusOf(kind failure.Kind) int {
	if k, ok := kinds[kind]; ok {
		return k.status
	}
	return http.StatusInternalServerError
}

// ProblemFor builds the problem body for err. Internal failures never show their cause.
func ProblemFor(r *http.Request, err error) Problem {
	kind := failure.KindOf(err)
	info, ok := kinds[kind]
	if !ok {
		kind, info = failure.Internal, kinds[failure.Internal]
	}
	p := Problem{
		Type:      "urn:mint:problem:" + string(kind),
		Title:     info.title,
		Status:    info.status,
		Code:      kind,
		Instance:  r.URL.Path,
		RequestID: observe.RequestID(r.Context()),
	}
	if kind == failure.Internal {
		p.Detail = "an unexpected error occurred; quote the request id when reporting it"
		return p
	}
	if fe, ok := asFailure(err); ok {
		p.Detail = fe.Detail
		p.Errors = fe.Fields
	}
	return p
}

// WriteError writes err as a problem response and logs it (server errors at error level).
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	p := ProblemFor(r, err)
	if p.Status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path)
	}
	if fe, ok := asFailure(err); ok && fe.RetryAfter > 0 {
		secs := (fe.RetryAfter + time.Second - 1) / time.Second // rounded up: never "0", never early
		w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	WriteProblem(w, p)
}

// WriteProblem writes p as application/problem+json.
func WriteProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func asFailure(err error) (*failure.Error, bool) {
	var fe *failure.Error
	ok := errors.As(err, &fe)
	return fe, ok
}
