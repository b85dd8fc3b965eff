package money

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// MarshalJSON writes a as a JSON number with exactly two decimals, e.g. 10.50 or -3.00: the exact
// decimal value, never passed through a float.
func (a Amount) MarshalJSON() ([]byte, error) {
	return a.appendDecimal(make([]byte, 0, 24)), nil
}

// UnmarshalJSON reads what MarshalJSON writes — a JSON number of at most two decimals, signed — so
// that clients and tests can read responses back exactly. Without it a response's 10 would decode as
// 10 cents. Request bodies use Requested instead, which also enforces the per-transaction range.
func (a *Amount) UnmarshalJSON(data []byte) error {
	if len(data) == 0 || (data[0] != '-' && !isDigit(data[0])) {
		return invalid(msgJSONType)
	}
	v, msg := parseSigned(string(data))
	if msg != "" {
		return invalid(msg)
	}
	*a = v
	return nil
}

// JSONSchema tells the OpenAPI generator that an Amount is a number of cents precision, not the
// integer its Go kind suggests.
func (Amount) JSONSchema() map[string]any {
	return map[string]any{"type": "number", "multipleOf": 0.01}
}

// Requested is an amount a client asks to move, as a field of a request body:
//
//	var body struct {
//		Amount money.Requested `json:"amount"`
//	}
//
// It decodes from a JSON number or string in the grammar of ParseDecimal and rejects anything else,
// null included, with a failure.Invalid error naming DefaultField. Once decoded, Required returns
// the amount, or says the field was missing.
type Requested struct {
	amount Amount // > 0 once decoded; 0 when the field was absent
}

// UnmarshalJSON parses data's exact text: 10.50 or "10.50". The string form exists for clients
// whose JSON numbers are binary floats; its content follows the same grammar as a number.
func (r *Requested) UnmarshalJSON(data []byte) error {
	var text string
	switch {
	case len(data) == 0:
		return invalid(msgJSONType)
	case data[0] == '"':
		if err := json.Unmarshal(data, &text); err != nil {
			return invalid(msgJSONType)
		}
	case data[0] == '-' || isDigit(data[0]):
		text = string(data)
	default: // null, true, false, an object or an array
		return invalid(msgJSONType)
	}
	a, msg := parseRequested(text)
	if msg != "" {
		return invalid(msg)
	}
	r.amount = a
	return nil
}

// MarshalJSON writes the amount as a JSON number, so that a decoded request can be logged or hashed.
func (r Requested) MarshalJSON() ([]byte, error) { return r.amount.MarshalJSON() }

// Required returns the decoded amount, or a failure.Invalid error naming field when the request did
// not carry one: encoding/json never calls UnmarshalJSON for an absent field.
func (r Requested) Required(field string) (Amount, error) {
	if r.amount <= 0 {
		return 0, failure.InvalidFields(failure.FieldError{Field: field, Message: "is required"})
	}
	return r.amount, nil
}

// maxRequestUnits is MaxTransaction in major units, the bound the API document states.
const maxRequestUnits = int64(MaxTransaction) / centsPerUnit

// requestedPattern is the grammar of ParseDecimal as a JSON Schema pattern, with as many integer digits
// as maxRequestUnits has; the range (0, MaxTransaction] is beyond a regular expression's reach and stated in
// the description.
var requestedPattern = fmt.Sprintf(`^(0|[1-9][0-9]{0,%d})(\.[0-9]{1,2})?$`, len(strconv.FormatInt(maxRequestUnits, 10))-1)

// JSONSchema describes both accepted forms for the OpenAPI generator.
func (Requested) JSONSchema() map[string]any {
	return map[string]any{
		"description": "An amount greater than 0 and at most " + MaxTransaction.String() + ", with at most two decimals.",
		"oneOf": []any{
			map[string]any{"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0, "maximum": maxRequestUnits},
			map[string]any{"type": "string", "pattern": requestedPattern},
		},
		"examples": []any{10.5},
	}
}
