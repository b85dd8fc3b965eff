package httpx_test

import (
	"context"
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
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
	"github.com/mint-wallet/mint/internal/platform/observe"
)

// Every kind the platform defines, with the status CONTRACT.md "Statuses" gives it; the code is the
// kind's string. The services' own kinds are checked against CONTRACT.md in internal/cli.
var kindStatuses = []struct {
	kind   failure.Kind
	code   string
	status int
}{
	{failure.Invalid, "validation_failed", http.StatusBadRequest},
	{failure.MalformedJSON, "malformed_json", http.StatusBadRequest},
	{failure.Unauthenticated, "unauthenticated", http.StatusUnauthorized},
	{failure.Forbidden, "forbidden", http.StatusForbidden},
	{failure.NotFound, "not_found", http.StatusNotFound},
	{failure.PayloadTooLarge, "payload_too_large", http.StatusRequestEntityTooLarge},
	{failure.UnsupportedMediaType, "unsupported_media_type", http.StatusUnsupportedMediaType},
	{failure.RateLimited, "rate_limited", http.StatusTooManyRequests},
	{failure.Unavailable, "unavailable", http.StatusServiceUnavailable},
	{failure.Internal, "internal", http.StatusInternalServerError},
	{failure.MethodNotAllowed, "method_not_allowed", http.StatusMethodNotAllowed},
	{failure.MisdirectedRequest, "misdirected_request", http.StatusMisdirectedRequest},
	{failure.MalformedRequest, "malformed_request", http.StatusBadRequest},
	{failure.HeadersTooLarge, "request_headers_too_large", http.StatusRequestHeaderFieldsTooLarge},
	{failure.NotImplemented, "not_implemented", http.StatusNotImplemented},
	{failure.HTTPVersionNotSupported, "http_version_not_supported", http.StatusHTTPVersionNotSupported},
}

// wrongPassword is a 401 of a service's own, as auth's invalid_credentials is.
var wrongPassword = failure.Define("test_wrong_password", http.StatusUnauthorized, "Wrong password")

