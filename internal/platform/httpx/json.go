package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/objectid"
	"github.com/mint-wallet/mint/internal/platform/openapi"
	"github.com/mint-wallet/mint/internal/platform/strictjson"
)

// MaxBodyBytes is the largest request body any route accepts (CONTRACT: 64 KiB).
const MaxBodyBytes = 64 << 10

// Decode reads r's JSON body into v strictly (strictjson): the content type must be JSON, the body at
// most MaxBodyBytes and exactly one JSON value, with no duplicate, unknown or case-variant member
// names, valid UTF-8, and every field of the right JSON type; then v must meet the constraints its
// type's tags state (openapi.Validate), the ones the API document shows. Field errors name the member
// as body.<path>.
func Decode(r *http.Request, v any) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return failure.Newf(failure.PayloadTooLarge, "the request body is larger than %d bytes", MaxBodyBytes)
	case err != nil:
		return failure.Wrap("read request body", err)
	case len(bytes.TrimSpace(raw)) == 0:
		return failure.New(failure.MalformedJSON, "the request body is empty")
	}
	if err := decodeError(strictjson.Unmarshal(raw, v)); err != nil {
		return err
	}
	if errs := openapi.Validate(v, "body"); len(errs) > 0 {
		return failure.InvalidFields(errs...)
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

// decodeError turns a strictjson error into the problem a client sees.
func decodeError(err error) error {
	var (
		fieldErr *failure.Error
		jsonErr  *strictjson.Error
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fieldErr):
		// A field type's UnmarshalJSON rejected its value (e.g. an amount); it names the problem itself.
		return fieldErr
	case !errors.As(err, &jsonErr):
		return failure.Wrap("decode request body", err)
	case jsonErr.Syntax:
		return failure.New(failure.MalformedJSON, "the request body is not valid JSON")
	case jsonErr.Field == "":
		return failure.InvalidFields(failure.FieldError{Field: "body", Message: jsonErr.Problem})
	default:
		return failure.InvalidFields(failure.FieldError{Field: "body." + jsonErr.Field, Message: jsonErr.Problem})
	}
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// EncodeJSON returns the body WriteJSON would write for v, for a response that is kept and written
// again with WriteEncoded.
func EncodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteEncoded writes body, a JSON document from EncodeJSON, with status.
func WriteEncoded(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body))) // else a body over 2 KB goes out in chunks
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Page is a validated limit/offset pair (CONTRACT "Pagination").
type Page struct {
	Limit  int
	Offset int
}

// PageParams declare limit and offset, the paging of every list: an operation lists them in its
// Query, the router checks them, and ParsePage reads them.
var PageParams = []openapi.Param{
	{Name: "limit", Description: "page size", Type: 0, Constraints: `minimum:"1" maximum:"100" default:"20"`},
	{Name: "offset", Description: "items to skip", Type: 0, Constraints: `minimum:"0" default:"0"`},
}

// ParsePage reads the page of a request to an operation that declares PageParams, whose values the
// router has checked: an absent one is its declared default.
func ParsePage(r *http.Request) Page {
	q := r.URL.Query()
	value := func(p openapi.Param) int {
		v := q.Get(p.Name)
		if v == "" {
			v = reflect.StructTag(p.Constraints).Get("default")
		}
		n, _ := strconv.Atoi(v)
		return n
	}
	return Page{Limit: value(PageParams[0]), Offset: value(PageParams[1])}
}

// PathID returns the path value name, which must be a 24-hex object id; anything else is not found.
func PathID(r *http.Request, name string) (string, error) {
	id := r.PathValue(name)
	if !objectid.Valid(id) {
		return "", failure.New(failure.NotFound, "no such resource")
	}
	return id, nil
}
