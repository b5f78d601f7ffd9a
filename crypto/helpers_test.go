package crypto

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
)

// Cheap Argon2 for the tests; TestArgon2Defaults checks the real ones.
func init() {
	argon2Params = &s2k.Argon2Config{NumberOfPasses: 1, DegreeOfParallelism: 1, Memory: 8 << 10}
}

// testNow is the creation time of test keys: a little in the past, so
// that GnuPG does not complain about keys from the future.
var testNow = time.Now().Add(-time.Hour).Truncate(time.Second)

func newKey(t testing.TB, uid string) *openpgp.Entity {
	t.Helper()
	e, err := GenerateKey(uid, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// seal seals data in one Write and returns the message.
func seal(t testing.TB, data []byte, opt SealOptions) ([]byte, SealInfo) {
	t.Helper()
	var buf bytes.Buffer
	w, err := Seal(&buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.Info()
}

// open opens msg and returns the plaintext written to dst even on error.
func open(msg []byte, opt OpenOptions) ([]byte, *Opened, error) {
	var out bytes.Buffer
	o, err := Open(&out, bytes.NewReader(msg), opt)
	return out.Bytes(), o, err
}

func list(es ...*openpgp.Entity) openpgp.EntityList { return es }

// publicOnly returns e as read back from its serialised public key.
func publicOnly(t testing.TB, e *openpgp.Entity) *openpgp.Entity {
	t.Helper()
	var buf bytes.Buffer
	if err := e.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	el, err := ReadKeysFrom(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return el[0]
}

var errFail = errors.New("test: write failed")

// failWriter accepts n bytes, then fails.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errFail
	}
	f.n -= len(p)
	return len(p), nil
}

var _ io.Writer = (*failWriter)(nil)
