package crypto

import (
	"bytes"
	stdcrypto "crypto"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func newV6Key(t testing.TB, uid string) *openpgp.Entity {
	t.Helper()
	e, err := GenerateKeyWithOptions(uid, testNow, KeyOptions{Profile: RFC9580})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestParseProfile(t *testing.T) {
	for in, want := range map[string]Profile{"": RFC4880, "rfc4880": RFC4880, " RFC9580 ": RFC9580} {
		if got, err := ParseProfile(in); err != nil || got != want {
			t.Errorf("ParseProfile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseProfile("openpgp"); err == nil || !strings.Contains(err.Error(), `"openpgp"`) {
		t.Errorf("ParseProfile(openpgp): err = %v", err)
	}
}

func TestGenerateKeyV6(t *testing.T) {
	e, err := GenerateKeyWithOptions("Six <six@example.org>", testNow, KeyOptions{Profile: RFC9580, Expiry: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if e.PrimaryKey.Version != 6 || e.PrimaryKey.PubKeyAlgo != packet.PubKeyAlgoEd25519 || len(Fingerprint(e)) != 64 {
		t.Errorf("primary: version %d, algorithm %v, fingerprint %s", e.PrimaryKey.Version, e.PrimaryKey.PubKeyAlgo, Fingerprint(e))
	}
	if len(e.Subkeys) != 1 || e.Subkeys[0].PublicKey.PubKeyAlgo != packet.PubKeyAlgoX25519 || e.Subkeys[0].PublicKey.Version != 6 {
		t.Fatalf("want one v6 X25519 subkey")
	}
	sig, _ := e.PrimarySelfSignature()
	if sig.SigType != packet.SigTypeDirectSignature || !sig.SEIPDv1 || !sig.SEIPDv2 {
		t.Errorf("self-signature type %v, SEIPDv1 %v, SEIPDv2 %v", sig.SigType, sig.SEIPDv1, sig.SEIPDv2)
	}
	if !bytes.Equal(sig.PreferredSymmetric, []uint8{9, 7}) || !bytes.Equal(sig.PreferredHash, []uint8{8, 10}) || len(sig.PreferredCipherSuites) != 4 || sig.PreferredCipherSuites[0] != [2]uint8{9, 2} {
		t.Errorf("preferences: ciphers %v, hashes %v, suites %v", sig.PreferredSymmetric, sig.PreferredHash, sig.PreferredCipherSuites)
	}
	if sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs != 86400 {
		t.Errorf("key lifetime %v", sig.KeyLifetimeSecs)
	}
	// It survives writing and reading (the re-signed direct-key signature
	// verifies), and then expires on time.
	dir := t.TempDir()
	if err := WriteKeyPair(filepath.Join(dir, "six"), e); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"six.pub.asc", "six.sec.asc"} {
		el, err := ReadKeys(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if Fingerprint(el[0]) != Fingerprint(e) || el[0].PrimaryKey.Version != 6 {
			t.Errorf("%s: read back %s", f, Fingerprint(el[0]))
		}
		if err := CheckRecipient(el[0], testNow.Add(time.Hour)); err != nil {
			t.Error(err)
		}
		if err := CheckRecipient(el[0], testNow.Add(25*time.Hour)); !errors.Is(err, ErrUnusableKey) {
			t.Errorf("after expiry: %v", err)
		}
	}
}

// envelope lists a message's outer packets, e.g. "PKESK3 SKESK6/argon2
// SEIPD2".
func envelope(t *testing.T, msg []byte) string {
	t.Helper()
	var out []string
	for _, p := range rawPackets(t, msg) {
		switch p.tag {
		case 1:
			out = append(out, "PKESK"+string('0'+p.body[0]))
		case 3:
			s := "SKESK" + string('0'+p.body[0])
			mode := p.body[2] // v4: version, cipher, S2K
			if p.body[0] == 6 {
				mode = p.body[5] // v6: version, count, cipher, AEAD, S2K count, S2K
			}
			switch mode {
			case 3:
				s += "/iterated"
			case 4:
				s += "/argon2"
			}
			out = append(out, s)
		case 18:
			// The partial-length SEIPD: its first body octet is the
			// version.
			out = append(out, "SEIPD"+string('0'+p.version))
		}
	}
	return strings.Join(out, " ")
}

// TestProfileMessages checks that the message format follows the
// recipients' keys and, where they do not decide, the profile; and that
// every message opens with every key and the passphrase.
func TestProfileMessages(t *testing.T) {
	ctrl4, ctrl6 := newKey(t, "C4 <c4@example.org>"), newV6Key(t, "C6 <c6@example.org>")
	r4, r6 := newKey(t, "R4 <r4@example.org>"), newV6Key(t, "R6 <r6@example.org>")
	pass := []byte("seven words make a good passphrase here")
	data := randomBytes(t, 100_000)
	for _, tc := range []struct {
		name     string
		profile  Profile
		signer   *openpgp.Entity
		to       openpgp.EntityList
		pass     bool
		envelope string
		cipher   string
	}{
		{"v4 key", RFC4880, ctrl4, list(r4), false, "PKESK3 SEIPD1", "AES-256"},
		{"v4 key under rfc9580", RFC9580, ctrl4, list(r4), false, "PKESK3 SEIPD1", "AES-256"},
		{"v6 key", RFC4880, ctrl4, list(r6), false, "PKESK6 SEIPD2", "AES-256-OCB"},
		{"v6 key under rfc9580", RFC9580, ctrl6, list(r6), false, "PKESK6 SEIPD2", "AES-256-OCB"},
		{"v4 and v6 keys", RFC9580, ctrl4, list(r6, r4), false, "PKESK3 PKESK3 SEIPD1", "AES-256"},
		{"passphrase", RFC4880, ctrl4, nil, true, "SKESK4/iterated SEIPD1", "AES-256"},
		{"passphrase under rfc9580", RFC9580, ctrl4, nil, true, "SKESK6/argon2 SEIPD2", "AES-256-OCB"},
		{"v6 key and passphrase", RFC4880, ctrl4, list(r6), true, "PKESK3 SKESK4/iterated SEIPD1", "AES-256"},
		{"v6 key and passphrase under rfc9580", RFC9580, ctrl6, list(r6), true, "PKESK6 SKESK6/argon2 SEIPD2", "AES-256-OCB"},
		{"v4 key and passphrase under rfc9580", RFC9580, ctrl6, list(r4), true, "PKESK3 SKESK4/iterated SEIPD1", "AES-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := SealOptions{Recipients: tc.to, Signer: tc.signer, Profile: tc.profile}
			if tc.pass {
				opt.Passphrase = pass
			}
			msg, info := seal(t, data, opt)
			if got := envelope(t, msg); got != tc.envelope {
				t.Errorf("envelope %q, want %q", got, tc.envelope)
			}
			wantSEIPD, wantS2K := 1, ""
			if strings.HasSuffix(tc.envelope, "SEIPD2") {
				wantSEIPD = 2
			}
			if tc.pass {
				wantS2K = "iterated SHA-256"
				if wantSEIPD == 2 {
					wantS2K = "Argon2"
				}
			}
			if info.Cipher != tc.cipher || info.SEIPD != wantSEIPD || info.S2K != wantS2K || info.Hash != "SHA-256" {
				t.Errorf("Info() = %+v", info)
			}
			var openers []OpenOptions
			for _, k := range tc.to {
				openers = append(openers, OpenOptions{Keys: list(k)})
			}
			if tc.pass {
				openers = append(openers, OpenOptions{Passphrase: pass})
			}
			for _, o := range openers {
				o.Signers = list(publicOnly(t, tc.signer))
				got, res, err := open(msg, o)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) || !res.Verified || res.SignerFingerprint != Fingerprint(tc.signer) || res.Cipher != tc.cipher {
					t.Errorf("opened %d bytes: %+v", len(got), res)
				}
			}
		})
	}
}

// TestAEADSuiteFollowsKey: the AEAD mode and cipher come from the keys'
// cipher suite preferences.
func TestAEADSuiteFollowsKey(t *testing.T) {
	ctrl := newKey(t, "C <c@example.org>")
	resign := func(e *openpgp.Entity, suites [][2]uint8) *openpgp.Entity {
		sig := e.SelfSignature
		sig.PreferredCipherSuites = suites
		if err := sig.SignDirectKeyBinding(e.PrimaryKey, e.PrivateKey, &packet.Config{DefaultHash: stdcrypto.SHA256, Time: func() time.Time { return testNow }}); err != nil {
			t.Fatal(err)
		}
		return e
	}
	gcm := resign(newV6Key(t, "G <g@example.org>"), [][2]uint8{{9, 3}})
	none := resign(newV6Key(t, "N <n@example.org>"), nil)
	for _, tc := range []struct {
		name   string
		to     openpgp.EntityList
		cipher string
	}{
		{"GCM only", list(gcm), "AES-256-GCM"},
		{"no suites listed", list(none), "AES-128-OCB"},
		{"GCM and OCB", list(gcm, newV6Key(t, "O <o@example.org>")), "AES-256-GCM"},
	} {
		msg, info := seal(t, []byte("data"), SealOptions{Recipients: tc.to, Signer: ctrl})
		if info.Cipher != tc.cipher {
			t.Errorf("%s: cipher %s, want %s", tc.name, info.Cipher, tc.cipher)
		}
		if _, res, err := open(msg, OpenOptions{Keys: tc.to[:1], Signers: list(ctrl)}); err != nil || res.Cipher != tc.cipher {
			t.Errorf("%s: open: %v %+v", tc.name, err, res)
		}
	}
}

// TestV6Tampered: a changed byte anywhere in a SEIPD v2 message is caught
// and no plaintext survives a successful Open of a changed message.
func TestV6Tampered(t *testing.T) {
	ctrl, r := newV6Key(t, "C <c@example.org>"), newV6Key(t, "R <r@example.org>")
	data := randomBytes(t, 3<<20) // several AEAD chunks
	msg, _ := seal(t, data, SealOptions{Recipients: list(r), Signer: ctrl})
	for _, at := range []int{10, len(msg) / 3, len(msg) / 2, len(msg) - 40, len(msg) - 1} {
		m := bytes.Clone(msg)
		m[at] ^= 0x40
		if _, _, err := open(m, OpenOptions{Keys: list(r), Signers: list(ctrl)}); err == nil {
			t.Errorf("byte %d of %d flipped: opened", at, len(m))
		}
	}
	if _, _, err := open(msg[:len(msg)-100], OpenOptions{Keys: list(r), Signers: list(ctrl)}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: err = %v, want ErrCorrupt", err)
	}
	other := newV6Key(t, "M <m@example.org>")
	if _, _, err := open(msg, OpenOptions{Keys: list(r), Signers: list(other)}); !errors.Is(err, ErrWrongSigner) {
		t.Errorf("other signer: err = %v, want ErrWrongSigner", err)
	}
}

func TestProtectKey(t *testing.T) {
	ctrl := newKey(t, "C <c@example.org>")
	pass := []byte("key passphrase")
	for _, tc := range []struct {
		profile Profile
		v6      bool
	}{{RFC4880, false}, {RFC9580, false}, {RFC9580, true}, {RFC4880, true}} {
		name := string(tc.profile) + map[bool]string{false: " v4", true: " v6"}[tc.v6]
		t.Run(name, func(t *testing.T) {
			var e *openpgp.Entity
			if tc.v6 {
				e = newV6Key(t, "K <k@example.org>")
			} else {
				e = newKey(t, "K <k@example.org>")
			}
			if err := ProtectKey(e, nil, tc.profile); err == nil {
				t.Error("empty passphrase accepted")
			}
			if err := ProtectKey(e, pass, tc.profile); err != nil {
				t.Fatal(err)
			}
			if !IsLocked(e) {
				t.Fatal("not locked after ProtectKey")
			}
			if err := ProtectKey(e, pass, tc.profile); err == nil {
				t.Error("protected twice")
			}
			prefix := filepath.Join(t.TempDir(), "k")
			if err := WriteKeyPair(prefix, e); err != nil {
				t.Fatal(err)
			}
			sec, err := ReadKeys(prefix + ".sec.asc")
			if err != nil {
				t.Fatal(err)
			}
			k := sec[0]
			if !IsLocked(k) || !Describe(k, time.Now()).Locked {
				t.Fatal("read back unlocked")
			}
			// Locked, it can neither sign nor open.
			msg, _ := seal(t, []byte("x"), SealOptions{Recipients: list(k), Signer: ctrl})
			if _, _, err := open(msg, OpenOptions{Keys: list(k), Signers: list(ctrl)}); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "locked") {
				t.Errorf("open with locked key: %v", err)
			}
			if _, err := Seal(&bytes.Buffer{}, SealOptions{Recipients: list(ctrl), Signer: k}); err == nil || !strings.Contains(err.Error(), "locked") {
				t.Errorf("seal with locked signer: %v", err)
			}
			err = UnlockKey(k, []byte("wrong"))
			if !errors.Is(err, ErrKeyPassphrase) || !strings.Contains(err.Error(), Fingerprint(k)) || strings.Contains(err.Error(), "wrong\"") {
				t.Errorf("wrong passphrase: %v", err)
			}
			if err := UnlockKey(k, pass); err != nil {
				t.Fatal(err)
			}
			if IsLocked(k) {
				t.Fatal("still locked")
			}
			if got, _, err := open(msg, OpenOptions{Keys: list(k), Signers: list(ctrl)}); err != nil || string(got) != "x" {
				t.Errorf("open after unlock: %v", err)
			}
			seal(t, []byte("y"), SealOptions{Recipients: list(ctrl), Signer: k})
			if err := UnlockKey(k, []byte("anything")); err != nil {
				t.Errorf("unlocking an unlocked key: %v", err)
			}
		})
	}
}

func TestGeneratePassphrase(t *testing.T) {
	if n := len(wordlist()); n != 7776 {
		t.Fatalf("word list has %d words", n)
	}
	known := map[string]bool{}
	for _, w := range wordlist() {
		known[w] = true
	}
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		p, err := GeneratePassphrase()
		if err != nil {
			t.Fatal(err)
		}
		ws := strings.Split(p, " ")
		if len(ws) != PassphraseWords {
			t.Fatalf("%q has %d words", p, len(ws))
		}
		for _, w := range ws {
			if !known[w] {
				t.Errorf("%q is not in the word list", w)
			}
		}
		if seen[p] {
			t.Errorf("passphrase %q repeated", p)
		}
		seen[p] = true
	}
	if e := PassphraseEntropy(); e < 90 || e > 91 {
		t.Errorf("entropy %.1f bits", e)
	}
	if _, err := generatePassphrase(iotest.ErrReader(errFail), 6); err == nil {
		t.Error("no error from a failing random source")
	}
}

// TestArgon2Defaults: outside tests, passphrases are stretched with
// Argon2 at 3 passes, 4 lanes and 64 MiB (RFC 9106's second
// recommendation).
func TestArgon2Defaults(t *testing.T) {
	saved := argon2Params
	argon2Params = nil
	defer func() { argon2Params = saved }()
	ctrl := newKey(t, "C <c@example.org>")
	msg, _ := seal(t, []byte("x"), SealOptions{Passphrase: []byte("pw"), Signer: ctrl, Profile: RFC9580})
	var skesk []byte
	for _, p := range rawPackets(t, msg) {
		if p.tag == 3 {
			skesk = p.body
		}
	}
	// version 6, count, cipher, AEAD mode, S2K length, S2K: mode 4, salt
	// (16), passes, lanes, memory exponent.
	if len(skesk) < 25 || skesk[0] != 6 || skesk[5] != 4 || skesk[22] != 3 || skesk[23] != 4 || skesk[24] != 16 {
		t.Errorf("SKESK %x: want v6 with Argon2 t=3 p=4 m=2^16 KiB", skesk)
	}
	if _, _, err := open(msg, OpenOptions{Passphrase: []byte("pw"), Signers: list(ctrl)}); err != nil {
		t.Error(err)
	}
}
