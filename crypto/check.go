package crypto

import (
	stdcrypto "crypto"
	"errors"
	"fmt"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// ErrUnusableKey is matched (with errors.Is) by every [KeyError]: a key
// that must not be used as a recipient.
var ErrUnusableKey = errors.New("crypto: key cannot be used as a recipient")

// KeyError says why a recipient key is refused and what to do about it.
// It matches [ErrUnusableKey].
type KeyError struct {
	Fingerprint string // primary key fingerprint
	Problem     string // e.g. "expired on 2025-01-31"
	Advice      string // what the sender should ask the recipient for
}

func (e *KeyError) Error() string {
	return "crypto: recipient key " + e.Fingerprint + " " + e.Problem + ": " + e.Advice
}

// Is reports whether target is ErrUnusableKey.
func (e *KeyError) Is(target error) bool { return target == ErrUnusableKey }

// The advice given with each kind of refusal.
const (
	adviceCurrentKey = "ask the recipient for their current public key"
	adviceExtend     = "ask the recipient to extend the key's expiry date and send the updated public key, or for a new key"
	adviceNewKey     = "ask the recipient for a new key made with current OpenPGP software (Ed25519/Cv25519, or RSA of 3072 bits or more)"
	adviceSubkey     = "ask the recipient to add an encryption subkey (GnuPG: gpg --quick-add-key FINGERPRINT cv25519 encr) and send the updated public key"
	adviceHash       = "ask the recipient to renew the key's self-signatures with SHA-256 or better (for example by updating its expiry date with current software) and send the updated public key, or for a new key"
	adviceSendAgain  = "ask the recipient to export their public key again from their OpenPGP software"
)

// minRSABits is the smallest RSA modulus accepted for a recipient.
const minRSABits = 2048

// CheckRecipient returns a *KeyError if e must not be used as a recipient
// at time now, and nil if it may. It refuses keys that:
//
//   - are revoked, expired or dated in the future, or whose primary user
//     ID is revoked;
//   - have no valid encryption-capable key (subkey or primary);
//   - use RSA with fewer than 2048 bits, DSA, ElGamal, the deprecated
//     sign-only or encrypt-only RSA identifiers, or the secp256k1 curve;
//   - have a current self-signature (the primary key's, or the binding
//     signature of the encryption subkey) made with SHA-1, MD5 or
//     RIPEMD-160.
//
// [Seal] calls it for every recipient before writing anything.
func CheckRecipient(e *openpgp.Entity, now time.Time) error {
	if e == nil || e.PrimaryKey == nil {
		return errors.New("crypto: nil recipient key")
	}
	fp := Fingerprint(e)
	refuse := func(advice, format string, a ...any) error {
		return &KeyError{Fingerprint: fp, Problem: fmt.Sprintf(format, a...), Advice: advice}
	}
	selfSig, ident := e.PrimarySelfSignature()
	if selfSig == nil {
		return refuse(adviceSendAgain, "has no valid self-signature")
	}
	if e.Revoked(now) {
		return refuse(adviceCurrentKey, "was revoked by its owner%s", revocationNote(e.Revocations))
	}
	if e.PrimaryKey.CreationTime.After(now) {
		return refuse("check this computer's clock, or "+adviceCurrentKey, "is dated in the future (created %s)", day(e.PrimaryKey.CreationTime))
	}
	if e.PrimaryKey.KeyExpired(selfSig, now) {
		return refuse(adviceExtend, "expired on %s", day(keyExpiry(e.PrimaryKey, selfSig)))
	}
	if selfSig.SigExpired(now) {
		return refuse(adviceExtend, "has an expired self-signature")
	}
	if ident != nil && ident.Revoked(now) {
		return refuse(adviceCurrentKey, "has its user ID %q revoked", ident.Name)
	}
	if problem := weakAlgorithm(e.PrimaryKey); problem != "" {
		return refuse(adviceNewKey, "%s", problem)
	}
	k, ok := e.EncryptionKey(now)
	if !ok {
		return refuse(adviceSubkey, "%s", noEncryptionKey(e, now))
	}
	if k.PublicKey != e.PrimaryKey {
		if problem := weakAlgorithm(k.PublicKey); problem != "" {
			return refuse(adviceNewKey, "has an encryption subkey that %s", problem[len("uses "):])
		}
	}
	if weakHash(selfSig.Hash) {
		return refuse(adviceHash, "is certified only by a self-signature made with %s, which is no longer secure", hashName(selfSig.Hash))
	}
	if k.SelfSignature != nil && weakHash(k.SelfSignature.Hash) {
		return refuse(adviceHash, "has an encryption subkey bound by a signature made with %s, which is no longer secure", hashName(k.SelfSignature.Hash))
	}
	return nil
}

// weakAlgorithm returns what is wrong with pk's algorithm, starting with
// "uses ", or "".
func weakAlgorithm(pk *packet.PublicKey) string {
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoDSA:
		return "uses DSA, which is deprecated"
	case packet.PubKeyAlgoElGamal:
		return "uses ElGamal, which is deprecated"
	case packet.PubKeyAlgoRSASignOnly, packet.PubKeyAlgoRSAEncryptOnly:
		return "uses a deprecated RSA algorithm identifier"
	case packet.PubKeyAlgoRSA:
		if bits, err := pk.BitLength(); err != nil || int(bits) < minRSABits {
			return fmt.Sprintf("uses RSA with %d bits, fewer than the %d required", bits, minRSABits)
		}
	case packet.PubKeyAlgoECDSA, packet.PubKeyAlgoECDH:
		if c, err := pk.Curve(); err == nil && c == packet.CurveSecP256k1 {
			return "uses the secp256k1 curve, which OpenPGP does not allow"
		}
	}
	return ""
}

