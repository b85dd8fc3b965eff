package cli

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mint-wallet/mint/internal/auth"
	"github.com/mint-wallet/mint/internal/auth/password"
	"github.com/mint-wallet/mint/internal/notifications"
	"github.com/mint-wallet/mint/internal/platform/config"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/mint-wallet/mint/internal/transactions"
	"github.com/mint-wallet/mint/internal/wallet"
)

// settings are what a user can set for `mint dev` and `mint serve`. README.md lists every one.
type settings struct {
	HTTPAddr    string
	DataDir     string
	MongoURI    string
	AMQPURL     string
	RedisURL    string
	LogLevel    string
	PprofAddr   string
	CORSOrigins []string
	// TrustedProxies (CIDRs, parsed by resolve into Edge.TrustedProxies) may name the client in
	// X-Forwarded-For; AllowedHosts are the Host names served (dev: loopback only).
	TrustedProxies []string
	AllowedHosts   []string
	Edge           httpx.EdgeConfig
	Currency       string
	AuthJWKSURL    string // where services other than auth fetch the keys that verify sessions
	Auth           auth.Config
	Wallet         wallet.Config
	Transactions   transactions.Config
	Notifications  notifications.Config
	// ConsumersPerQueue is copied into each service's Config by resolve.
	ConsumersPerQueue int
	// WalletInitialBalance is the decimal text of Wallet.InitialBalance, parsed by resolve.
	WalletInitialBalance string
}

// process is a set of the processes mint runs: mint dev, or one service under mint serve.
type process uint8

const (
	devProcess process = 1 << iota
	authProcess
	walletProcess
	transactionsProcess
	notificationsProcess

	everyProcess = devProcess | authProcess | walletProcess | transactionsProcess | notificationsProcess
)

// serviceProcess is the process of each service `mint serve` runs.
var serviceProcess = map[string]process{
	"auth": authProcess, "wallet": walletProcess, "transactions": transactionsProcess, "notifications": notificationsProcess,
}

// settingGroup is settings read by the same processes.
type settingGroup struct {
	readers process
	bind    func(fs *config.Set, s *settings, p process)
}

// settingGroups are every setting, grouped by the processes that read them: a process binds only its
// own, so its --help lists what it uses and a flag it would ignore is refused. A new setting goes in
// the group of the processes that read it (or a new group).
var settingGroups = []settingGroup{
	{everyProcess, bindCommon},
	{devProcess | walletProcess | transactionsProcess | notificationsProcess, bindMoney},
	{devProcess | walletProcess | transactionsProcess | notificationsProcess, bindConsumers},
	// wallet and transactions verify the auth service's tokens, so they check the same claims.
	{devProcess | authProcess | walletProcess | transactionsProcess, bindTokenClaims},
	{devProcess | walletProcess | transactionsProcess, bindRemoteSessions},
	{devProcess | authProcess, bindAuth},
	{authProcess, bindServeAuth}, // mint dev serves plain HTTP: its cookie is never Secure
	{devProcess | walletProcess, bindWallet},
	{devProcess | transactionsProcess, bindTransactions},
	{devProcess | notificationsProcess, bindNotifications},
}

// bind registers on fs the settings process p reads, with p's defaults; httpAddr is the default of
// --http-addr.
func (s *settings) bind(fs *config.Set, p process, httpAddr string) {
	s.HTTPAddr = httpAddr // bindCommon's default: it differs per service
	for _, g := range settingGroups {
		if g.readers&p != 0 {
			g.bind(fs, s, p)
		}
	}
}

