package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mint-wallet/mint/internal/chaos"
)

const chaosHead = `Usage: mint chaos [flags]

Starts a whole deployment of its own on this machine — a RabbitMQ node, a Redis and a Mailpit of its
own (never the machine's), mint db, auth, notifications, two replicas each of wallet and
transactions, and nginx in front — and sends --transfers transfers through the gateway from
--clients clients, each with an Idempotency-Key, retrying what a client retries with the same key,
while a schedule of faults drawn from --seed kills every service process in turn (SIGKILL, then
starts it again), kills the database once, restarts RabbitMQ once, stops Redis and refuses SMTP for
--outage each. Then it checks: Σ balances = Σ top-ups, no balance negative, each wallet equal to its
history, every transaction terminal within --settle-within of the last fault's recovery, each key one
transaction, every promised mail sent exactly once within --mail-within of SMTP's recovery, no dead
letter, no queue holding more than 1.5 times the work owed to it, and mint wallet reconcile 0 drifts.

It prints the seed and the fault timeline; the same --seed replays the same transfers and faults.
Exit status 1 when a check failed. Needs rabbitmq-server, redis-server, nginx and mailpit installed.
`

func runChaos(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommand("mint chaos", chaosHead, stdout, stderr)
	var o chaos.Options
	var (
		dir  string
		seed uint32
	)
	f := c.fs
	f.Int(&o.Transfers, "transfers", "MINT_CHAOS_TRANSFERS", 10_000, "transfers sent")
	f.Int(&o.Clients, "clients", "MINT_CHAOS_CLIENTS", 32, "concurrent clients, each from its own loopback address")
	f.Int(&o.Users, "users", "MINT_CHAOS_USERS", 100, "users paying each other")
	f.Uint32(&seed, "seed", "MINT_CHAOS_SEED", 0, "seed of the transfers and the fault schedule (0: drawn from the clock, and printed)")
	f.Duration(&o.Outage, "outage", "MINT_CHAOS_OUTAGE", 20*time.Second, "how long Redis is stopped and SMTP refused")
	f.Duration(&o.StuckAfter, "stuck-after", "MINT_CHAOS_STUCK_AFTER", 10*time.Second, "the stack's MINT_TRANSACTIONS_STUCK_AFTER")
	f.Duration(&o.SettleWithin, "settle-within", "MINT_CHAOS_SETTLE_WITHIN", 30*time.Second,
		"every transaction must be terminal this long after the last fault's recovery (or the load's end)")
	f.Duration(&o.MailWithin, "mail-within", "MINT_CHAOS_MAIL_WITHIN", time.Minute,
		"every mail must be sent this long after SMTP's recovery (or the last transaction's end)")
	f.String(&dir, "dir", "MINT_CHAOS_DIR", "./chaos-data", "where each run keeps its files (logs, data), in a folder of its own")
	f.String(&o.Bin, "bin", "MINT_CHAOS_BIN", "", "the mint binary the stack runs (default: this one)")
	f.Bool(&o.JSON, "json", "MINT_CHAOS_JSON", false, "print the report as one JSON object")
	if err := c.parse(args); err != nil {
		return err
	}
	if o.Transfers < 1 || o.Clients < 1 || o.Users < 2 {
		return c.usageError("--transfers and --clients must be at least 1, --users at least 2")
	}
	o.Seed = uint64(seed)
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano()%1_000_000) + 1
	}
	if o.Bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return c.failed(fmt.Errorf("the mint binary: %w", err))
		}
		o.Bin = exe
	}
	o.Dir = filepath.Join(dir, fmt.Sprintf("seed-%d-%s", o.Seed, time.Now().UTC().Format("20060102T150405")))
	o.Out, o.Log = stdout, stderr
	if isTerminal(stderr) {
		o.Progress = stderr
	}
	err := chaos.Run(ctx, o)
	if errors.Is(err, chaos.ErrViolated) {
		return c.failed(fmt.Errorf("a check failed (files in %s)", o.Dir))
	}
	return c.failed(err)
}
