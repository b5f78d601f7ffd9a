package textrec

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads every line of rd with r, copying each.
func readAll(t *testing.T, r *LineReader, rd io.Reader) []Line {
	t.Helper()
	r.Reset(rd)
	var out []Line
	for {
		l, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		if l.B != nil {
			l.B = append([]byte{}, l.B...)
		}
		out = append(out, l)
	}
}

// want builds the expected lines: "" is an empty line, "LONG" a long one.
func want(lines ...string) []Line {
	out := make([]Line, len(lines))
	for i, s := range lines {
		out[i] = Line{B: []byte(s), N: int64(i + 1)}
		if s == "LONG" {
			out[i] = Line{N: int64(i + 1), Long: true}
		}
	}
	return out
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", MaxLine)
	tests := []struct {
		name    string
		content string
		want    []Line
	}{
		{"empty file", "", nil},
		{"LF", "a\nb\n", want("a", "b")},
		{"CRLF", "a\r\nb\r\n", want("a", "b")},
		{"mixed endings", "a\r\nb\nc\r\n", want("a", "b", "c")},
		{"last line without newline", "a\nb", want("a", "b")},
		{"last line CR without LF", "a\nb\r", want("a", "b")},
		{"blank lines", "\n\r\na\n\n", want("", "", "a", "")},
		{"lone CR inside a line", "a\rb\n", want("a\rb")},
		{"one CR only", "\r", want("")},
		{"only a CR is trimmed", "a\r\r\n", want("a\r")},
		{"line of MaxLine bytes", long + "\nb\n", want(long, "b")},
		{"last line of MaxLine bytes", "a\n" + long, want("a", long)},
		{"over-long line", "a\n" + long + "x\nb\n", want("a", "LONG", "b")},
		{"over-long last line", "a\n" + long + "x", want("a", "LONG")},
		{"over-long CRLF line", long + "\r\nb", want("LONG", "b")},
		{"CRLF line of MaxLine-1 bytes", long[1:] + "\r\nb", want(long[1:], "b")},
		{"very long lines", strings.Repeat("y", 3*MaxLine+5) + "\n" + strings.Repeat("z", 2*MaxLine+1), want("LONG", "LONG")},
	}
	var r LineReader // one reader for every file, as the connectors use it
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, slow := range []bool{false, true} {
				var rd io.Reader = strings.NewReader(tc.content)
				if slow {
					rd = iotest.HalfReader(rd)
				}
				got := readAll(t, &r, rd)
				if len(got) != len(tc.want) {
					t.Fatalf("slow %v: %d lines, want %d", slow, len(got), len(tc.want))
				}
				for i := range got {
					g, w := got[i], tc.want[i]
					if string(g.B) != string(w.B) || (g.B == nil) != (w.B == nil) || g.N != w.N || g.Long != w.Long {
						t.Errorf("slow %v: line %d: %d bytes, n %d, long %v; want %d bytes, n %d, long %v",
							slow, i+1, len(g.B), g.N, g.Long, len(w.B), w.N, w.Long)
					}
				}
			}
		})
	}
}

func TestLineReaderError(t *testing.T) {
	boom := errors.New("boom")
	var r LineReader
	r.Reset(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)))
	if l, err := r.Next(); err != nil || string(l.B) != "a" || l.N != 1 {
		t.Fatalf("first line: %q %d %v", l.B, l.N, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the read error", err)
	}
	// An error while skipping an over-long line is returned too.
	r.Reset(io.MultiReader(strings.NewReader(strings.Repeat("x", MaxLine+10)), iotest.ErrReader(boom)))
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("long line: got %v, want the read error", err)
	}
	// Reset starts numbering again.
	r.Reset(strings.NewReader("z\n"))
	if l, err := r.Next(); err != nil || string(l.B) != "z" || l.N != 1 {
		t.Fatalf("after Reset: %q %d %v", l.B, l.N, err)
	}
}

func TestLineReaderNoAllocs(t *testing.T) {
	content := strings.Repeat("1,\"4321\",,x\r\n", 1000)
	var r LineReader
	rd := strings.NewReader(content)
	r.Reset(rd)
	a := testing.AllocsPerRun(10, func() {
		rd.Reset(content)
		r.Reset(rd)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	})
	if a != 0 {
		t.Errorf("%v allocations per file, want 0", a)
	}
}
