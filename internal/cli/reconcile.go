package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/mint-wallet/mint/internal/platform/bus/memory"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/money"
	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/wallet"
)

const walletHead = `Usage: mint wallet reconcile [flags]

Checks every wallet against its ledger: Σ entries = balance, sequence numbers contiguous, every
balanceAfter the running sum and never negative. Prints what it finds and exits 1 on any drift.
Run it against MINT_MONGODB_URI, or on a stopped mint dev's --data-dir (the embedded database takes
one process at a time).
`

func runWallet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if _, err := group("mint wallet", walletHead, stdout, stderr).subcommand(args, "subcommand", "reconcile"); err != nil {
		return err
	}
	c := newCommand("mint wallet reconcile", walletHead, stdout, stderr)
	var dataDir, mongoURI string
	c.fs.String(&dataDir, "data-dir", "MINT_DATA_DIR", "./mint-data", "directory of the embedded database")
	c.fs.String(&mongoURI, "mongodb-uri", "MINT_MONGODB_URI", "", "MongoDB URI; empty = the embedded database under --data-dir")
	if err := c.parse(args[1:]); err != nil {
		return err
	}
	return c.failed(reconcile(ctx, dataDir, mongoURI, stdout))
}

// reconcile checks every wallet of the database at mongoURI (or embedded under dataDir).
func reconcile(ctx context.Context, dataDir, mongoURI string, stdout io.Writer) error {
	quiet := slog.New(slog.DiscardHandler)
	client, err := mongox.Open(ctx, mongox.Config{URI: mongoURI, DataDir: dataDir, Logger: quiet})
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer func() { _ = client.Close(context.WithoutCancel(ctx)) }()
	// Reconcile only reads the ledger (and rolls lagging projections forward): it publishes nothing
	// and caches nothing, so the in-process bus and cache stand in.
	mod, err := wallet.New(ctx, wallet.Config{}, wallet.Deps{DB: client.Database(wallet.DatabaseName),
		Bus: memory.New(memory.Config{}), Cache: cache.NewMemory(), Logger: quiet})
	if err != nil {
		return err
	}
	rep, err := mod.Reconcile(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wallets %d, entries %d, total balance %s, projections rolled forward %d, drifts %d\n",
		rep.Wallets, rep.Entries, money.FromCents(rep.Total), rep.Healed, len(rep.Drifts))
	for _, d := range rep.Drifts {
		fmt.Fprintln(stdout, "drift:", d)
	}
	if !rep.OK() {
		return fmt.Errorf("%d wallets drifted from their ledger", len(rep.Drifts))
	}
	return nil
}
