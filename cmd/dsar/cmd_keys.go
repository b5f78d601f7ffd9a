package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/dsar-tool/dsar/crypto"
	"github.com/dsar-tool/dsar/exporter/config"
)

// keyPassphraseEnv holds the passphrase of a protected secret key, for
// runs without a terminal.
const keyPassphraseEnv = "DSAR_KEY_PASSPHRASE"

// keyringDir is the workspace keyring, relative to the config's folder:
// one armoured public key per file, named <FINGERPRINT>.pub.asc.
const keyringDir = "keys/keyring"

func newKeysCommand() *cli.Command {
	return &cli.Command{
		Name:  "keys",
		Usage: "manage OpenPGP keys: generate, import into the workspace keyring, list, export",
		Subcommands: []*cli.Command{
			{
				Name:      "generate",
				Usage:     "generate a key pair: PREFIX.sec.asc (secret, mode 0600) and PREFIX.pub.asc",
				ArgsUsage: " ",
				Description: "Generates an OpenPGP key. The secret key is protected by a passphrase from\n" +
					"--passphrase-file, else from $" + keyPassphraseEnv + ", else one typed at a prompt when\n" +
					"dsar runs on a terminal (leave it empty for none); --no-passphrase skips all three.\n\n" +
					"Profiles: rfc4880 (default, or 'profile' in the config) makes a v4 Ed25519/Cv25519\n" +
					"key that GnuPG and Sequoia read; rfc9580 makes a v6 Ed25519/X25519 key that GnuPG 2.2\n" +
					"and Sequoia sq 0.27 cannot read.",
				Flags: []cli.Flag{
					configFlag(),
					&cli.StringFlag{Name: "uid", Usage: "the key's user id, \"Name <email>\""},
					&cli.StringFlag{Name: "out", Usage: "file name `PREFIX` for the two key files"},
					&cli.StringFlag{Name: "profile", Usage: "OpenPGP `PROFILE`: rfc4880 or rfc9580 (default: the config's, else rfc4880)"},
					&cli.StringFlag{Name: "expires", Value: "never", Usage: "expiry: a `DURATION` (30d, 26w, 18m, 2y, 720h), a date YYYY-MM-DD, or never"},
					&cli.StringFlag{Name: "passphrase-file", Usage: "protect the secret key with the passphrase in `FILE` (first line)"},
					&cli.BoolFlag{Name: "no-passphrase", Usage: "do not protect the secret key (keep the file safe instead)"},
				},
				Action: runKeysGenerate,
			},
			{
				Name:      "import",
				Usage:     "import public keys (armoured or binary, one or many per file) into the workspace keyring",
				ArgsUsage: "FILE...",
				Description: "Adds the public part of every key in each FILE to the keyring folder " + keyringDir + "\n" +
					"beside the config, as <FINGERPRINT>.pub.asc. A key already there is replaced by the\n" +
					"imported copy unless that would drop its revocation. Keys that cannot be used as\n" +
					"recipients are imported with a warning. 'dsar export --recipient-key FINGERPRINT'\n" +
					"then encrypts to a keyring key.",
				Flags:  []cli.Flag{configFlag()},
				Action: runKeysImport,
			},
			{
				Name:      "list",
				Usage:     "list the controller key and the keyring's keys",
				ArgsUsage: " ",
				Flags:     []cli.Flag{configFlag(), &cli.BoolFlag{Name: "json", Usage: "print JSON"}},
				Action:    runKeysList,
			},
			{
				Name:      "export",
				Usage:     "print a key's armoured public key (keyring, controller or archive key)",
				ArgsUsage: "FINGERPRINT",
				Flags:     []cli.Flag{configFlag()},
				Action:    runKeysExport,
			},
		},
	}
}

