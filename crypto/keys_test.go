package crypto

import (
	"bytes"
	stdcrypto "crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestGenerateKey(t *testing.T) {
	e := newKey(t, "Acme DPO <dpo@acme.example>")
	if got := e.PrimaryKey.PubKeyAlgo; got != packet.PubKeyAlgoEdDSA {
		t.Errorf("primary algorithm = %v, want EdDSA", got)
	}
	if e.PrimaryKey.Version != 4 {
		t.Errorf("key version = %d, want 4", e.PrimaryKey.Version)
	}
	if !e.PrimaryKey.CreationTime.Equal(testNow) {
		t.Errorf("created %v, want %v", e.PrimaryKey.CreationTime, testNow)
	}
	if len(e.Subkeys) != 1 || e.Subkeys[0].PublicKey.PubKeyAlgo != packet.PubKeyAlgoECDH {
		t.Fatalf("want one ECDH subkey, got %d subkeys", len(e.Subkeys))
	}
	if c, err := e.Subkeys[0].PublicKey.Curve(); err != nil || c != packet.Curve25519 {
		t.Errorf("subkey curve = %v, %v; want Curve25519", c, err)
	}
	sub := e.Subkeys[0].Sig
	if !sub.FlagEncryptCommunications || !sub.FlagEncryptStorage || sub.FlagSign {
		t.Errorf("subkey flags: encrypt comms %v, storage %v, sign %v", sub.FlagEncryptCommunications, sub.FlagEncryptStorage, sub.FlagSign)
	}
	sig, ident := e.PrimarySelfSignature()
	if ident == nil || ident.Name != "Acme DPO <dpo@acme.example>" {
		t.Errorf("user ID = %+v", ident)
	}
	if !sig.FlagSign || !sig.FlagCertify || sig.FlagEncryptCommunications {
		t.Errorf("primary flags: sign %v, certify %v, encrypt %v", sig.FlagSign, sig.FlagCertify, sig.FlagEncryptCommunications)
	}
	wantBytes := func(name string, got []uint8, want ...uint8) {
		if !bytes.Equal(got, want) {
			t.Errorf("preferred %s = %v, want %v", name, got, want)
		}
	}
	wantBytes("ciphers", sig.PreferredSymmetric, uint8(packet.CipherAES256), uint8(packet.CipherAES128))
	wantBytes("hashes", sig.PreferredHash, 8, 10) // SHA-256, SHA-512
	wantBytes("compression", sig.PreferredCompression, uint8(packet.CompressionNone))
	if !sig.SEIPDv1 || sig.SEIPDv2 {
		t.Errorf("features: SEIPDv1 %v, SEIPDv2 %v; want v1 only", sig.SEIPDv1, sig.SEIPDv2)
	}
	if sig.KeyLifetimeSecs != nil && *sig.KeyLifetimeSecs != 0 {
		t.Errorf("key expires after %ds, want never", *sig.KeyLifetimeSecs)
	}
	// The re-signed self-signature must still verify.
	if err := e.PrimaryKey.VerifyUserIdSignature(ident.Name, e.PrimaryKey, sig); err != nil {
		t.Errorf("self-signature: %v", err)
	}
	if sig.Hash != stdcrypto.SHA256 {
		t.Errorf("self-signature hash = %v", sig.Hash)
	}
	fp := Fingerprint(e)
	if len(fp) != 40 || strings.ToUpper(fp) != fp {
		t.Errorf("Fingerprint = %q, want 40 upper-case hex digits", fp)
	}
}

