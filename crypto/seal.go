package crypto

import (
	"bufio"
	"bytes"
	stdcrypto "crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
)

// SealOptions says who can open a sealed message and who signs it.
type SealOptions struct {
	// Recipients are public (or private) keys; the message is encrypted
	// to the current encryption subkey of each. Each must pass
	// [CheckRecipient].
	Recipients openpgp.EntityList
	// Passphrase, if not empty, also opens the message. In a SEIPD v1
	// message it is stretched with the iterated and salted S2K (SHA-256,
	// 65011712 octets), which GnuPG 2.2 understands; in a SEIPD v2
	// message, with Argon2. At least one of Recipients and Passphrase is
	// required.
	Passphrase []byte
	// Profile decides the message format where the recipients' keys do
	// not: see [Seal]. Zero means [DefaultProfile].
	Profile Profile
	// Signer is the controller's private key; its signing key signs the
	// message. Required; a locked key must be unlocked first
	// ([UnlockKey]).
	Signer *openpgp.Entity
	// FileName and ModTime go in the literal data packet (inside the
	// encryption, but not covered by the v4 signature). FileName is cut to
	// 255 bytes. A zero ModTime is written as 0.
	FileName string
	ModTime  time.Time
	// Now returns the time used to check key validity and to date the
	// signature. Nil means time.Now.
	Now func() time.Time
}

// SealInfo describes a sealed message, for logs and manifests.
type SealInfo struct {
	Cipher            string   // "AES-256", or "AES-256-OCB" and the like for SEIPD v2
	Hash              string   // signature hash, "SHA-256"
	SEIPD             int      // 1 (CFB with MDC) or 2 (AEAD)
	S2K               string   // passphrase stretching: "iterated SHA-256" or "Argon2"; "" without a passphrase
	SignerFingerprint string   // primary key fingerprint of the signer
	Recipients        []string // primary key fingerprints, in order
	Passphrase        bool     // whether a passphrase also opens it
}

// Writer is the plaintext side of a sealed message; see [Seal].
type Writer struct {
	buf    *bufio.Writer
	signed io.WriteCloser // one-pass signature + literal data
	seipd  io.WriteCloser // encrypted data packet
	info   SealInfo
	closed bool
	err    error
}

// writeChunk is the largest write passed to go-crypto's packet writers.
// Their partial-length writers buffer whatever one Write hands them, so
// bounding writes keeps memory constant.
const writeChunk = 64 << 10

// maxS2KCount is the largest iteration count RFC 4880 can express.
const maxS2KCount = 65011712

