package crypto

import (
	"bufio"
	stdcrypto "crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Errors returned by [Open]. They are wrapped with details; test for them
// with errors.Is.
var (
	// ErrNoKey means that none of the given keys, nor the passphrase,
	// opens the message (or the passphrase is wrong).
	ErrNoKey = errors.New("crypto: no given key or passphrase opens the message")
	// ErrNotEncrypted means the input is an OpenPGP message but not an
	// encrypted one.
	ErrNotEncrypted = errors.New("crypto: message is not encrypted")
	// ErrNotSigned means the message carries no signature (and
	// OpenOptions.NoVerify was not set).
	ErrNotSigned = errors.New("crypto: message is not signed")
	// ErrWrongSigner means the message is signed by a key that is not
	// among OpenOptions.Signers; the error is a *SignerError.
	ErrWrongSigner = errors.New("crypto: message is not signed by a trusted signer")
	// ErrBadSignature means the signature by a trusted signer does not
	// verify: the content was changed, or the signing key is expired or
	// revoked, or the signature uses a weak hash.
	ErrBadSignature = errors.New("crypto: bad signature")
	// ErrCorrupt means the input is not a well-formed OpenPGP message, is
	// truncated, or fails its integrity check (it was modified).
	ErrCorrupt = errors.New("crypto: message is corrupt or was modified")
)

// SignerError reports a message signed by an untrusted key. It matches
// ErrWrongSigner with errors.Is.
type SignerError struct {
	// KeyID is the 64-bit ID of the signing key (the last 16 hex digits
	// of its fingerprint, or of its signing subkey's).
	KeyID string
	// Fingerprint is the signing key's fingerprint as given in the
	// signature (the signing subkey's, if a subkey signed), or "" if the
	// signature does not say.
	Fingerprint string
}

func (e *SignerError) Error() string {
	if e.Fingerprint != "" {
		return "crypto: message is signed by key " + e.Fingerprint + ", which is not a trusted signer"
	}
	return "crypto: message is signed by key ID " + e.KeyID + ", which is not a trusted signer"
}

// Is reports whether target is ErrWrongSigner.
func (e *SignerError) Is(target error) bool { return target == ErrWrongSigner }

// OpenOptions holds the keys that may open and verify a message.
type OpenOptions struct {
	// Keys are private keys to try for decryption. Locked ones must be
	// unlocked first ([UnlockKey]). May be empty.
	Keys openpgp.EntityList
	// Passphrase, if not empty, is tried on the message's passphrase
	// packets.
	Passphrase []byte
	// Signers are the public keys trusted to sign the message.
	Signers openpgp.EntityList
	// NoVerify accepts unsigned messages and messages signed by keys not
	// in Signers. A message signed by one of Signers is still verified,
	// and a bad signature is still an error.
	NoVerify bool
	// Now returns the time at which signing keys must be valid (not
	// expired or revoked). Nil means time.Now.
	Now func() time.Time
}

// Opened describes an opened message.
type Opened struct {
	// Verified is true if the signature was checked against a key in
	// OpenOptions.Signers and is good. It is false only with NoVerify.
	Verified bool
	// SignerFingerprint is the primary key fingerprint of the verified
	// signer, or "" if not verified.
	SignerFingerprint string
	// SignerKeyID is the key ID of the signing key named in the message,
	// whether or not it was verified; "" if unsigned.
	SignerKeyID string
	// SignedAt is the signature's creation time (zero if not verified).
	SignedAt time.Time
	// Hash is the signature's hash, e.g. "SHA-256" ("" if not verified).
	Hash string
	// Cipher is the message cipher: "AES-256", or "AES-256-OCB" and the
	// like for SEIPD v2.
	Cipher string
	// KeyFingerprint is the primary key fingerprint of the key in
	// OpenOptions.Keys that opened the message, or "" if the passphrase
	// did.
	KeyFingerprint string
	// Passphrase is true if the passphrase opened the message.
	Passphrase bool
	// FileName and ModTime are the literal data packet's file name and
	// time (zero if unset). They are not covered by a v4 signature.
	FileName string
	ModTime  time.Time
	// Size is the number of plaintext bytes written to dst.
	Size int64
}

// Open decrypts the OpenPGP message read from src (binary or ASCII
// armoured), writes the plaintext to dst, and checks the signature.
//
// The plaintext is streamed: dst receives it before the integrity check
// and the signature, which can only be checked at the end, have been
// verified. If Open returns an error, whatever was written to dst must be
// discarded; the caller should write to a private scratch file and keep it
// only when Open returns nil. Open fails before writing anything if no key
// opens the message, if it is unsigned, or if it is signed by a key not in
// opt.Signers (unless opt.NoVerify); in the last two cases it decrypts the
// whole message first (discarding the plaintext) so that a damaged
// message is reported as corrupt rather than as unsigned. Data after the
// end of the message (inside the armour, if armoured) makes it corrupt.
//
// Errors wrap ErrNoKey, ErrNotEncrypted, ErrNotSigned, ErrWrongSigner
// (a *SignerError), ErrBadSignature or ErrCorrupt, except errors writing
// to dst, which are returned wrapped as they are.
func Open(dst io.Writer, src io.Reader, opt OpenOptions) (*Opened, error) {
	// An error reading src shows up further on in many guises (truncated
	// packet, bad integrity check); report it as what it is.
	in := &errReader{r: src}
	res, err := openMessage(dst, in, opt)
	if err != nil && in.err != nil {
		return nil, fmt.Errorf("crypto: read message: %w", in.err)
	}
	return res, err
}

func openMessage(dst io.Writer, src io.Reader, opt OpenOptions) (*Opened, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	cfg := &packet.Config{Time: now}

	in, err := dearmor(src)
	if err != nil {
		return nil, err
	}
	res := &Opened{}
	plain, err := decrypt(in, opt, cfg, res)
	if err != nil {
		return nil, err
	}

	// Parse the signed message inside. ReadMessage sees a plain signed
	// message and looks signers up in opt.Signers only.
	md, err := openpgp.ReadMessage(plain, opt.Signers, nil, cfg)
	if err != nil {
		if res.Passphrase {
			// A wrong passphrase can yield a plausible session key
			// (always so for a passphrase packet without an encrypted
			// session key, as GnuPG writes); the garbage shows here.
			return nil, fmt.Errorf("%w (or the message is corrupt): %v", ErrNoKey, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if md.IsSigned {
		res.SignerKeyID = keyID(md.SignedByKeyId)
	}
	if md.IsSigned && md.SignedBy != nil && md.SignatureError != nil {
		// Set before reading if the hash is unsupported.
		return nil, fmt.Errorf("%w by %s: %w", ErrBadSignature, Fingerprint(md.SignedBy.Entity), md.SignatureError)
	}
	if !opt.NoVerify && (!md.IsSigned || md.SignedBy == nil) {
		// Refuse without writing plaintext. Decrypt the rest first, so
		// that a message that only looks unsigned because it was
		// damaged is reported as corrupt, and to find the signer's
		// fingerprint in the signature packet.
		if _, err := io.Copy(io.Discard, md.UnverifiedBody); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if err := plain.Close(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if !md.IsSigned {
			return nil, ErrNotSigned
		}
		se := &SignerError{KeyID: res.SignerKeyID}
		for _, sig := range md.UnverifiedSignatures {
			if sig.IssuerKeyId != nil && *sig.IssuerKeyId == md.SignedByKeyId && len(sig.IssuerFingerprint) > 0 {
				se.Fingerprint = strings.ToUpper(hex.EncodeToString(sig.IssuerFingerprint))
			}
		}
		return nil, se
	}
	if lit := md.LiteralData; lit != nil {
		res.FileName = lit.FileName
		if lit.Time != 0 {
			res.ModTime = time.Unix(int64(lit.Time), 0)
		}
	}

	body := &errReader{r: md.UnverifiedBody}
	res.Size, err = io.Copy(dst, body)
	if err != nil {
		if body.err == nil {
			return nil, fmt.Errorf("crypto: write plaintext: %w", err)
		}
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	// Reading to EOF checked the signature; closing checks the MDC (or the
	// final AEAD tag) after draining the encrypted packet.
	if err := plain.Close(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	// Nothing may follow the encrypted packet: appended data is not part
	// of what was signed, and a message that was changed is refused.
	var one [1]byte
	if n, err := io.ReadAtLeast(in, one[:], 1); n > 0 {
		return nil, fmt.Errorf("%w: data after the end of the message", ErrCorrupt)
	} else if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if md.SignedBy != nil {
		fp := Fingerprint(md.SignedBy.Entity)
		if md.SignatureError != nil {
			return nil, fmt.Errorf("%w by %s: %w", ErrBadSignature, fp, md.SignatureError)
		}
		if md.Signature == nil {
			return nil, fmt.Errorf("%w by %s: no signature packet", ErrBadSignature, fp)
		}
		switch md.Signature.Hash {
		case stdcrypto.MD5, stdcrypto.SHA1, stdcrypto.RIPEMD160:
			return nil, fmt.Errorf("%w by %s: weak hash %v", ErrBadSignature, fp, md.Signature.Hash)
		}
		res.Verified = true
		res.SignerFingerprint = fp
		res.SignedAt = md.Signature.CreationTime
		res.Hash = md.Signature.Hash.String()
	}
	return res, nil
}

// errReader remembers the last error other than io.EOF of the reader it
// wraps, so that Open can tell read errors from write errors.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// dearmor returns a reader of the binary message in src, decoding ASCII
// armour if src starts with it.
func dearmor(src io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(src, 64<<10)
	isArmored, err := peekArmored(br)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if !isArmored {
		return br, nil
	}
	block, err := armor.Decode(br)
	if err != nil {
		return nil, fmt.Errorf("%w: bad ASCII armour: %v", ErrCorrupt, err)
	}
	if block.Type != openpgp.MessageType {
		return nil, fmt.Errorf("%w: expected an armoured %q, got %q", ErrCorrupt, openpgp.MessageType, block.Type)
	}
	return block.Body, nil
}

// decrypt reads the key packets and the encrypted data packet header from
// in, recovers the session key with opt, and returns the decrypted
// contents of the encrypted data packet. Closing it checks integrity.
func decrypt(in io.Reader, opt OpenOptions, cfg *packet.Config, res *Opened) (io.ReadCloser, error) {
	packets := packet.NewReader(in)
	var (
		pkesks []*packet.EncryptedKey
		skesks []*packet.SymmetricKeyEncrypted
		edp    packet.EncryptedDataPacket
	)
	for edp == nil {
		p, err := packets.Next()
		if err == io.EOF {
			if len(pkesks)+len(skesks) == 0 {
				return nil, fmt.Errorf("%w: no OpenPGP packets", ErrCorrupt)
			}
			return nil, fmt.Errorf("%w: no encrypted data after the key packets", ErrCorrupt)
		}
		if err != nil {
			var unsupported pgperrors.UnsupportedError
			if errors.As(err, &unsupported) {
				return nil, fmt.Errorf("crypto: unsupported message: %w", err)
			}
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		switch p := p.(type) {
		case *packet.EncryptedKey:
			pkesks = append(pkesks, p)
		case *packet.SymmetricKeyEncrypted:
			skesks = append(skesks, p)
		case *packet.SymmetricallyEncrypted:
			if !p.IntegrityProtected {
				return nil, errors.New("crypto: unsupported message: encrypted without integrity protection (MDC)")
			}
			edp = p
			if p.Version == 2 { // else the session key packet names it
				res.Cipher = cipherName(p.Cipher) + "-" + aeadName(p.Mode)
			}
		case *packet.AEADEncrypted:
			edp = p
		case *packet.Compressed, *packet.LiteralData, *packet.OnePassSignature, *packet.Signature:
			return nil, ErrNotEncrypted
		case *packet.PublicKey, *packet.PrivateKey, *packet.UserId:
			return nil, fmt.Errorf("%w: this is an OpenPGP key, not a message", ErrCorrupt)
		default:
			return nil, fmt.Errorf("%w: unexpected %T before the encrypted data", ErrCorrupt, p)
		}
	}

	var locked []string
	for _, ek := range pkesks {
		var keys []openpgp.Key
		if ek.KeyId == 0 {
			keys = opt.Keys.DecryptionKeys()
		} else {
			keys = opt.Keys.KeysById(ek.KeyId)
		}
		for _, k := range keys {
			if k.PrivateKey == nil {
				continue
			}
			if k.PrivateKey.Encrypted {
				locked = append(locked, Fingerprint(k.Entity))
				continue
			}
			if err := ek.Decrypt(k.PrivateKey, cfg); err != nil {
				continue
			}
			plain, err := edp.Decrypt(ek.CipherFunc, ek.Key)
			clear(ek.Key)
			if err != nil {
				continue
			}
			res.KeyFingerprint = Fingerprint(k.Entity)
			if res.Cipher == "" {
				res.Cipher = cipherName(ek.CipherFunc)
			}
			return plain, nil
		}
	}
	if len(opt.Passphrase) > 0 {
		for _, ske := range skesks {
			key, cf, err := ske.Decrypt(opt.Passphrase)
			if err != nil {
				continue
			}
			plain, err := edp.Decrypt(cf, key)
			clear(key)
			if err != nil {
				continue
			}
			res.Passphrase = true
			if res.Cipher == "" {
				res.Cipher = cipherName(cf)
			}
			return plain, nil
		}
	}

	var to []string
	for _, ek := range pkesks {
		if ek.KeyId == 0 {
			to = append(to, "an anonymous recipient")
		} else {
			to = append(to, "key ID "+keyID(ek.KeyId))
		}
	}
	if len(skesks) > 0 {
		to = append(to, "a passphrase")
	}
	msg := "encrypted to " + strings.Join(to, ", ")
	if len(to) == 0 {
		msg = "no key packets"
	}
	if len(locked) > 0 {
		msg += "; private key " + strings.Join(locked, ", ") + " is locked by a passphrase (unlock it first)"
	}
	return nil, fmt.Errorf("%w (%s)", ErrNoKey, msg)
}

func aeadName(m packet.AEADMode) string {
	switch m {
	case packet.AEADModeEAX:
		return "EAX"
	case packet.AEADModeOCB:
		return "OCB"
	case packet.AEADModeGCM:
		return "GCM"
	}
	return fmt.Sprintf("AEAD%d", m)
}