func TestGenerateKeyExpiry(t *testing.T) {
	e, err := GenerateKeyWithOptions("X <x@example.org>", testNow, KeyOptions{Expiry: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := e.PrimarySelfSignature()
	if sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs != 86400 {
		t.Fatalf("key lifetime = %v, want 86400", sig.KeyLifetimeSecs)
	}
	if _, ok := e.EncryptionKey(testNow.Add(23 * time.Hour)); !ok {
		t.Error("no encryption key before expiry")
	}
	if _, ok := e.EncryptionKey(testNow.Add(25 * time.Hour)); ok {
		t.Error("encryption key still valid after expiry")
	}
}

func TestParseUserID(t *testing.T) {
	for _, tc := range []struct {
		in, name, comment, email string
		bad                      bool
	}{
		{in: "Acme DPO <dpo@acme.example>", name: "Acme DPO", email: "dpo@acme.example"},
		{in: "  Acme Ltd. DPO   <dpo@acme.example> ", name: "Acme Ltd. DPO", email: "dpo@acme.example"},
		{in: "Acme (privacy team) <dpo@acme.example>", name: "Acme", comment: "privacy team", email: "dpo@acme.example"},
		{in: "dpo@acme.example", email: "dpo@acme.example"},
		{in: "<dpo@acme.example>", email: "dpo@acme.example"},
		{in: "Acme DPO", name: "Acme DPO"},
		{in: "", bad: true},
		{in: "Acme <dpo@acme.example", bad: true},
		{in: "Acme <not-an-address>", bad: true},
		{in: "A <b@c> <d@e>", bad: true},
		{in: "Acme\n<dpo@acme.example>", bad: true},
	} {
		name, comment, email, err := parseUserID(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseUserID(%q) = %q, %q, %q; want error", tc.in, name, comment, email)
			}
			continue
		}
		if err != nil || name != tc.name || comment != tc.comment || email != tc.email {
			t.Errorf("parseUserID(%q) = %q, %q, %q, %v; want %q, %q, %q", tc.in, name, comment, email, err, tc.name, tc.comment, tc.email)
		}
	}
}

func TestWriteKeyPairReadKeys(t *testing.T) {
	dir := t.TempDir()
	e := newKey(t, "Acme DPO <dpo@acme.example>")
	prefix := filepath.Join(dir, "controller")
	if err := WriteKeyPair(prefix, e); err != nil {
		t.Fatal(err)
	}
	sec, pub := prefix+".sec.asc", prefix+".pub.asc"
	for path, want := range map[string]os.FileMode{sec: 0o600, pub: 0o644} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
	secText, _ := os.ReadFile(sec)
	pubText, _ := os.ReadFile(pub)
	if !bytes.HasPrefix(secText, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
		t.Errorf("%s is not an armoured private key", sec)
	}
	if !bytes.HasPrefix(pubText, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
		t.Errorf("%s is not an armoured public key", pub)
	}

	secKeys, err := ReadKeys(sec)
	if err != nil {
		t.Fatal(err)
	}
	if len(secKeys) != 1 || Fingerprint(secKeys[0]) != Fingerprint(e) || secKeys[0].PrivateKey == nil || secKeys[0].PrivateKey.Encrypted {
		t.Fatalf("read back %d keys, want the unlocked private key %s", len(secKeys), Fingerprint(e))
	}
	pubKeys, err := ReadKeys(pub)
	if err != nil {
		t.Fatal(err)
	}
	if len(pubKeys) != 1 || Fingerprint(pubKeys[0]) != Fingerprint(e) || pubKeys[0].PrivateKey != nil {
		t.Fatalf("read back %d keys, want the public key %s", len(pubKeys), Fingerprint(e))
	}

	// The read-back keys work.
	msg, _ := seal(t, []byte("x"), SealOptions{Recipients: pubKeys, Signer: secKeys[0]})
	if _, _, err := open(msg, OpenOptions{Keys: secKeys, Signers: pubKeys}); err != nil {
		t.Fatal(err)
	}

	// Never overwrite; no temporary files left behind.
	err = WriteKeyPair(prefix, newKey(t, "Other <o@example.org>"))
	if err == nil || !strings.Contains(err.Error(), sec) {
		t.Errorf("second WriteKeyPair: err = %v, want refusal naming %s", err, sec)
	}
	if again, _ := os.ReadFile(sec); !bytes.Equal(again, secText) {
		t.Error("existing private key was modified")
	}
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other+".pub.asc", []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = WriteKeyPair(other, e)
	if err == nil || !strings.Contains(err.Error(), other+".pub.asc") {
		t.Errorf("WriteKeyPair over existing public key: err = %v", err)
	}
	if _, err := os.Stat(other + ".sec.asc"); !os.IsNotExist(err) {
		t.Errorf("private key written although the public key exists: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	if want := "controller.pub.asc controller.sec.asc other.pub.asc"; strings.Join(names, " ") != want {
		t.Errorf("directory holds %v, want %s", names, want)
	}

	// A missing directory is reported and leaves nothing.
	if err := WriteKeyPair(filepath.Join(dir, "missing", "k"), e); err == nil {
		t.Error("WriteKeyPair into a missing directory succeeded")
	}
}

func TestReadKeysFormats(t *testing.T) {
	dir := t.TempDir()
	a, b := newKey(t, "A <a@example.org>"), newKey(t, "B <b@example.org>")
	if err := WriteKeyPair(filepath.Join(dir, "a"), a); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyPair(filepath.Join(dir, "b"), b); err != nil {
		t.Fatal(err)
	}
	pa, _ := os.ReadFile(filepath.Join(dir, "a.pub.asc"))
	sb, _ := os.ReadFile(filepath.Join(dir, "b.sec.asc"))

	// Concatenated armoured blocks, with leading white space.
	both := append(append([]byte("\n  \n"), pa...), sb...)
	el, err := ReadKeysFrom(bytes.NewReader(both))
	if err != nil || len(el) != 2 || Fingerprint(el[0]) != Fingerprint(a) || Fingerprint(el[1]) != Fingerprint(b) {
		t.Fatalf("concatenated: %d keys, %v", len(el), err)
	}
	if el[0].PrivateKey != nil || el[1].PrivateKey == nil {
		t.Error("concatenated: wrong public/private mix")
	}

	// Binary keyring with two keys.
	var bin bytes.Buffer
	a.Serialize(&bin)
	b.SerializePrivateWithoutSigning(&bin, nil)
	binPath := filepath.Join(dir, "keys.gpg")
	os.WriteFile(binPath, bin.Bytes(), 0o600)
	el, err = ReadKeys(binPath)
	if err != nil || len(el) != 2 || el[1].PrivateKey == nil {
		t.Fatalf("binary: %d keys, %v", len(el), err)
	}

	// Errors name the file.
	for name, content := range map[string]string{
		"empty.asc":   "",
		"garbage.asc": "hello, world\n",
		"message.asc": "-----BEGIN PGP MESSAGE-----\n\nwcBMA5Y=\n=abcd\n-----END PGP MESSAGE-----\n",
		"binary.gpg":  "\x99\x00\x01garbage",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := ReadKeys(p); err == nil || !strings.Contains(err.Error(), p) || !strings.HasPrefix(err.Error(), "crypto: ") {
			t.Errorf("ReadKeys(%s): err = %v, want an error naming the file", name, err)
		}
	}
	missing := filepath.Join(dir, "nope.asc")
	if _, err := ReadKeys(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("ReadKeys(missing): err = %v", err)
	}
}