// Seal starts a signed and encrypted OpenPGP message on dst and returns
// the Writer to which the plaintext is written. Close must be called to
// finish the message; it does not close dst.
//
// The message has one key packet per recipient and one for the
// passphrase, all opening the same session key; it is signed by
// opt.Signer with SHA-256 (unless the signer key's preferences rule it
// out; [Writer.Info] reports the hash) and not compressed. Memory use does
// not depend on the amount of data.
//
// The format follows the recipients' keys. If every recipient key is a v6
// key or advertises the SEIPD v2 feature, the message is SEIPD v2 (AEAD)
// with v6 key packets, using the first AEAD cipher suite of AES-256-OCB,
// AES-256-GCM, AES-128-OCB, AES-128-GCM that every key lists (AES-128-OCB,
// which all must support, if none). Otherwise it is SEIPD v1 with v3 key
// packets, AES-256 if every key lists it and AES-128 if not. The profile
// decides the rest: a passphrase-only message is SEIPD v2 under rfc9580
// and SEIPD v1 under rfc4880, and under rfc4880 a passphrase keeps the
// message at SEIPD v1 (so GnuPG 2.2 can open it with the passphrase) even
// if the recipient keys would allow v2.
//
// Seal checks the keys before writing anything: it fails, naming the
// key's fingerprint, if a recipient fails [CheckRecipient] (the error is
// a *KeyError) or the signer has no usable signing key at opt.Now.
func Seal(dst io.Writer, opt SealOptions) (*Writer, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	t := now()
	if len(opt.Recipients) == 0 && len(opt.Passphrase) == 0 {
		return nil, errors.New("crypto: seal: no recipient key and no passphrase")
	}
	if opt.Signer == nil {
		return nil, errors.New("crypto: seal: no signing key")
	}
	profile, err := ParseProfile(string(opt.Profile))
	if err != nil {
		return nil, err
	}
	if err := checkSigner(opt.Signer, t); err != nil {
		return nil, err
	}

	var (
		encKeys []*packet.PublicKey
		info    = SealInfo{SignerFingerprint: Fingerprint(opt.Signer), Passphrase: len(opt.Passphrase) > 0}
		seen    = map[string]bool{}
		ciphers = []packet.CipherFunction{packet.CipherAES256, packet.CipherAES128}
		suites  = preferredSuites
		allV2   = true
	)
	for _, r := range opt.Recipients {
		if r == nil {
			return nil, errors.New("crypto: seal: nil recipient key")
		}
		fp := Fingerprint(r)
		if seen[fp] {
			continue
		}
		seen[fp] = true
		if err := CheckRecipient(r, t); err != nil {
			return nil, err
		}
		k, _ := r.EncryptionKey(t)
		selfSig, _ := r.PrimarySelfSignature()
		ciphers = intersectCiphers(ciphers, selfSig.PreferredSymmetric)
		if r.PrimaryKey.Version != 6 && !selfSig.SEIPDv2 {
			allV2 = false
		}
		if len(selfSig.PreferredCipherSuites) > 0 {
			suites = intersectSuites(suites, selfSig.PreferredCipherSuites)
		} else {
			// RFC 9580, 5.2.3.15: no list means AES-128-OCB only.
			suites = intersectSuites(suites, [][2]uint8{{uint8(packet.CipherAES128), uint8(packet.AEADModeOCB)}})
		}
		encKeys = append(encKeys, k.PublicKey)
		info.Recipients = append(info.Recipients, fp)
	}
	aead := allV2
	switch {
	case len(encKeys) == 0:
		aead = profile.v6()
	case len(opt.Passphrase) > 0 && !profile.v6():
		aead = false
	}

	// As go-crypto's openpgp.Encrypt does: when the recipients share no
	// preference, fall back to AES-128 (or AES-128-OCB), which every
	// implementation has.
	cipher := packet.CipherAES128
	if len(ciphers) > 0 {
		cipher = ciphers[0]
	}
	suite := packet.CipherSuite{Cipher: packet.CipherAES128, Mode: packet.AEADModeOCB}
	if len(suites) > 0 {
		suite = packet.CipherSuite{Cipher: packet.CipherFunction(suites[0][0]), Mode: packet.AEADMode(suites[0][1])}
	}

	cfg := &packet.Config{
		DefaultHash:            stdcrypto.SHA256,
		DefaultCipher:          cipher, // also the SKESK's own cipher
		DefaultCompressionAlgo: packet.CompressionNone,
		Time:                   func() time.Time { return t },
		S2KConfig: &s2k.Config{
			S2KMode:  s2k.IteratedSaltedS2K,
			Hash:     stdcrypto.SHA256,
			S2KCount: maxS2KCount,
		},
	}
	info.SEIPD, info.Cipher = 1, cipherName(cipher)
	if aead {
		cipher = suite.Cipher
		cfg.DefaultCipher = suite.Cipher
		cfg.AEADConfig = &packet.AEADConfig{DefaultMode: suite.Mode}
		cfg.S2KConfig = &s2k.Config{S2KMode: s2k.Argon2S2K, Argon2Config: argon2Params}
		info.SEIPD, info.Cipher = 2, cipherName(suite.Cipher)+"-"+aeadName(suite.Mode)
	}
	if info.Passphrase {
		info.S2K = "iterated SHA-256"
		if aead {
			info.S2K = "Argon2"
		}
	}

	sessionKey := make([]byte, cipher.KeySize())
	if _, err := io.ReadFull(rand.Reader, sessionKey); err != nil {
		return nil, fmt.Errorf("crypto: seal: %w", err)
	}
	defer clear(sessionKey)

	for i, k := range encKeys {
		if err := packet.SerializeEncryptedKeyAEAD(dst, k, cipher, aead, sessionKey, cfg); err != nil {
			return nil, fmt.Errorf("crypto: encrypt session key to %s: %w", info.Recipients[i], err)
		}
	}
	if len(opt.Passphrase) > 0 {
		if err := packet.SerializeSymmetricKeyEncryptedAEADReuseKey(dst, sessionKey, opt.Passphrase, aead, cfg); err != nil {
			return nil, fmt.Errorf("crypto: encrypt session key to passphrase: %w", err)
		}
	}
	seipd, err := packet.SerializeSymmetricallyEncrypted(dst, cipher, aead, suite, sessionKey, cfg)
	if err != nil {
		return nil, fmt.Errorf("crypto: seal: %w", err)
	}

	// openpgp.Sign writes the one-pass signature, literal data and
	// signature packets into the encrypted packet. It picks the hash from
	// the signer's preferences, preferring cfg.DefaultHash; read the
	// one-pass signature packet back to report the hash actually used.
	head := &headWriter{w: seipd}
	hints := &openpgp.FileHints{IsBinary: true, FileName: opt.FileName, ModTime: opt.ModTime}
	signed, err := openpgp.Sign(head, opt.Signer, hints, cfg)
	if err != nil {
		return nil, fmt.Errorf("crypto: sign with key %s: %w", info.SignerFingerprint, err)
	}
	if p, err := packet.Read(bytes.NewReader(head.buf)); err == nil {
		if ops, ok := p.(*packet.OnePassSignature); ok {
			info.Hash = hashName(ops.Hash)
		}
	}
	head.buf, head.off = nil, true

	w := &Writer{signed: signed, seipd: seipd, info: info}
	w.buf = bufio.NewWriterSize(chunkWriter{signed}, writeChunk)
	return w, nil
}

