package crypto

import (
	"bufio"
	"bytes"
	stdcrypto "crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
)

// KeyOptions tunes [GenerateKeyWithOptions].
type KeyOptions struct {
	// Profile chooses a v4 (rfc4880, the default) or a v6 (rfc9580) key.
	Profile Profile
	// Expiry is how long after creation the key expires. Zero means the
	// key never expires.
	Expiry time.Duration
}

// GenerateKey returns a new v4 OpenPGP key with the single user ID uid,
// which has the form "Name <email>", "Name (comment) <email>", "Name" or
// "email". The key never expires. See [GenerateKeyWithOptions].
func GenerateKey(uid string, now time.Time) (*openpgp.Entity, error) {
	return GenerateKeyWithOptions(uid, now, KeyOptions{})
}

// GenerateKeyWithOptions returns a new OpenPGP key with the single user ID
// uid, created at now (time.Now if zero).
//
// With the rfc4880 profile it is a v4 key: the primary key is Ed25519
// (EdDSA) for certification and signing, the subkey Cv25519 (ECDH) for
// encryption. The self-signature advertises AES-256 then AES-128, SHA-256
// then SHA-512, no compression, and the SEIPD v1 feature, so senders,
// including GnuPG, encrypt to it with AES-256 and without compression.
//
// With the rfc9580 profile it is a v6 key: Ed25519 and X25519 (the RFC
// 9580 algorithms), with the same preferences in a direct-key
// self-signature, plus the SEIPD v2 feature and the AEAD cipher suites
// AES-256 with OCB or GCM, then AES-128 with OCB or GCM. GnuPG 2.2 and
// Sequoia 0.27 cannot read v6 keys (see [Profile]).
//
// The private key is not protected by a passphrase; see [ProtectKey].
func GenerateKeyWithOptions(uid string, now time.Time, opt KeyOptions) (*openpgp.Entity, error) {
	name, comment, email, err := parseUserID(uid)
	if err != nil {
		return nil, err
	}
	if now.IsZero() {
		now = time.Now()
	}
	if opt.Expiry < 0 || opt.Expiry/time.Second > 1<<32-1 {
		return nil, fmt.Errorf("crypto: key expiry %v out of range", opt.Expiry)
	}
	if opt.Expiry > 0 && opt.Expiry < time.Second {
		return nil, fmt.Errorf("crypto: key expiry %v is shorter than a second", opt.Expiry)
	}
	if _, err := ParseProfile(string(opt.Profile)); err != nil {
		return nil, err
	}
	cfg := &packet.Config{
		Algorithm:              packet.PubKeyAlgoEdDSA,
		Curve:                  packet.Curve25519,
		DefaultHash:            stdcrypto.SHA256,
		DefaultCipher:          packet.CipherAES256,
		DefaultCompressionAlgo: packet.CompressionNone,
		KeyLifetimeSecs:        uint32(opt.Expiry / time.Second),
		Time:                   func() time.Time { return now },
	}
	if opt.Profile.v6() {
		cfg.Algorithm, cfg.Curve = packet.PubKeyAlgoEd25519, ""
		cfg.V6Keys = true
		cfg.AEADConfig = &packet.AEADConfig{DefaultMode: packet.AEADModeOCB}
	}
	e, err := openpgp.NewEntity(name, comment, email, cfg)
	if err != nil {
		return nil, fmt.Errorf("crypto: generate key for %q: %w", uid, err)
	}
	// NewEntity advertises only the configured hash (SHA-256); add SHA-512
	// (and GCM for v6) and re-sign so the preferences are covered.
	setPrefs := func(sig *packet.Signature) {
		sig.PreferredSymmetric = []uint8{uint8(packet.CipherAES256), uint8(packet.CipherAES128)}
		sig.PreferredHash = []uint8{hashID(stdcrypto.SHA256), hashID(stdcrypto.SHA512)}
		sig.PreferredCompression = []uint8{uint8(packet.CompressionNone)}
		sig.SEIPDv1 = true
		if opt.Profile.v6() {
			sig.SEIPDv2 = true
			sig.PreferredCipherSuites = preferredSuites
		}
	}
	if opt.Profile.v6() {
		// A v6 key keeps its preferences and expiry in the direct-key
		// self-signature (also listed in e.Signatures).
		setPrefs(e.SelfSignature)
		if err := e.SelfSignature.SignDirectKeyBinding(e.PrimaryKey, e.PrivateKey, cfg); err != nil {
			return nil, fmt.Errorf("crypto: sign key %q: %w", uid, err)
		}
		return e, nil
	}
	for id, ident := range e.Identities {
		setPrefs(ident.SelfSignature)
		if err := ident.SelfSignature.SignUserId(id, e.PrimaryKey, e.PrivateKey, cfg); err != nil {
			return nil, fmt.Errorf("crypto: sign user ID %q: %w", uid, err)
		}
	}
	return e, nil
}

