package jwtverify_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/jwtverify"
)

func TestTokenFromRequest(t *testing.T) {
	tests := []struct {
		name   string
		auth   string
		cookie string
		want   string
		ok     bool
	}{
		{name: "neither"},
		{name: "bearer", auth: "Bearer abc", want: "abc", ok: true},
		{name: "bearer, any case", auth: "bearer abc", want: "abc", ok: true},
		{name: "bearer, extra spaces", auth: "Bearer   abc ", want: "abc", ok: true},
		{name: "cookie", cookie: "def", want: "def", ok: true},
		{name: "bearer wins over cookie", auth: "Bearer abc", cookie: "def", want: "abc", ok: true},
		{name: "basic auth is not a token", auth: "Basic dXNlcjpwdw=="},
		{name: "basic auth, cookie used", auth: "Basic dXNlcjpwdw==", cookie: "def", want: "def", ok: true},
		{name: "empty bearer", auth: "Bearer "},
		{name: "scheme only", auth: "Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: jwtverify.CookieName, Value: tt.cookie})
			}
			got, ok := jwtverify.TokenFromRequest(r)
			if got != tt.want || ok != tt.ok {
				t.Errorf("TokenFromRequest = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
