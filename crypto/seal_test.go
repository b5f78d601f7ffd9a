package crypto

import (
	"bytes"
	stdcrypto "crypto"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
)

func TestSealOpenRoundTrip(t *testing.T) {
	ctrl := newKey(t, "Controller <dpo@acme.example>")
	ctrlPub := publicOnly(t, ctrl)
	r1, r2, r3 := newKey(t, "R1 <r1@example.org>"), newKey(t, "R2 <r2@example.org>"), newKey(t, "R3 <r3@example.org>")
	pass := []byte("correct horse battery staple")
	modTime := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	data := randomBytes(t, 300_000)

	type opener struct {
		name string
		keys openpgp.EntityList
		pass []byte
		key  *openpgp.Entity // expected KeyFingerprint, nil for passphrase
	}
	for _, tc := range []struct {
		name       string
		recipients openpgp.EntityList
		pass       []byte
		openers    []opener
	}{
		{"keys only", list(publicOnly(t, r1)), nil, []opener{{"key", list(r1), nil, r1}}},
		{"passphrase only", nil, pass, []opener{{"passphrase", nil, pass, nil}}},
		{"keys and passphrase", list(publicOnly(t, r1)), pass, []opener{
			{"key", list(r1), nil, r1},
			{"passphrase", nil, pass, nil},
			{"both", list(r1), pass, r1},
			{"wrong key, right passphrase", list(r2), pass, nil},
		}},
		{"several recipients", list(publicOnly(t, r1), publicOnly(t, r2), publicOnly(t, r3)), nil, []opener{
			{"r1", list(r1), nil, r1},
			{"r2", list(r2), nil, r2},
			{"r3", list(r3), nil, r3},
			{"all", list(r2, r3), nil, r2},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, info := seal(t, data, SealOptions{
				Recipients: tc.recipients, Passphrase: tc.pass, Signer: ctrl,
				FileName: "subject-42.zip", ModTime: modTime,
			})
			if info.Cipher != "AES-256" || info.Hash != "SHA-256" || info.SignerFingerprint != Fingerprint(ctrl) || info.Passphrase != (tc.pass != nil) || len(info.Recipients) != len(tc.recipients) {
				t.Errorf("Info() = %+v", info)
			}
			for i, r := range tc.recipients {
				if info.Recipients[i] != Fingerprint(r) {
					t.Errorf("Info().Recipients[%d] = %s, want %s", i, info.Recipients[i], Fingerprint(r))
				}
			}
			for _, o := range tc.openers {
				t.Run(o.name, func(t *testing.T) {
					got, res, err := open(msg, OpenOptions{Keys: o.keys, Passphrase: o.pass, Signers: list(ctrlPub)})
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("plaintext differs (%d bytes, want %d)", len(got), len(data))
					}
					want := Opened{
						Verified: true, SignerFingerprint: Fingerprint(ctrl), SignerKeyID: Fingerprint(ctrl)[24:],
						SignedAt: res.SignedAt, Hash: "SHA-256", Cipher: "AES-256",
						Passphrase: o.key == nil, FileName: "subject-42.zip", ModTime: modTime, Size: int64(len(data)),
					}
					if o.key != nil {
						want.KeyFingerprint = Fingerprint(o.key)
					}
					if d := time.Since(res.SignedAt); d < 0 || d > time.Minute {
						t.Errorf("SignedAt = %v, want about now", res.SignedAt)
					}
					if !res.ModTime.Equal(want.ModTime) {
						t.Errorf("ModTime = %v, want %v", res.ModTime, want.ModTime)
					}
					res.ModTime = want.ModTime
					if *res != want {
						t.Errorf("Opened = %+v\nwant     %+v", *res, want)
					}
				})
			}
		})
	}
}

