package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// runMixed is what many people using the wallet at once cost: --users funded users, each client
// acting as one of them and cycling through reading its transaction list, its wallet and its history
// and sending 0.01 to another user (the POST only: settling goes on in the background). It prints one
// summary per kind of request, all measured in the same window.
func runMixed(ctx context.Context, dev *devices, o Options) error {
	if o.Users < 2 {
		return fmt.Errorf("mixed needs at least 2 --users, not %d", o.Users)
	}
	s, _, err := fundedUsers(dev, o, "mixed")
	if err != nil {
		return err
	}
	users := s.users
	kinds := []struct {
		name string
		do   func(client, round int) (time.Duration, error)
	}{
		{"list", func(client, _ int) (time.Duration, error) {
			return timed(dev.of(client), http.MethodGet, o.TxBase+"/api/v1/transactions?limit=20", nil, users[client%len(users)].token)
		}},
		{"wallet", func(client, _ int) (time.Duration, error) {
			return timed(dev.of(client), http.MethodGet, o.WalletBase+"/api/v1/wallet/user", nil, users[client%len(users)].token)
		}},
		{"history", func(client, _ int) (time.Duration, error) {
			return timed(dev.of(client), http.MethodGet, o.WalletBase+"/api/v1/wallet/history?limit=20", nil, users[client%len(users)].token)
		}},
		{"transfer", func(client, round int) (time.Duration, error) {
			from := client % len(users)
			to := (from + 1 + round%(len(users)-1)) % len(users)
			body, _ := json.Marshal(map[string]any{"recipientId": users[to].id, "amount": "0.01"})
			t0 := time.Now()
			err := send(dev.of(client), http.MethodPost, o.TxBase+"/api/v1/transactions/transfer", body, users[from].token, http.StatusCreated, nil)
			return time.Since(t0), err
		}},
	}
	var (
		mu        sync.Mutex
		measuring bool
		latencies = make([][]time.Duration, len(kinds))
		failed    = make([]tally, len(kinds))
		rounds    = make([]int, o.Clients)
	)
	do := func(client int) (time.Duration, error) {
		n := rounds[client] // each client's counter is its own goroutine's
		rounds[client]++
		k := n % len(kinds)
		d, err := kinds[k].do(client, n/len(kinds))
		mu.Lock()
		defer mu.Unlock()
		if measuring {
			switch {
			case errors.Is(err, errRateLimited):
				failed[k].limited++
			case err != nil:
				failed[k].failures++
			default:
				latencies[k] = append(latencies[k], d)
			}
		}
		return d, err
	}
	o.runPhase(ctx, "warm-up", o.Warmup, do)
	mu.Lock()
	measuring = true
	mu.Unlock()
	o.runPhase(ctx, "measuring", o.Duration, do)
	for k, kind := range kinds {
		ko := o
		ko.Scenario = "mixed/" + kind.name
		if err := printLatencies(ko, latencies[k], failed[k], fmt.Sprintf(" users=%d", o.Users)); err != nil {
			return err
		}
	}
	return nil
}
