package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mint-wallet/mint/internal/platform/observe"
)

// ShutdownGrace is how long in-flight requests get to finish after a stop signal.
const ShutdownGrace = 10 * time.Second

// Serve serves h on ln until ctx ends, then shuts down gracefully: the listener closes at once and
// in-flight requests get up to ShutdownGrace to finish. The errors net/http answers itself, before any
// handler runs, are problems too.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, m *observe.HTTPMetrics) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if m != nil {
		srv.ConnState = func(_ net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew:
				m.ActiveConnections.Inc()
				m.Connections.Inc()
			case http.StateHijacked, http.StateClosed:
				m.ActiveConnections.Dec()
			}
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(problemListener{Listener: ln, logger: logger}) }()
	logger.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", ShutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}