// TestPacketStructure checks the packets of a sealed message: key packets,
// SEIPD v1, and inside it a one-pass signature, literal data and signature
// with no compression.
func TestPacketStructure(t *testing.T) {
	ctrl, r1, r2 := newKey(t, "C <c@example.org>"), newKey(t, "R1 <r1@example.org>"), newKey(t, "R2 <r2@example.org>")
	pass := []byte("pw")
	msg, _ := seal(t, []byte("hello"), SealOptions{Recipients: list(r1, r2), Passphrase: pass, Signer: ctrl, FileName: "b.zip"})

	var outer []string
	pr := packet.NewReader(bytes.NewReader(msg))
	for {
		p, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch p := p.(type) {
		case *packet.EncryptedKey:
			outer = append(outer, "PKESK")
			if p.Version != 3 || p.Algo != packet.PubKeyAlgoECDH {
				t.Errorf("PKESK version %d algo %v", p.Version, p.Algo)
			}
		case *packet.SymmetricKeyEncrypted:
			outer = append(outer, "SKESK")
			if p.Version != 4 || p.CipherFunc != packet.CipherAES256 {
				t.Errorf("SKESK version %d cipher %v", p.Version, p.CipherFunc)
			}
		case *packet.SymmetricallyEncrypted:
			outer = append(outer, "SEIPD")
			if p.Version != 1 || !p.IntegrityProtected {
				t.Errorf("SEIPD version %d, integrity protected %v", p.Version, p.IntegrityProtected)
			}
			io.Copy(io.Discard, p.Contents)
		default:
			outer = append(outer, "?")
		}
	}
	if got := strings.Join(outer, " "); got != "PKESK PKESK SKESK SEIPD" {
		t.Errorf("outer packets: %s", got)
	}

	// The S2K is one GnuPG 2.2 reads: iterated and salted, SHA-256, the
	// largest iteration count.
	var skesk []byte
	for _, p := range rawPackets(t, msg) {
		if p.tag == 3 {
			skesk = p.body
		}
	}
	if len(skesk) < 13 {
		t.Fatalf("SKESK body %x", skesk)
	}
	params, err := s2k.ParseIntoParams(bytes.NewReader(skesk[2:]))
	if err != nil {
		t.Fatal(err)
	}
	if params.Mode() != s2k.IteratedSaltedS2K || skesk[3] != 8 || skesk[12] != 0xFF {
		t.Errorf("S2K mode %v, hash %d, count byte %#x; want iterated+salted, SHA-256 (8), 0xff", params.Mode(), skesk[3], skesk[12])
	}

	for _, o := range []OpenOptions{{Keys: list(r2)}, {Passphrase: pass}} {
		res := &Opened{}
		plain, err := decrypt(bytes.NewReader(msg), o, nil, res)
		if err != nil {
			t.Fatal(err)
		}
		if res.Cipher != "AES-256" {
			t.Errorf("cipher %s", res.Cipher)
		}
		var inner []string
		ir := packet.NewReader(plain)
		for {
			p, err := ir.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch p := p.(type) {
			case *packet.OnePassSignature:
				inner = append(inner, "OPS")
				if p.Hash != stdcrypto.SHA256 || p.SigType != packet.SigTypeBinary || p.KeyId != ctrl.PrimaryKey.KeyId {
					t.Errorf("one-pass signature: hash %v type %v key %X", p.Hash, p.SigType, p.KeyId)
				}
			case *packet.LiteralData:
				inner = append(inner, "LIT")
				if !p.IsBinary || p.FileName != "b.zip" {
					t.Errorf("literal: binary %v name %q", p.IsBinary, p.FileName)
				}
				io.Copy(io.Discard, p.Body)
			case *packet.Signature:
				inner = append(inner, "SIG")
				if p.Version != 4 || p.Hash != stdcrypto.SHA256 {
					t.Errorf("signature version %d hash %v", p.Version, p.Hash)
				}
			case *packet.Compressed:
				inner = append(inner, "COMPRESSED")
			default:
				inner = append(inner, "?")
			}
		}
		if got := strings.Join(inner, " "); got != "OPS LIT SIG" {
			t.Errorf("inner packets: %s (want no compression)", got)
		}
		if err := plain.Close(); err != nil {
			t.Errorf("MDC: %v", err)
		}
	}
}

type rawPacket struct {
	tag     byte
	body    []byte
	version byte // of a partial-length packet, its first body octet
}

// rawPackets splits the new-format packets at the start of msg, up to the
// first one with a partial length (the encrypted data).
func rawPackets(t *testing.T, msg []byte) []rawPacket {
	t.Helper()
	var out []rawPacket
	for len(msg) > 2 {
		if msg[0]&0xC0 != 0xC0 {
			t.Fatalf("old-format packet header %#x", msg[0])
		}
		tag := msg[0] & 0x3F
		var n, h int
		switch l := msg[1]; {
		case l < 192:
			n, h = int(l), 2
		case l < 224:
			n, h = (int(l)-192)<<8+int(msg[2])+192, 3
		case l == 255:
			n, h = int(msg[2])<<24|int(msg[3])<<16|int(msg[4])<<8|int(msg[5]), 6
		default:
			return append(out, rawPacket{tag: tag, version: msg[2]})
		}
		out = append(out, rawPacket{tag: tag, body: msg[h : h+n]})
		msg = msg[h+n:]
	}
	return out
}

