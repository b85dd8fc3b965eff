// Package auth is the auth service: sign-up, login, sessions (RS256 JWTs), users and the JWKS other
// services verify tokens with. Routes are in http.go, the rules in service.go and user.go, the queries in
// store.go; the login throttle in throttle.go, device tokens in devices.go, logouts in revocations.go,
// the user search in search.go, the metrics in metrics.go and the composition in module.go.
package auth

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/mint-wallet/mint/internal/platform/emailaddr"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/freetext"
)

// User is the public view of an account: no password or hash ever leaves the service.
type User struct {
	ID         string    `json:"id" doc:"24-hex user id"`
	FirstName  string    `json:"firstName"`
	MiddleName string    `json:"middleName,omitempty"`
	LastName   string    `json:"lastName"`
	Email      string    `json:"email" format:"email"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// PublicUser is what any signed-in user may see of another.
type PublicUser struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
}

// SearchUser is a search hit: the public view, plus the email only when the query matched the start
// of it — the caller already knew that much, so searching by name cannot harvest addresses.
type SearchUser struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email,omitempty" doc:"present only when the query matched the start of the email"`
}

// SignupRequest is the body of POST /auth/signup.
type SignupRequest struct {
	FirstName       string  `json:"firstName" minLength:"1" maxLength:"50"`
	MiddleName      *string `json:"middleName,omitempty" maxLength:"50"`
	LastName        string  `json:"lastName" minLength:"1" maxLength:"50"`
	Email           string  `json:"email" format:"email"`
	Password        string  `json:"password" minLength:"8" maxLength:"128" format:"password"`
	PasswordConfirm *string `json:"passwordConfirm,omitempty" doc:"must equal password when present"`
}

// LoginRequest is the body of POST /auth/login.
type LoginRequest struct {
	Email    string `json:"email" format:"email"`
	Password string `json:"password" minLength:"1" maxLength:"128" format:"password"`
}

// UpdateRequest is the body of PATCH /users/me; absent fields are left as they are, and an empty
// middleName removes it.
type UpdateRequest struct {
	FirstName  *string `json:"firstName,omitempty" minLength:"1" maxLength:"50"`
	MiddleName *string `json:"middleName,omitempty" maxLength:"50"`
	LastName   *string `json:"lastName,omitempty" minLength:"1" maxLength:"50"`
}

// The lengths and formats of the request fields are their tags: httpx.Decode checked them
// (openapi.Validate) before any validate below runs, which adds the rules a tag cannot state.

// validSignup is a sign-up that passed validation, normalised.
type validSignup struct {
	FirstName, MiddleName, LastName, Email, Password string
}

func (r SignupRequest) validate() (validSignup, error) {
	var errs failure.Fields
	v := validSignup{
		FirstName: checkName(&errs, "body.firstName", r.FirstName, true),
		LastName:  checkName(&errs, "body.lastName", r.LastName, true),
		Email:     checkEmail(&errs, "body.email", r.Email),
		Password:  r.Password,
	}
	if r.MiddleName != nil {
		v.MiddleName = checkName(&errs, "body.middleName", *r.MiddleName, false)
	}
	checkPassword(&errs, "body.password", r.Password)
	if r.PasswordConfirm != nil && *r.PasswordConfirm != r.Password {
		errs.Add("body.passwordConfirm", "must match password")
	}
	return v, errs.Err()
}

// validate checks a login like a sign-up's fields — before anything is looked up or stored, so an
// unauthenticated caller cannot make the service keep a 60 KB "email" — and returns the canonical
// email.
func (r LoginRequest) validate() (email string, err error) {
	var errs failure.Fields
	email = checkEmail(&errs, "body.email", r.Email)
	checkPassword(&errs, "body.password", r.Password)
	return email, errs.Err()
}

// nameChange is a validated PATCH /users/me.
type nameChange struct {
	FirstName, MiddleName, LastName *string
}

func (r UpdateRequest) validate() (nameChange, error) {
	var errs failure.Fields
	var c nameChange
	if r.FirstName == nil && r.MiddleName == nil && r.LastName == nil {
		errs.Add("body", "must set at least one of firstName, middleName, lastName")
	}
	if r.FirstName != nil {
		s := checkName(&errs, "body.firstName", *r.FirstName, true)
		c.FirstName = &s
	}
	if r.MiddleName != nil {
		s := checkName(&errs, "body.middleName", *r.MiddleName, false)
		c.MiddleName = &s
	}
	if r.LastName != nil {
		s := checkName(&errs, "body.lastName", *r.LastName, true)
		c.LastName = &s
	}
	return c, errs.Err()
}

// checkName returns name normalised (freetext): free text, and not blank when required.
func checkName(errs *failure.Fields, field, name string, required bool) string {
	name = freetext.Normalize(name)
	if name == "" && required {
		errs.Add(field, "is required")
	} else if msg := freetext.Problem(name); msg != "" {
		errs.Add(field, msg)
	}
	return name
}

// checkPassword refuses control characters, which no keyboard types. Any other character is the
// user's choice.
func checkPassword(errs *failure.Fields, field, pw string) {
	if strings.IndexFunc(pw, unicode.IsControl) >= 0 {
		errs.Add(field, "must not contain control characters")
	}
}

// canonicalEmail is the one spelling of an address that accounts are keyed by: trimmed, in Unicode
// NFC (so a composed and a decomposed "é" are one account) and lower-cased.
func canonicalEmail(email string) string {
	return norm.NFC.String(strings.ToLower(strings.TrimSpace(email)))
}

// checkEmail returns email canonical. The address as sent is a valid email (its format tag); lower
// case can change its length, so the canonical one is checked again.
func checkEmail(errs *failure.Fields, field, email string) string {
	email = canonicalEmail(email)
	if !emailaddr.Valid(email) {
		errs.Add(field, "must be a valid email")
	}
	return email
}
