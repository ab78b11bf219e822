package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"example.com/grove/repo"
)

type authOptions struct {
	on
	jsonFlag
	Alias string
}

func newAuthCmd(e *env) *cobra.Command {
	o := &authOptions{}
	c := o.bind(e, doc("auth", "Create your key pair and print your NID",
		`Create your ed25519 key pair under $GROVE_HOME/keys (mode 0600). Your NID,
the libp2p peer ID of that key, names you everywhere: in signed refs, issues,
patches and on the network. With --alias, a person document signed by the
key gives people a name to read in its place ('grove self edit' changes it).

The key is encrypted with a passphrase when one is given: typed at the
prompt on a terminal, or from GROVE_PASSPHRASE in scripts. An empty
passphrase leaves the key unencrypted.`,
		`  grove auth --alias alice
  GROVE_PASSPHRASE=secret grove auth`,
	), 0, false, func(ctx context.Context) error { return authRun(ctx, o) })
	c.Flags().StringVar(&o.Alias, "alias", "", "a name people see next to your NID")
	return o.add(c)
}

func authRun(ctx context.Context, o *authOptions) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	if err := checkPlain(plainFlag{"alias", optString{o.Alias, true}}); err != nil {
		return err
	}
	if o.Alias != "" {
		if err := repo.CheckAlias(o.Alias); err != nil {
			return usagef("--alias %q: %v", o.Alias, err)
		}
	}
	pass, err := newPassphrase(o.IO)
	if err != nil {
		return err
	}
	k, err := repo.CreateKey(h, o.Alias, pass)
	if errors.Is(err, repo.ErrKeyExists) {
		return fmt.Errorf("a key already exists in %s: 'grove self' shows it", h.KeysDir())
	}
	if err != nil {
		return err
	}
	if _, set := o.IO.LookupEnv("GROVE_PASSPHRASE"); pass == nil && !set && !o.IO.InTTY {
		// Not silently: the key on disk is all anyone needs to be you.
		fmt.Fprintln(o.IO.Err, "grove: your key is stored without a passphrase, as no terminal could ask for one; in scripts, set GROVE_PASSPHRASE (empty for none) to choose")
	}
	if o.Alias != "" {
		if err := h.SetConfig(repo.Config{Alias: o.Alias}); err != nil {
			return err
		}
		if _, err := repo.SetPerson(ctx, h, k, repo.Person{Alias: o.Alias}, o.Now()); err != nil {
			return err
		}
	}
	nid := k.NID()
	return o.result(o.IO.Out, authJSON{NID: nid.String(), DID: nid.DID(), Alias: o.Alias, Home: h.Dir}, func() error {
		_, err := fmt.Fprintln(o.IO.Out, nid)
		return err
	})
}

// newPassphrase takes the passphrase for a new key: GROVE_PASSPHRASE, or
// asked twice on a terminal, or none.
func newPassphrase(io IO) ([]byte, error) {
	if p, ok := io.LookupEnv("GROVE_PASSPHRASE"); ok {
		return []byte(p), nil
	}
	if !io.InTTY {
		return nil, nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, nil
	}
	defer tty.Close()
	fmt.Fprint(tty, "Passphrase for the new key (empty for none): ")
	p1, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if len(p1) == 0 {
		return nil, nil
	}
	fmt.Fprint(tty, "Repeat it: ")
	p2, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if !bytes.Equal(p1, p2) {
		return nil, fmt.Errorf("the passphrases differ: run 'grove auth' again")
	}
	return p1, nil
}

// authJSON is what auth --json prints: the fields of self --json a new
// key has.
type authJSON struct {
	NID   string `json:"nid"`
	DID   string `json:"did"`
	Alias string `json:"alias"`
	Home  string `json:"home"`
}
