// Package atomicrace is a test workload that races writes on the same documents through several
// clients, each with a pool of several connections, and checks that the server applied every write
// atomically: no $inc lost, no guarded debit or state transition doubled, no counter number handed out
// twice.
//
// The workload is split into shares, one per client; the clients may live in one process or in
// several (each process then runs Run for its share and sends its Result to the one that calls
// Check). The shares meet at a barrier in the database before each phase, so that their writes really
// overlap. Only invariants are checked, never timings.
//
// It depends on the MongoDB driver only, so that mongox's own tests can use it.
package atomicrace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Workload says how large each phase is.
type Workload struct {
	// Shares is the number of clients the workload is split over; each runs one share.
	Shares int
	// Workers is the number of goroutines per share for the $inc, debit and counter phases.
	Workers int
	// Incs is the number of $inc of 1 per worker on one document.
	Incs int
	// Balance is the starting balance debited by the debit phase.
	Balance int64
	// Debits is the number of guarded debits of 1 per worker.
	Debits int
	// Callers is the number of goroutines per share racing the one pending → processing transition.
	Callers int
	// Numbers is the number of counter numbers (findOneAndUpdate $inc, returning the new document)
	// each worker takes.
	Numbers int
}

// Default is the workload for two clients of four connections each: 8 × 500 $inc, 4,000 guarded
// debits of a balance of 2,000, 16 callers of one transition and 2,000 counter numbers.
func Default() Workload {
	return Workload{Shares: 2, Workers: 4, Incs: 500, Balance: 2000, Debits: 500, Callers: 8, Numbers: 250}
}

// Result is what one share saw.
type Result struct {
	Share int `json:"share"`
	// Debited counts the debits that took (the sum of their ModifiedCount).
	Debited int64 `json:"debited"`
	// Transitions counts the callers whose pending → processing update took.
	Transitions int64 `json:"transitions"`
	// Numbers are the counter values the share was handed.
	Numbers []int64 `json:"numbers"`
}

// The documents of the workload, and the prefix of the barrier documents, in one collection.
const (
	counterID = "counter"
	walletID  = "wallet"
	txID      = "tx"
	seqID     = "seq"
	barrierID = "barrier/"
)

// The phases, in the order they run.
const (
	phaseInc        = "inc"
	phaseDebit      = "debit"
	phaseTransition = "transition"
	phaseCounter    = "counter"
)

// pollEvery is how often a share waiting at a barrier looks for the others.
const pollEvery = 5 * time.Millisecond

func id(s string) bson.D { return bson.D{{Key: "_id", Value: s}} }

