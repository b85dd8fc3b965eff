// Package failure is Mint's one error type: a stable Kind (what class of failure, mapped to an HTTP
// status and a problem code at the edge), an Op (where), a detail safe to show a client, field errors for
// invalid input, and the wrapped cause (never shown to a client).
package failure

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Kind is the stable class of a failure. Its string is the problem `code` of CONTRACT.md. Every kind
// is made by Define, with the HTTP status and title the edge answers it with; a service defines its
// own (auth.EmailTaken, …) beside the code that returns them, so adding one changes nothing here.
type Kind string

type definition struct {
	status int
	title  string
}

var (
	definedMu sync.RWMutex
	defined   = map[Kind]definition{}
	order     []Kind
)

// Define makes the kind code, answered at the HTTP edge with status and title. Call it for a
// package-level var; defining one code twice with another status or title panics, as two meanings for
// one code would be a contract broken at start-up.
func Define(code string, status int, title string) Kind {
	k, d := Kind(code), definition{status: status, title: title}
	if code == "" || status < 400 || status > 599 || title == "" {
		panic(fmt.Sprintf("failure.Define(%q, %d, %q): want a code, a 4xx or 5xx status and a title", code, status, title))
	}
	definedMu.Lock()
	defer definedMu.Unlock()
	if was, ok := defined[k]; ok {
		if was != d {
			panic(fmt.Sprintf("failure kind %q defined twice: %d %q and %d %q", code, was.status, was.title, status, title))
		}
		return k
	}
	defined[k] = d
	order = append(order, k)
	return k
}

// Described returns the HTTP status and title of kind, and false for a kind never defined.
func Described(kind Kind) (status int, title string, ok bool) {
	definedMu.RLock()
	defer definedMu.RUnlock()
	d, ok := defined[kind]
	return d.status, d.title, ok
}

// Kinds returns every defined kind, in the order defined, so the edge and the API document's list of
// problem codes cover one list.
func Kinds() []Kind {
	definedMu.RLock()
	defer definedMu.RUnlock()
	return slices.Clone(order)
}

// The kinds of every service.
var (
	Invalid              = Define("validation_failed", http.StatusBadRequest, "Validation failed")
	MalformedJSON        = Define("malformed_json", http.StatusBadRequest, "Malformed JSON")
	Unauthenticated      = Define("unauthenticated", http.StatusUnauthorized, "Authentication required")
	Forbidden            = Define("forbidden", http.StatusForbidden, "Forbidden")
	NotFound             = Define("not_found", http.StatusNotFound, "Not found")
	PayloadTooLarge      = Define("payload_too_large", http.StatusRequestEntityTooLarge, "Payload too large")
	UnsupportedMediaType = Define("unsupported_media_type", http.StatusUnsupportedMediaType, "Unsupported media type")
	RateLimited          = Define("rate_limited", http.StatusTooManyRequests, "Too many requests")
	Unavailable          = Define("unavailable", http.StatusServiceUnavailable, "Service unavailable")
	Internal             = Define("internal", http.StatusInternalServerError, "Internal server error")
)

// The kinds of the HTTP edge itself: requests refused before any handler runs.
var (
	MethodNotAllowed        = Define("method_not_allowed", http.StatusMethodNotAllowed, "Method not allowed")
	MisdirectedRequest      = Define("misdirected_request", http.StatusMisdirectedRequest, "Misdirected request")
	MalformedRequest        = Define("malformed_request", http.StatusBadRequest, "Malformed request")
	HeadersTooLarge         = Define("request_headers_too_large", http.StatusRequestHeaderFieldsTooLarge, "Request header fields too large")
	NotImplemented          = Define("not_implemented", http.StatusNotImplemented, "Not implemented")
	HTTPVersionNotSupported = Define("http_version_not_supported", http.StatusHTTPVersionNotSupported, "HTTP version not supported")
)

// FieldError names one invalid input, e.g. {Field: "body.email", Message: "must be a valid email"}.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a failure with a kind. Detail is shown to clients; Err is not.
type Error struct {
	Kind   Kind
	Op     string
	Detail string
	Fields []FieldError
	// RetryAfter, when set, tells the client when trying again may succeed (rate limits).
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	msg := string(e.Kind)
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns a failure of kind with a client-facing detail.
func New(kind Kind, detail string) *Error { return &Error{Kind: kind, Detail: detail} }

// Newf is New with a format.
func Newf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an internal failure at op wrapping err; a nil err stays nil.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: Internal, Op: op, Err: err}
}

// InvalidFields returns a validation failure listing every field error.
func InvalidFields(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Detail: "the request is invalid", Fields: fields}
}

// KindOf returns the kind of the first *Error in err's chain; for an error that carries no kind of its
// own (Internal, or none), the kind a classifier gives it (see Classify); else Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		return e.Kind
	}
	if err != nil {
		classifiersMu.RLock()
		defer classifiersMu.RUnlock()
		for _, c := range classifiers {
			if c.match(err) {
				return c.kind
			}
		}
	}
	return Internal
}

type classifier struct {
	kind  Kind
	match func(error) bool
}

var (
	classifiersMu sync.RWMutex
	classifiers   []classifier
)

// Classify gives kind to every error that match recognises and that carries no kind of its own: an
// adapter names the errors of its library that are not the program's fault, e.g. a database that does
// not answer (Unavailable: a 503 the client may retry, a delivery retried rather than dead-lettered),
// which arrive through every store of every service unwrapped.
func Classify(kind Kind, match func(error) bool) {
	classifiersMu.Lock()
	defer classifiersMu.Unlock()
	classifiers = append(classifiers, classifier{kind: kind, match: match})
}

// Is reports whether err carries kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }

// Fields collects field errors while validating input.
type Fields []FieldError

// Add records that field is invalid.
func (f *Fields) Add(field, message string) {
	*f = append(*f, FieldError{Field: field, Message: message})
}

// Err returns a validation failure, or nil when no field was added.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return InvalidFields(f...)
}
