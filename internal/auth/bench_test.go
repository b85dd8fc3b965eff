package auth_test

import (
	"context"
	"testing"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/auth/password"
)

// BenchmarkLogin is a successful login with the production argon2id parameters, in process (the
// service with its real store on the embedded database, no HTTP): compare its throughput with
// password.BenchmarkVerify to see what a login costs beyond the hash (docs/BENCHMARKS.md).
func BenchmarkLogin(b *testing.B) {
	h := newHarness(b, harnessOptions{hash: password.DefaultParams})
	a := h.signup("Bench", "Mark")
	svc := h.mod.Service()
	req := auth.LoginRequest{Email: a.email, Password: "password-123"}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Login(context.Background(), req, auth.Client{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
