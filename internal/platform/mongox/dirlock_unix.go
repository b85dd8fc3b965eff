//go:build unix

package mongox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// dirLock is an exclusive advisory lock on a data dir, held while the embedded server runs there.
// Two processes on one SQLite data dir would each serialize only their own commands, and FerretDB's
// read-modify-write updates (what every guarded money update relies on) would no longer be atomic.
type dirLock struct{ f *os.File }

// lockDir takes the lock on dir or says which process holds it. The kernel drops the lock when the
// process dies, so a crash never leaves the dir locked.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mongodb data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("mongodb data dir %s is in use by another process (pid %s): "+
				"the embedded database takes one process at a time", filepath.Dir(dir), strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("mongodb data dir lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// unlock releases the lock (closing the file drops it).
func (l *dirLock) unlock() { _ = l.f.Close() }