func TestCipherFollowsPreferences(t *testing.T) {
	ctrl, modern, old := newKey(t, "C <c@example.org>"), newKey(t, "M <m@example.org>"), newKey(t, "O <o@example.org>")
	for id, ident := range old.Identities {
		ident.SelfSignature.PreferredSymmetric = []uint8{uint8(packet.CipherAES128)}
		if err := ident.SelfSignature.SignUserId(id, old.PrimaryKey, old.PrivateKey, nil); err != nil {
			t.Fatal(err)
		}
	}
	msg, info := seal(t, []byte("x"), SealOptions{Recipients: list(modern, old), Signer: ctrl})
	if info.Cipher != "AES-128" {
		t.Errorf("Info().Cipher = %s, want AES-128 (one recipient prefers only AES-128)", info.Cipher)
	}
	_, res, err := open(msg, OpenOptions{Keys: list(modern), Signers: list(ctrl)})
	if err != nil || res.Cipher != "AES-128" {
		t.Errorf("Open: cipher %v, err %v", res, err)
	}
}

func TestOpenFailures(t *testing.T) {
	ctrl, other := newKey(t, "C <c@example.org>"), newKey(t, "Other <o@example.org>")
	r1, r2 := newKey(t, "R1 <r1@example.org>"), newKey(t, "R2 <r2@example.org>")
	pass := []byte("right")
	data := randomBytes(t, 100_000)
	msg, _ := seal(t, data, SealOptions{Recipients: list(r1), Passphrase: pass, Signer: ctrl})
	byOther, _ := seal(t, data, SealOptions{Recipients: list(r1), Signer: other})

	var unsignedBuf bytes.Buffer
	w, err := openpgp.Encrypt(&unsignedBuf, list(r1), nil, &openpgp.FileHints{IsBinary: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	unsigned := unsignedBuf.Bytes()

	var signedOnly bytes.Buffer
	w, err = openpgp.Sign(&signedOnly, ctrl, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()

	for _, tc := range []struct {
		name    string
		msg     []byte
		opt     OpenOptions
		want    error
		mention string // must appear in the message
	}{
		{"wrong key", msg, OpenOptions{Keys: list(r2), Signers: list(ctrl)}, ErrNoKey, keyID(r1.Subkeys[0].PublicKey.KeyId)},
		{"wrong passphrase", msg, OpenOptions{Passphrase: []byte("wrong"), Signers: list(ctrl)}, ErrNoKey, "passphrase"},
		{"nothing given", msg, OpenOptions{Signers: list(ctrl)}, ErrNoKey, ""},
		{"public key only", msg, OpenOptions{Keys: list(publicOnly(t, r1)), Signers: list(ctrl)}, ErrNoKey, ""},
		{"wrong signer", byOther, OpenOptions{Keys: list(r1), Signers: list(ctrl)}, ErrWrongSigner, Fingerprint(other)},
		{"no signers given", msg, OpenOptions{Keys: list(r1)}, ErrWrongSigner, Fingerprint(ctrl)},
		{"unsigned", unsigned, OpenOptions{Keys: list(r1), Signers: list(ctrl)}, ErrNotSigned, ""},
		{"not encrypted", signedOnly.Bytes(), OpenOptions{Keys: list(r1), Signers: list(ctrl)}, ErrNotEncrypted, ""},
		{"a key, not a message", keyBytes(t, r1), OpenOptions{Keys: list(r1)}, ErrCorrupt, "key"},
		{"garbage", []byte("this is not OpenPGP"), OpenOptions{Keys: list(r1)}, ErrCorrupt, ""},
		{"empty", nil, OpenOptions{Keys: list(r1)}, ErrCorrupt, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, res, err := open(tc.msg, tc.opt)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if res != nil {
				t.Errorf("Opened = %+v on error", res)
			}
			if len(got) != 0 {
				t.Errorf("%d plaintext bytes written before failing with %v", len(got), tc.want)
			}
			if !strings.HasPrefix(err.Error(), "crypto: ") || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q should start with crypto: and mention %q", err, tc.mention)
			}
			if bytes.Contains([]byte(err.Error()), pass) {
				t.Errorf("error %q reveals the passphrase", err)
			}
		})
	}

	var se *SignerError
	_, _, err = open(byOther, OpenOptions{Keys: list(r1), Signers: list(ctrl)})
	if !errors.As(err, &se) || se.KeyID != Fingerprint(other)[24:] || se.Fingerprint != Fingerprint(other) {
		t.Errorf("wrong signer: %v, want *SignerError naming %s", err, Fingerprint(other))
	}

	// NoVerify accepts unsigned messages and unknown signers, but reports
	// them as not verified.
	for name, m := range map[string][]byte{"unsigned": unsigned, "unknown signer": byOther} {
		got, res, err := open(m, OpenOptions{Keys: list(r1), Signers: list(ctrl), NoVerify: true})
		if err != nil || !bytes.Equal(got, data) || res.Verified || res.SignerFingerprint != "" {
			t.Errorf("NoVerify, %s: err %v, res %+v", name, err, res)
		}
	}
	// NoVerify still verifies a trusted signer.
	if _, res, err := open(msg, OpenOptions{Keys: list(r1), Signers: list(ctrl), NoVerify: true}); err != nil || !res.Verified {
		t.Errorf("NoVerify, trusted signer: err %v, res %+v", err, res)
	}
}

func keyBytes(t *testing.T, e *openpgp.Entity) []byte {
	var b bytes.Buffer
	if err := e.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestOpenTampered flips bytes and truncates a sealed message: every
// variant must fail. Plaintext may reach dst before the failure is
// detected; Open's contract makes the caller discard it.
func TestOpenTampered(t *testing.T) {
	ctrl, r := newKey(t, "C <c@example.org>"), newKey(t, "R <r@example.org>")
	data := randomBytes(t, 200_000)
	msg, _ := seal(t, data, SealOptions{Recipients: list(r), Signer: ctrl})
	n := len(msg)
	hdr := headerLen(t, msg) // key packets plus SEIPD header

	mutate := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), msg...)) }
	flip := func(i int) []byte { return mutate(func(b []byte) []byte { b[i] ^= 0x01; return b }) }
	cases := map[string][]byte{
		"flip first byte":         flip(0),
		"flip key packet":         flip(20),
		"flip key packet end":     flip(hdr - 5),
		"flip SEIPD prefix":       flip(hdr + 4),
		"flip early data":         flip(hdr + 100),
		"flip middle":             flip(n / 2),
		"flip signature area":     flip(n - 60),
		"flip MDC":                flip(n - 3),
		"flip last byte":          flip(n - 1),
		"truncate last byte":      msg[:n-1],
		"truncate MDC":            msg[:n-22],
		"truncate half":           msg[:n/2],
		"truncate after header":   msg[:hdr],
		"truncate in key packets": msg[:hdr/2],
		"append garbage":          append(append([]byte(nil), msg...), 0xC1, 0x05, 1, 2, 3),
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			got, res, err := open(m, OpenOptions{Keys: list(r), Signers: list(ctrl)})
			if name == "append garbage" {
				// The message itself is intact, but a bundle is one
				// message: anything appended is a change, and refused.
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "data after the end of the message") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("tampered message opened: %+v", res)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNoKey) && !errors.Is(err, ErrBadSignature) {
				t.Errorf("err = %v, want ErrCorrupt, ErrNoKey or ErrBadSignature", err)
			}
			t.Logf("%v (%d plaintext bytes streamed before the error)", err, len(got))
		})
	}
}

