package crypto

import (
	"fmt"
	"strings"
)

// Profile names a generation of the OpenPGP standard. It decides what new
// keys look like, how secret keys and passphrase-only messages are
// protected, and whether a passphrase may be combined with an AEAD
// (SEIPD v2) message. Messages to recipient keys always follow what the
// keys advertise (see [Seal]).
//
// Which programs read what each profile writes:
//
//	                          rfc4880 (default)      rfc9580
//	new keys                  v4 Ed25519/Cv25519     v6 Ed25519/X25519
//	protected secret keys     iterated S2K, CFB      Argon2 S2K, AEAD (OCB)
//	passphrase-only message   SKESK v4 + SEIPD v1    SKESK v6 (Argon2) + SEIPD v2
//
// GnuPG 2.2 and Sequoia sq 0.27 (sequoia-openpgp 1.x) read everything
// rfc4880 writes and nothing rfc9580 writes: they cannot parse v6 keys, v6
// signatures, Argon2 or SEIPD v2 (the interoperability tests check both).
// GnuPG 2.4 implements the LibrePGP draft, not RFC 9580, and does not read
// rfc9580 output either. Implementations of RFC 9580 read both (for
// example OpenPGP.js 6, GopenPGP 3 and programs built on sequoia-openpgp
// 2); dsar itself reads both. Choose rfc9580 only for recipients whose
// software is known to read it.
type Profile string

// The profiles.
const (
	RFC4880 Profile = "rfc4880"
	RFC9580 Profile = "rfc9580"
)

// DefaultProfile is the profile used when none is chosen.
const DefaultProfile = RFC4880

// Profiles lists the valid profile names.
var Profiles = []Profile{RFC4880, RFC9580}

// ParseProfile returns the profile named s; "" gives [DefaultProfile].
func ParseProfile(s string) (Profile, error) {
	switch p := Profile(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return DefaultProfile, nil
	case RFC4880, RFC9580:
		return p, nil
	}
	return "", fmt.Errorf("crypto: unknown OpenPGP profile %q (want %s or %s)", s, RFC4880, RFC9580)
}

// v6 reports whether p is RFC 9580.
func (p Profile) v6() bool { return p == RFC9580 }

func (p Profile) String() string {
	if p == "" {
		return string(DefaultProfile)
	}
	return string(p)
}
