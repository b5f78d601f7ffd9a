package crypto

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// patternReader yields an endless stream repeating a 1 MiB pattern.
type patternReader struct {
	pat []byte
	off int
}

func newPatternReader(tb testing.TB) *patternReader {
	return &patternReader{pat: randomBytes(tb, 1<<20)}
}

func (p *patternReader) Read(b []byte) (int, error) {
	n := copy(b, p.pat[p.off:])
	p.off = (p.off + n) % len(p.pat)
	return n, nil
}

// BenchmarkSealOpen seals and opens 64 MiB: separately (seal to
// io.Discard; open a sealed message held in memory) and streamed through
// a pipe. Memory stays constant: "open" allocates about 90 KB per 64 MiB;
// "seal" allocates about as many bytes as it encrypts, but as short-lived
// garbage (crypto/cipher.StreamWriter makes a buffer per Write), not as
// live memory.
func BenchmarkSealOpen(b *testing.B) {
	const size = 64 << 20
	ctrl, r := newKey(b, "C <c@example.org>"), newKey(b, "R <r@example.org>")
	src := newPatternReader(b)
	sealTo := func(dst io.Writer) error {
		w, err := Seal(dst, SealOptions{Recipients: list(r), Signer: ctrl})
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, io.LimitReader(src, size)); err != nil {
			return err
		}
		return w.Close()
	}
	opt := OpenOptions{Keys: list(r), Signers: list(ctrl)}

	b.Run("seal", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if err := sealTo(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		var msg bytes.Buffer
		if err := sealTo(&msg); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Open(io.Discard, bytes.NewReader(msg.Bytes()), opt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pipe", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(sealTo(pw)) }()
			if _, err := Open(io.Discard, pr, opt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// heapProbe discards what is written to it and records the live heap
// after the given numbers of bytes.
type heapProbe struct {
	n     int64
	at    []int64
	heaps []uint64
}

func (h *heapProbe) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	if len(h.at) > 0 && h.n >= h.at[0] {
		h.at = h.at[1:]
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.heaps = append(h.heaps, m.HeapAlloc)
	}
	return len(p), nil
}

// TestStreamingMemory pipes Seal into Open and checks that the live heap
// does not grow with the amount of data.
func TestStreamingMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const size = 40 << 20
	ctrl, r := newKey(t, "C <c@example.org>"), newKey(t, "R <r@example.org>")
	src := newPatternReader(t)
	pr, pw := io.Pipe()
	go func() {
		w, err := Seal(pw, SealOptions{Recipients: list(r), Passphrase: []byte("pw"), Signer: ctrl})
		if err == nil {
			_, err = io.Copy(w, io.LimitReader(src, size))
		}
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	probe := &heapProbe{at: []int64{4 << 20, size - 4<<20}}
	res, err := Open(probe, pr, OpenOptions{Keys: list(r), Signers: list(ctrl)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != size || len(probe.heaps) != 2 {
		t.Fatalf("opened %d bytes, %d heap samples", res.Size, len(probe.heaps))
	}
	grew := int64(probe.heaps[1]) - int64(probe.heaps[0])
	t.Logf("live heap after 4 MiB: %d KiB, after %d MiB: %d KiB", probe.heaps[0]>>10, (size-4<<20)>>20, probe.heaps[1]>>10)
	if grew > 2<<20 {
		t.Errorf("live heap grew by %d KiB while streaming %d MiB", grew>>10, (size-8<<20)>>20)
	}
}

// BenchmarkSealOpen1GiB seals 1 GiB (streamed from a generator, never
// held in memory) and pipes the message straight into Open, once per
// message format, checking the plaintext's SHA-256 at the far end. It
// reports throughput and the process's peak RSS (getrusage ru_maxrss,
// which only grows: run it alone, as below, for a meaningful figure). It
// is skipped unless DSAR_BENCH_1GIB=1:
//
//	DSAR_BENCH_1GIB=1 go test -run '^$' -bench BenchmarkSealOpen1GiB -benchtime 1x -timeout 30m ./crypto/
func BenchmarkSealOpen1GiB(b *testing.B) {
	if os.Getenv("DSAR_BENCH_1GIB") != "1" {
		b.Skip("set DSAR_BENCH_1GIB=1 to seal and open 1 GiB")
	}
	const size = 1 << 30
	for _, tc := range []struct {
		name    string
		profile Profile
	}{{"seipd1-rfc4880", RFC4880}, {"seipd2-rfc9580", RFC9580}} {
		b.Run(tc.name, func(b *testing.B) {
			opt := KeyOptions{Profile: tc.profile}
			ctrl, err := GenerateKeyWithOptions("C <c@example.org>", testNow, opt)
			if err != nil {
				b.Fatal(err)
			}
			r, err := GenerateKeyWithOptions("R <r@example.org>", testNow, opt)
			if err != nil {
				b.Fatal(err)
			}
			src := newPatternReader(b)
			b.SetBytes(size)
			for b.Loop() {
				in, out := sha256.New(), sha256.New()
				pr, pw := io.Pipe()
				go func() {
					w, err := Seal(pw, SealOptions{Recipients: list(r), Signer: ctrl, Profile: tc.profile})
					if err == nil {
						_, err = io.Copy(w, io.TeeReader(io.LimitReader(src, size), in))
					}
					if err == nil {
						err = w.Close()
					}
					pw.CloseWithError(err)
				}()
				res, err := Open(out, pr, OpenOptions{Keys: list(r), Signers: list(ctrl)})
				if err != nil {
					b.Fatal(err)
				}
				if res.Size != size || !bytes.Equal(in.Sum(nil), out.Sum(nil)) || !res.Verified {
					b.Fatalf("opened %d bytes, verified %v, digest match %v", res.Size, res.Verified, bytes.Equal(in.Sum(nil), out.Sum(nil)))
				}
				b.Logf("%s: cipher %s", tc.name, res.Cipher)
			}
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak_RSS_MiB")
			}
		})
	}
}
