package textrec

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		delim  byte // ',' if 0
		values []string
		quoted []bool
		err    SplitErr
		at     int
		n      int // the count on an error
	}{
		{name: "strings and integers", in: `1,"4321",-5`, values: []string{"1", "4321", "-5"}, quoted: []bool{false, true, false}},
		{name: "empty fields", in: `,,"",`, values: []string{"", "", "", ""}, quoted: []bool{false, false, true, false}},
		{name: "empty record", in: ``, values: []string{""}, quoted: []bool{false}},
		{name: "only a delimiter", in: `,`, values: []string{"", ""}, quoted: []bool{false, false}},
		{name: "empty quoted field", in: `""`, values: []string{""}, quoted: []bool{true}},
		{name: "doubled quote", in: `"re ""urgent""",1`, values: []string{`re "urgent"`, "1"}, quoted: []bool{true, false}},
		{name: "only doubled quotes", in: `""""""`, values: []string{`""`}, quoted: []bool{true}},
		{name: "doubled quote at the end", in: `1,"a"""`, values: []string{"1", `a"`}, quoted: []bool{false, true}},
		{name: "delimiter in quotes", in: `"a,b",2`, values: []string{"a,b", "2"}, quoted: []bool{true, false}},
		{name: "line break in quotes", in: "\"a\nb\",2", values: []string{"a\nb", "2"}, quoted: []bool{true, false}},
		{name: "spaces kept", in: ` a , b `, values: []string{" a ", " b "}, quoted: []bool{false, false}},
		{name: "UTF-8", in: `"siobhán.níbhriain","陈伟"`, values: []string{"siobhán.níbhriain", "陈伟"}, quoted: []bool{true, true}},
		{name: "tab delimiter", in: "a\t\"b\tc\"\t", delim: '\t', values: []string{"a", "b\tc", ""}, quoted: []bool{false, true, false}},
		{name: "semicolon delimiter", in: `a,b;"c;d";`, delim: ';', values: []string{"a,b", "c;d", ""}, quoted: []bool{false, true, false}},
		{name: "pipe delimiter", in: `1|"x"|`, delim: '|', values: []string{"1", "x", ""}, quoted: []bool{false, true, false}},
		{name: "unterminated", in: `1,"abc`, err: SplitUnterminated, at: 1, n: 2},
		{name: "unterminated after doubled quote", in: `"a""`, err: SplitUnterminated, at: 0, n: 1},
		{name: "lone quote", in: `1,2,"`, err: SplitUnterminated, at: 2, n: 3},
		{name: "stray quote", in: `1,2"3`, err: SplitStrayQuote, at: 1, n: 2},
		{name: "stray quote at the end", in: `1,2"`, err: SplitStrayQuote, at: 1, n: 2},
		{name: "text after quote", in: `"a"b,1`, err: SplitAfterQuote, at: 0, n: 1},
		{name: "space after quote", in: `"a" ,1`, err: SplitAfterQuote, at: 0, n: 1},
		{name: "comma after quote, other delimiter", in: `"a",b`, delim: ';', err: SplitAfterQuote, at: 0, n: 1},
		{name: "error in a later field", in: `1,2,"x"y,4`, err: SplitAfterQuote, at: 2, n: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := []byte(tc.in)
			delim := tc.delim
			if delim == 0 {
				delim = ','
			}
			fs, n, err, at := Split(rec, delim, nil, 100)
			if err != tc.err {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err != SplitOK {
				if at != tc.at || n != tc.n {
					t.Errorf("at %d, count %d; want %d, %d", at, n, tc.at, tc.n)
				}
				return
			}
			if at != 0 {
				t.Errorf("at %d without an error", at)
			}
			if n != len(tc.values) || len(fs) != n {
				t.Fatalf("%d fields (%d kept), want %d", n, len(fs), len(tc.values))
			}
			var vals []string
			var quoted []bool
			for _, f := range fs {
				vals = append(vals, f.Str(rec))
				quoted = append(quoted, f.Quoted)
			}
			if !reflect.DeepEqual(vals, tc.values) || !reflect.DeepEqual(quoted, tc.quoted) {
				t.Errorf("got %q %v, want %q %v", vals, quoted, tc.values, tc.quoted)
			}
		})
	}
}

func TestSplitKeepsAtMostLimit(t *testing.T) {
	rec := []byte(strings.Repeat(`"x",`, 9) + `"x"`)
	fs, n, err, _ := Split(rec, ',', nil, 3)
	if err != SplitOK || n != 10 || len(fs) != 3 {
		t.Errorf("n %d, kept %d, err %v; want 10, 3, ok", n, len(fs), err)
	}
	fs, n, err, _ = Split(rec, ',', fs, 0)
	if err != SplitOK || n != 10 || len(fs) != 0 {
		t.Errorf("limit 0: n %d, kept %d, err %v; want 10, 0, ok", n, len(fs), err)
	}
}