// preferredSuites are the AEAD cipher suites v6 keys advertise and Seal
// prefers, best first.
var preferredSuites = [][2]uint8{
	{uint8(packet.CipherAES256), uint8(packet.AEADModeOCB)},
	{uint8(packet.CipherAES256), uint8(packet.AEADModeGCM)},
	{uint8(packet.CipherAES128), uint8(packet.AEADModeOCB)},
	{uint8(packet.CipherAES128), uint8(packet.AEADModeGCM)},
}

// argon2Params are the Argon2 parameters of ProtectKey and Seal; nil
// means go-crypto's defaults, the second recommendation of RFC 9106: 3
// passes, 4 lanes, 64 MiB. Tests lower them to save time.
var argon2Params *s2k.Argon2Config

// ErrKeyPassphrase means a passphrase does not unlock a secret key.
var ErrKeyPassphrase = errors.New("crypto: wrong passphrase for the secret key")

// ProtectKey encrypts e's secret key material with passphrase, in place.
// With the rfc4880 profile (and a v4 key) it uses the iterated and salted
// S2K (SHA-256, 65011712 octets) and AES-256 with a SHA-1 check, which
// GnuPG 2.2 and Sequoia 0.27 read; with the rfc9580 profile, or for a v6
// key, Argon2 (3 passes, 4 lanes, 64 MiB) and AES-256-OCB, which they do
// not. A key that is already protected is an error.
func ProtectKey(e *openpgp.Entity, passphrase []byte, p Profile) error {
	fp := Fingerprint(e)
	switch {
	case len(passphrase) == 0:
		return fmt.Errorf("crypto: protect key %s: empty passphrase", fp)
	case e.PrivateKey == nil:
		return fmt.Errorf("crypto: protect key %s: no secret key", fp)
	case IsLocked(e):
		return fmt.Errorf("crypto: protect key %s: already protected by a passphrase", fp)
	}
	if _, err := ParseProfile(string(p)); err != nil {
		return err
	}
	cfg := &packet.Config{
		DefaultCipher: packet.CipherAES256,
		S2KConfig:     &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, Hash: stdcrypto.SHA256, S2KCount: maxS2KCount},
	}
	if p.v6() || e.PrimaryKey.Version == 6 {
		cfg.S2KConfig = &s2k.Config{S2KMode: s2k.Argon2S2K, Argon2Config: argon2Params}
		cfg.AEADConfig = &packet.AEADConfig{DefaultMode: packet.AEADModeOCB}
	}
	if err := e.EncryptPrivateKeys(passphrase, cfg); err != nil {
		return fmt.Errorf("crypto: protect key %s: %w", fp, err)
	}
	return nil
}

// UnlockKey decrypts e's secret key material with passphrase, in place,
// so that it can sign or decrypt. A key that is not locked is left as it
// is. A wrong passphrase gives an error wrapping [ErrKeyPassphrase].
func UnlockKey(e *openpgp.Entity, passphrase []byte) error {
	if !IsLocked(e) {
		return nil
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		return fmt.Errorf("%w %s", ErrKeyPassphrase, Fingerprint(e))
	}
	return nil
}