func runKeysGenerate(c *cli.Context) error {
	if c.Args().Present() {
		return usageError("unexpected argument %q", c.Args().First())
	}
	uid, out := c.String("uid"), c.String("out")
	if uid == "" || out == "" {
		return usageError("--uid \"Name <email>\" and --out PREFIX are required")
	}
	if c.IsSet("passphrase-file") && c.Bool("no-passphrase") {
		return usageError("--passphrase-file and --no-passphrase contradict each other")
	}
	profile, err := profileFor(c, nil)
	if err != nil {
		return err
	}
	now := time.Now()
	expiry, err := parseExpiry(c.String("expires"), now)
	if err != nil {
		return err
	}
	var pass []byte
	switch {
	case c.Bool("no-passphrase"):
	case c.String("passphrase-file") != "":
		if pass, err = readPassphrase(c.String("passphrase-file")); err != nil {
			return err
		}
	case os.Getenv(keyPassphraseEnv) != "":
		pass = []byte(os.Getenv(keyPassphraseEnv))
	case isTerminal():
		if pass, err = promptNewPassphrase(c); err != nil {
			return err
		}
	}
	e, err := crypto.GenerateKeyWithOptions(uid, now, crypto.KeyOptions{Profile: profile, Expiry: expiry})
	if err != nil {
		return err
	}
	if len(pass) > 0 {
		if err := crypto.ProtectKey(e, pass, profile); err != nil {
			return err
		}
	}
	if err := crypto.WriteKeyPair(out, e); err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "%s.sec.asc\n%s.pub.asc\nfingerprint %s\n", out, out, crypto.Fingerprint(e))
	info := crypto.Describe(e, now)
	fmt.Fprintf(w, "profile %s (v%d %s/%s key), expires %s\n", profile, info.Version, info.Algorithm, info.EncryptionAlgorithm, dateOrNever(info.Expires))
	if len(pass) > 0 {
		fmt.Fprintf(w, "the secret key is protected by a passphrase\n")
	} else {
		fmt.Fprintf(w, "the secret key is NOT protected by a passphrase: keep %s.sec.asc private\n", out)
	}
	return nil
}

// profileFor returns the --profile flag's profile, else the config's
// (cfg, or the config file if it exists), else the default.
func profileFor(c *cli.Context, cfg *config.Config) (crypto.Profile, error) {
	if v := c.String("profile"); v != "" {
		p, err := crypto.ParseProfile(v)
		if err != nil {
			return "", usageError("--profile %q: want rfc4880 or rfc9580", v)
		}
		return p, nil
	}
	if cfg == nil {
		if _, err := os.Stat(configPath(c)); err == nil {
			if cfg, err = config.Load(configPath(c)); err != nil {
				return "", err
			}
		}
	}
	if cfg == nil {
		return crypto.DefaultProfile, nil
	}
	p, err := crypto.ParseProfile(cfg.Profile)
	if err != nil {
		return "", fmt.Errorf("config %q: profile %q: want rfc4880 or rfc9580", cfg.Path, cfg.Profile)
	}
	return p, nil
}

var expiryRE = regexp.MustCompile(`^([0-9]+)([dwmy])$`)

// parseExpiry reads --expires: "never", a Go duration, N followed by d,
// w, m (months) or y, or a date (the key is valid to the end of that day,
// UTC).
func parseExpiry(v string, now time.Time) (time.Duration, error) {
	v = strings.TrimSpace(strings.ToLower(v))
	bad := func() error {
		return usageError("--expires %q: want a duration (30d, 26w, 18m, 2y, 720h), a date YYYY-MM-DD, or never", v)
	}
	var until time.Time
	switch m := expiryRE.FindStringSubmatch(v); {
	case v == "" || v == "never" || v == "none" || v == "0":
		return 0, nil
	case m != nil:
		n, err := strconv.Atoi(m[1])
		if err != nil || n == 0 || n > 100*366 {
			return 0, bad()
		}
		switch m[2] {
		case "d":
			until = now.AddDate(0, 0, n)
		case "w":
			until = now.AddDate(0, 0, 7*n)
		case "m":
			until = now.AddDate(0, n, 0)
		case "y":
			until = now.AddDate(n, 0, 0)
		}
	default:
		if d, err := time.ParseDuration(v); err == nil {
			if d <= 0 {
				return 0, bad()
			}
			until = now.Add(d)
		} else if t, err := time.Parse(time.DateOnly, v); err == nil {
			until = t.Add(24*time.Hour - time.Second)
		} else {
			return 0, bad()
		}
	}
	if !until.After(now) {
		return 0, usageError("--expires %q is in the past", v)
	}
	return until.Sub(now).Truncate(time.Second), nil
}

func dateOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.DateOnly)
}

func isTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

// promptNewPassphrase asks twice for a passphrase for a new key; empty
// means none.
func promptNewPassphrase(c *cli.Context) ([]byte, error) {
	ew := c.App.ErrWriter
	fmt.Fprint(ew, "Passphrase to protect the new secret key (empty for none): ")
	p1, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(ew)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if len(p1) == 0 {
		return nil, nil
	}
	fmt.Fprint(ew, "Repeat the passphrase: ")
	p2, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(ew)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if !bytes.Equal(p1, p2) {
		return nil, errors.New("the two passphrases differ; nothing was written")
	}
	return p1, nil
}

// keyUnlocker says where a command finds the passphrase of a protected
// secret key.
type keyUnlocker struct {
	c        *cli.Context
	file     string // a --key-passphrase-file, if the command has one
	fileFlag string // its flag name, for hints; "" if none
	pass     []byte // the passphrase, once read
}

// unlock opens every locked secret key in keys with the passphrase from
// the file, else $DSAR_KEY_PASSPHRASE, else a prompt on a terminal. what
// names the keys for messages ("recipient key", "controller key").
func (u *keyUnlocker) unlock(keys openpgp.EntityList, what, path string) error {
	for _, e := range keys {
		if !crypto.IsLocked(e) {
			continue
		}
		fp := crypto.Fingerprint(e)
		if u.pass == nil {
			var err error
			switch {
			case u.file != "":
				if u.pass, err = readPassphrase(u.file); err != nil {
					return err
				}
			case os.Getenv(keyPassphraseEnv) != "":
				u.pass = []byte(os.Getenv(keyPassphraseEnv))
			case isTerminal():
				fmt.Fprintf(u.c.App.ErrWriter, "Passphrase for the %s %s (%s): ", what, fp, path)
				u.pass, err = term.ReadPassword(int(os.Stdin.Fd()))
				fmt.Fprintln(u.c.App.ErrWriter)
				if err != nil {
					return fmt.Errorf("read passphrase: %w", err)
				}
			default:
				hint := "set " + keyPassphraseEnv + " or run dsar on a terminal to be asked for it"
				if u.fileFlag != "" {
					hint = "pass --" + u.fileFlag + " FILE, " + hint
				}
				return withHint(fmt.Errorf("%s %s in %q is protected by a passphrase", what, fp, path), exitError, hint)
			}
		}
		if err := crypto.UnlockKey(e, u.pass); err != nil {
			return fmt.Errorf("%s in %q: %w", what, path, err)
		}
	}
	return nil
}

// keyring is the workspace's folder of imported public keys.
type keyring struct {
	dir string
	cfg *config.Config
}

func openKeyring(c *cli.Context) (*keyring, error) {
	cfg, err := config.Load(configPath(c))
	if err != nil {
		return nil, err
	}
	return &keyring{dir: filepath.Join(cfg.Dir, filepath.FromSlash(keyringDir)), cfg: cfg}, nil
}

func (k *keyring) path(fpr string) string { return filepath.Join(k.dir, fpr+".pub.asc") }

// keyringEntry is a key found in the workspace.
type keyringEntry struct {
	role string // "controller", "archive" or "recipient"
	file string
	key  *openpgp.Entity
}

