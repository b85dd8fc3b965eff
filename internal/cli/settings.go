package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/auth/password"
	"github.com/mint-wallet/mint/internal/notifications"
	"github.com/mint-wallet/mint/internal/platform/config"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/transactions"
	"github.com/mint-wallet/mint/internal/wallet"
)

// settings are what a user can set for `mint dev` and `mint serve`. README.md lists every one.
type settings struct {
	HTTPAddr      string
	DataDir       string
	MongoURI      string
	AMQPURL       string
	RedisURL      string
	LogLevel      string
	PprofAddr     string
	CORSOrigins   []string
	Currency      string
	AuthJWKSURL   string // where services other than auth fetch the keys that verify sessions
	Auth          auth.Config
	Wallet        wallet.Config
	Transactions  transactions.Config
	Notifications notifications.Config
	// WalletInitialBalance is the decimal text of Wallet.InitialBalance, parsed by resolve.
	WalletInitialBalance string
}

// bind registers the settings on fs; dev chooses the defaults of `mint dev`, otherwise of `mint serve`.
func (s *settings) bind(fs *config.Set, dev bool, defaultAddr string) {
	amqpDefault := "amqp://guest:guest@127.0.0.1:5672/"
	if dev {
		amqpDefault = "" // the in-process bus
	}
	fs.String(&s.HTTPAddr, "http-addr", "MINT_HTTP_ADDR", defaultAddr, "address to listen on")
	fs.String(&s.DataDir, "data-dir", "MINT_DATA_DIR", "./mint-data", "directory for the embedded database and dev keys")
	fs.String(&s.MongoURI, "mongodb-uri", "MINT_MONGODB_URI", "", "MongoDB URI; empty = embedded FerretDB under --data-dir")
	fs.String(&s.AMQPURL, "amqp-url", "MINT_AMQP_URL", amqpDefault, "RabbitMQ URL; empty = in-process bus (dev only)")
	fs.String(&s.RedisURL, "redis-url", "MINT_REDIS_URL", "", "Redis URL; empty = in-process cache")
	fs.String(&s.LogLevel, "log-level", "MINT_LOG_LEVEL", "info", "debug, info, warn or error")
	fs.String(&s.PprofAddr, "pprof-addr", "MINT_PPROF_ADDR", "", "serve Go profiling (/debug/pprof/) on this separate address; off when empty")
	fs.List(&s.CORSOrigins, "cors-origins", "MINT_CORS_ORIGINS", "", "comma-separated origins allowed cross-origin (CORS off when empty)")

	fs.String(&s.Currency, "currency", "MINT_CURRENCY", "USD", "ISO 4217 currency of every amount")
	fs.String(&s.AuthJWKSURL, "auth-jwks-url", "MINT_AUTH_JWKS_URL", "http://127.0.0.1:4001/.well-known/jwks.json",
		"the auth service's JWKS, which services other than auth verify sessions with (serve only)")
	fs.Duration(&s.Transactions.StuckAfter, "transactions-stuck-after", "MINT_TRANSACTIONS_STUCK_AFTER", 30*time.Second,
		"age after which a transaction still pending or processing is driven again")
	fs.String(&s.Notifications.SMTPURL, "smtp-url", "MINT_SMTP_URL", "",
		"SMTP server for mails: smtp://[user:pass@]host[:port] (STARTTLS when offered) or smtps://…; empty in dev = mails are caught and shown at /dev/mail")
	fs.String(&s.Notifications.From, "mail-from", "MINT_MAIL_FROM", notifications.DefaultFrom, "sender of every mail")
	fs.Bool(&s.Notifications.InsecureSkipVerify, "smtp-insecure-skip-verify", "MINT_SMTP_INSECURE_SKIP_VERIFY", false,
		"do not verify the SMTP server's TLS certificate (never in production)")
	fs.String(&s.WalletInitialBalance, "wallet-initial-balance", "MINT_WALLET_INITIAL_BALANCE", "0", "balance of a new wallet, e.g. 10.00")

	a := &s.Auth
	fs.String(&a.KeysFile, "auth-keys-file", "MINT_AUTH_KEYS_FILE", "", "auth signing key set (default <data-dir>/auth-keys.json)")
	fs.String(&a.Issuer, "auth-issuer", "MINT_AUTH_ISSUER", "mint-auth", "JWT iss")
	fs.String(&a.Audience, "auth-audience", "MINT_AUTH_AUDIENCE", "mint", "JWT aud")
	fs.Duration(&a.TokenLifetime, "auth-token-lifetime", "MINT_AUTH_TOKEN_LIFETIME", 7*24*time.Hour, "session token lifetime")
	fs.Uint32(&a.Hash.MemoryKiB, "auth-argon2-memory-kib", "MINT_AUTH_ARGON2_MEMORY_KIB", password.DefaultParams.MemoryKiB, "argon2id memory (KiB)")
	fs.Uint32(&a.Hash.Iterations, "auth-argon2-iterations", "MINT_AUTH_ARGON2_ITERATIONS", password.DefaultParams.Iterations, "argon2id iterations")
	fs.Int(&a.MaxConcurrentHashes, "auth-max-concurrent-hashes", "MINT_AUTH_MAX_CONCURRENT_HASHES", 0, "password hashes running at once (0 = CPUs)")
	fs.Int(&a.Throttle.MaxFailures, "auth-login-max-failures", "MINT_AUTH_LOGIN_MAX_FAILURES", 5, "failed logins per account before 429")
	fs.Duration(&a.Throttle.Window, "auth-login-window", "MINT_AUTH_LOGIN_WINDOW", 15*time.Minute, "window of the failed-login count")
}

func (s *settings) resolve() error {
	if s.Auth.KeysFile == "" {
		s.Auth.KeysFile = s.DataDir + "/auth-keys.json"
	}
	s.Auth.Hash.Parallelism = 1
	s.Wallet.Currency = s.Currency
	s.Transactions.Currency = s.Currency
	s.Notifications.Currency = s.Currency
	if b := strings.TrimSpace(s.WalletInitialBalance); b != "" && b != "0" {
		amount, err := money.ParseDecimal(b)
		if err != nil {
			return fmt.Errorf("MINT_WALLET_INITIAL_BALANCE=%q: want a decimal amount like 10.00", b)
		}
		s.Wallet.InitialBalance = amount
	}
	return nil
}

func printUsage(w io.Writer, fs *config.Set, head string) {
	fmt.Fprint(w, head)
	fs.SetOutput(w)
	fs.PrintDefaults()
}
