package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mint-wallet/mint/internal/platform/money"
)

// password of every account a run signs up.
const password = "chaos-run-password"

// setup signs up the run's users and funds each wallet with a top-up of its own amount, through the
// gateway, and returns once every top-up is in its wallet.
func (r *run) setup(ctx context.Context) error {
	r.users = make([]account, r.o.Users)
	r.funding = make([]int64, r.o.Users)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	jobs := make(chan int)
	for _, c := range r.clients {
		wg.Go(func() {
			for i := range jobs {
				if err := r.openAccount(ctx, c, i); err != nil {
					fail(err)
				}
			}
		})
	}
	for i := range r.users {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("setup: %w (and %d more)", errs[0], len(errs)-1)
	}
	for _, c := range r.funding {
		r.funded += c
	}
	return nil
}

// openAccount signs up user i, tops up its wallet with an amount of its own and waits until the
// wallet holds it.
func (r *run) openAccount(ctx context.Context, c *client, i int) error {
	email := fmt.Sprintf("chaos-%d-%d@example.com", r.o.Seed, i)
	a := c.retry(ctx, r.errs, func() answer {
		return c.do(ctx, http.MethodPost, r.st.gateway+"/api/v1/auth/signup", "",
			map[string]string{"firstName": "Chaos", "lastName": fmt.Sprintf("User%d", i), "email": email, "password": password}, nil)
	})
	if a.status != http.StatusCreated {
		return fmt.Errorf("sign up %s: %s %s", email, a.kind(), a.body)
	}
	var u struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal(a.body, &u); err != nil || u.ID == "" || u.Token == "" {
		return fmt.Errorf("sign up %s: answer %s", email, a.body)
	}
	acct := account{id: u.ID, token: u.Token, email: email}
	// 20.00 to 59.99: little enough that payers run dry now and then, so that failed transfers,
	// their reversals and their mails are part of every run.
	funding := 2_000 + int64(i*3_701%4_000)
	key := fmt.Sprintf("chaos-%d-topup-%d", r.o.Seed, i)
	body := map[string]string{"amount": fmt.Sprintf("%d.%02d", funding/100, funding%100)}
	for {
		// 404: the transactions service learns of a user from user.signup, a moment after it.
		a = c.retry(ctx, r.errs, func() answer {
			return c.do(ctx, http.MethodPost, r.st.gateway+"/api/v1/transactions/topup", acct.token, body, map[string]string{"Idempotency-Key": key})
		})
		if a.status != http.StatusNotFound {
			break
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	if a.status != http.StatusCreated {
		return fmt.Errorf("top up %s: %s %s", email, a.kind(), a.body)
	}
	for {
		a = c.retry(ctx, r.errs, func() answer {
			return c.do(ctx, http.MethodGet, r.st.gateway+"/api/v1/wallet/user", acct.token, nil, nil)
		})
		var w struct {
			Balance money.Amount `json:"balance"`
		}
		if a.status == http.StatusOK && json.Unmarshal(a.body, &w) == nil && w.Balance.Cents() == funding {
			break
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("top up %s: not in the wallet: %w", email, err)
		}
	}
	r.users[i], r.funding[i] = acct, funding
	return nil
}

// transfer is the j-th transfer of the run: who pays whom how much, drawn from the seed alone, so
// that a replay sends the same transfers in the same order.
func (r *run) transfer(j int) (from, to int, amount string) {
	rng := rand.New(rand.NewPCG(r.o.Seed, uint64(j))) //nolint:gosec // a replayable workload
	n := len(r.users)
	from = rng.IntN(n)
	to = (from + 1 + rng.IntN(n-1)) % n
	// 0.01 to 14.99: some overdraw their payer and fail, as in life.
	return from, to, fmt.Sprintf("%d.%02d", rng.IntN(15), 1+rng.IntN(99))
}

// drive is one client's loop: take the next transfer, send it until it is accepted (retrying with
// the same Idempotency-Key), wait until it settles, and again, until every transfer has been taken.
func (r *run) drive(ctx context.Context, c *client) {
	for ctx.Err() == nil {
		j := int(r.handed.Add(1)) - 1
		if j >= r.o.Transfers {
			return
		}
		if j >= r.o.Transfers*holdFrom/100 {
			r.awaitFaults(ctx)
		}
		from, to, amount := r.transfer(j)
		payer := r.users[from]
		key := fmt.Sprintf("chaos-%d-transfer-%d", r.o.Seed, j)
		body := map[string]string{"recipientId": r.users[to].id, "amount": amount}
		a := c.retry(ctx, r.errs, func() answer {
			return c.do(ctx, http.MethodPost, r.st.gateway+"/api/v1/transactions/transfer", payer.token, body, map[string]string{"Idempotency-Key": key})
		})
		if a.status != http.StatusCreated {
			if ctx.Err() == nil {
				r.violate("transfer %d (%s): never accepted: %s %s", j, key, a.kind(), a.body)
			}
			continue
		}
		var tx txView
		if err := json.Unmarshal(a.body, &tx); err != nil || tx.ID == "" {
			r.violate("transfer %d (%s): answer %s", j, key, a.body)
			continue
		}
		r.keys.record(key, payer.id, j, a.retries > 0, tx.ID)
		r.accepted.Add(1)
		r.settle(ctx, c, payer, tx.ID)
	}
}

// holdFrom is the percentage of the transfers after which the clients wait until every fault has
// begun: the faults run one after the other, each until the stack is whole again, and may fall
// behind the load, but every fault must meet load, and load must follow the last one.
const holdFrom = 90

// awaitFaults returns once every fault of the schedule has begun.
func (r *run) awaitFaults(ctx context.Context) {
	for r.faultsLeft.Load() > 0 && sleep(ctx, 20*time.Millisecond) == nil {
	}
}

// settle waits until transaction id is terminal, as a user watching the app would: its status
// stream says so, or, when the stream missed it (reconnecting after a crash), reading it says so.
// It gives up after settlePatience, leaving the transaction to the final checks: a client does not
// wait for ever.
func (r *run) settle(ctx context.Context, c *client, payer account, id string) {
	start := time.Now()
	if r.outcomes.await(ctx, id, start.Add(2*time.Second)) {
		r.settled.Add(1)
		return
	}
	for time.Since(start) < settlePatience && ctx.Err() == nil {
		a := c.do(ctx, http.MethodGet, r.st.gateway+"/api/v1/transactions/"+id, payer.token, nil, nil)
		var tx txView
		if a.status == http.StatusOK && json.Unmarshal(a.body, &tx) == nil && terminal(tx.Status) {
			r.settled.Add(1)
			return
		}
		if r.outcomes.await(ctx, id, time.Now().Add(time.Second)) {
			r.settled.Add(1)
			return
		}
	}
}

// settlePatience is how long a client waits for one transfer before it sends the next.
const settlePatience = 15 * time.Second

// outcomes hands the terminal state of each transaction, as the status streams announce it, to the
// client waiting for it.
type outcomes struct {
	mu      sync.Mutex
	waiting map[string]chan string // transaction id → its waiting client
	ended   map[string]string      // announced before its client asked (the POST's answer came later)
}

func newOutcomes() *outcomes {
	return &outcomes{waiting: map[string]chan string{}, ended: map[string]string{}}
}

func (w *outcomes) deliver(id, status string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.waiting[id]; ok {
		delete(w.waiting, id)
		ch <- status
		return
	}
	w.ended[id] = status
}

// await reports whether transaction id was announced terminal by deadline.
func (w *outcomes) await(ctx context.Context, id string, deadline time.Time) bool {
	w.mu.Lock()
	if _, ok := w.ended[id]; ok {
		delete(w.ended, id)
		w.mu.Unlock()
		return true
	}
	ch := make(chan string, 1)
	w.waiting[id] = ch
	w.mu.Unlock()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.waiting, id)
	select {
	case <-ch: // delivered meanwhile
		return true
	default:
		return false
	}
}

// keyLog is what the clients learnt of each idempotency key: its payer and every transaction id an
// accepted answer named (one, if the key made one transaction).
type keyLog struct {
	mu   sync.Mutex
	keys map[string]*keyUse
}

type keyUse struct {
	payer   string
	index   int      // the transfer's number in the run
	retried bool     // an attempt before the accepted one met an error
	ids     []string // the transactions its accepted answers named
}

func (k *keyLog) record(key, payer string, index int, retried bool, id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[string]*keyUse{}
	}
	u := k.keys[key]
	if u == nil {
		u = &keyUse{payer: payer, index: index}
		k.keys[key] = u
	}
	u.retried = u.retried || retried
	if !slices.Contains(u.ids, id) {
		u.ids = append(u.ids, id)
	}
}

// counts are occurrences by kind, safe for concurrent use.
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) add(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[kind]++
}

func (c *counts) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, n := range c.n {
		t += n
	}
	return t
}

// String lists the kinds, most frequent first: "502 unavailable 12, no answer 3".
func (c *counts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	kinds := make([]string, 0, len(c.n))
	for k := range c.n {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int {
		if c.n[a] != c.n[b] {
			return c.n[b] - c.n[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, c.n[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// progress counters shared by the clients, the fault schedule and the progress line.
type progress struct {
	handed, accepted, settled atomic.Int64
	faultsLeft                atomic.Int64 // faults of the schedule not yet begun
}