// IsLocked reports whether some of e's secret key material is protected
// by a passphrase (and not unlocked).
func IsLocked(e *openpgp.Entity) bool {
	if e.PrivateKey != nil && !e.PrivateKey.Dummy() && e.PrivateKey.Encrypted {
		return true
	}
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil && !sk.PrivateKey.Dummy() && sk.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}

// hashID returns the OpenPGP identifier of h (RFC 4880, 9.4).
func hashID(h stdcrypto.Hash) uint8 {
	switch h {
	case stdcrypto.SHA256:
		return 8
	case stdcrypto.SHA384:
		return 9
	case stdcrypto.SHA512:
		return 10
	}
	panic("crypto: hashID: unexpected hash " + h.String())
}

var userIDRE = regexp.MustCompile(`^([^()<>]*?)\s*(?:\(([^()<>]*)\)\s*)?(?:<([^<>\s]+)>)?$`)

// parseUserID splits "Name (comment) <email>" into its parts. A bare
// address ("a@example.org") is taken as the email.
func parseUserID(uid string) (name, comment, email string, err error) {
	s := strings.TrimSpace(uid)
	if s == "" {
		return "", "", "", errors.New("crypto: empty user ID")
	}
	if strings.ContainsRune(s, 0) || strings.ContainsAny(s, "\r\n") {
		return "", "", "", fmt.Errorf("crypto: invalid user ID %q", uid)
	}
	if !strings.ContainsAny(s, " <>()") && strings.Contains(s, "@") {
		return "", "", s, nil
	}
	m := userIDRE.FindStringSubmatch(s)
	if m == nil {
		return "", "", "", fmt.Errorf("crypto: invalid user ID %q (want \"Name <email>\")", uid)
	}
	name, comment, email = m[1], m[2], m[3]
	if email != "" && !strings.Contains(email, "@") {
		return "", "", "", fmt.Errorf("crypto: invalid email address in user ID %q", uid)
	}
	return name, comment, email, nil
}

// Fingerprint returns the fingerprint of e's primary key in upper-case
// hexadecimal, as GnuPG prints it (40 digits for a v4 key, 64 for v6).
func Fingerprint(e *openpgp.Entity) string {
	if e == nil || e.PrimaryKey == nil {
		return ""
	}
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// keyID formats a 64-bit key ID as GnuPG prints it.
func keyID(id uint64) string { return fmt.Sprintf("%016X", id) }

// WriteKeyPair writes e's armoured private key to prefix+".sec.asc" (mode
// 0600) and its armoured public key to prefix+".pub.asc" (mode 0644). A
// key protected with [ProtectKey] is written protected.
//
// Each file is written to a temporary file in the same directory, synced
// and then linked into place, so readers never see a partial key. Existing
// files are never overwritten: if either file exists, WriteKeyPair fails
// naming it and writes nothing. On any error no file is left behind.
func WriteKeyPair(prefix string, e *openpgp.Entity) error {
	if e == nil || e.PrivateKey == nil {
		return errors.New("crypto: write key pair: no private key")
	}
	secPath, pubPath := prefix+".sec.asc", prefix+".pub.asc"
	for _, p := range []string{secPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("crypto: refusing to overwrite existing file %q", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("crypto: %w", err)
		}
	}

	var sec, pub bytes.Buffer
	if err := armored(&sec, openpgp.PrivateKeyType, func(w io.Writer) error {
		return e.SerializePrivateWithoutSigning(w, nil)
	}); err != nil {
		return fmt.Errorf("crypto: serialise private key %s: %w", Fingerprint(e), err)
	}
	if err := armored(&pub, openpgp.PublicKeyType, e.Serialize); err != nil {
		return fmt.Errorf("crypto: serialise public key %s: %w", Fingerprint(e), err)
	}

	if err := writeNewFile(secPath, sec.Bytes(), 0o600); err != nil {
		return err
	}
	if err := writeNewFile(pubPath, pub.Bytes(), 0o644); err != nil {
		os.Remove(secPath)
		return err
	}
	return nil
}

// ArmoredPublicKey returns e's public key (no secret material), ASCII
// armoured and ending in a line break.
func ArmoredPublicKey(e *openpgp.Entity) ([]byte, error) {
	var buf bytes.Buffer
	if err := armored(&buf, openpgp.PublicKeyType, e.Serialize); err != nil {
		return nil, fmt.Errorf("crypto: serialise public key %s: %w", Fingerprint(e), err)
	}
	return buf.Bytes(), nil
}

func armored(w io.Writer, blockType string, write func(io.Writer) error) error {
	aw, err := armor.Encode(w, blockType, nil)
	if err != nil {
		return err
	}
	if err := write(aw); err != nil {
		return err
	}
	if err := aw.Close(); err != nil {
		return err
	}
	// go-crypto ends the armour without a line break; add one so that
	// files can be concatenated (cat a.pub.asc b.pub.asc).
	_, err = io.WriteString(w, "\n")
	return err
}

// writeNewFile atomically creates path with data and mode, failing if path
// exists. It writes a temporary file in the same directory, syncs it, and
// hard-links it into place (link fails if the target exists, unlike
// rename); where hard links are not supported it falls back to a rename
// after a final existence check.
func writeNewFile(path string, data []byte, mode os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("crypto: create %q: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		os.Remove(tmp)
	}()
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("crypto: write %q: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("crypto: write %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("crypto: write %q: %w", path, err)
	}
	cerr := f.Close()
	f = nil
	if cerr != nil {
		return fmt.Errorf("crypto: write %q: %w", path, cerr)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("crypto: refusing to overwrite existing file %q", path)
		}
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("crypto: refusing to overwrite existing file %q", path)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("crypto: write %q: %w", path, err)
		}
	}
	syncDir(dir)
	return nil
}

