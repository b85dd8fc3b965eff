package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest/atomicrace"
)

// raceChildEnv carries a raceJob to a copy of this test binary: TestMain sees it and runs the job
// (runRaceChild) instead of the tests.
const raceChildEnv = "MINT_E2E_RACE_CHILD"

// raceConns is the connection pool of each process racing on `mint db`.
const raceConns = 4

// raceJob is one share of the workload, for a child process to run.
type raceJob struct {
	URI        string    `json:"uri"`
	DB         string    `json:"db"`
	Collection string    `json:"collection"`
	Share      int       `json:"share"`
	Deadline   time.Time `json:"deadline"`
}

// raceReport is what a child prints on stdout, as JSON, when its share is done.
type raceReport struct {
	Result   atomicrace.Result `json:"result"`
	MaxInUse int64             `json:"maxInUse"` // most connections its pool had checked out at once
}

// TestAtomicWritesAcrossProcesses: two OS processes (this test and a copy of its binary), each with a
// pool of four connections to one `mint db`, race on the same documents: 8 × 500 $inc, 4,000 guarded
// debits of a balance of 2,000, 16 callers of one guarded transition and 2,000 findOneAndUpdate
// counter numbers. The server loses and doubles nothing: every write was atomic, whichever process
// and connection it came through.
func TestAtomicWritesAcrossProcesses(t *testing.T) {
	uri := startDB(t, tempDir(t))
	w := atomicrace.Default()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	deadline, _ := ctx.Deadline()

	var pool atomicrace.Pool
	client, err := connectRace(ctx, uri, &pool)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	job := raceJob{URI: uri, DB: "race", Collection: "docs", Deadline: deadline}
	coll := client.Database(job.DB).Collection(job.Collection)
	if err := w.Seed(ctx, coll); err != nil {
		t.Fatal(err)
	}

	// Shares 1 and up run in child processes, share 0 here; they meet at the workload's barriers.
	type child struct {
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
		done           chan error
	}
	var children []*child
	for share := 1; share < w.Shares; share++ {
		job.Share = share
		raw, err := json.Marshal(job)
		if err != nil {
			t.Fatal(err)
		}
		// -test.run=^$: should the child not see raceChildEnv, it runs no test rather than all of them.
		c := &child{cmd: exec.CommandContext(ctx, os.Args[0], "-test.run=^$"), done: make(chan error, 1)}
		c.cmd.Env = append(os.Environ(), raceChildEnv+"="+string(raw))
		c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			err := c.cmd.Wait()
			if err != nil {
				cancel() // the other shares would wait for this one at a barrier
			}
			c.done <- err
		}()
		children = append(children, c)
	}

	mine, err := w.Run(ctx, coll, 0)
	if err != nil {
		cancel() // stops the children
		t.Errorf("this process: %v", err)
	}
	results := []atomicrace.Result{mine}
	reports := []raceReport{{Result: mine, MaxInUse: pool.MaxInUse()}}
	for i, c := range children {
		if err := <-c.done; err != nil {
			t.Errorf("child process %d: %v\n%s", i+1, err, c.stderr.String())
			continue
		}
		var r raceReport
		if err := json.Unmarshal(c.stdout.Bytes(), &r); err != nil {
			t.Errorf("child process %d: its report %q: %v\n%s", i+1, c.stdout.String(), err, c.stderr.String())
			continue
		}
		results = append(results, r.Result)
		reports = append(reports, r)
	}
	if t.Failed() {
		t.FailNow()
	}

	for i, r := range reports {
		t.Logf("process %d: %d debits and %d transitions took, %d counter numbers, at most %d connections in use at once",
			i, r.Result.Debited, r.Result.Transitions, len(r.Result.Numbers), r.MaxInUse)
		// The race is only real if each process wrote through several connections at once.
		if r.MaxInUse < 2 || r.MaxInUse > raceConns {
			t.Errorf("process %d had at most %d connections in use at once, want 2..%d", i, r.MaxInUse, raceConns)
		}
	}
	if err := w.Check(ctx, coll, results); err != nil {
		t.Error(err)
	}
}

// connectRace connects to uri with a pool of raceConns connections watched by pool.
func connectRace(ctx context.Context, uri string, pool *atomicrace.Pool) (*mongo.Client, error) {
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(raceConns).SetPoolMonitor(pool.Monitor()))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", uri, err)
	}
	if err := c.Ping(ctx, nil); err != nil {
		_ = c.Disconnect(context.Background())
		return nil, fmt.Errorf("ping %s: %w", uri, err)
	}
	return c, nil
}

// runRaceChild runs the share of the workload described in raceChildEnv and prints a raceReport on
// stdout. It returns the process's exit code.
func runRaceChild() int {
	if err := raceChild(); err != nil {
		fmt.Fprintln(os.Stderr, "race child:", err)
		return 1
	}
	return 0
}

func raceChild() error {
	var job raceJob
	if err := json.Unmarshal([]byte(os.Getenv(raceChildEnv)), &job); err != nil {
		return fmt.Errorf("%s: %w", raceChildEnv, err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), job.Deadline)
	defer cancel()
	var pool atomicrace.Pool
	client, err := connectRace(ctx, job.URI, &pool)
	if err != nil {
		return err
	}
	res, err := atomicrace.Default().Run(ctx, client.Database(job.DB).Collection(job.Collection), job.Share)
	err = errors.Join(err, client.Disconnect(context.Background()))
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(raceReport{Result: res, MaxInUse: pool.MaxInUse()})
}
