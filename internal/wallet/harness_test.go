package wallet_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/servicetest"
	"github.com/mint-wallet/mint/internal/platform/testenv"
	"github.com/mint-wallet/mint/internal/wallet"
)

// finalizedQueue is the test's own queue on wallet.events, in the test's own vhost.
const finalizedQueue = "test.wallet.finalized"

type harness struct {
	t      testing.TB
	env    *servicetest.Env
	client *servicetest.Client
	mod    *wallet.Module
	bus    bus.Bus
	db     *mongo.Database
	reg    *prometheus.Registry
	cache  cache.Cache

	mu    sync.Mutex
	final []finalized // every wallet.transactionFinalized published, in order
}

type finalized struct {
	msg  bus.Message
	data contract.WalletFinalizedData
}

type harnessOptions struct {
	cfg       wallet.Config
	wrapCache func(cache.Cache) cache.Cache
}

// newHarness serves the wallet service over HTTP against the embedded MongoDB-wire server, the real
// RabbitMQ (an isolated vhost) and a real Redis, wired as `mint serve wallet` wires it, and records
// every wallet.transactionFinalized it publishes. Retries are fast so that redelivery is quick.
func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	env := servicetest.New(t, servicetest.Options{MaxAttempts: 8, RetryBase: 25 * time.Millisecond, WrapCache: o.wrapCache,
		Queues: []bus.Queue{{Name: finalizedQueue, Exchange: contract.WalletEvents, RoutingKey: contract.WalletTxFinalized}}})
	db := env.Database(t, wallet.DatabaseName)
	mod, err := wallet.New(env.Ctx, o.cfg, wallet.Deps{DB: db, Bus: env.Events, Cache: env.Cache, Logger: env.Logger, Registerer: env.Registry})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, env: env, mod: mod, bus: env.Bus, db: db, reg: env.Registry, cache: env.Cache,
		client: env.Serve(t, servicetest.Service{Name: "wallet", Register: mod.Register})}
	env.Run("wallet background work", mod.Run)
	env.Run("watching wallet.events", func(ctx context.Context) error { return env.Bus.Consume(ctx, finalizedQueue, h.record) })
	return h
}

func (h *harness) record(_ context.Context, m bus.Message) error {
	var d contract.WalletFinalizedData
	if _, err := event.Decode(m, &d); err != nil {
		h.t.Errorf("undecodable wallet.transactionFinalized: %v", err)
		return nil
	}
	h.mu.Lock()
	h.final = append(h.final, finalized{msg: m, data: d})
	h.mu.Unlock()
	return nil
}

// finalizedOf returns the wallet.transactionFinalized events of txID received so far.
func (h *harness) finalizedOf(txID string) []finalized {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []finalized
	for _, f := range h.final {
		if f.data.TransactionID == txID {
			out = append(out, f)
		}
	}
	return out
}

// waitFinalized waits for the first wallet.transactionFinalized of txID.
func (h *harness) waitFinalized(txID string) contract.WalletFinalizedData {
	h.t.Helper()
	var got []finalized
	testenv.Eventually(h.t, 10*time.Second, "wallet.transactionFinalized of "+txID, func() bool {
		got = h.finalizedOf(txID)
		return len(got) > 0
	})
	return got[0].data
}

// publish sends an event as its publisher would; the returned message can be published again to
// simulate a redelivery.
func (h *harness) publish(exchange, routingKey string, data any) bus.Message {
	h.t.Helper()
	msg, err := h.env.Publish(context.Background(), exchange, routingKey, data)
	if err != nil {
		h.t.Fatal(err)
	}
	return msg
}

func (h *harness) send(msg bus.Message) {
	h.t.Helper()
	if err := h.bus.Publish(context.Background(), msg); err != nil {
		h.t.Fatalf("publish %s: %v", msg.Type, err)
	}
}

// user is a signed-up user with a session token for the wallet routes.
type user struct {
	id, token string
}

// newUser mints an id and a token, without signing up: signUp publishes user.signup.
func (h *harness) newUser() user {
	h.t.Helper()
	id := bson.NewObjectID().Hex()
	return user{id: id, token: h.env.Token(h.t, id)}
}