// noEncryptionKey explains why e has no usable encryption key at now.
func noEncryptionKey(e *openpgp.Entity, now time.Time) string {
	var expired, revoked int
	for _, sk := range e.Subkeys {
		if sk.Sig == nil || !sk.Sig.FlagsValid || !sk.Sig.FlagEncryptCommunications || !sk.PublicKey.PubKeyAlgo.CanEncrypt() {
			continue
		}
		switch {
		case sk.Revoked(now):
			revoked++
		case sk.PublicKey.KeyExpired(sk.Sig, now) || sk.Sig.SigExpired(now):
			expired++
		}
	}
	switch {
	case expired+revoked == 0:
		return "has no encryption subkey (it can only sign)"
	case revoked == 0:
		return "has only expired encryption subkeys"
	case expired == 0:
		return "has only revoked encryption subkeys"
	}
	return "has only expired or revoked encryption subkeys"
}

func weakHash(h stdcrypto.Hash) bool {
	switch h {
	case stdcrypto.MD5, stdcrypto.SHA1, stdcrypto.RIPEMD160:
		return true
	}
	return false
}

func hashName(h stdcrypto.Hash) string {
	switch h {
	case stdcrypto.MD5:
		return "MD5"
	case stdcrypto.SHA1:
		return "SHA-1"
	case stdcrypto.RIPEMD160:
		return "RIPEMD-160"
	case stdcrypto.SHA224:
		return "SHA-224"
	case stdcrypto.SHA256:
		return "SHA-256"
	case stdcrypto.SHA384:
		return "SHA-384"
	case stdcrypto.SHA512:
		return "SHA-512"
	case stdcrypto.SHA3_256:
		return "SHA3-256"
	case stdcrypto.SHA3_512:
		return "SHA3-512"
	}
	return h.String()
}

// revocationNote describes the newest revocation, e.g. " on 2026-01-02
// (reason: key compromised)".
func revocationNote(revs []*packet.Signature) string {
	var last *packet.Signature
	for _, r := range revs {
		if last == nil || r.CreationTime.After(last.CreationTime) {
			last = r
		}
	}
	if last == nil {
		return ""
	}
	s := " on " + day(last.CreationTime)
	if last.RevocationReason != nil {
		switch *last.RevocationReason {
		case packet.KeySuperseded:
			s += " (reason: superseded by a newer key)"
		case packet.KeyCompromised:
			s += " (reason: key compromised)"
		case packet.KeyRetired:
			s += " (reason: no longer used)"
		}
	}
	return s
}

// keyExpiry returns when pk expires according to sig, or the zero time if
// never.
func keyExpiry(pk *packet.PublicKey, sig *packet.Signature) time.Time {
	if sig == nil || sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs == 0 {
		return time.Time{}
	}
	return pk.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
