package cli

import (
	"context"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mint-wallet/mint/internal/bench"
)

const benchHead = `Usage: mint bench [flags]

Measures a running Mint over HTTP — mint dev, the local stack through nginx, or the services one by
one (--tx-base, --wallet-base) — with one scenario at a fixed number of concurrent clients: requests/s
and latency percentiles, and for transfers the settle time and the database operations per completed
transfer (from every service's /metrics). It only targets loopback addresses, and with --spread each
client sends from one of its own, so that a gateway limiting each client address (the stack's nginx)
limits each client alone, as it would each user. On a terminal it shows a progress line; --json prints
the summary as JSON for scripts.

Scenarios:
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var head strings.Builder
	head.WriteString(benchHead)
	for _, name := range slices.Sorted(maps.Keys(bench.Scenarios)) {
		head.WriteString("  " + name + strings.Repeat(" ", 17-len(name)) + bench.Scenarios[name] + "\n")
	}
	c := newCommand("mint bench", head.String(), stdout, stderr)
	var o bench.Options
	f := c.fs
	f.String(&o.Base, "base", "MINT_BENCH_BASE", "http://127.0.0.1:8080", "Mint base URL (loopback only)")
	f.String(&o.TxBase, "tx-base", "MINT_BENCH_TX_BASE", "", "transactions service base URL when it runs apart (default --base)")
	f.String(&o.WalletBase, "wallet-base", "MINT_BENCH_WALLET_BASE", "", "wallet service base URL when it runs apart (default --base)")
	f.String(&o.Scenario, "scenario", "MINT_BENCH_SCENARIO", "user", "what to measure (see above)")
	f.Int(&o.Clients, "clients", "MINT_BENCH_CLIENTS", 32, "concurrent clients (sustained: most transfers in flight)")
	f.Bool(&o.Spread, "spread", "MINT_BENCH_SPREAD", true, "each client from its own loopback address (127.77.x.y), as distinct users "+
		"behind a gateway's per-client rate limit; false: every client from the loopback address the system picks")
	f.Duration(&o.Duration, "duration", "MINT_BENCH_DURATION", 10*time.Second, "how long to measure (after the warm-up)")
	f.Duration(&o.Warmup, "warmup", "MINT_BENCH_WARMUP", 2*time.Second, "load before measuring")
	f.Int(&o.Users, "users", "MINT_BENCH_USERS", 100, "reads, sustained, mixed: the users holding the history or taking part")
	f.Int(&o.SeedTransfers, "seed-transfers", "MINT_BENCH_SEED_TRANSFERS", 10000, "reads: transfers stored before the reads are measured")
	f.Int(&o.Count, "count", "MINT_BENCH_COUNT", 3000, "sustained: transfers offered")
	f.Float64(&o.Rate, "rate", "MINT_BENCH_RATE", 20, "sustained: transfers offered per second, whatever the system's pace")
	f.Duration(&o.ListEvery, "list-every", "MINT_BENCH_LIST_EVERY", time.Second, "sustained: how often one client reads its transaction list")
	f.String(&o.AMQP, "amqp", "MINT_BENCH_AMQP", "", "sustained: RabbitMQ URL to sample the queues' depths (default: not sampled)")
	f.Uint32(&o.Seed, "seed", "MINT_BENCH_SEED", 1, "sustained: seed of the sender/recipient pairs")
	f.Duration(&o.Poll, "poll", "MINT_BENCH_POLL", 25*time.Millisecond, "transfer: how often a client looks whether its transfer completed "+
		"(the settle time is measured to within this; with --wait poll every look is a request the service serves too)")
	f.String(&o.Wait, "wait", "MINT_BENCH_WAIT", "poll", "transfer: how a client waits for its transfer: poll (GET /api/v1/transactions/{id} every --poll; "+
		"the DB ops of those reads are measured apart and subtracted), stream (each payer's status stream announces the end; "+
		"the DB ops counted include the stream's reads) or metrics (no reads: clients pace on transactions_total in /metrics)")
	f.Bool(&o.DBOps, "db-ops", "MINT_BENCH_DB_OPS", true, "transfer: report database operations per completed transfer")
	f.String(&o.Metrics, "metrics", "MINT_BENCH_METRICS", "", "transfer: comma-separated base URLs of every process's /metrics, each once (default --base and --tx-base)")
	f.Duration(&o.SettleTimeout, "settle-timeout", "MINT_BENCH_SETTLE_TIMEOUT", time.Minute, "transfer: longest wait for a phase's transfers to end before the metrics are read")
	f.Duration(&o.Quiet, "quiet", "MINT_BENCH_QUIET", time.Second, "transfer: how long the work counters must stand still to call the system settled")
	f.Duration(&o.Idle, "idle", "MINT_BENCH_IDLE", 5*time.Second, "transfer: how long to measure background DB ops at rest, to subtract them (0: keep them)")
	f.Int(&o.ProbeGets, "probe-gets", "MINT_BENCH_PROBE_GETS", 200, "transfer, --wait poll: status GETs made after the window to measure the DB ops of one")
	f.Bool(&o.JSON, "json", "MINT_BENCH_JSON", false, "print each summary as one JSON object")
	if err := c.parse(args); err != nil {
		return err
	}
	if _, ok := bench.Scenarios[o.Scenario]; !ok {
		return c.usageError("unknown scenario %q", o.Scenario)
	}
	if o.Clients < 1 {
		return c.usageError("--clients %d: want at least 1", o.Clients)
	}
	if o.Rate <= 0 {
		return c.usageError("--rate %v: want more than 0 per second", o.Rate)
	}
	o.Out = stdout
	if isTerminal(stderr) {
		o.Progress = stderr
	}
	if err := bench.Run(ctx, o); err != nil {
		return c.failed(err)
	}
	return nil
}

// isTerminal reports whether w is a terminal, where a redrawn progress line belongs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
