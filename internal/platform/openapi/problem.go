package openapi

import (
	"net/http"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

const (
	problemSchemaName  = "Problem"
	problemContentType = "application/problem+json"
)

// problemCodes are the stable problem codes of CONTRACT.md: every failure kind, so the document
// lists exactly the codes the services send.
func problemCodes() []any {
	kinds := failure.Kinds()
	codes := make([]any, len(kinds))
	for i, k := range kinds {
		codes[i] = string(k)
	}
	return codes
}

// problemSchema is the RFC 9457 body every Mint error has. It is written out rather than reflected
// from httpx.Problem because httpx imports this package.
func problemSchema() map[string]any {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	return map[string]any{
		"type":                 "object",
		"description":          "An RFC 9457 problem with Mint's stable code.",
		"required":             []any{"type", "title", "status", "code"},
		"additionalProperties": false,
		"properties": map[string]any{
			"type":      map[string]any{"type": "string", "format": "uri-reference", "description": "Identifies the problem type."},
			"title":     str("Short, human-readable summary of the problem type."),
			"status":    map[string]any{"type": "integer", "minimum": 400, "maximum": 599},
			"detail":    str("What went wrong with this request; safe to show to a user."),
			"code":      map[string]any{"type": "string", "enum": problemCodes(), "description": "Stable, machine-readable code."},
			"instance":  map[string]any{"type": "string", "format": "uri-reference"},
			"requestId": str("The X-Request-Id of the request, to quote when reporting it."),
			"errors": map[string]any{
				"type":        "array",
				"description": "One entry per invalid input when code is validation_failed.",
				"items": map[string]any{
					"type":                 "object",
					"required":             []any{"field", "message"},
					"additionalProperties": false,
					"properties": map[string]any{
						"field":   map[string]any{"type": "string", "examples": []any{"body.email"}},
						"message": map[string]any{"type": "string", "examples": []any{"must be a valid email"}},
					},
				},
			},
		},
	}
}

// problemDescriptions say what each error status means in Mint (CONTRACT.md "Statuses").
var problemDescriptions = map[int]string{
	http.StatusBadRequest:            "Invalid input (validation_failed, malformed_json, self_transfer; also duplicate or case-variant member names).",
	http.StatusUnauthorized:          "Missing, invalid, expired or revoked credentials.",
	http.StatusForbidden:             "Not allowed (forbidden).",
	http.StatusNotFound:              "Not found, also for another user's resource.",
	http.StatusConflict:              "Conflict with the current state (email_taken, idempotency_in_progress).",
	http.StatusRequestEntityTooLarge: "The body is over 64 KiB.",
	http.StatusUnsupportedMediaType:  "The body is not JSON.",
	http.StatusUnprocessableEntity:   "The Idempotency-Key was used before with a different body.",
	http.StatusTooManyRequests:       "Rate limited; retry after the Retry-After header.",
	http.StatusInternalServerError:   "Unexpected error; the body never shows internals.",
	http.StatusServiceUnavailable:    "A dependency is down.",
}

// problemResponse is an error answer with the shared Problem body.
func (d *Document) problemResponse(status int) map[string]any {
	d.component("schemas", problemSchemaName, problemSchema)
	desc, ok := problemDescriptions[status]
	if !ok {
		desc = http.StatusText(status)
	}
	return map[string]any{
		"description": desc,
		"headers":     d.requestIDHeader(),
		"content": map[string]any{
			problemContentType: map[string]any{"schema": map[string]any{"$ref": schemaRef(problemSchemaName)}},
		},
	}
}