// Seed writes the documents the workload races on into coll, which must not hold them yet. Call it
// once, before any share runs.
func (w Workload) Seed(ctx context.Context, coll *mongo.Collection) error {
	_, err := coll.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: counterID}, {Key: "n", Value: int64(0)}},
		bson.D{{Key: "_id", Value: walletID}, {Key: "balance", Value: w.Balance}},
		bson.D{{Key: "_id", Value: txID}, {Key: "status", Value: "pending"}},
		bson.D{{Key: "_id", Value: seqID}, {Key: "n", Value: int64(0)}},
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// Run runs share (0 ≤ share < Shares) of every phase on coll and returns what it saw. It returns
// when this share is done; the others may still be running. Every share must be run, each through
// its own client, or Run waits at the first barrier until ctx ends.
func (w Workload) Run(ctx context.Context, coll *mongo.Collection, share int) (Result, error) {
	res := Result{Share: share}
	if share < 0 || share >= w.Shares {
		return res, fmt.Errorf("share %d of %d", share, w.Shares)
	}

	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int64(1)}}}}
	err := w.phase(ctx, coll, phaseInc, share, w.Workers, func(int) error {
		for range w.Incs {
			r, err := coll.UpdateOne(ctx, id(counterID), inc)
			if err != nil {
				return fmt.Errorf("$inc: %w", err)
			}
			if r.ModifiedCount != 1 {
				return fmt.Errorf("$inc of an existing document modified %d documents", r.ModifiedCount)
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}

	var debited atomic.Int64
	guard := bson.D{{Key: "_id", Value: walletID}, {Key: "balance", Value: bson.D{{Key: "$gte", Value: int64(1)}}}}
	debit := bson.D{{Key: "$inc", Value: bson.D{{Key: "balance", Value: int64(-1)}}}}
	err = w.phase(ctx, coll, phaseDebit, share, w.Workers, func(int) error {
		for range w.Debits {
			r, err := coll.UpdateOne(ctx, guard, debit)
			if err != nil {
				return fmt.Errorf("guarded debit: %w", err)
			}
			debited.Add(r.ModifiedCount)
		}
		return nil
	})
	res.Debited = debited.Load()
	if err != nil {
		return res, err
	}

	var transitions atomic.Int64
	pending := bson.D{{Key: "_id", Value: txID}, {Key: "status", Value: "pending"}}
	err = w.phase(ctx, coll, phaseTransition, share, w.Callers, func(caller int) error {
		r, err := coll.UpdateOne(ctx, pending, bson.D{{Key: "$set", Value: bson.D{
			{Key: "status", Value: "processing"}, {Key: "by", Value: fmt.Sprintf("%d/%d", share, caller)}}}})
		if err != nil {
			return fmt.Errorf("guarded transition: %w", err)
		}
		transitions.Add(r.ModifiedCount)
		return nil
	})
	res.Transitions = transitions.Load()
	if err != nil {
		return res, err
	}

	var mu sync.Mutex
	after := options.FindOneAndUpdate().SetReturnDocument(options.After)
	err = w.phase(ctx, coll, phaseCounter, share, w.Workers, func(int) error {
		got := make([]int64, 0, w.Numbers)
		defer func() {
			mu.Lock()
			res.Numbers = append(res.Numbers, got...)
			mu.Unlock()
		}()
		for range w.Numbers {
			var d struct {
				N int64 `bson:"n"`
			}
			if err := coll.FindOneAndUpdate(ctx, id(seqID), inc, after).Decode(&d); err != nil {
				return fmt.Errorf("findOneAndUpdate counter: %w", err)
			}
			got = append(got, d.N)
		}
		return nil
	})
	return res, err
}

// phase waits for every share at the phase's barrier, then runs op on n goroutines at once and
// returns their errors.
func (w Workload) phase(ctx context.Context, coll *mongo.Collection, name string, share, n int, op func(i int) error) error {
	if err := w.barrier(ctx, coll, name, share); err != nil {
		return err
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = op(i)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("share %d, phase %s: %w", share, name, err)
	}
	return nil
}

// barrier records that share has reached phase and waits until every share has. Each share inserts
// a document of its own rather than incrementing a shared count: a unique insert is atomic on every
// server, so the barrier holds even on a server whose updates are not.
func (w Workload) barrier(ctx context.Context, coll *mongo.Collection, phase string, share int) error {
	mine := barrierID + phase + "/" + strconv.Itoa(share)
	if _, err := coll.InsertOne(ctx, id(mine)); err != nil {
		return fmt.Errorf("share %d at barrier %s: %w", share, phase, err)
	}
	all := make(bson.A, w.Shares)
	for s := range w.Shares {
		all[s] = barrierID + phase + "/" + strconv.Itoa(s)
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: all}}}}
	for {
		n, err := coll.CountDocuments(ctx, filter)
		if err != nil {
			return fmt.Errorf("share %d at barrier %s: %w", share, phase, err)
		}
		if n == int64(w.Shares) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("share %d at barrier %s: %d of %d shares arrived: %w", share, phase, n, w.Shares, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

// Check reads the documents in coll after every share has run and checks the results of all of
// them together: the counter got every $inc, exactly Balance debits took and the balance is 0, the
// transition took exactly once, and the counter handed out exactly the numbers 1..N, each once. It
// returns every violation found.
func (w Workload) Check(ctx context.Context, coll *mongo.Collection, results []Result) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	shares := make([]int, 0, len(results))
	for _, r := range results {
		shares = append(shares, r.Share)
	}
	slices.Sort(shares)
	if len(shares) != w.Shares || slices.ContainsFunc(shares, func(s int) bool { return s < 0 || s >= w.Shares }) ||
		len(slices.Compact(slices.Clone(shares))) != len(shares) {
		fail("results of shares %v, want one of each of 0..%d", shares, w.Shares-1)
	}

	var doc struct {
		N       int64  `bson:"n"`
		Balance int64  `bson:"balance"`
		Status  string `bson:"status"`
		By      string `bson:"by"`
	}
	read := func(key string) bool {
		doc.N, doc.Balance, doc.Status, doc.By = 0, 0, "", ""
		if err := coll.FindOne(ctx, id(key)).Decode(&doc); err != nil {
			fail("read %s: %v", key, err)
			return false
		}
		return true
	}

	incs := int64(w.Shares * w.Workers * w.Incs)
	if read(counterID) && doc.N != incs {
		fail("$inc: counter is %d after %d concurrent $inc of 1 (%d clients × %d goroutines × %d), want %d",
			doc.N, incs, w.Shares, w.Workers, w.Incs, incs)
	}

	var debited, transitions int64
	var numbers []int64
	for _, r := range results {
		debited += r.Debited
		transitions += r.Transitions
		numbers = append(numbers, r.Numbers...)
	}
	attempts := w.Shares * w.Workers * w.Debits
	if read(walletID) && (debited != w.Balance || doc.Balance != 0) {
		fail("guarded debit: %d of %d debits of 1 took on a balance of %d, which is now %d; want %d and 0",
			debited, attempts, w.Balance, doc.Balance, w.Balance)
	}

	callers := w.Shares * w.Callers
	if read(txID) && (transitions != 1 || doc.Status != "processing") {
		fail("guarded transition: %d of %d concurrent pending → processing updates took (status %q, last by %q), want exactly 1",
			transitions, callers, doc.Status, doc.By)
	}

	total := w.Shares * w.Workers * w.Numbers
	seen := make(map[int64]bool, total)
	var dups, outside, missing []int64
	for _, n := range numbers {
		switch {
		case n < 1 || n > int64(total):
			outside = append(outside, n)
		case seen[n]:
			dups = append(dups, n)
		}
		seen[n] = true
	}
	for n := int64(1); n <= int64(total); n++ {
		if !seen[n] {
			missing = append(missing, n)
		}
	}
	if len(numbers) != total || len(dups)+len(outside)+len(missing) > 0 {
		slices.Sort(dups)
		slices.Sort(outside)
		fail("counter: %d numbers handed out, want %d, each of 1..%d once; twice or more: %s; outside 1..%d: %s; never: %s",
			len(numbers), total, total, some(dups), total, some(outside), some(missing))
	}
	if read(seqID) && doc.N != int64(total) {
		fail("counter: ends at %d after %d findOneAndUpdate $inc of 1, want %d", doc.N, total, total)
	}
	return errors.Join(errs...)
}

// some formats at most the first ten of ns.
func some(ns []int64) string {
	if len(ns) > 10 {
		return fmt.Sprintf("%v and %d more", ns[:10], len(ns)-10)
	}
	return fmt.Sprint(ns)
}

// Pool watches a driver connection pool (options.Client().SetPoolMonitor(p.Monitor())) and records
// how many connections were checked out at once, at most: the proof that a share's writes really went
// through several connections.
type Pool struct {
	inUse, max atomic.Int64
}

// Monitor returns the pool monitor that feeds p.
func (p *Pool) Monitor() *event.PoolMonitor {
	return &event.PoolMonitor{Event: func(e *event.PoolEvent) {
		switch e.Type {
		case event.ConnectionCheckedOut:
			n := p.inUse.Add(1)
			for {
				m := p.max.Load()
				if n <= m || p.max.CompareAndSwap(m, n) {
					break
				}
			}
		case event.ConnectionCheckedIn:
			p.inUse.Add(-1)
		}
	}}
}

// MaxInUse is the most connections that were checked out at once.
func (p *Pool) MaxInUse() int64 { return p.max.Load() }
