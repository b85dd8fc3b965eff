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
	"strings"
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

// StatusClientClosedRequest is the status recorded (nginx's convention) for a request whose client
// went away before the answer was ready. It is no server error, and nobody reads the response.
const StatusClientClosedRequest = 499

// StatusOf returns the HTTP status for kind.
func StatusOf(kind failure.Kind) int {
	if status, _, ok := failure.Described(kind); ok {
		return status
	}
	return http.StatusInternalServerError
}

// ProblemFor builds the problem body for err. Internal failures never show their cause.
func ProblemFor(r *http.Request, err error) Problem {
	kind := failure.KindOf(err)
	status, title, ok := failure.Described(kind)
	if !ok {
		kind = failure.Internal
		status, title, _ = failure.Described(kind)
	}
	p := Problem{
		Type:      "urn:mint:problem:" + string(kind),
		Title:     title,
		Status:    status,
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
	if kind == failure.Unavailable && p.Detail == "" {
		p.Detail = "a server this service depends on did not answer; retry later"
	}
	return p
}

// unavailableRetryAfter is the Retry-After of a 503 that gives none of its own: a process restarting
// or a database failing over is back within seconds.
const unavailableRetryAfter = time.Second

// WriteError writes err as a problem response and logs it (server errors at error level). A failure
// caused by the client going away is logged at info and recorded as StatusClientClosedRequest.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	if clientGone(r, err) {
		logger.InfoContext(r.Context(), "client closed the request", "err", err, "method", methodLabel(r.Method), "path", r.URL.Path)
		w.WriteHeader(StatusClientClosedRequest)
		return
	}
	p := ProblemFor(r, err)
	if p.Status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", "err", err, "method", methodLabel(r.Method), "path", r.URL.Path)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", bearerChallenge(r, p.Code))
	}
	retryAfter := time.Duration(0)
	if fe, ok := asFailure(err); ok && fe.RetryAfter > 0 {
		retryAfter = fe.RetryAfter
	} else if p.Code == failure.Unavailable {
		retryAfter = unavailableRetryAfter
	}
	if retryAfter > 0 {
		secs := (retryAfter + time.Second - 1) / time.Second // rounded up: never "0", never early
		w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	WriteProblem(w, p)
}

// clientGone reports whether err is the request's own context ending: the server cancels it when the
// client's connection closes, so the failure is the client's leaving, not a fault of the server.
func clientGone(r *http.Request, err error) bool {
	ctxErr := r.Context().Err()
	return ctxErr != nil && errors.Is(err, ctxErr)
}

// sessionCookie is the session cookie of CONTRACT "Auth" (jwtverify.CookieName; not imported, as
// jwtverify depends on the bus and the cache).
const sessionCookie = "mint_session"

// bearerChallenge is the RFC 6750 challenge of a 401. invalid_token tells a client holding a token
// that this one was refused (expired, revoked, forged), rather than that it must sign in; a wrong
// password at sign-in is no token's fault.
func bearerChallenge(r *http.Request, code failure.Kind) string {
	const challenge = `Bearer realm="mint"`
	if code == failure.Unauthenticated && sentToken(r) {
		return challenge + `, error="invalid_token"`
	}
	return challenge
}

// sentToken reports whether r carries a token the way the authenticator reads one: a Bearer
// Authorization header or the session cookie.
func sentToken(r *http.Request) bool {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) != "" {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && c.Value != ""
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
