package textrec

import (
	"strings"
	"testing"
)

// cdrLine is a CUCM-like record: integers, empty fields, quoted strings
// (one with doubled quotes).
const cdrLine = `1,1,4104839,1736157600,"4321","4399","4399",16,0,1736157601,1736157610,9,"SEP00AA11BB4321",-1593038582,"","","a ""quoted"" note",` +
	`0,0,0,0,"","","","","","","",4,"4399","4399","4399","4399",1,1,0,"","","",""`

func BenchmarkSplit(b *testing.B) {
	rec := []byte(cdrLine)
	var fs []Field
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		fs, _, _, _ = Split(rec, ',', fs, 64)
	}
}

func BenchmarkLineReader(b *testing.B) {
	content := strings.Repeat(cdrLine+"\r\n", 10000)
	rd := strings.NewReader(content)
	var r LineReader
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(content)
		r.Reset(rd)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
