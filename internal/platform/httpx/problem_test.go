package httpx_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// Every kind with the status CONTRACT.md "Statuses" gives it; the code is the kind's string.
var kindStatuses = []struct {
	kind   failure.Kind
	code   string
	status int
}{
	{failure.Invalid, "validation_failed", http.StatusBadRequest},
	{failure.MalformedJSON, "malformed_json", http.StatusBadRequest},
	{failure.SelfTransfer, "self_transfer", http.StatusBadRequest},
	{failure.Unauthenticated, "unauthenticated", http.StatusUnauthorized},
	{failure.InvalidCredentials, "invalid_credentials", http.StatusUnauthorized},
	{failure.Forbidden, "forbidden", http.StatusForbidden},
	{failure.NotFound, "not_found", http.StatusNotFound},
	{failure.RecipientNotFound, "recipient_not_found", http.StatusNotFound},
	{failure.EmailTaken, "email_taken", http.StatusConflict},
	{failure.InsufficientFunds, "insufficient_funds", http.StatusConflict},
	{failure.IdempotencyInFlight, "idempotency_in_progress", http.StatusConflict},
	{failure.PayloadTooLarge, "payload_too_large", http.StatusRequestEntityTooLarge},
	{failure.UnsupportedMediaType, "unsupported_media_type", http.StatusUnsupportedMediaType},
	{failure.IdempotencyReused, "idempotency_key_reused", http.StatusUnprocessableEntity},
	{failure.RateLimited, "rate_limited", http.StatusTooManyRequests},
	{failure.Unavailable, "unavailable", http.StatusServiceUnavailable},
	{failure.Internal, "internal", http.StatusInternalServerError},
}

func TestStatusOf(t *testing.T) {
	for _, tt := range kindStatuses {
		if got := httpx.StatusOf(tt.kind); got != tt.status {
			t.Errorf("StatusOf(%s) = %d, want %d", tt.kind, got, tt.status)
		}
	}
	if got := httpx.StatusOf("no_such_kind"); got != http.StatusInternalServerError {
		t.Errorf("StatusOf(unknown) = %d, want 500", got)
	}
}

func TestWriteErrorEveryKind(t *testing.T) {
	for _, tt := range kindStatuses {
		t.Run(tt.code, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/things", nil)
			r = r.WithContext(observe.WithRequestID(r.Context(), "req-1"))
			w := httptest.NewRecorder()
			httpx.WriteError(w, r, discardLogger(), failure.New(tt.kind, "what went wrong"))

			p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), tt.status, tt.code)
			if p.Type != "urn:mint:problem:"+tt.code {
				t.Errorf("type = %q", p.Type)
			}
			if p.Title == "" {
				t.Error("title is empty")
			}
			if p.Instance != "/api/v1/things" {
				t.Errorf("instance = %q, want the request path", p.Instance)
			}
			if p.RequestID != "req-1" {
				t.Errorf("requestId = %q, want req-1", p.RequestID)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			wantDetail := "what went wrong"
			if tt.kind == failure.Internal {
				wantDetail = "an unexpected error occurred; quote the request id when reporting it"
			}
			if p.Detail != wantDetail {
				t.Errorf("detail = %q, want %q", p.Detail, wantDetail)
			}
		})
	}
}