// all returns the controller key, the archive key and the keyring's keys,
// in that order; keys that cannot be read are reported as errors.
func (k *keyring) all() ([]keyringEntry, error) {
	var out []keyringEntry
	for _, ck := range []struct{ role, path string }{{"controller", k.cfg.SigningKey}, {"archive", k.cfg.ArchiveKey}} {
		if ck.path == "" {
			continue
		}
		p := k.cfg.Resolve(ck.path)
		ks, err := crypto.ReadKeys(p)
		if err != nil {
			return nil, fmt.Errorf("config %q: %s key: %w", k.cfg.Path, ck.role, err)
		}
		for _, e := range ks {
			out = append(out, keyringEntry{ck.role, p, e})
		}
	}
	ents, err := os.ReadDir(k.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	for _, ent := range ents {
		if ent.IsDir() || !strings.HasSuffix(ent.Name(), ".pub.asc") {
			continue
		}
		p := filepath.Join(k.dir, ent.Name())
		ks, err := crypto.ReadKeys(p)
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		for _, e := range ks {
			out = append(out, keyringEntry{"recipient", p, e})
		}
	}
	return out, nil
}

var fingerprintRE = regexp.MustCompile(`^(?:0[xX])?[0-9A-Fa-f]{16,64}$`)

// normalFingerprint returns s without spaces, upper-case, if it looks
// like a fingerprint or a 16-digit key ID.
func normalFingerprint(s string) (string, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if !fingerprintRE.MatchString(s) {
		return "", false
	}
	s = strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	return s, len(s) == 16 || len(s) == 40 || len(s) == 64
}

// find returns the key whose fingerprint is fpr, or ends with it (a key
// ID); ambiguity is an error.
func (k *keyring) find(fpr string) (*keyringEntry, error) {
	entries, err := k.all()
	if err != nil {
		return nil, err
	}
	var found []keyringEntry
	seen := map[string]bool{}
	for _, e := range entries {
		full := crypto.Fingerprint(e.key)
		// A key ID is the end of a v4 fingerprint, the start of a v6 one.
		keyID := full[:16]
		if len(full) == 40 {
			keyID = full[24:]
		}
		if (fpr == full || fpr == keyID) && !seen[full] {
			seen[full] = true
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		return nil, withHint(fmt.Errorf("no key %s in the workspace keyring %q", fpr, k.dir), exitError,
			"import the recipient's public key first: dsar keys import FILE ('dsar keys list' shows the keyring)")
	case 1:
		return &found[0], nil
	}
	return nil, withHint(fmt.Errorf("key ID %s matches %d keys", fpr, len(found)), exitUsage, "give the whole fingerprint")
}

// readKeysArg reads the keys named by a flag value: a file, or else the
// fingerprint of a workspace key.
func readKeysArg(c *cli.Context, flag, v string) (openpgp.EntityList, error) {
	if _, err := os.Stat(v); err == nil {
		return crypto.ReadKeys(v)
	}
	fpr, ok := normalFingerprint(v)
	if !ok {
		return nil, usageError("--%s %q: no such file, and not a key fingerprint", flag, v)
	}
	kr, err := openKeyring(c)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: no such file; looking it up in the workspace keyring: %w", flag, v, err)
	}
	e, err := kr.find(fpr)
	if err != nil {
		return nil, err
	}
	return openpgp.EntityList{e.key}, nil
}

func runKeysImport(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageError("missing FILE argument: the public key file(s) to import")
	}
	kr, err := openKeyring(c)
	if err != nil {
		return err
	}
	// Read everything first, so a bad file imports nothing.
	type imported struct {
		file string
		key  *openpgp.Entity
	}
	var keys []imported
	for _, f := range c.Args().Slice() {
		ks, err := crypto.ReadKeys(f)
		if err != nil {
			return err
		}
		for _, e := range ks {
			keys = append(keys, imported{f, e})
		}
	}
	if err := os.MkdirAll(kr.dir, 0o750); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	now := time.Now()
	w := c.App.Writer
	for _, im := range keys {
		e, fp := im.key, crypto.Fingerprint(im.key)
		data, err := crypto.ArmoredPublicKey(e)
		if err != nil {
			return err
		}
		verb := "imported"
		dst := kr.path(fp)
		if old, err := os.ReadFile(dst); err == nil {
			switch oldKeys, rerr := crypto.ReadKeysFrom(bytes.NewReader(old)); {
			case bytes.Equal(old, data):
				verb = "unchanged"
			case rerr == nil && len(oldKeys) == 1 && oldKeys[0].Revoked(now) && !e.Revoked(now):
				fmt.Fprintf(c.App.ErrWriter, "dsar: warning: key %s: the keyring's copy is revoked and %s's is not; keeping the revoked copy\n", fp, im.file)
				verb = "kept (revoked)"
			default:
				verb = "updated"
			}
		}
		if verb == "imported" || verb == "updated" {
			if err := replaceFile(dst, data, 0o644); err != nil {
				return fmt.Errorf("keyring: %w", err)
			}
		}
		uid := ""
		if id := e.PrimaryIdentity(); id != nil {
			uid = " " + id.Name
		}
		fmt.Fprintf(w, "%s %s%s\n", verb, fp, uid)
		if e.PrivateKey != nil {
			fmt.Fprintf(c.App.ErrWriter, "dsar: note: %s holds the secret key of %s; only the public key was imported\n", im.file, fp)
		}
		if err := crypto.CheckRecipient(e, now); err != nil {
			var ke *crypto.KeyError
			if errors.As(err, &ke) {
				fmt.Fprintf(c.App.ErrWriter, "dsar: warning: key %s cannot be used as a recipient: it %s; %s\n", fp, ke.Problem, ke.Advice)
			} else {
				fmt.Fprintf(c.App.ErrWriter, "dsar: warning: key %s cannot be used as a recipient: %v\n", fp, err)
			}
		}
	}
	return nil
}

