package crypto

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/dsar-tool/dsar/exporter/itest"
)

// badKeys maps the files in testdata/badkeys to what the refusal must
// say ("" for the accepted control key).
var badKeys = []struct{ file, problem, advice string }{
	{"good", "", ""},
	{"rsa1024", "uses RSA with 1024 bits, fewer than the 2048 required", "new key"},
	{"dsa-elgamal", "uses DSA, which is deprecated", "new key"},
	{"expired", "expired on 2020-12-31", "extend the key's expiry date"},
	{"revoked", "was revoked by its owner on ", "current public key"},
	{"sha1", "self-signature made with SHA-1", "SHA-256 or better"},
	{"signonly", "has no encryption subkey", "add an encryption subkey"},
}

func checkBadKeys(t *testing.T, dir string) {
	t.Helper()
	ctrl := newKey(t, "C <c@example.org>")
	for _, bk := range badKeys {
		t.Run(bk.file, func(t *testing.T) {
			el, err := ReadKeys(filepath.Join(dir, bk.file+".pub.asc"))
			if err != nil {
				t.Fatal(err)
			}
			e := el[0]
			err = CheckRecipient(e, time.Now())
			info := Describe(e, time.Now())
			var dst bytes.Buffer
			_, serr := Seal(&dst, SealOptions{Recipients: el, Signer: ctrl})
			if bk.problem == "" {
				if err != nil || serr != nil || !info.CanEncrypt || info.Problem != "" {
					t.Fatalf("good key refused: %v; seal: %v; %+v", err, serr, info)
				}
				return
			}
			var ke *KeyError
			if !errors.As(err, &ke) || !errors.Is(err, ErrUnusableKey) {
				t.Fatalf("CheckRecipient = %v, want a *KeyError", err)
			}
			msg := err.Error()
			for _, want := range []string{"crypto: recipient key " + Fingerprint(e) + " ", bk.problem, bk.advice} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if serr == nil || serr.Error() != msg {
				t.Errorf("Seal error = %v, want %q", serr, msg)
			}
			if dst.Len() != 0 {
				t.Errorf("Seal wrote %d bytes before refusing", dst.Len())
			}
			if info.CanEncrypt || info.Problem != ke.Problem {
				t.Errorf("Describe: %+v", info)
			}
			t.Log(msg)
		})
	}
}

// TestCheckRecipientGnuPGKeys checks the refusals on the committed keys
// that GnuPG made (see testdata/badkeys/README.md).
func TestCheckRecipientGnuPGKeys(t *testing.T) {
	checkBadKeys(t, filepath.Join("testdata", "badkeys"))
}

// TestCheckRecipientFreshGnuPGKeys makes the bad keys again with the
// installed GnuPG and checks them.
func TestCheckRecipientFreshGnuPGKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs GnuPG")
	}
	itest.LookPath(t, "gpg", "gnupg")
	dir := t.TempDir()
	gen, err := filepath.Abs(filepath.Join("testdata", "badkeys", "gen.sh"))
	if err != nil {
		t.Fatal(err)
	}
	// Keep GNUPGHOME short: gpg-agent's socket path is limited.
	cmd := exec.Command("sh", gen, dir)
	cmd.Env = append(os.Environ(), "TMPDIR=/tmp")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen.sh: %v\n%s", err, out)
	}
	checkBadKeys(t, dir)
}

// TestCheckRecipientDsarKeys covers the refusals dsar's own keys can
// show: expiry, revocation of the key, its user ID or its subkey, a
// missing subkey and a key from the future.
func TestCheckRecipientDsarKeys(t *testing.T) {
	now := testNow.Add(time.Minute)
	fresh := func(opt KeyOptions) *openpgp.Entity {
		e, err := GenerateKeyWithOptions("K <k@example.org>", testNow, opt)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, p := range Profiles {
		t.Run(string(p), func(t *testing.T) {
			good := fresh(KeyOptions{Profile: p})
			if err := CheckRecipient(publicOnly(t, good), now); err != nil {
				t.Fatalf("fresh key refused: %v", err)
			}
			expiring := fresh(KeyOptions{Profile: p, Expiry: time.Hour})
			revoked := fresh(KeyOptions{Profile: p})
			if err := revoked.RevokeKey(packet.KeyCompromised, "lost laptop", &packet.Config{Time: func() time.Time { return now }}); err != nil {
				t.Fatal(err)
			}
			subRevoked := fresh(KeyOptions{Profile: p})
			if err := subRevoked.RevokeSubkey(&subRevoked.Subkeys[0], packet.KeyRetired, "", &packet.Config{Time: func() time.Time { return now }}); err != nil {
				t.Fatal(err)
			}
			noSub := publicOnly(t, fresh(KeyOptions{Profile: p}))
			noSub.Subkeys = nil
			for _, tc := range []struct {
				name string
				e    *openpgp.Entity
				at   time.Time
				want string
			}{
				{"expired", expiring, now.Add(2 * time.Hour), "expired on " + day(testNow.Add(time.Hour))},
				{"not yet expired", expiring, now, ""},
				{"revoked", publicOnly(t, revoked), now.Add(time.Second), "was revoked by its owner on " + day(now) + " (reason: key compromised)"},
				{"subkey revoked", publicOnly(t, subRevoked), now.Add(time.Second), "has only revoked encryption subkeys"},
				{"no subkey", noSub, now, "has no encryption subkey"},
				{"from the future", good, testNow.Add(-time.Hour), "is dated in the future"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := CheckRecipient(tc.e, tc.at)
					if tc.want == "" {
						if err != nil {
							t.Fatal(err)
						}
						return
					}
					if !errors.Is(err, ErrUnusableKey) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), Fingerprint(tc.e)) {
						t.Errorf("err = %v, want one naming the key and %q", err, tc.want)
					}
				})
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	e, err := GenerateKeyWithOptions("Alex <alex@example.org>", testNow, KeyOptions{Expiry: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got := Describe(e, testNow.Add(time.Minute))
	want := KeyInfo{
		Fingerprint: Fingerprint(e), Version: 4, UserID: "Alex <alex@example.org>",
		Algorithm: "Ed25519", Bits: 255, Created: testNow.UTC(), Expires: testNow.Add(48 * time.Hour).UTC(),
		EncryptionAlgorithm: "Cv25519", CanEncrypt: true, CanSign: true, Secret: true,
	}
	if got != want {
		t.Errorf("Describe =\n%+v\nwant\n%+v", got, want)
	}
	v6, err := GenerateKeyWithOptions("Six <six@example.org>", testNow, KeyOptions{Profile: RFC9580})
	if err != nil {
		t.Fatal(err)
	}
	got = Describe(publicOnly(t, v6), testNow.Add(time.Minute))
	if got.Version != 6 || got.Algorithm != "Ed25519" || got.EncryptionAlgorithm != "X25519" || got.Secret || !got.CanEncrypt || !got.Expires.IsZero() || len(got.Fingerprint) != 64 || got.UserID != "Six <six@example.org>" {
		t.Errorf("v6: %+v", got)
	}
}