func bindCommon(fs *config.Set, s *settings, p process) {
	amqpDefault := "amqp://guest:guest@127.0.0.1:5672/"
	if p == devProcess {
		amqpDefault = "" // the in-process bus
	}
	fs.String(&s.HTTPAddr, "http-addr", "MINT_HTTP_ADDR", s.HTTPAddr, "address to listen on")
	fs.String(&s.DataDir, "data-dir", "MINT_DATA_DIR", "./mint-data", "directory for the embedded database and dev keys")
	fs.String(&s.MongoURI, "mongodb-uri", "MINT_MONGODB_URI", "", "MongoDB URI; empty = embedded FerretDB under --data-dir")
	fs.String(&s.AMQPURL, "amqp-url", "MINT_AMQP_URL", amqpDefault, "RabbitMQ URL; empty = in-process bus (dev only)")
	fs.String(&s.RedisURL, "redis-url", "MINT_REDIS_URL", "", "Redis URL; empty = in-process cache")
	fs.String(&s.LogLevel, "log-level", "MINT_LOG_LEVEL", "info", "debug, info, warn or error")
	fs.String(&s.PprofAddr, "pprof-addr", "MINT_PPROF_ADDR", "", "serve Go profiling (/debug/pprof/) on this separate address; off when empty")
	fs.List(&s.CORSOrigins, "cors-origins", "MINT_CORS_ORIGINS", "", "comma-separated origins allowed cross-origin (CORS off when empty)")
	fs.List(&s.TrustedProxies, "trusted-proxies", "MINT_TRUSTED_PROXIES", "",
		"comma-separated CIDRs of the gateway: only their X-Forwarded-For/X-Real-IP name the client (none when empty)")
	hosts := ""
	if p == devProcess {
		// A web page on another site can resolve its own name to 127.0.0.1 (DNS rebinding); a
		// laptop's dev server answers only for loopback names.
		hosts = strings.Join(httpx.LoopbackHosts, ",")
	}
	fs.List(&s.AllowedHosts, "allowed-hosts", "MINT_ALLOWED_HOSTS", hosts,
		"comma-separated Host names or IPs answered (localhost covers *.localhost, * any); others get 421; empty = any")
}

func bindMoney(fs *config.Set, s *settings, _ process) {
	fs.String(&s.Currency, "currency", "MINT_CURRENCY", money.DefaultCurrency, "ISO 4217 currency of every amount")
}

func bindConsumers(fs *config.Set, s *settings, _ process) {
	fs.Int(&s.ConsumersPerQueue, "consumers-per-queue", "MINT_CONSUMERS_PER_QUEUE", 4,
		"events handled at once per queue of each service (wallet, transactions, notifications)")
}

func bindTokenClaims(fs *config.Set, s *settings, _ process) {
	fs.String(&s.Auth.Issuer, "auth-issuer", "MINT_AUTH_ISSUER", "mint-auth", "JWT iss")
	fs.String(&s.Auth.Audience, "auth-audience", "MINT_AUTH_AUDIENCE", "mint", "JWT aud")
}

func bindRemoteSessions(fs *config.Set, s *settings, _ process) {
	fs.String(&s.AuthJWKSURL, "auth-jwks-url", "MINT_AUTH_JWKS_URL", "http://127.0.0.1:4001/.well-known/jwks.json",
		"the auth service's JWKS, which services other than auth verify sessions with (serve only)")
}

func bindAuth(fs *config.Set, s *settings, _ process) {
	a := &s.Auth
	fs.String(&a.KeysFile, "auth-keys-file", "MINT_AUTH_KEYS_FILE", "", "auth signing key set (default <data-dir>/auth-keys.json)")
	fs.Duration(&a.TokenLifetime, "auth-token-lifetime", "MINT_AUTH_TOKEN_LIFETIME", 7*24*time.Hour, "session token lifetime")
	fs.Uint32(&a.Hash.MemoryKiB, "auth-argon2-memory-kib", "MINT_AUTH_ARGON2_MEMORY_KIB", password.DefaultParams.MemoryKiB, "argon2id memory (KiB)")
	fs.Uint32(&a.Hash.Iterations, "auth-argon2-iterations", "MINT_AUTH_ARGON2_ITERATIONS", password.DefaultParams.Iterations, "argon2id iterations")
	fs.Int(&a.MaxConcurrentHashes, "auth-max-concurrent-hashes", "MINT_AUTH_MAX_CONCURRENT_HASHES", 0, "password hashes running at once (0 = CPUs)")
	t := &a.Throttle
	fs.Int(&t.MaxFailures, "auth-login-max-failures", "MINT_AUTH_LOGIN_MAX_FAILURES", auth.DefaultLoginMaxFailures,
		"failed logins per client (a recognised device, else an IP) let through at full speed")
	fs.Int(&t.AccountMaxFailures, "auth-login-account-max-failures", "MINT_AUTH_LOGIN_ACCOUNT_MAX_FAILURES", auth.DefaultLoginAccountMaxFailures,
		"failed logins per account, all unrecognised clients together, let through at full speed")
	fs.Duration(&t.Delay, "auth-login-delay", "MINT_AUTH_LOGIN_DELAY", auth.DefaultLoginDelay,
		"wait after the first failed login beyond those; it doubles with each further one")
	fs.Duration(&t.MaxDelay, "auth-login-max-delay", "MINT_AUTH_LOGIN_MAX_DELAY", auth.DefaultLoginMaxDelay, "longest wait between two logins")
	fs.Duration(&t.Window, "auth-login-window", "MINT_AUTH_LOGIN_WINDOW", auth.DefaultLoginWindow,
		"how long after its last attempt a client's failed logins are remembered")
}