// headerLen returns the offset of the first encrypted byte of the SEIPD
// packet in msg.
func headerLen(t *testing.T, msg []byte) int {
	t.Helper()
	r := bytes.NewReader(msg)
	pr := packet.NewReader(r)
	for {
		p, err := pr.Next()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.(*packet.SymmetricallyEncrypted); ok {
			return len(msg) - r.Len()
		}
	}
}

func TestOpenArmored(t *testing.T) {
	ctrl, r := newKey(t, "C <c@example.org>"), newKey(t, "R <r@example.org>")
	data := randomBytes(t, 10_000)
	msg, _ := seal(t, data, SealOptions{Recipients: list(r), Signer: ctrl})
	var a bytes.Buffer
	aw, _ := armor.Encode(&a, openpgp.MessageType, nil)
	aw.Write(msg)
	aw.Close()
	got, res, err := open(append([]byte("\r\n"), a.Bytes()...), OpenOptions{Keys: list(r), Signers: list(ctrl)})
	if err != nil || !bytes.Equal(got, data) || !res.Verified {
		t.Fatalf("armoured: err %v", err)
	}
	// An armoured key is not a message.
	var k bytes.Buffer
	aw, _ = armor.Encode(&k, openpgp.PublicKeyType, nil)
	r.Serialize(aw)
	aw.Close()
	if _, _, err := open(k.Bytes(), OpenOptions{Keys: list(r)}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("armoured key: err = %v, want ErrCorrupt", err)
	}
}

