// Package crypto seals data subject bundles as OpenPGP messages and opens
// them again.
//
// A sealed bundle is one OpenPGP message. To recipients whose keys do not
// advertise SEIPD v2 (all keys made by GnuPG and Sequoia 0.27, and v4 keys
// made by dsar) it is an RFC 4880 message that GnuPG 2.2 and Sequoia read:
//
//	PKESK v3 ...   one per recipient key (ECDH, RSA, ...), if any
//	SKESK v4       if a passphrase was given (iterated+salted S2K, SHA-256)
//	SEIPD v1       AES-256 (see below), CFB with SHA-1 MDC, containing
//	  One-Pass Signature v3   SHA-256, binary
//	  Literal Data            binary, file name and time from SealOptions
//	  Signature v4            by the controller's signing key
//
// To recipients whose keys are v6 or advertise SEIPD v2, and for
// passphrase-only messages under the rfc9580 [Profile], it is an RFC 9580
// message: PKESK v6 and SKESK v6 (Argon2) packets and a SEIPD v2 packet
// (AES-256-OCB unless the keys prefer otherwise) around the same signed
// contents (a v6 one-pass signature and signature if the controller key
// is v6). GnuPG 2.2 and Sequoia 0.27 cannot read these; see [Profile] for
// which programs can.
//
// All key packets carry the same session key, so any one recipient key or
// the passphrase opens the message. There is no compression packet: the
// payload is a zip archive, and compression before encryption only costs
// time (and can leak information).
//
// # Cipher
//
// The SEIPD v1 cipher is AES-256 unless a recipient key's preferences do
// not list AES-256; it is then AES-128 (the algorithm every OpenPGP
// implementation must support). Keys made by [GenerateKey] and by GnuPG
// list AES-256. The cipher actually used is reported by [Writer.Info] and
// [Opened], so callers can record it.
//
// [Open] reads SEIPD v1 and v2 messages, as well as compressed messages
// made by other tools.
//
// # Keys
//
// Keys are v4 or v6 OpenPGP keys held as [openpgp.Entity] values from
// github.com/ProtonMail/go-crypto/openpgp. [GenerateKeyWithOptions] makes
// them; [ProtectKey] locks the secret key with a passphrase and
// [UnlockKey] opens it again. [CheckRecipient] refuses keys that must not
// be encrypted to (expired, revoked, without an encryption subkey, weak
// algorithms or SHA-1 self-signatures), and [Seal] applies it to every
// recipient before writing anything. Errors name keys by their fingerprint
// ([Fingerprint]) and files by path, never by secret material.
//
// # Passphrases
//
// [GeneratePassphrase] makes a passphrase of seven words from the EFF
// Large Wordlist (copyright 2016 Electronic Frontier Foundation,
// https://www.eff.org/dice, CC BY 3.0 US; see eff_large_wordlist.NOTICE),
// about 90 bits of entropy.
package crypto
