package crypto

import (
	"fmt"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// KeyInfo describes a key for people, as 'dsar keys list' shows it.
type KeyInfo struct {
	Fingerprint string    `json:"fingerprint"`
	Version     int       `json:"version"` // 4 or 6
	UserID      string    `json:"uid"`     // the primary user ID ("" for a v6 key without one)
	Algorithm   string    `json:"algorithm"`
	Bits        int       `json:"bits"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires,omitzero"` // zero: never
	// EncryptionAlgorithm is the algorithm of the key that messages to
	// this key are encrypted to ("" if none is valid).
	EncryptionAlgorithm string `json:"encryption_algorithm,omitempty"`
	CanEncrypt          bool   `json:"can_encrypt"` // usable as a recipient (see CheckRecipient)
	CanSign             bool   `json:"can_sign"`    // has a valid signing key
	Secret              bool   `json:"secret"`      // holds secret key material
	Locked              bool   `json:"locked"`      // the secret key is protected by a passphrase
	// Problem is why the key is refused as a recipient ("" if it is not).
	Problem string `json:"problem,omitempty"`
}

// Describe returns what [KeyInfo] says of e at time now.
func Describe(e *openpgp.Entity, now time.Time) KeyInfo {
	pk := e.PrimaryKey
	info := KeyInfo{
		Fingerprint: Fingerprint(e),
		Version:     pk.Version,
		Created:     pk.CreationTime.UTC(),
		Secret:      e.PrivateKey != nil && !e.PrivateKey.Dummy(),
		Locked:      IsLocked(e),
	}
	info.Algorithm, info.Bits = algorithmName(pk)
	if id := e.PrimaryIdentity(); id != nil {
		info.UserID = id.Name
	}
	selfSig, _ := e.PrimarySelfSignature()
	info.Expires = keyExpiry(pk, selfSig).UTC()
	if k, ok := e.EncryptionKey(now); ok {
		info.EncryptionAlgorithm, _ = algorithmName(k.PublicKey)
	}
	if err := CheckRecipient(e, now); err != nil {
		if ke, ok := err.(*KeyError); ok {
			info.Problem = ke.Problem
		} else {
			info.Problem = err.Error()
		}
	} else {
		info.CanEncrypt = true
	}
	_, info.CanSign = e.SigningKey(now)
	return info
}

// algorithmName names pk's algorithm as GnuPG users know it, with its
// size in bits.
func algorithmName(pk *packet.PublicKey) (string, int) {
	b, _ := pk.BitLength()
	bits := int(b)
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSAEncryptOnly, packet.PubKeyAlgoRSASignOnly:
		return fmt.Sprintf("RSA %d", bits), bits
	case packet.PubKeyAlgoDSA:
		return fmt.Sprintf("DSA %d", bits), bits
	case packet.PubKeyAlgoElGamal:
		return fmt.Sprintf("ElGamal %d", bits), bits
	case packet.PubKeyAlgoEd25519:
		return "Ed25519", 255
	case packet.PubKeyAlgoEd448:
		return "Ed448", 448
	case packet.PubKeyAlgoX25519:
		return "X25519", 255
	case packet.PubKeyAlgoX448:
		return "X448", 448
	case packet.PubKeyAlgoEdDSA, packet.PubKeyAlgoECDSA, packet.PubKeyAlgoECDH:
		c, err := pk.Curve()
		if err != nil {
			return "unknown curve", bits
		}
		switch {
		case c == packet.Curve25519 && pk.PubKeyAlgo == packet.PubKeyAlgoEdDSA:
			return "Ed25519", 255
		case c == packet.Curve25519:
			return "Cv25519", 255
		case c == packet.Curve448 && pk.PubKeyAlgo == packet.PubKeyAlgoEdDSA:
			return "Ed448", 448
		case c == packet.Curve448:
			return "X448", 448
		}
		prefix := "ECDSA"
		if pk.PubKeyAlgo == packet.PubKeyAlgoECDH {
			prefix = "ECDH"
		}
		return prefix + " " + string(c), bits
	}
	return fmt.Sprintf("algorithm %d", pk.PubKeyAlgo), bits
}
