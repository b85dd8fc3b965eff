// Package auth is the auth service: sign-up, login, sessions (RS256 JWTs), users and the JWKS other
// services verify tokens with. Routes are in http.go, the rules in service.go and user.go, the queries in
// store.go.
package auth

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mint-wallet/mint/internal/platform/failure"
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

// SearchUser is a search hit: the public view plus the email the caller searched for.
type SearchUser struct {
	ID        string `json:"id"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
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
	Email    string `json:"email" format:"email"`
	Password string `json:"password"`
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
	switch n := utf8.RuneCountInString(r.Password); {
	case n < minPasswordLen:
		errs.Add("body.password", "must be at least 8 characters")
	case n > maxPasswordLen:
		errs.Add("body.password", "must be at most 128 characters")
	}
	if r.PasswordConfirm != nil && *r.PasswordConfirm != r.Password {
		errs.Add("body.passwordConfirm", "must match password")
	}
	return v, errs.Err()
}

func (r LoginRequest) validate() (email string, err error) {
	var errs failure.Fields
	email = normalizeEmail(r.Email)
	if email == "" {
		errs.Add("body.email", "is required")
	}
	if r.Password == "" {
		errs.Add("body.password", "is required")
	}
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

// checkName trims name and checks it is 1–50 printable characters (0–50 when optional).
func checkName(errs *failure.Fields, field, name string, required bool) string {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0 && required:
		errs.Add(field, "is required")
	case n > maxNameLen:
		errs.Add(field, "must be at most 50 characters")
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		errs.Add(field, "must not contain control characters")
	}
	return name
}

func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// checkEmail returns email lower-cased if it is a plain address (local@domain.tld, no display name).
func checkEmail(errs *failure.Fields, field, email string) string {
	email = normalizeEmail(email)
	if email == "" {
		errs.Add(field, "is required")
		return email
	}
	addr, err := mail.ParseAddress(email)
	at := strings.LastIndexByte(email, '@')
	if err != nil || addr.Address != email || len(email) > maxEmailLen || at < 1 ||
		!strings.Contains(email[at+1:], ".") || strings.HasSuffix(email, ".") {
		errs.Add(field, "must be a valid email")
	}
	return email
}
