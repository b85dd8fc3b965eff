package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/mint-wallet/mint/internal/platform/config"
	"github.com/mint-wallet/mint/internal/platform/jwtsign"
)

const keysHead = `Usage: mint keys generate|rotate [flags]

  generate  write a new key set (fails if the file exists, unless --force)
  rotate    add a new signing key; older keys stay in the JWKS until every token they signed has expired,
            so nobody is logged out. Running auth services pick the new key up within seconds.

Flags:
`

func runKeys(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "generate" && args[0] != "rotate") {
		fmt.Fprint(stderr, keysHead)
		return ErrUsage
	}
	var file string
	var force bool
	var lifetime time.Duration
	fs := config.New("keys " + args[0])
	fs.String(&file, "file", "MINT_AUTH_KEYS_FILE", "./mint-data/auth-keys.json", "the key set file")
	fs.Bool(&force, "force", "MINT_KEYS_FORCE", false, "generate: overwrite an existing file")
	fs.Duration(&lifetime, "auth-token-lifetime", "MINT_AUTH_TOKEN_LIFETIME", jwtsign.DefaultLifetime, "rotate: token lifetime, how long replaced keys stay")
	fs.Usage = func() { printUsage(stderr, fs, keysHead) }
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if args[0] == "generate" {
		if err := jwtsign.Generate(file, force); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote a new key set to %s\n", file)
		return nil
	}
	kid, err := jwtsign.Rotate(file, time.Now(), lifetime)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rotated %s: new signing key %s\n", file, kid)
	return nil
}