func (h *harness) signUp(u user) bus.Message {
	h.t.Helper()
	return h.publish(contract.AuthEvents, contract.UserSignup, contract.UserSignupData{UserID: u.id,
		Email: u.id + "@example.com", FirstName: "Test", LastName: "User", CreatedAt: time.Now()})
}

// signedUp returns a user whose wallet exists.
func (h *harness) signedUp() user {
	h.t.Helper()
	u := h.newUser()
	h.signUp(u)
	testenv.Eventually(h.t, 10*time.Second, "wallet of "+u.id, func() bool {
		return h.get("/api/v1/wallet/user", u.token).Status == http.StatusOK
	})
	return u
}

func (h *harness) processing(p contract.TransactionProcessingData) bus.Message {
	h.t.Helper()
	if p.TransactionID == "" {
		p.TransactionID = bson.NewObjectID().Hex()
	}
	if p.Currency == "" {
		p.Currency = "USD"
	}
	return h.publish(contract.TransactionEvents, contract.TransactionProcessing, p)
}

// topup credits u with cents and waits for the wallet's answer.
func (h *harness) topup(u user, cents int64) contract.WalletFinalizedData {
	h.t.Helper()
	txID := bson.NewObjectID().Hex()
	h.processing(contract.TransactionProcessingData{TransactionID: txID, Type: contract.TypeTopup, UserID: u.id, Amount: cents})
	return h.waitFinalized(txID)
}

// transfer moves cents from one user to another and waits for the wallet's answer.
func (h *harness) transfer(from, to user, cents int64) (string, contract.WalletFinalizedData) {
	h.t.Helper()
	txID := bson.NewObjectID().Hex()
	h.processing(contract.TransactionProcessingData{TransactionID: txID, Type: contract.TypeTransfer, UserID: from.id,
		RecipientID: to.id, Amount: cents})
	return txID, h.waitFinalized(txID)
}

func (h *harness) failed(txID string, p contract.TransactionProcessingData, reason string) bus.Message {
	h.t.Helper()
	return h.publish(contract.TransactionEvents, contract.TransactionFailed, contract.TransactionData{ID: txID, Type: p.Type,
		UserID: p.UserID, RecipientID: p.RecipientID, Amount: p.Amount, Currency: "USD", Status: contract.StatusFailed,
		FailureReason: reason, CreatedAt: time.Now(), UpdatedAt: time.Now()})
}

type response = servicetest.Response

func (h *harness) get(path, token string) response {
	h.t.Helper()
	return h.client.Do(h.t, http.MethodGet, path, nil, token)
}

// walletOf reads u's wallet over HTTP.
func (h *harness) walletOf(u user) wallet.Wallet {
	h.t.Helper()
	res := h.get("/api/v1/wallet/user", u.token)
	if res.Status != http.StatusOK {
		h.t.Fatalf("GET /wallet/user: %d %s", res.Status, res.Body)
	}
	var w wallet.Wallet
	if err := json.Unmarshal(res.Body, &w); err != nil {
		h.t.Fatalf("wallet %s: %v", res.Body, err)
	}
	return w
}

// balanceOf is u's balance in cents, as the API shows it.
func (h *harness) balanceOf(u user) int64 {
	h.t.Helper()
	return h.walletOf(u).Balance.Cents()
}

func (h *harness) historyOf(u user, query string) wallet.History {
	h.t.Helper()
	res := h.get("/api/v1/wallet/history"+query, u.token)
	if res.Status != http.StatusOK {
		h.t.Fatalf("GET /wallet/history%s: %d %s", query, res.Status, res.Body)
	}
	var hist wallet.History
	if err := json.Unmarshal(res.Body, &hist); err != nil {
		h.t.Fatalf("history %s: %v", res.Body, err)
	}
	return hist
}

// counter returns the value of a counter series of the harness's registry (0 when absent).
func (h *harness) counter(name, label, value string) float64 {
	h.t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// expectProblem checks a problem response (servicetest.Response.ExpectProblem).
func expectProblem(t testing.TB, res response, status int, code string) {
	t.Helper()
	res.ExpectProblem(t, status, code, "")
}
