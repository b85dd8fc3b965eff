package jwtverify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/failure"
)

// FuzzVerify feeds Verify arbitrary input: it must never panic, and must
// answer with claims or with an Unauthenticated *failure.Error.
func FuzzVerify(f *testing.F) {
	tok := good(f)
	parts := strings.Split(tok, ".")
	f.Add(tok)
	f.Add("")
	f.Add("a.b.c")
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(compact(f, map[string]any{"alg": "none"}, validClaims(), func([]byte) []byte { return nil }))
	f.Add(b64([]byte(`{"alg":"RS256","kid":"x","crit":["exp"]}`)) + "." + parts[1] + "." + parts[2])
	f.Add(b64([]byte(`{"alg":"RS256","kid":`+strings.Repeat("[", 64)+`}`)) + "." + parts[1] + "." + parts[2])
	f.Add(`{"payload":"e30","signatures":[]}`)

	v := localVerifier(f)
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := v.Verify(t.Context(), raw)
		if err == nil {
			return
		}
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Kind != failure.Unauthenticated {
			t.Fatalf("Verify(%q) = %v, want an Unauthenticated *failure.Error", raw, err)
		}
	})
}