func bindServeAuth(fs *config.Set, s *settings, _ process) {
	fs.Bool(&s.Auth.SecureCookie, "cookie-secure", "MINT_COOKIE_SECURE", true, "mark the session cookie Secure (turn off only behind plain HTTP)")
}

func bindWallet(fs *config.Set, s *settings, _ process) {
	fs.String(&s.WalletInitialBalance, "wallet-initial-balance", "MINT_WALLET_INITIAL_BALANCE", "0", "balance of a new wallet, e.g. 10.00")
}

func bindTransactions(fs *config.Set, s *settings, _ process) {
	fs.Duration(&s.Transactions.StuckAfter, "transactions-stuck-after", "MINT_TRANSACTIONS_STUCK_AFTER", 30*time.Second,
		"age after which a transaction still pending or processing is driven again")
}

func bindNotifications(fs *config.Set, s *settings, _ process) {
	n := &s.Notifications
	fs.String(&n.SMTPURL, "smtp-url", "MINT_SMTP_URL", "",
		"SMTP server for mails: smtp://[user:pass@]host[:port] (STARTTLS when offered) or smtps://…; empty in dev = mails are caught and shown at /dev/mail")
	fs.String(&n.From, "mail-from", "MINT_MAIL_FROM", notifications.DefaultFrom, "sender of every mail")
	fs.Bool(&n.InsecureSkipVerify, "smtp-insecure-skip-verify", "MINT_SMTP_INSECURE_SKIP_VERIFY", false,
		"do not verify the SMTP server's TLS certificate (never in production)")
}

// resolve checks the settings and derives what follows from them; its errors name the setting.
func (s *settings) resolve() error {
	if _, err := observe.ParseLevel(s.LogLevel); err != nil {
		return fmt.Errorf("%w (--log-level or MINT_LOG_LEVEL)", err)
	}
	for _, cidr := range s.TrustedProxies {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return fmt.Errorf("trusted proxy %q: want a CIDR like 10.0.0.0/8 or 127.0.0.1/32 (--trusted-proxies or MINT_TRUSTED_PROXIES)", cidr)
		}
		s.Edge.TrustedProxies = append(s.Edge.TrustedProxies, p.Masked())
	}
	s.Edge.AllowedHosts, s.Edge.CORSOrigins = s.AllowedHosts, s.CORSOrigins
	if s.Auth.KeysFile == "" {
		s.Auth.KeysFile = s.DataDir + "/auth-keys.json"
	}
	s.Auth.Hash.Parallelism = 1
	if s.ConsumersPerQueue < 0 { // 0: not read by this process, or the services' default of 1
		return fmt.Errorf("consumers per queue %d: want 1 or more (--consumers-per-queue or MINT_CONSUMERS_PER_QUEUE)", s.ConsumersPerQueue)
	}
	s.Wallet.ConsumersPerQueue, s.Transactions.ConsumersPerQueue, s.Notifications.ConsumersPerQueue =
		s.ConsumersPerQueue, s.ConsumersPerQueue, s.ConsumersPerQueue
	s.Wallet.Currency = s.Currency
	s.Transactions.Currency = s.Currency
	s.Notifications.Currency = s.Currency
	if b := strings.TrimSpace(s.WalletInitialBalance); b != "" && b != "0" {
		amount, err := money.ParseDecimal(b)
		if err != nil {
			return fmt.Errorf("wallet initial balance %q: want a decimal amount like 10.00 (--wallet-initial-balance or MINT_WALLET_INITIAL_BALANCE)", b)
		}
		s.Wallet.InitialBalance = amount
	}
	return nil
}
