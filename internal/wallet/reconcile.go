package wallet

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mint-wallet/mint/internal/platform/money"
)

// Report is the result of Reconcile.
type Report struct {
	Wallets int     // wallets checked
	Entries int     // entries checked
	Healed  int     // wallets whose lagging projection was rolled forward (not a drift)
	Total   int64   // Σ balances, cents
	Drifts  []Drift // every inconsistency found; none means the ledger is sound
}

// OK reports whether no drift was found.
func (r Report) OK() bool { return len(r.Drifts) == 0 }

// Drift is one inconsistency between a wallet and its entries.
type Drift struct {
	WalletID string
	UserID   string
	Problem  string
}

func (d Drift) String() string {
	return fmt.Sprintf("wallet %s (user %s): %s", d.WalletID, d.UserID, d.Problem)
}

// Reconcile audits every wallet against its ledger: seqs contiguous from 1, each entry's balanceAfter
// the running sum of amounts and never negative, and the wallet's balance and version those of its
// last entry (after rolling a lagging projection forward, which is healing, not drift). Entries of no
// wallet are drift too. It reads each collection once and sums in Go: FerretDB's $group silently
// miscounts with more than one accumulator.
func (m *Module) Reconcile(ctx context.Context) (Report, error) { return m.svc.reconcile(ctx) }

func (s *Service) reconcile(ctx context.Context) (Report, error) {
	var rep Report
	// Wallets first: an entry written after this read only looks like a lagging projection, which is
	// rolled forward, never reported.
	cur, err := s.ledger.wallets.Find(ctx, bson.D{})
	if err != nil {
		return rep, fmt.Errorf("reconcile: find wallets: %w", err)
	}
	var wallets []walletDoc
	if err := cur.All(ctx, &wallets); err != nil {
		return rep, fmt.Errorf("reconcile: read wallets: %w", err)
	}
	byID := make(map[bson.ObjectID]walletDoc, len(wallets))
	for _, w := range wallets {
		byID[w.ID] = w
	}
	rep.Wallets = len(wallets)

	ecur, err := s.ledger.entries.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "walletId", Value: 1}, {Key: "seq", Value: 1}}))
	if err != nil {
		return rep, fmt.Errorf("reconcile: find entries: %w", err)
	}
	defer ecur.Close(ctx)
	audits := map[bson.ObjectID]*audit{}
	for ecur.Next(ctx) {
		var e entryDoc
		if err := ecur.Decode(&e); err != nil {
			return rep, fmt.Errorf("reconcile: decode entry: %w", err)
		}
		rep.Entries++
		a := audits[e.WalletID]
		if a == nil {
			a = &audit{}
			audits[e.WalletID] = a
		}
		a.add(e)
	}
	if err := ecur.Err(); err != nil {
		return rep, fmt.Errorf("reconcile: read entries: %w", err)
	}

	for id, a := range audits {
		if _, ok := byID[id]; !ok {
			rep.Drifts = append(rep.Drifts, Drift{WalletID: id.Hex(), Problem: fmt.Sprintf("%d entries of no wallet", a.count)})
		}
	}
	for _, w := range wallets {
		a := audits[w.ID]
		if a == nil {
			a = &audit{}
		}
		if a.lastSeq > w.Version && len(a.problems) == 0 {
			healed, moved, err := s.ledger.rollForward(ctx, w)
			if err != nil {
				return rep, fmt.Errorf("reconcile: %w", err)
			}
			if moved {
				rep.Healed++
				s.invalidate(ctx, w.UserID)
				w = healed
			}
		}
		for _, p := range a.check(w) {
			rep.Drifts = append(rep.Drifts, Drift{WalletID: w.ID.Hex(), UserID: w.UserID, Problem: p})
		}
		if rep.Total, err = addCents(rep.Total, w.Balance); err != nil {
			return rep, fmt.Errorf("reconcile: Σ balances: %w", err)
		}
	}
	return rep, nil
}

// audit accumulates one wallet's entries in seq order.
type audit struct {
	count     int
	lastSeq   int64
	sum       money.Amount // Σ amounts
	lastAfter money.Amount // balanceAfter of the last entry
	problems  []string
}

func (a *audit) add(e entryDoc) {
	a.count++
	if e.Seq != a.lastSeq+1 {
		a.problems = append(a.problems, fmt.Sprintf("seq %d follows %d", e.Seq, a.lastSeq))
	}
	a.lastSeq = e.Seq
	amount, after := money.FromCents(e.Amount), money.FromCents(e.BalanceAfter)
	sum, err := a.sum.Add(amount)
	if err != nil {
		a.problems = append(a.problems, fmt.Sprintf("entry %d: %v", e.Seq, err))
	}
	a.sum = sum
	// Each link on its own (previous balanceAfter + amount), so one broken entry is reported once.
	if want, err := a.lastAfter.Add(amount); err != nil || after != want {
		a.problems = append(a.problems, fmt.Sprintf("entry %d: balanceAfter %s, previous %s + amount %s", e.Seq, after, a.lastAfter, amount))
	}
	a.lastAfter = after
	if after < 0 {
		a.problems = append(a.problems, fmt.Sprintf("entry %d: negative balanceAfter %s", e.Seq, after))
	}
}

// check returns the problems of w against its audited entries.
func (a *audit) check(w walletDoc) []string {
	problems := a.problems
	balance := money.FromCents(w.Balance)
	if balance != a.sum {
		problems = append(problems, fmt.Sprintf("balance %s, Σ entries %s", balance, a.sum))
	}
	if w.Version != a.lastSeq {
		problems = append(problems, fmt.Sprintf("version %d, last entry %d", w.Version, a.lastSeq))
	}
	if balance < 0 {
		problems = append(problems, "negative balance "+balance.String())
	}
	return problems
}

func addCents(total, cents int64) (int64, error) {
	sum, err := money.FromCents(total).Add(money.FromCents(cents))
	return sum.Cents(), err
}