// syncDir makes a new directory entry durable; errors are ignored because
// some platforms cannot sync directories.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// ReadKeys reads one or more OpenPGP keys (public or private, armoured or
// binary, several armoured blocks may be concatenated) from the file at
// path. Errors name the file.
func ReadKeys(path string) (openpgp.EntityList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("crypto: read keys: %w", err)
	}
	defer f.Close()
	el, err := readKeys(f)
	if err != nil {
		return nil, fmt.Errorf("crypto: read keys from %q: %w", path, err)
	}
	return el, nil
}

// ReadKeysFrom is like [ReadKeys] but reads from r.
func ReadKeysFrom(r io.Reader) (openpgp.EntityList, error) {
	el, err := readKeys(r)
	if err != nil {
		return nil, fmt.Errorf("crypto: read keys: %w", err)
	}
	return el, nil
}

func readKeys(r io.Reader) (openpgp.EntityList, error) {
	br := bufio.NewReaderSize(r, 4096)
	isArmored, err := peekArmored(br)
	if err != nil {
		return nil, err
	}
	if !isArmored {
		el, err := openpgp.ReadKeyRing(br)
		if err != nil {
			return nil, err
		}
		if len(el) == 0 {
			return nil, errors.New("no OpenPGP key found")
		}
		return el, nil
	}
	var all openpgp.EntityList
	for {
		// armor.Decode reuses br as its buffered reader (it is large
		// enough), so consecutive blocks can be read from one stream.
		block, err := armor.Decode(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch block.Type {
		case openpgp.PublicKeyType, openpgp.PrivateKeyType:
		default:
			return nil, fmt.Errorf("expected an OpenPGP key block, got %q", block.Type)
		}
		el, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return nil, err
		}
		all = append(all, el...)
	}
	if len(all) == 0 {
		return nil, errors.New("no OpenPGP key found")
	}
	return all, nil
}

// peekArmored reports whether br starts (after white space) with ASCII
// armour rather than a binary OpenPGP packet, whose first octet always has
// the high bit set.
func peekArmored(br *bufio.Reader) (bool, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if err == io.EOF || err == nil {
				return false, errors.New("empty input")
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				return true, nil // long run of white space: let armor decide
			}
			return false, err
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n':
			continue
		default:
			return c&0x80 == 0, nil
		}
	}
}