func TestSealFailures(t *testing.T) {
	ctrl, r := newKey(t, "C <c@example.org>"), newKey(t, "R <r@example.org>")
	noEnc := publicOnly(t, newKey(t, "N <n@example.org>"))
	noEnc.Subkeys = nil // primary key can only sign and certify
	expiring, err := GenerateKeyWithOptions("E <e@example.org>", testNow, KeyOptions{Expiry: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	locked := newKey(t, "L <l@example.org>")
	if err := locked.EncryptPrivateKeys([]byte("lock"), nil); err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return testNow.Add(2 * time.Hour) }

	for _, tc := range []struct {
		name    string
		opt     SealOptions
		mention string
	}{
		{"nothing to encrypt to", SealOptions{Signer: ctrl}, "no recipient"},
		{"no signer", SealOptions{Recipients: list(r)}, "signing key"},
		{"recipient without encryption key", SealOptions{Recipients: list(r, noEnc), Signer: ctrl}, Fingerprint(noEnc)},
		{"expired recipient", SealOptions{Recipients: list(expiring), Signer: ctrl, Now: later}, Fingerprint(expiring)},
		{"expired signer", SealOptions{Recipients: list(r), Signer: expiring, Now: later}, Fingerprint(expiring)},
		{"public signer", SealOptions{Recipients: list(r), Signer: publicOnly(t, ctrl)}, Fingerprint(ctrl)},
		{"locked signer", SealOptions{Recipients: list(r), Signer: locked}, Fingerprint(locked)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst bytes.Buffer
			w, err := Seal(&dst, tc.opt)
			if err == nil {
				t.Fatalf("Seal succeeded: %+v", w.Info())
			}
			if !strings.HasPrefix(err.Error(), "crypto: ") || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q should mention %q", err, tc.mention)
			}
			if dst.Len() != 0 {
				t.Errorf("%d bytes written before failing", dst.Len())
			}
		})
	}

	// A locked private key cannot open a message either, and the error
	// says so.
	msg, _ := seal(t, []byte("x"), SealOptions{Recipients: list(locked), Signer: ctrl})
	if _, _, err := open(msg, OpenOptions{Keys: list(locked), Signers: list(ctrl)}); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("locked key: err = %v", err)
	}
}

func TestWriterErrors(t *testing.T) {
	ctrl, r := newKey(t, "C <c@example.org>"), newKey(t, "R <r@example.org>")
	data := randomBytes(t, 1<<20)

	// Errors from dst come back from Write or Close.
	w, err := Seal(&failWriter{n: 4096}, SealOptions{Recipients: list(r), Signer: ctrl})
	if err != nil {
		t.Fatal(err)
	}
	_, werr := w.Write(data)
	cerr := w.Close()
	if !errors.Is(werr, errFail) && !errors.Is(cerr, errFail) {
		t.Errorf("Write: %v, Close: %v; want %v", werr, cerr, errFail)
	}
	if _, err := Seal(&failWriter{n: 10}, SealOptions{Recipients: list(r), Signer: ctrl}); !errors.Is(err, errFail) {
		t.Errorf("Seal on a failing writer: %v", err)
	}

	// Misuse.
	var buf bytes.Buffer
	w, _ = Seal(&buf, SealOptions{Recipients: list(r), Signer: ctrl})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	// An empty message is fine.
	got, _, err := open(buf.Bytes(), OpenOptions{Keys: list(r), Signers: list(ctrl)})
	if err != nil || len(got) != 0 {
		t.Errorf("empty message: %d bytes, %v", len(got), err)
	}

	// Errors writing the plaintext are not reported as corruption.
	msg, _ := seal(t, data, SealOptions{Recipients: list(r), Signer: ctrl})
	_, err = Open(&failWriter{n: 1000}, bytes.NewReader(msg), OpenOptions{Keys: list(r), Signers: list(ctrl)})
	if !errors.Is(err, errFail) || errors.Is(err, ErrCorrupt) {
		t.Errorf("Open to a failing writer: %v", err)
	}
}