func TestEveryKindHasAStatus(t *testing.T) {
	listed := map[failure.Kind]bool{}
	for _, tt := range kindStatuses {
		listed[tt.kind] = true
	}
	for _, k := range failure.Kinds() {
		if strings.HasPrefix(string(k), "test_") { // this test's own
			continue
		}
		if !listed[k] {
			t.Errorf("kind %q is missing from this test's table", k)
		}
		if k != failure.Internal && httpx.StatusOf(k) == http.StatusInternalServerError {
			t.Errorf("kind %q has no status: it would answer 500", k)
		}
	}
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

// An unavailable dependency is a 503 with a Retry-After, whether the failure says so or an adapter's
// classifier recognised its library's error (failure.Classify).
func TestWriteErrorUnavailableSaysWhenToRetry(t *testing.T) {
	errDatabaseGone := errors.New("server selection timeout")
	failure.Classify(failure.Unavailable, func(err error) bool { return errors.Is(err, errDatabaseGone) })
	for _, err := range []error{failure.New(failure.Unavailable, ""), fmt.Errorf("insert transaction: %w", errDatabaseGone)} {
		w := httptest.NewRecorder()
		httpx.WriteError(w, httptest.NewRequest(http.MethodPost, "/api/v1/transactions/transfer", nil), discardLogger(), err)
		wantProblem(t, w.Code, w.Header(), w.Body.Bytes(), http.StatusServiceUnavailable, "unavailable")
		if got := w.Header().Get("Retry-After"); got != "1" {
			t.Errorf("%v: Retry-After = %q, want 1", err, got)
		}
		if strings.Contains(w.Body.String(), "selection") {
			t.Errorf("%v: the cause leaked into the body: %s", err, w.Body)
		}
	}
}

func TestProblemForWithoutRequestID(t *testing.T) {
	p := httpx.ProblemFor(httptest.NewRequest(http.MethodGet, "/y", nil), failure.New(failure.Forbidden, "no"))
	if p.RequestID != "" || p.Status != http.StatusForbidden || p.Code != failure.Forbidden || p.Detail != "no" {
		t.Errorf("ProblemFor = %+v", p)
	}
}

func TestWriteErrorBearerChallenge(t *testing.T) {
	const (
		plain   = `Bearer realm="mint"`
		refused = `Bearer realm="mint", error="invalid_token"`
	)
	tests := []struct {
		name   string
		kind   failure.Kind
		header map[string]string
		cookie string // value of the session cookie; "" = none
		want   string // WWW-Authenticate; "" = none
	}{
		{name: "no credentials", kind: failure.Unauthenticated, want: plain},
		{name: "refused bearer token", kind: failure.Unauthenticated, header: map[string]string{"Authorization": "Bearer expired.jwt.here"}, want: refused},
		{name: "bearer scheme in any case", kind: failure.Unauthenticated, header: map[string]string{"Authorization": "bearer x"}, want: refused},
		{name: "refused session cookie", kind: failure.Unauthenticated, cookie: "revoked.jwt.here", want: refused},
		{name: "empty bearer token is no token", kind: failure.Unauthenticated, header: map[string]string{"Authorization": "Bearer  "}, want: plain},
		{name: "another scheme is no token", kind: failure.Unauthenticated, header: map[string]string{"Authorization": "Basic dTpw"}, want: plain},
		{name: "empty cookie is no token", kind: failure.Unauthenticated, cookie: "", want: plain},
		{name: "wrong password", kind: wrongPassword, want: plain},
		{name: "wrong password with a stale cookie is still no token's fault", kind: wrongPassword, cookie: "old", want: plain},
		{name: "not a 401", kind: failure.Forbidden, header: map[string]string{"Authorization": "Bearer x"}},
		{name: "not a 401 either", kind: failure.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/users/me", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.cookie != "" {
				// The authenticator's cookie, so the two cannot drift apart.
				r.AddCookie(&http.Cookie{Name: jwtverify.CookieName, Value: tt.cookie})
			}
			w := httptest.NewRecorder()
			httpx.WriteError(w, r, discardLogger(), fmt.Errorf("auth: %w", failure.New(tt.kind, "no")))
			if got := w.Header().Values("WWW-Authenticate"); strings.Join(got, "|") != tt.want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteErrorClientGoneIsNoServerError(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	timedOut, stop := context.WithTimeout(live, -time.Second) // a server-side deadline, the client still waits
	defer stop()
	tests := []struct {
		name       string
		ctx        context.Context
		err        error
		wantStatus int
		wantMsg    string
		wantLevel  string
	}{
		{"database call cancelled with the request", canceled, failure.Wrap("store.find", fmt.Errorf("find: %w", context.Canceled)),
			httpx.StatusClientClosedRequest, "client closed the request", "INFO"},
		{"a real fault after the client left is still a fault", canceled, failure.Wrap("store.find", errors.New("disk full")),
			http.StatusInternalServerError, "request failed", "ERROR"},
		{"a server-side timeout is a fault", live, failure.Wrap("store.find", timedOut.Err()),
			http.StatusInternalServerError, "request failed", "ERROR"},
		{"a cancellation while the client waits is a fault", live, failure.Wrap("store.find", context.Canceled),
			http.StatusInternalServerError, "request failed", "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			logger := observe.NewLogger(&logs, "test", slog.LevelInfo)
			r := httptest.NewRequest(http.MethodGet, "/api/v1/users/search", nil).WithContext(tt.ctx)
			w := httptest.NewRecorder()
			httpx.WriteError(w, r, logger, tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if rec := findRecord(t, logs.String(), tt.wantMsg); rec["level"] != tt.wantLevel {
				t.Errorf("log = %v, want level %s", rec, tt.wantLevel)
			}
			if tt.wantStatus == httpx.StatusClientClosedRequest && strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Errorf("a client leaving is logged as an error:\n%s", logs.String())
			}
		})
	}
}
