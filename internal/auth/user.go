// Package auth is the auth service: sign-up, login, sessions (RS256 JWTs), users and the JWKS other
// services verify tokens with. Routes are in http.go, the rules in service.go and user.go, the queries in
// store.go; the login throttle in throttle.go, device tokens in devices.go, logouts in revocations.go,
// the user search in search.go, the metrics in metrics.go and the composition in module.go.
package auth

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

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
	Email           string  `json:"email" format:"email" maxLength:"254"`
	Password        string  `json:"password" minLength:"8" maxLength:"128"`
	PasswordConfirm *string `json:"passwordConfirm,omitempty" doc:"must equal password when present"`
}

// LoginRequest is the body of POST /auth/login.
type LoginRequest struct {
	Email    string `json:"email" format:"email" maxLength:"254"`
	Password string `json:"password" minLength:"1" maxLength:"128"`
}

// UpdateRequest is the body of PATCH /users/me; absent fields are left as they are, and an empty
// middleName removes it.
type UpdateRequest struct {
	FirstName  *string `json:"firstName,omitempty" minLength:"1" maxLength:"50"`
	MiddleName *string `json:"middleName,omitempty" maxLength:"50"`
	LastName   *string `json:"lastName,omitempty" minLength:"1" maxLength:"50"`
}

const (
	maxNameLen     = 50
	minPasswordLen = 8
	maxPasswordLen = 128
	maxEmailLen    = 254
	maxLocalLen    = 64
	maxLabelLen    = 63
)

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
	checkPassword(&errs, "body.password", r.Password, true)
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
	checkPassword(&errs, "body.password", r.Password, false)
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

// checkName returns name normalised (freetext) and checks it is 1–50 characters of free text (0–50
// when optional).
func checkName(errs *failure.Fields, field, name string, required bool) string {
	name = freetext.Normalize(name)
	n := freetext.Length(name)
	switch {
	case n == 0 && required:
		errs.Add(field, "is required")
	case n > maxNameLen:
		errs.Add(field, "must be at most 50 characters")
	default:
		if msg := freetext.Problem(name); msg != "" {
			errs.Add(field, msg)
		}
	}
	return name
}

// checkPassword bounds a password's length (a sign-up also its minimum) and refuses control
// characters, which no keyboard types. Any other character is the user's choice.
func checkPassword(errs *failure.Fields, field, pw string, signup bool) {
	n := utf8.RuneCountInString(pw)
	switch {
	case n == 0:
		errs.Add(field, "is required")
	case signup && n < minPasswordLen:
		errs.Add(field, "must be at least 8 characters")
	case n > maxPasswordLen:
		errs.Add(field, "must be at most 128 characters")
	case strings.IndexFunc(pw, unicode.IsControl) >= 0:
		errs.Add(field, "must not contain control characters")
	}
}

// canonicalEmail is the one spelling of an address that accounts are keyed by: trimmed, in Unicode
// NFC (so a composed and a decomposed "é" are one account) and lower-cased.
func canonicalEmail(email string) string {
	return norm.NFC.String(strings.ToLower(strings.TrimSpace(email)))
}

// checkEmail returns email canonical if it is a plain address a mail relay can be handed:
// local@domain.tld, no display name, comment or quoting, no IP-literal or numeric domain, at most 254
// bytes.
func checkEmail(errs *failure.Fields, field, email string) string {
	email = canonicalEmail(email)
	if email == "" {
		errs.Add(field, "is required")
		return email
	}
	if len(email) > maxEmailLen {
		errs.Add(field, "must be at most 254 bytes")
		return email
	}
	if !validEmail(email) {
		errs.Add(field, "must be a valid email")
	}
	return email
}

func validEmail(email string) bool {
	if freetext.Problem(email) != "" {
		return false
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return false
	}
	at := strings.LastIndexByte(email, '@')
	local, domain := email[:at], email[at+1:]
	return at >= 1 && len(local) <= maxLocalLen && validDomain(domain)
}

// validDomain accepts a host name of at least two labels — letters (any script), digits and inner
// hyphens — whose last label is not numeric. IP literals ("[127.0.0.1]", "127.0.0.1") are refused:
// mail for them would be relayed to an address of the sender's choosing.
func validDomain(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLen || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.M, r) {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.IndexFunc(tld, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0
}
