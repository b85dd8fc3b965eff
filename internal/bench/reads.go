package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The reads scenario: what people look at most, on a database holding a history. It signs up -users
// users, funds them, sends -seed-transfers transfers of 0.01 between random pairs of them (from -c
// clients, each POST answered before the next, not waited for, and sent from its payer's device),
// waits until the system has settled them (read from /metrics), then measures each read for -duration
// at -c clients, client i reading as user i mod -users:
//
//	list           GET /api/v1/transactions?limit=20
//	list-filtered  GET /api/v1/transactions?limit=20&direction=received&type=transfer
//	history        GET /api/v1/wallet/history?limit=20
//	wallet         GET /api/v1/wallet/user
func runReads(ctx context.Context, dev *devices, o Options) error {
	s, sc, err := fundedUsers(dev, o, "reads")
	if err != nil {
		return err
	}
	users := s.users
	start := time.Now()
	if err := seedTransfers(dev, o, users); err != nil {
		return err
	}
	if _, err := sc.settle(o.SettleTimeout, o.Quiet); err != nil {
		return fmt.Errorf("after seeding: %w", err)
	}
	o.textf("seeded %d users, %d transfers, settled in %s\n", o.Users, o.SeedTransfers, time.Since(start).Round(time.Second))

	reads := []struct{ name, url string }{
		{"list", o.TxBase + "/api/v1/transactions?limit=20"},
		{"list-filtered", o.TxBase + "/api/v1/transactions?limit=20&direction=received&type=transfer"},
		{"history", o.WalletBase + "/api/v1/wallet/history?limit=20"},
		{"wallet", o.WalletBase + "/api/v1/wallet/user"},
	}
	for _, r := range reads {
		do := func(client int) (time.Duration, error) {
			return timed(dev.of(client), http.MethodGet, r.url, nil, users[client%len(users)].token)
		}
		o.runPhase(ctx, "warm-up", o.Warmup, do)
		res := o.runPhase(ctx, "measuring", o.Duration, do)
		ro := o
		ro.Scenario = "reads/" + r.name
		if err := printLatencies(ro, res.latencies, res.tally, fmt.Sprintf(" stored=%d", o.SeedTransfers)); err != nil {
			return err
		}
	}
	return nil
}

// fund tops up every user once, from the device that signed it up, retrying while the transactions
// service has not learnt of the user.
func (s *transferScenario) fund() error {
	body, _ := json.Marshal(map[string]any{"amount": "1000000.00"})
	for i, u := range s.users {
		var err error
		for range 100 {
			if err = send(s.dev.of(i), http.MethodPost, s.o.TxBase+"/api/v1/transactions/topup", body, u.token, http.StatusCreated, nil); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("fund: %w", err)
		}
	}
	return nil
}

// seedTransfers sends o.SeedTransfers transfers of 0.01 between random pairs of users, o.Clients at a
// time; the pairs come from a generator seeded with 1, so every run stores the same history.
func seedTransfers(dev *devices, o Options, users []account) error {
	rng := rand.New(rand.NewPCG(1, 1)) //nolint:gosec // a repeatable workload, not a secret
	type pair struct{ from, to int }
	pairs := make(chan pair, o.SeedTransfers)
	for range o.SeedTransfers {
		from := rng.IntN(len(users))
		to := (from + 1 + rng.IntN(len(users)-1)) % len(users)
		pairs <- pair{from, to}
	}
	close(pairs)
	var (
		wg    sync.WaitGroup
		first atomic.Value
	)
	for range o.Clients {
		wg.Go(func() {
			for p := range pairs {
				body, _ := json.Marshal(map[string]any{"recipientId": users[p.to].id, "amount": "0.01"})
				if err := send(dev.of(p.from), http.MethodPost, o.TxBase+"/api/v1/transactions/transfer", body, users[p.from].token, http.StatusCreated, nil); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// fundedUsers signs up o.Users users (their emails start with prefix; user i from device i), funds
// each and waits until the funding has settled, so that no transfer after it waits for money. It
// returns the transfer scenario over them and the scraper that watched the settling.
func fundedUsers(dev *devices, o Options, prefix string) (*transferScenario, *scraper, error) {
	sc, err := newScraper(o.Metrics, o.Base, o.TxBase)
	if err != nil {
		return nil, nil, err
	}
	users := make([]account, o.Users)
	for i := range users {
		if users[i], err = signup(dev.of(i), o.Base, fmt.Sprintf("%s-%d-%d@example.com", prefix, time.Now().UnixNano(), i)); err != nil {
			return nil, nil, err
		}
	}
	s := &transferScenario{dev: dev, o: o, users: users}
	if err := s.fund(); err != nil {
		return nil, nil, err
	}
	if _, err := sc.settle(o.SettleTimeout, o.Quiet); err != nil {
		return nil, nil, fmt.Errorf("after the funding: %w", err)
	}
	return s, sc, nil
}