func TestWriteErrorInternalHidesCause(t *testing.T) {
	const secret = "mongo://admin:hunter2@db:27017 connection refused"
	tests := []struct {
		name string
		err  error
	}{
		{"wrapped cause", failure.Wrap("store.find", errors.New(secret))},
		{"plain error", errors.New(secret)},
		{"fmt-wrapped failure", fmt.Errorf("handler: %w", failure.Wrap("op", errors.New(secret)))},
		{"internal with a detail", &failure.Error{Kind: failure.Internal, Detail: secret}},
		{"internal with fields", &failure.Error{Kind: failure.Internal, Fields: []failure.FieldError{{Field: secret, Message: secret}}}},
		{"unknown kind", &failure.Error{Kind: "weird", Detail: secret, Err: errors.New(secret)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			logger := observe.NewLogger(&logs, "test", slog.LevelInfo)
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			r = r.WithContext(observe.WithRequestID(r.Context(), "req-500"))
			w := httptest.NewRecorder()
			httpx.WriteError(w, r, logger, tt.err)

			p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusInternalServerError, "internal")
			if strings.Contains(w.Body.String(), "hunter2") {
				t.Errorf("the 500 body leaks the cause: %s", w.Body)
			}
			if p.RequestID != "req-500" {
				t.Errorf("requestId = %q, want req-500", p.RequestID)
			}
			if len(p.Errors) != 0 {
				t.Errorf("errors = %v, want none", p.Errors)
			}
			// The operator, not the client, sees the cause.
			rec := findRecord(t, logs.String(), "request failed")
			logsCause := strings.Contains(fmt.Sprint(rec["err"]), "hunter2") || !strings.Contains(tt.err.Error(), "hunter2")
			if rec["level"] != "ERROR" || !logsCause || rec["request_id"] != "req-500" {
				t.Errorf("error log = %v, want level ERROR, the cause and the request id", rec)
			}
		})
	}
}

func TestWriteErrorClientErrorsAreNotLoggedAsErrors(t *testing.T) {
	var logs syncBuffer
	logger := observe.NewLogger(&logs, "test", slog.LevelDebug)
	w := httptest.NewRecorder()
	httpx.WriteError(w, httptest.NewRequest(http.MethodGet, "/x", nil), logger, failure.New(failure.NotFound, "no such thing"))
	if w.Code != http.StatusNotFound {
		t.Fatalf("status = %d", w.Code)
	}
	if out := logs.String(); out != "" {
		t.Errorf("a 404 was logged: %s", out)
	}
}

func TestWriteErrorFieldErrors(t *testing.T) {
	var fields failure.Fields
	fields.Add("body.email", "must be a valid email")
	fields.Add("query.limit", "must be an integer from 1 to 100")
	w := httptest.NewRecorder()
	httpx.WriteError(w, httptest.NewRequest(http.MethodPost, "/x", nil), discardLogger(), fmt.Errorf("validate: %w", fields.Err()))

	p := wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusBadRequest, "validation_failed")
	want := []failure.FieldError{
		{Field: "body.email", Message: "must be a valid email"},
		{Field: "query.limit", Message: "must be an integer from 1 to 100"},
	}
	if fmt.Sprint(p.Errors) != fmt.Sprint(want) {
		t.Errorf("errors = %v, want %v", p.Errors, want)
	}
	if !strings.Contains(w.Body.String(), `"field":"body.email"`) {
		t.Errorf("field errors are not encoded as {field, message}: %s", w.Body)
	}
}

func TestWriteErrorRetryAfter(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration
		want  string // "" = no header
	}{
		{"unset", 0, ""},
		{"negative", -time.Second, ""},
		{"whole seconds", 3 * time.Second, "3"},
		{"one second", time.Second, "1"},
		{"fraction rounds up", 1500 * time.Millisecond, "2"},
		{"just over a second rounds up", time.Second + time.Millisecond, "2"},
		{"barely over a second rounds up", time.Second + 100*time.Microsecond, "2"},
		{"under a second is one", 200 * time.Millisecond, "1"},
		{"a few microseconds is one, never zero", 300 * time.Microsecond, "1"},
		{"one nanosecond is one", time.Nanosecond, "1"},
		{"a minute", time.Minute, "60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := &failure.Error{Kind: failure.RateLimited, Detail: "slow down", RetryAfter: tt.after}
			w := httptest.NewRecorder()
			httpx.WriteError(w, httptest.NewRequest(http.MethodPost, "/login", nil), discardLogger(), fmt.Errorf("login: %w", err))
			wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusTooManyRequests, "rate_limited")
			if got := w.Header().Get("Retry-After"); got != tt.want {
				t.Errorf("Retry-After = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProblemForWithoutRequestID(t *testing.T) {
	p := httpx.ProblemFor(httptest.NewRequest(http.MethodGet, "/y", nil), failure.New(failure.Forbidden, "no"))
	if p.RequestID != "" || p.Status != http.StatusForbidden || p.Code != failure.Forbidden || p.Detail != "no" {
		t.Errorf("ProblemFor = %+v", p)
	}
}
