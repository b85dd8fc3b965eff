//go:build !unix

package mongox

// dirLock is not taken on systems without flock: keep to one process per data dir there by hand.
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) unlock() {}