// replaceFile writes data to path through a temporary file and a rename.
func replaceFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

type keyListEntry struct {
	Role string `json:"role"`
	File string `json:"file"`
	crypto.KeyInfo
}

func runKeysList(c *cli.Context) error {
	if c.Args().Present() {
		return usageError("unexpected argument %q", c.Args().First())
	}
	kr, err := openKeyring(c)
	if err != nil {
		return err
	}
	entries, err := kr.all()
	if err != nil {
		return err
	}
	now := time.Now()
	list := []keyListEntry{}
	for _, e := range entries {
		list = append(list, keyListEntry{Role: e.role, File: e.file, KeyInfo: crypto.Describe(e.key, now)})
	}
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "no keys: the config names no signing_key and the keyring is empty")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tFINGERPRINT\tALGORITHM\tCREATED\tEXPIRES\tUSE\tUSER ID")
	for _, k := range list {
		alg := k.Algorithm
		if k.EncryptionAlgorithm != "" && k.EncryptionAlgorithm != k.Algorithm {
			alg += "/" + k.EncryptionAlgorithm
		}
		var use []string
		if k.CanSign {
			use = append(use, "sign")
		}
		if k.CanEncrypt {
			use = append(use, "encrypt")
		}
		if len(use) == 0 {
			use = append(use, "-")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Role, k.Fingerprint, alg, k.Created.Format(time.DateOnly), dateOrNever(k.Expires), strings.Join(use, ","), k.UserID)
		if k.Problem != "" {
			fmt.Fprintf(tw, "\t  not usable as a recipient: it %s\n", k.Problem)
		}
	}
	return tw.Flush()
}

func runKeysExport(c *cli.Context) error {
	arg, err := oneArg(c, "FINGERPRINT")
	if err != nil {
		return err
	}
	fpr, ok := normalFingerprint(arg)
	if !ok {
		return usageError("%q is not a fingerprint (40 or 64 hexadecimal digits) or a 16-digit key ID", arg)
	}
	kr, err := openKeyring(c)
	if err != nil {
		return err
	}
	e, err := kr.find(fpr)
	if err != nil {
		return err
	}
	data, err := crypto.ArmoredPublicKey(e.key)
	if err != nil {
		return err
	}
	_, err = c.App.Writer.Write(data)
	return err
}
