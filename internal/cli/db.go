package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/platform/observe"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

const dbHead = `Usage: mint db [flags]

Serves the embedded database (FerretDB on SQLite files under --data-dir) on a TCP address, so that
several mint serve processes, and several replicas of one service, share one database as they would
share a MongoDB: MINT_MONGODB_URI=mongodb://127.0.0.1:27017/. Every update is atomic per document
whatever the connections. One process per data dir. /health, /ready (the database answers) and
/metrics are served on --http-addr.
`

// dbSettings are what a user sets for `mint db`.
type dbSettings struct {
	DataDir, Addr, HTTPAddr, LogLevel string
}

func runDB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommand("mint db", dbHead, stdout, stderr)
	var s dbSettings
	c.fs.String(&s.DataDir, "data-dir", "MINT_DATA_DIR", "./mint-data", "directory of the database's files")
	c.fs.String(&s.Addr, "addr", "MINT_DB_ADDR", "127.0.0.1:27017", "address the database listens on (MongoDB wire protocol)")
	c.fs.String(&s.HTTPAddr, "http-addr", "MINT_DB_HTTP_ADDR", "127.0.0.1:27018", "address of /health, /ready and /metrics")
	c.fs.String(&s.LogLevel, "log-level", "MINT_LOG_LEVEL", "info", "debug, info, warn or error")
	if err := c.parse(args); err != nil {
		return err
	}
	if _, err := observe.ParseLevel(s.LogLevel); err != nil {
		return c.settingError(fmt.Errorf("%w (--log-level or MINT_LOG_LEVEL)", err))
	}
	return c.failed(serveDB(ctx, s, stdout, stderr))
}

// serveDB is the composition root of `mint db`: the database server and its health endpoints.
func serveDB(ctx context.Context, s dbSettings, stdout, stderr io.Writer) (err error) {
	level, _ := observe.ParseLevel(s.LogLevel)
	logger := observe.NewLogger(stderr, "db", level)
	ln, err := listenOn(ctx, s.HTTPAddr, "http-addr", "MINT_DB_HTTP_ADDR")
	if err != nil {
		return err
	}
	defer func() { _ = ln.Close() }()
	srv, err := mongox.ServeEmbedded(s.DataDir, s.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use") {
			return fmt.Errorf("listen %s: address already in use (choose another with --addr or MINT_DB_ADDR)", s.Addr)
		}
		return err
	}
	defer func() {
		srv.Stop()
		if err == nil {
			logger.Info("stopped")
		}
	}()
	// The health endpoints ask the server through a client of their own, as any process would.
	registry := observe.NewRegistry()
	client, err := mongox.Open(ctx, mongox.Config{URI: srv.URI(), Logger: logger, Registerer: registry})
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer func() { _ = client.Close(context.WithoutCancel(ctx)) }()

	mux := http.NewServeMux()
	router := httpx.NewRouter(mux, openapi.New("Mint database", Version, ""), nil, logger)
	router.HandleRaw("GET /health", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "service": "db"})
	}))
	router.HandleRaw("GET /ready", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := client.Ping(pctx); err != nil {
			httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "service": "db",
				"checks": map[string]string{"database": "unreachable"}})
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "ready", "service": "db", "checks": map[string]string{"database": "ok"}})
	}))
	router.HandleRaw("GET /metrics", observe.MetricsHandler(registry))
	fmt.Fprintf(stdout, "mint db is serving\n  database  %s (MINT_MONGODB_URI)\n  health    http://%s/health\n  data      %s\n",
		srv.URI(), displayAddr(ln.Addr()), srv.Dir())
	metrics := observe.NewHTTPMetrics(registry)
	err = httpx.Serve(ctx, ln, httpx.Edge(mux, httpx.EdgeConfig{Logger: logger, Metrics: metrics}), logger, metrics)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