// TestSealStreaming writes in many small and a few huge pieces and checks
// that the result is the same data.
func TestSealStreaming(t *testing.T) {
	ctrl, r := newKey(t, "C <c@example.org>"), newKey(t, "R <r@example.org>")
	data := randomBytes(t, 3<<20)
	var buf bytes.Buffer
	w, err := Seal(&buf, SealOptions{Recipients: list(r), Signer: ctrl})
	if err != nil {
		t.Fatal(err)
	}
	rest := data
	for _, n := range []int{1, 7, 100, 4096, 65536, 65537, 1 << 20} {
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	for len(rest) > 0 {
		n := min(len(rest), 13)
		w.Write(rest[:n])
		rest = rest[n:]
		if len(rest) > 1<<20 {
			w.Write(rest)
			rest = nil
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _, err := open(buf.Bytes(), OpenOptions{Keys: list(r), Signers: list(ctrl)})
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("err %v, equal %v", err, bytes.Equal(got, data))
	}
}

// TestOpenEveryByteFlipped flips one bit in each byte of a small message
// in turn. Open must either fail or return exactly the original plaintext
// with a good signature: a few framing bits do not change the content,
// such as the low bits of an MPI's bit count in a key packet, or the last
// length header of the encrypted data claiming more bytes than the file
// holds (the reader stops at the end of the file and the integrity check
// still passes).
func TestOpenEveryByteFlipped(t *testing.T) {
	ctrl, r := newKey(t, "C <c@example.org>"), newKey(t, "R <r@example.org>")
	data := randomBytes(t, 1000)
	msg, _ := seal(t, data, SealOptions{Recipients: list(r), Signer: ctrl, FileName: "f.zip"})
	opt := OpenOptions{Keys: list(r), Signers: list(ctrl)}
	var benign []int
	for i := range msg {
		m := append([]byte(nil), msg...)
		m[i] ^= 0x01
		got, res, err := open(m, opt)
		if err == nil {
			if !bytes.Equal(got, data) || !res.Verified || res.FileName != "f.zip" {
				t.Errorf("flipping byte %d of %d changed the content undetected", i, len(msg))
			}
			benign = append(benign, i)
		}
	}
	t.Logf("flips at %v of %d bytes (encrypted data from %d) left the content intact", benign, len(msg), headerLen(t, msg))
	if len(benign) > 8 {
		t.Errorf("%d undetected flips; expected only a few framing bits", len(benign))
	}
}

// failReader returns data, then fails.
type failReader struct{ r io.Reader }

func (f failReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errFail
	}
	return n, err
}

func TestOpenReadError(t *testing.T) {
	ctrl, r := newKey(t, "C <c@example.org>"), newKey(t, "R <r@example.org>")
	msg, _ := seal(t, randomBytes(t, 100_000), SealOptions{Recipients: list(r), Signer: ctrl})
	for _, n := range []int{0, 50, len(msg) / 2, len(msg) - 1} {
		var out bytes.Buffer
		_, err := Open(&out, failReader{bytes.NewReader(msg[:n])}, OpenOptions{Keys: list(r), Signers: list(ctrl)})
		if !errors.Is(err, errFail) || errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), "crypto: read message: ") {
			t.Errorf("read error after %d bytes: err = %v, want the read error", n, err)
		}
	}
}

// TestOpenSEIPDv2 opens an AEAD (SEIPD v2) message, which Seal never
// writes but other OpenPGP implementations may.
func TestOpenSEIPDv2(t *testing.T) {
	ctrl := newKey(t, "C <c@example.org>")
	cfg := &packet.Config{
		Algorithm: packet.PubKeyAlgoEdDSA, DefaultCipher: packet.CipherAES256, DefaultHash: stdcrypto.SHA256,
		AEADConfig: &packet.AEADConfig{DefaultMode: packet.AEADModeOCB},
	}
	rcpt, err := openpgp.NewEntity("V2", "", "v2@example.org", cfg)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 50_000)
	var buf bytes.Buffer
	w, err := openpgp.Encrypt(&buf, list(rcpt), ctrl, &openpgp.FileHints{IsBinary: true}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, res, err := open(buf.Bytes(), OpenOptions{Keys: list(rcpt), Signers: list(ctrl)})
	if err != nil || !bytes.Equal(got, data) || !res.Verified {
		t.Fatalf("err %v, res %+v", err, res)
	}
	if res.Cipher != "AES-256-OCB" {
		t.Errorf("Cipher = %q, want AES-256-OCB", res.Cipher)
	}
	// Tampering is detected.
	m := append([]byte(nil), buf.Bytes()...)
	m[len(m)/2] ^= 1
	if _, _, err := open(m, OpenOptions{Keys: list(rcpt), Signers: list(ctrl)}); err == nil {
		t.Error("tampered SEIPD v2 message opened")
	}
}
