package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/mint-wallet/mint/internal/platform/jwtsign"
)

const keysHead = `Usage: mint keys <generate|rotate> [flags]

  generate  write a new key set (fails if the file exists, unless --force); creates its directory,
            mode 0700, when missing
  rotate    add a new signing key; older keys stay in the JWKS until every token they signed has expired,
            so nobody is logged out. Running auth services pick the new key up within seconds.

"mint keys generate --help" and "mint keys rotate --help" list their flags.
`

const keysGenerateHead = `Usage: mint keys generate [flags]

Writes a new signing key set for the auth service (mode 0600), creating its directory (mode 0700)
when missing. An existing file is kept unless --force: replacing it logs out every session. With
--keep-existing an existing file is not an error (a deployment's first-start step).
`

const keysRotateHead = `Usage: mint keys rotate [flags]

Adds a new signing key to the key set. Older keys stay in the JWKS until every token they signed has
expired, so nobody is logged out; running auth services pick the new key up within seconds.
`

const defaultKeysFile = "./mint-data/auth-keys.json"

func runKeys(args []string, stdout, stderr io.Writer) error {
	sub, err := group("mint keys", keysHead, stdout, stderr).subcommand(args, "subcommand", "generate", "rotate")
	if err != nil {
		return err
	}
	if sub == "generate" {
		return runKeysGenerate(args[1:], stdout, stderr)
	}
	return runKeysRotate(args[1:], stdout, stderr)
}

func runKeysGenerate(args []string, stdout, stderr io.Writer) error {
	c := newCommand("mint keys generate", keysGenerateHead, stdout, stderr)
	var file string
	var force, keep bool
	c.fs.String(&file, "file", "MINT_AUTH_KEYS_FILE", defaultKeysFile, "the key set file")
	c.fs.Bool(&force, "force", "MINT_KEYS_FORCE", false, "overwrite an existing file (logs out every session)")
	c.fs.Bool(&keep, "keep-existing", "MINT_KEYS_KEEP_EXISTING", false, "succeed, keeping it, when the file exists")
	if err := c.parse(args); err != nil {
		return err
	}
	if force && keep {
		return c.usageError("--force and --keep-existing contradict each other")
	}
	created, err := jwtsign.MakeDir(file)
	if err != nil {
		return c.failed(err)
	}
	if created != "" {
		fmt.Fprintf(stdout, "created directory %s (mode 0700)\n", created)
	}
	if err := jwtsign.Generate(file, force); err != nil {
		if errors.Is(err, fs.ErrExist) && keep {
			fmt.Fprintf(stdout, "kept the existing key set %s\n", file)
			return nil
		}
		if errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%s already exists; --force (or MINT_KEYS_FORCE=true) replaces it, logging out every session", file)
		}
		return c.failed(err)
	}
	fmt.Fprintf(stdout, "wrote a new key set to %s\n", file)
	return nil
}

func runKeysRotate(args []string, stdout, stderr io.Writer) error {
	c := newCommand("mint keys rotate", keysRotateHead, stdout, stderr)
	var file string
	var lifetime time.Duration
	c.fs.String(&file, "file", "MINT_AUTH_KEYS_FILE", defaultKeysFile, "the key set file")
	c.fs.Duration(&lifetime, "auth-token-lifetime", "MINT_AUTH_TOKEN_LIFETIME", jwtsign.DefaultLifetime,
		"token lifetime: how long a replaced key stays")
	if err := c.parse(args); err != nil {
		return err
	}
	kid, err := jwtsign.Rotate(file, time.Now(), lifetime)
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("%w (create it with: mint keys generate --file %s)", err, file)
	}
	if err != nil {
		return c.failed(err)
	}
	fmt.Fprintf(stdout, "rotated %s: new signing key %s\n", file, kid)
	return nil
}
