// Package mongox opens Mint's MongoDB-wire connection: a real MongoDB server in production, or an
// embedded FerretDB (SQLite files under a data dir) for `mint dev` and integration tests. It hides the
// FerretDB sharp edges the rest of the code must not have to know about (docs/ARCHITECTURE.md §4): the
// one-connection pool that makes its updates atomic, its duplicate-key error codes, and query metrics.
package mongox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Config says which server to use.
type Config struct {
	// URI of the server. Empty starts an embedded FerretDB under DataDir.
	URI string
	// DataDir holds the embedded server's files (in DataDir/db). Required when URI is empty.
	DataDir string
	// Logger receives connection-level messages; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives db_query_duration_seconds; nil disables metrics.
	Registerer prometheus.Registerer
}

// Client is a connection to one MongoDB-wire server, shared by every service of the process.
type Client struct {
	mongo    *mongo.Client
	embedded *embedded // nil when connected to an external server
	ferret   bool
	// singleConn records that the pool was limited to one connection (always when ferret).
	singleConn bool
	logger     *slog.Logger

	// With singleConn, each database gets its own one-connection client (see Database).
	opts  *options.ClientOptions
	mu    sync.Mutex
	perDB map[string]*mongo.Client
}

// Open connects to cfg.URI, or starts an embedded FerretDB and connects to it. The returned client
// has been pinged. Close releases it.
func Open(ctx context.Context, cfg Config) (*Client, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	var m *metrics
	if cfg.Registerer != nil {
		var err error
		if m, err = newMetrics(cfg.Registerer); err != nil {
			return nil, err
		}
	}

	if cfg.URI == "" {
		return openEmbedded(ctx, cfg.DataDir, m, logger)
	}
	return openURI(ctx, cfg.URI, m, logger)
}

func openEmbedded(ctx context.Context, dataDir string, m *metrics, logger *slog.Logger) (*Client, error) {
	srv, err := startEmbedded(dataDir, "")
	if err != nil {
		return nil, err
	}
	c, err := openURI(ctx, srv.uri, m, logger)
	if err != nil {
		srv.stop()
		return nil, err
	}
	c.embedded = srv
	logger.Info("mongodb: embedded FerretDB started", "dataDir", srv.dir)
	return c, nil
}

func openURI(ctx context.Context, uri string, m *metrics, logger *slog.Logger) (*Client, error) {
	mc, err := connect(ctx, uri, m, false)
	if err != nil {
		return nil, err
	}
	srv, err := identify(ctx, mc)
	if err != nil {
		_ = mc.Disconnect(ctx)
		return nil, err
	}
	single := srv.ferret && !srv.atomicWrites
	if single {
		// An unpatched FerretDB applies updates as read-modify-write without a lock: only a single
		// connection serializes them. Reconnect rather than trust the URI's pool settings.
		if err := mc.Disconnect(ctx); err != nil {
			logger.Warn("mongodb: disconnect before reconnecting with one connection", "err", err)
		}
		if mc, err = connect(ctx, uri, m, true); err != nil {
			return nil, err
		}
		logger.Warn("mongodb: server is a FerretDB without atomic writes; using a single connection (not for production load)")
	}
	return &Client{mongo: mc, ferret: srv.ferret, singleConn: single, logger: logger, opts: clientOptions(uri, m, single)}, nil
}

func clientOptions(uri string, m *metrics, singleConn bool) *options.ClientOptions {
	opts := options.Client().ApplyURI(uri)
	if singleConn {
		opts.SetMaxPoolSize(1)
	}
	if m != nil {
		opts.SetMonitor(m.monitor())
	}
	return opts
}

func connect(ctx context.Context, uri string, m *metrics, singleConn bool) (*mongo.Client, error) {
	mc, err := mongo.Connect(clientOptions(uri, m, singleConn))
	if err != nil {
		return nil, fmt.Errorf("mongodb connect: %w", err)
	}
	if err := mc.Ping(ctx, nil); err != nil {
		_ = mc.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mongodb ping: %w", err)
	}
	return mc, nil
}

// server is what buildInfo says of a server.
type server struct {
	ferret bool // FerretDB: it reports a MongoDB version (7.0.x) but adds ferretdbVersion
	// atomicWrites: a FerretDB patched to apply update, findAndModify and delete atomically per
	// document (third_party/ferretdb/PATCHES.md), as MongoDB does, whatever the connections.
	atomicWrites bool
}

func identify(ctx context.Context, mc *mongo.Client) (server, error) {
	raw, err := mc.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return server{}, fmt.Errorf("mongodb buildInfo: %w", err)
	}
	return serverFrom(raw), nil
}

// serverFrom reads a buildInfo answer.
func serverFrom(raw bson.Raw) server {
	var s server
	if _, err := raw.LookupErr("ferretdbVersion"); err == nil {
		s.ferret = true
		atomic, err := raw.LookupErr("ferretdbFeatures", "atomicWrites")
		s.atomicWrites = err == nil && atomic.Type == bson.TypeBoolean && atomic.Boolean()
	}
	return s
}

// IsFerretDB reports whether the server is FerretDB, whose limits callers may need to work around
// (no TTL indexes, no transactions; see ARCHITECTURE §4).
func (c *Client) IsFerretDB() bool { return c.ferret }

// Mongo returns the underlying driver client.
func (c *Client) Mongo() *mongo.Client { return c.mongo }

// Database returns the named database.
//
// On a FerretDB without atomic writes every database has a one-connection client of its own. Its
// updates are atomic only when no two commands on the same documents run at once (ARCHITECTURE §4): a
// single connection per database serializes every command on that database, as long as each database
// is written by one process. Different services' databases are served in parallel, each by its own
// SQLite file. The embedded server and `mint db` carry the atomic-writes patch and get a normal pool.
func (c *Client) Database(name string) *mongo.Database {
	if !c.singleConn {
		return c.mongo.Database(name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if mc, ok := c.perDB[name]; ok {
		return mc.Database(name)
	}
	// Connect only validates the options, which the first connection has already proven.
	mc, err := mongo.Connect(c.opts)
	if err != nil {
		c.logger.Warn("mongodb: database shares the first connection", "database", name, "err", err)
		return c.mongo.Database(name)
	}
	if c.perDB == nil {
		c.perDB = map[string]*mongo.Client{}
	}
	c.perDB[name] = mc
	return mc.Database(name)
}

// Ping checks that the server answers (readiness).
func (c *Client) Ping(ctx context.Context) error {
	if err := c.mongo.Ping(ctx, nil); err != nil {
		return fmt.Errorf("mongodb ping: %w", err)
	}
	return nil
}

// Close disconnects and, in embedded mode, stops the server once its connection is gone.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	for _, mc := range c.perDB {
		if err := mc.Disconnect(ctx); err != nil {
			c.logger.Warn("mongodb: disconnect", "err", err)
		}
	}
	c.perDB = nil
	c.mu.Unlock()
	err := c.mongo.Disconnect(ctx)
	if c.embedded != nil {
		c.embedded.stop()
	}
	if err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return fmt.Errorf("mongodb disconnect: %w", err)
	}
	return nil
}

// EmbeddedURI is the URI of the embedded server (its Unix socket), "" when connected to an external
// one (e.g. for looking at the data with mongosh in dev mode).
func (c *Client) EmbeddedURI() string {
	if c.embedded == nil {
		return ""
	}
	return c.embedded.uri
}
