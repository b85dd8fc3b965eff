package auth_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/auth/password"
)

// BenchmarkLogin is a successful login with the production argon2id parameters, in process (the
// service with its real store on the embedded database, no HTTP): compare its throughput with
// password.BenchmarkVerify to see what a login costs beyond the hash (docs/BENCHMARKS.md). Each
// goroutine signs in to an account of its own: one client's concurrent logins to one account are
// throttled like guesses.
func BenchmarkLogin(b *testing.B) {
	h := newHarness(b, harnessOptions{hash: password.DefaultParams})
	svc := h.mod.Service()
	var accounts []account
	for range 4 * runtime.GOMAXPROCS(0) {
		accounts = append(accounts, h.signup("Bench", "Mark"))
	}
	var next atomic.Int32
	b.SetParallelism(4) // a login waits on the database too: four per core keep the hashing busy
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		a := accounts[int(next.Add(1)-1)%len(accounts)]
		req := auth.LoginRequest{Email: a.email, Password: "password-123"}
		for pb.Next() {
			if _, err := svc.Login(context.Background(), req, auth.Client{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
