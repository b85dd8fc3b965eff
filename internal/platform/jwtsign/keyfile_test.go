package jwtsign_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mint-wallet/mint/internal/platform/jwtsign"
)

// TestMakeDirCreatesAPrivateDirectory: `mint keys generate --file /etc/mint/auth-keys.json` on a fresh
// machine needs /etc/mint; it is created for the owner only, and an existing directory is left alone.
func TestMakeDirCreatesAPrivateDirectory(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, root string)
		file        string // under root
		wantCreated string // under root; "" = nothing created
	}{
		{"missing directory", nil, "etc/mint/auth-keys.json", "etc/mint"},
		{"missing parents too", nil, "a/b/c/auth-keys.json", "a/b/c"},
		{"existing directory", func(t *testing.T, root string) {
			if err := os.Mkdir(filepath.Join(root, "keys"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "keys/auth-keys.json", ""},
		{"the current directory", nil, "auth-keys.json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, root)
			}
			created, err := jwtsign.MakeDir(filepath.Join(root, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.wantCreated != "" {
				want = filepath.Join(root, tt.wantCreated)
			}
			if created != want {
				t.Fatalf("created %q, want %q", created, want)
			}
			dir := filepath.Dir(filepath.Join(root, tt.file))
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantCreated != "" && fi.Mode().Perm() != 0o700 {
				t.Errorf("%s has mode %o, want 700", dir, fi.Mode().Perm())
			}
			if err := jwtsign.Generate(filepath.Join(root, tt.file), false); err != nil {
				t.Errorf("Generate after MakeDir: %v", err)
			}
		})
	}
}

// TestMakeDirLeavesAFileInTheWayToTheWrite: a path whose directory is a file is not "created"; writing
// the key set then fails naming it.
func TestMakeDirLeavesAFileInTheWayToTheWrite(t *testing.T) {
	root := t.TempDir()
	blocker := filepath.Join(root, "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(blocker, "auth-keys.json")
	created, err := jwtsign.MakeDir(file)
	if err != nil || created != "" {
		t.Fatalf("MakeDir = %q, %v; want nothing created and no error", created, err)
	}
	if err := jwtsign.Generate(file, false); err == nil {
		t.Fatal("Generate wrote under a file")
	}
}
