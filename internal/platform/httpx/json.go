package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// MaxBodyBytes is the largest request body any route accepts (CONTRACT: 64 KiB).
const MaxBodyBytes = 64 << 10

// Decode reads r's JSON body into v strictly: the content type must be JSON, the body at most
// MaxBodyBytes, one JSON value, no unknown fields, and every field of the right JSON type.
func Decode(r *http.Request, v any) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	body := http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return failure.Newf(failure.PayloadTooLarge, "the request body is larger than %d bytes", MaxBodyBytes)
		}
		return failure.New(failure.MalformedJSON, "the request body must hold exactly one JSON value")
	}
	return nil
}

func requireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return failure.New(failure.UnsupportedMediaType, "the request body must be JSON (Content-Type: application/json)")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return failure.Newf(failure.UnsupportedMediaType, "the request body must be JSON, not %q", ct)
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		fieldErr  *failure.Error
		unmarshal *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &tooLarge):
		return failure.Newf(failure.PayloadTooLarge, "the request body is larger than %d bytes", MaxBodyBytes)
	case errors.Is(err, io.EOF):
		return failure.New(failure.MalformedJSON, "the request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &syntax):
		return failure.New(failure.MalformedJSON, "the request body is not valid JSON")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return failure.InvalidFields(failure.FieldError{Field: "body", Message: "must be a JSON object"})
		}
		return failure.InvalidFields(failure.FieldError{Field: "body." + field, Message: "must be " + jsonKind(typeErr.Type.Kind().String())})
	case errors.As(err, &fieldErr):
		// A field type's UnmarshalJSON rejected its value (e.g. an amount); it names the problem itself.
		return fieldErr
	case errors.As(err, &unmarshal):
		return failure.Wrap("decode", err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return failure.InvalidFields(failure.FieldError{Field: "body." + name, Message: "is not a known field"})
	default:
		return failure.New(failure.MalformedJSON, "the request body is not valid JSON")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	default:
		return "an object"
	}
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Page is a validated limit/offset pair (CONTRACT "Pagination").
type Page struct {
	Limit  int
	Offset int
}

// ParsePage reads limit (1–100, default 20) and offset (≥ 0, default 0) from r's query.
func ParsePage(r *http.Request) (Page, error) {
	p := Page{Limit: 20}
	var errs failure.Fields
	q := r.URL.Query()
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 100 {
			errs.Add("query.limit", "must be an integer from 1 to 100")
		}
		p.Limit = n
	}
	if raw := q.Get("offset"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			errs.Add("query.offset", "must be an integer of 0 or more")
		}
		p.Offset = n
	}
	return p, errs.Err()
}

// PathID returns the path value name, which must be a 24-hex object id; anything else is not found.
func PathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if len(id) != 24 {
		return "", failure.New(failure.NotFound, "no such resource")
	}
	for _, c := range id {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return "", failure.New(failure.NotFound, "no such resource")
		}
	}
	return id, nil
}
