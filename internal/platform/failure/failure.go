// Package failure is Mint's one error type: a stable Kind (what class of failure, mapped to an HTTP
// status and a problem code at the edge), an Op (where), a detail safe to show a client, field errors for
// invalid input, and the wrapped cause (never shown to a client).
package failure

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the stable class of a failure. Its string is the problem `code` of CONTRACT.md.
type Kind string

// The kinds of CONTRACT.md.
const (
	Internal             Kind = "internal"
	Invalid              Kind = "validation_failed"
	MalformedJSON        Kind = "malformed_json"
	Unauthenticated      Kind = "unauthenticated"
	Forbidden            Kind = "forbidden"
	NotFound             Kind = "not_found"
	EmailTaken           Kind = "email_taken"
	InvalidCredentials   Kind = "invalid_credentials"
	InsufficientFunds    Kind = "insufficient_funds"
	RecipientNotFound    Kind = "recipient_not_found"
	SelfTransfer         Kind = "self_transfer"
	IdempotencyReused    Kind = "idempotency_key_reused"
	IdempotencyInFlight  Kind = "idempotency_in_progress"
	RateLimited          Kind = "rate_limited"
	PayloadTooLarge      Kind = "payload_too_large"
	UnsupportedMediaType Kind = "unsupported_media_type"
	Unavailable          Kind = "unavailable"
)

// The kinds of the HTTP edge itself: requests refused before any handler runs.
const (
	MethodNotAllowed        Kind = "method_not_allowed"
	MisdirectedRequest      Kind = "misdirected_request"
	MalformedRequest        Kind = "malformed_request"
	HeadersTooLarge         Kind = "request_headers_too_large"
	NotImplemented          Kind = "not_implemented"
	HTTPVersionNotSupported Kind = "http_version_not_supported"
)

// Kinds returns every kind, so the edge's status table and the API document's list of problem codes
// can be checked against one list.
func Kinds() []Kind {
	return []Kind{
		Internal, Invalid, MalformedJSON, Unauthenticated, Forbidden, NotFound, EmailTaken,
		InvalidCredentials, InsufficientFunds, RecipientNotFound, SelfTransfer, IdempotencyReused,
		IdempotencyInFlight, RateLimited, PayloadTooLarge, UnsupportedMediaType, Unavailable,
		MethodNotAllowed, MisdirectedRequest, MalformedRequest, HeadersTooLarge, NotImplemented,
		HTTPVersionNotSupported,
	}
}

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

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
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
