package wallet_test

import (
	"context"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/platform/testenv"
)

// TestRedisPauseNeverLeavesAStaleBalance: a transfer completes while Redis is stalled, so its
// invalidations fail; the very next read once Redis answers again shows the new balances, not the
// ones cached before the stall.
//
// Not parallel: the harness finds its Redis through the environment, and this one is the test's
// own, since it is paused.
func TestRedisPauseNeverLeavesAStaleBalance(t *testing.T) {
	srv := testenv.OwnRedis(t)
	t.Setenv("MINT_TEST_REDIS_URL", srv.URL())
	h := newHarness(t, harnessOptions{})
	alice, bob := h.signedUp(), h.signedUp()
	h.topup(alice, 100_00)
	for _, u := range []user{alice, bob} {
		testenv.Eventually(t, 10*time.Second, "the wallet of "+u.id+" cached", func() bool {
			h.walletOf(u)
			_, err := h.cache.Get(context.Background(), "wallet:wallets:"+u.id)
			return err == nil
		})
	}

	srv.Pause(t)
	// Reads during the stall use up the connections Redis had accepted: what they send runs when it
	// resumes. The invalidations after them go out on fresh connections that never get past their
	// handshake, so they are lost, not merely delayed — as when a whole outage's worth is missed.
	for range 3 {
		if got := h.balanceOf(alice); got != 100_00 {
			t.Fatalf("alice reads %d during the stall, want 10000 from the database", got)
		}
	}
	h.transfer(alice, bob, 1_00)
	srv.Resume(t)

	if got := h.balanceOf(alice); got != 99_00 {
		t.Fatalf("alice's first read after Redis answered again shows %d, want 9900", got)
	}
	if got := h.balanceOf(bob); got != 1_00 {
		t.Fatalf("bob's first read after Redis answered again shows %d, want 100", got)
	}
	if hist := h.historyOf(alice, ""); len(hist.Entries) == 0 || hist.Entries[0].BalanceAfter.Cents() != 99_00 {
		t.Fatalf("alice's history does not end at 99.00: %+v", hist)
	}
}
