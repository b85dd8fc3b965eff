package mongox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// newMu serializes ferretdb.New: it writes a package-level variable of FerretDB's (the build
// "package" name), which would be a data race when tests start servers in parallel.
var newMu sync.Mutex

// embedded is an in-process FerretDB listening on a TCP address or a Unix socket.
type embedded struct {
	dir          string
	lock         *dirLock
	uri          string
	cancel       context.CancelFunc
	done         chan struct{}
	removeSocket func() // its Unix socket, when it has one
}

// startEmbedded serves the SQLite files under dataDir on the TCP address addr ("127.0.0.1:0" for a
// free loopback port), or, with addr empty, on a Unix socket of its own: for the process's own client
// a Unix socket is cheaper than TCP over loopback (no TCP stack on either side of every command), and
// no other process can reach it by mistake. The data dir is locked: one server process per directory,
// so that the server's write locks (the atomic-writes patch) see every writer.
func startEmbedded(dataDir, addr string) (*embedded, error) {
	if dataDir == "" {
		return nil, errors.New("mongodb: embedded server needs a data dir")
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("mongodb data dir: %w", err)
	}
	// The SQLite location is a URL: '#' and '?' would end its path.
	if strings.ContainsAny(abs, "#?") {
		return nil, fmt.Errorf("mongodb data dir %q: path must not contain '#' or '?'", abs)
	}
	dir := filepath.Join(abs, "db")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mongodb data dir: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}

	listener := ferretdb.ListenerConfig{TCP: addr}
	removeSocket := func() {}
	if addr == "" {
		if listener.Unix, removeSocket, err = socketPath(dir); err != nil {
			lock.unlock()
			return nil, err
		}
	}
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: listener,
		Handler:  "sqlite",
		// Trailing slash required; no mode=memory (deadlocks on the first update).
		SQLiteURL: "file:" + filepath.ToSlash(dir) + "/",
		// FerretDB logs every connection and dumps every failed command (endSessions on each
		// disconnect fails by design): noise, not signal.
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	newMu.Unlock()
	if err != nil {
		removeSocket()
		lock.unlock()
		return nil, fmt.Errorf("mongodb embedded server: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	e := &embedded{dir: dir, lock: lock, cancel: cancel, done: make(chan struct{}), removeSocket: removeSocket}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx) // always nil; returns once ctx is cancelled and connections are closed
	}()
	e.uri = f.MongoDBURI()
	return e, nil
}

// socketPath is where the server in dir listens when it serves its own process: dir/mongodb.sock, or
// a socket in a new temporary directory when that path is longer than a socket address may be. A
// socket left by a process that died is removed: the data dir's lock says nobody serves dir now.
func socketPath(dir string) (path string, remove func(), err error) {
	const maxSocketPath = 100 // sun_path holds 108 bytes on Linux, 104 on the BSDs
	path = filepath.Join(dir, "mongodb.sock")
	if len(path) > maxSocketPath {
		tmp, err := os.MkdirTemp("", "mint-db")
		if err != nil {
			return "", nil, fmt.Errorf("mongodb socket: %w", err)
		}
		return filepath.Join(tmp, "mongodb.sock"), func() { _ = os.RemoveAll(tmp) }, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("mongodb socket: %w", err)
	}
	return path, func() { _ = os.Remove(path) }, nil
}

// stop shuts the server down and waits until its goroutines and SQLite files are released.
func (e *embedded) stop() {
	e.cancel()
	<-e.done
	e.removeSocket()
	e.lock.unlock()
}

// Server is the embedded database served to other processes (`mint db`): they share it as they would
// share a MongoDB, each with as many connections as it likes (the atomic-writes patch).
type Server struct{ e *embedded }

// ServeEmbedded serves the database under dataDir on addr until Stop. Like the embedded server of
// Open, it takes the data dir's lock.
func ServeEmbedded(dataDir, addr string) (*Server, error) {
	e, err := startEmbedded(dataDir, addr)
	if err != nil {
		return nil, err
	}
	return &Server{e: e}, nil
}

// URI is the server's mongodb:// URI.
func (s *Server) URI() string { return s.e.uri }

// Dir is the directory of the server's SQLite files.
func (s *Server) Dir() string { return s.e.dir }

// Stop closes the listener and every connection, and waits until the files are released.
func (s *Server) Stop() { s.e.stop() }