func TestSplitReusesSlice(t *testing.T) {
	fs := make([]Field, 0, 8)
	fs, _, _, _ = Split([]byte("a,b,c"), ',', fs, 8)
	out, n, _, _ := Split([]byte(`"x"`), ',', fs, 8)
	if n != 1 || len(out) != 1 || &out[0] != &fs[0] || out[0] != (Field{Start: 1, End: 2, Quoted: true}) {
		t.Errorf("got %+v (n %d), want the same array holding one field", out, n)
	}
	if a := testing.AllocsPerRun(100, func() { fs, _, _, _ = Split([]byte(`1,"a""b",,x`), ',', fs, 8) }); a != 0 {
		t.Errorf("%v allocations per split, want 0", a)
	}
}

func TestFieldRawAndStr(t *testing.T) {
	rec := []byte(`"say ""hi""",plain,""`)
	fs, _, e, _ := Split(rec, ',', nil, 10)
	if e != SplitOK || len(fs) != 3 {
		t.Fatalf("split: %v, %d fields", e, len(fs))
	}
	for i, want := range []struct{ raw, str string }{
		{`say ""hi""`, `say "hi"`},
		{"plain", "plain"},
		{"", ""},
	} {
		if got := string(fs[i].Raw(rec)); got != want.raw {
			t.Errorf("field %d: Raw %q, want %q", i, got, want.raw)
		}
		if got := fs[i].Str(rec); got != want.str {
			t.Errorf("field %d: Str %q, want %q", i, got, want.str)
		}
	}
	if !fs[0].Escaped || fs[1].Escaped || fs[2].Escaped {
		t.Errorf("Escaped %v %v %v, want true false false", fs[0].Escaped, fs[1].Escaped, fs[2].Escaped)
	}
}

func TestSplitErrString(t *testing.T) {
	for e, want := range map[SplitErr]string{
		SplitOK:           "ok",
		SplitUnterminated: "unterminated quote",
		SplitStrayQuote:   "stray quote",
		SplitAfterQuote:   "unexpected character after closing quote",
	} {
		if got := e.String(); got != want {
			t.Errorf("%d: %q, want %q", e, got, want)
		}
	}
}

// FuzzSplit splits arbitrary records and checks that the fields lie in
// the record, that at most limit are kept, that a record without quotes
// splits as bytes.Split does, and that a record that splits re-encodes
// (quoting as it was written, quotes doubled) to the same fields.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		``, `,`, `""`, `a,b,c`, `1,"4321",-5`, `,,"",`, `"re ""urgent""",1`, `"a,b",2`, "\"a\nb\",2",
		`1,"abc`, `1,2"3`, `"a"b,1`, `"a" ,1`, `"siobhán.níbhriain","陈伟"`,
		`1,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",-1593038582,""`,
		`1,1,7,1736157600,"+441632960555","4399","4399",16,17,1736157605,1736157610,,"SEP00AA11BB4321",,"a ""b"" c"`,
		"REC-1,06/01/2025 09:00:00,\"Follow-up:\nsend the pricing sheet\",\"Fenwick & Sons, Ltd.\"",
		"a,b\n\"x\ny\",\"\"\"\"\n",
	} {
		f.Add(byte(','), []byte(s))
	}
	f.Add(byte('\t'), []byte("a\t\"b\tc\"\t"))
	f.Add(byte(';'), []byte(`a,b;"c;d";`))
	f.Fuzz(func(t *testing.T, delim byte, rec []byte) {
		if delim == '"' {
			return // not a delimiter Split accepts
		}
		const limit = 4
		fs, n, e, at := Split(rec, delim, nil, limit)
		if len(fs) > limit || len(fs) > n {
			t.Fatalf("%d fields kept of %d, limit %d", len(fs), n, limit)
		}
		for i, fl := range fs {
			if fl.Start < 0 || fl.Start > fl.End || int(fl.End) > len(rec) || (fl.Escaped && !fl.Quoted) {
				t.Fatalf("field %d: %+v in a record of %d bytes", i, fl, len(rec))
			}
		}
		if e != SplitOK {
			if at < 0 || at >= n {
				t.Fatalf("%v at field %d of %d", e, at, n)
			}
			return
		}
		if !bytes.ContainsRune(rec, '"') {
			parts := bytes.Split(rec, []byte{delim})
			if n != len(parts) {
				t.Fatalf("%d fields, bytes.Split finds %d", n, len(parts))
			}
			for i, fl := range fs {
				if fl.Quoted || !bytes.Equal(fl.Raw(rec), parts[i]) {
					t.Fatalf("field %d is %+v, bytes.Split finds %q", i, fl, parts[i])
				}
			}
		}
		all, n, _, _ := Split(rec, delim, nil, n)
		var out []byte
		for i, fl := range all {
			if i > 0 {
				out = append(out, delim)
			}
			v := fl.Str(rec)
			if fl.Quoted {
				out = append(append(append(out, '"'), strings.ReplaceAll(v, `"`, `""`)...), '"')
			} else {
				out = append(out, v...)
			}
		}
		all2, n2, e2, _ := Split(out, delim, nil, n)
		if e2 != SplitOK || n2 != n {
			t.Fatalf("re-encoded record splits differently: %v, %d fields vs %d", e2, n2, n)
		}
		for i := range all {
			if all[i].Str(rec) != all2[i].Str(out) || all[i].Quoted != all2[i].Quoted {
				t.Fatalf("field %d differs after re-encoding", i)
			}
		}
	})
}