// checkSigner returns an error naming e if it cannot sign at time t.
func checkSigner(e *openpgp.Entity, t time.Time) error {
	fp := Fingerprint(e)
	k, ok := e.SigningKey(t)
	if !ok {
		return fmt.Errorf("crypto: signer key %s has no valid signing key (expired, revoked or not a signing key)", fp)
	}
	if k.PrivateKey == nil {
		return fmt.Errorf("crypto: signer key %s: private key is missing (got a public key)", fp)
	}
	if k.PrivateKey.Encrypted {
		return fmt.Errorf("crypto: signer key %s: private key is locked by a passphrase", fp)
	}
	if selfSig, _ := e.PrimarySelfSignature(); selfSig == nil {
		return fmt.Errorf("crypto: signer key %s has no self-signature", fp)
	}
	return nil
}

// Info describes the message being written. It is complete as soon as
// Seal returns.
func (w *Writer) Info() SealInfo {
	i := w.info
	i.Recipients = append([]string(nil), w.info.Recipients...)
	return i
}

// Write encrypts and signs p. Writes are buffered, so an error writing to
// dst may be returned by a later Write or by Close; it is returned as it
// is, and every later Write and Close returns it again.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("crypto: write to closed sealed message")
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.buf.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Close writes the signature and the integrity check, finishing the
// message. It does not close dst. A message whose Close failed, or was
// never called, is unreadable.
func (w *Writer) Close() error {
	if w.closed {
		return errors.New("crypto: sealed message closed twice")
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if err := w.buf.Flush(); err != nil {
		return err
	}
	if err := w.signed.Close(); err != nil {
		return fmt.Errorf("crypto: finish signature: %w", err)
	}
	if err := w.seipd.Close(); err != nil {
		return fmt.Errorf("crypto: finish encrypted data: %w", err)
	}
	return nil
}

// chunkWriter splits writes into pieces of at most writeChunk bytes.
type chunkWriter struct{ w io.Writer }

func (c chunkWriter) Write(p []byte) (int, error) {
	var n int
	for len(p) > 0 {
		k := min(len(p), writeChunk)
		m, err := c.w.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// headWriter passes writes through and, until off, keeps a copy of the
// first 128 bytes (enough for a v6 one-pass signature packet).
type headWriter struct {
	w   io.Writer
	buf []byte
	off bool
}

func (h *headWriter) Write(p []byte) (int, error) {
	if !h.off && len(h.buf) < 128 {
		h.buf = append(h.buf, p[:min(len(p), 128-len(h.buf))]...)
	}
	return h.w.Write(p)
}

func intersectCiphers(have []packet.CipherFunction, prefs []uint8) []packet.CipherFunction {
	var out []packet.CipherFunction
	for _, c := range have {
		for _, p := range prefs {
			if uint8(c) == p {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func intersectSuites(have, prefs [][2]uint8) [][2]uint8 {
	var out [][2]uint8
	for _, c := range have {
		for _, p := range prefs {
			if c == p {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func cipherName(c packet.CipherFunction) string {
	switch c {
	case packet.CipherAES128:
		return "AES-128"
	case packet.CipherAES192:
		return "AES-192"
	case packet.CipherAES256:
		return "AES-256"
	case packet.CipherCAST5:
		return "CAST5"
	case packet.Cipher3DES:
		return "3DES"
	}
	return "cipher " + strconv.Itoa(int(c))
}
