package cli

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/config"
)

// TestSettingsPerProcess: each process gets its defaults, reads its own settings from flags and the
// environment, and derives the rest.
func TestSettingsPerProcess(t *testing.T) {
	tests := []struct {
		name  string
		proc  process
		addr  string
		env   []string // name, value pairs
		args  []string
		check func(t *testing.T, s settings)
	}{
		{"dev defaults", devProcess, "127.0.0.1:8080", nil, nil, func(t *testing.T, s settings) {
			want(t, "HTTPAddr", s.HTTPAddr, "127.0.0.1:8080")
			want(t, "AMQPURL", s.AMQPURL, "") // the in-process bus
			want(t, "Auth.KeysFile", s.Auth.KeysFile, "./mint-data/auth-keys.json")
			want(t, "Auth.TokenLifetime", s.Auth.TokenLifetime, 7*24*time.Hour)
			want(t, "Auth.SecureCookie", s.Auth.SecureCookie, false)
			want(t, "Transactions.StuckAfter", s.Transactions.StuckAfter, 30*time.Second)
			want(t, "Notifications.Currency", s.Notifications.Currency, "USD")
		}},
		{"serve auth defaults", authProcess, ":4001", nil, nil, func(t *testing.T, s settings) {
			want(t, "HTTPAddr", s.HTTPAddr, ":4001")
			want(t, "AMQPURL", s.AMQPURL, "amqp://guest:guest@127.0.0.1:5672/")
			want(t, "Auth.SecureCookie", s.Auth.SecureCookie, true)
			want(t, "Auth.Issuer", s.Auth.Issuer, "mint-auth")
			want(t, "Auth.Throttle.MaxFailures", s.Auth.Throttle.MaxFailures, 5)
		}},
		{"serve auth cookie from the environment", authProcess, ":4001", []string{"MINT_COOKIE_SECURE", "false"}, nil,
			func(t *testing.T, s settings) { want(t, "Auth.SecureCookie", s.Auth.SecureCookie, false) }},
		{"serve wallet verifies tokens", walletProcess, ":4003",
			[]string{"MINT_AUTH_ISSUER", "issuer", "MINT_CURRENCY", "EUR"}, []string{"--auth-audience", "aud", "--wallet-initial-balance", "10.50"},
			func(t *testing.T, s settings) {
				want(t, "Auth.Issuer", s.Auth.Issuer, "issuer")
				want(t, "Auth.Audience", s.Auth.Audience, "aud")
				want(t, "AuthJWKSURL", s.AuthJWKSURL, "http://127.0.0.1:4001/.well-known/jwks.json")
				want(t, "Wallet.Currency", s.Wallet.Currency, "EUR")
				want(t, "Wallet.InitialBalance", s.Wallet.InitialBalance.String(), "10.50")
			}},
		{"serve transactions", transactionsProcess, ":4004", []string{"MINT_TRANSACTIONS_STUCK_AFTER", "3s"}, nil,
			func(t *testing.T, s settings) {
				want(t, "Transactions.StuckAfter", s.Transactions.StuckAfter, 3*time.Second)
				want(t, "Transactions.Currency", s.Transactions.Currency, "USD")
			}},
		{"serve notifications", notificationsProcess, ":4002", nil, []string{"--smtp-url", "smtp://mail:25", "--smtp-insecure-skip-verify"},
			func(t *testing.T, s settings) {
				want(t, "Notifications.SMTPURL", s.Notifications.SMTPURL, "smtp://mail:25")
				want(t, "Notifications.InsecureSkipVerify", s.Notifications.InsecureSkipVerify, true)
			}},
		{"keys file follows the data dir", authProcess, ":4001", nil, []string{"--data-dir", "/var/lib/mint"},
			func(t *testing.T, s settings) {
				want(t, "Auth.KeysFile", s.Auth.KeysFile, "/var/lib/mint/auth-keys.json")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for i := 0; i+1 < len(tt.env); i += 2 {
				t.Setenv(tt.env[i], tt.env[i+1])
			}
			var s settings
			fs := config.New("test")
			s.bind(fs, tt.proc, tt.addr)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := s.resolve(); err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

// TestEveryProcessBindsItsSettingsOnce: no flag is bound twice for a process (flag would panic), and
// every group of settings is read by some process.
func TestEveryProcessBindsItsSettingsOnce(t *testing.T) {
	for _, p := range []process{devProcess, authProcess, walletProcess, transactionsProcess, notificationsProcess} {
		var s settings
		s.bind(config.New("test"), p, ":0") // panics on a flag bound twice
	}
	for i, g := range settingGroups {
		if g.readers == 0 || g.readers&^everyProcess != 0 {
			t.Errorf("setting group %d is read by %b", i, g.readers)
		}
	}
}

func TestFlagMessage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "unknown flag --nope"},
		{[]string{"--nope=1"}, "unknown flag --nope"},
		{[]string{"--count"}, "flag needs an argument: --count"},
		{[]string{"--count=x"}, `invalid value "x" for flag --count: parse error`},
		{[]string{"--count=a for flag -b"}, `invalid value "a for flag -b" for flag --count: parse error`},
		{[]string{"--on=maybe"}, `invalid boolean value "maybe" for --on: parse error`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := config.New("test")
			var n int
			var on bool
			fs.IntVar(&n, "count", 0, "")
			fs.BoolVar(&on, "on", false, "")
			err := fs.Parse(tt.args)
			if err == nil || errors.Is(err, flag.ErrHelp) {
				t.Fatalf("Parse = %v", err)
			}
			if got := flagMessage(err); got != tt.want {
				t.Errorf("flagMessage(%q) = %q, want %q", err, got, tt.want)
			}
		})
	}
	if got := flagMessage(errors.New("something else")); got != "something else" {
		t.Errorf("an unknown message became %q", got)
	}
}

func want[T comparable](t *testing.T, what string, got, wantV T) {
	t.Helper()
	if got != wantV {
		t.Errorf("%s = %v, want %v", what, got, wantV)
	}
}

// clearEnv unsets every MINT_* variable for the test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "MINT_") {
			t.Setenv(name, "")
			if err := os.Unsetenv(name); err != nil {
				t.Fatal(err)
			}
		}
	}
}
