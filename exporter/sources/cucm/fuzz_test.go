package cucm

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/source/sourcetest"
)

// FuzzCUCMRecord reads one record line under either the sample's 11.x
// header or a small one, and checks that nothing panics, every emitted
// record fits the calls dataset, the counts add up and no rejection
// reason holds a subject's identifier. textrec's FuzzSplit fuzzes the
// field splitter itself.
func FuzzCUCMRecord(f *testing.F) {
	names, types := readSampleHeader(f, "cdr_StandAloneCluster_01_202501061000_1")
	big := names + "\n" + types + "\n"
	fh, err := os.Open(filepath.Join(sampleDir, "cdr_StandAloneCluster_01_202501061000_1"))
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if n > 2 {
			f.Add(false, append([]byte(nil), sc.Bytes()...))
		}
	}
	fh.Close()
	for _, s := range []string{
		`1,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",-1593038582,""`,
		`1,1,7,1736157600,"+441632960555","4399","4399",16,17,1736157605,1736157610,,"SEP00AA11BB4321",,"a ""b"" c"`,
		`1,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"","",""`,
		`1,1,7,1736157600,"4321","4399"`,
		`2,1,7,1736157600,"4321","4399","4399",16,0,0,1736157610,0,"",0,""`,
	} {
		f.Add(true, []byte(s))
	}
	subjects := sampleSubjects()
	q := sourcetest.Query(f, subjects)
	values := []string{}
	for _, s := range subjects {
		for _, id := range s.Identifiers {
			if len(id.Value) >= 4 {
				values = append(values, id.Value)
			}
		}
	}
	f.Fuzz(func(t *testing.T, small bool, rec []byte) {
		head := big
		if small {
			head = smallHeader
		}
		sink := &sourcetest.Recorder{T: t}
		var st source.Stats
		s := newScan(context.Background(), "cucm", q, sink, &st)
		if err := s.read(bytes.NewReader(append([]byte(head), rec...)), "cdr_fuzz"); err != nil {
			t.Fatalf("read: %v", err)
		}
		if st.Read < st.Rejected || st.Rejected != int64(len(sink.Rejects)) || st.Selected != int64(len(sink.Records)) {
			t.Fatalf("stats %+v with %d rejections, %d records", st, len(sink.Rejects), len(sink.Records))
		}
		for _, r := range sink.Rejects {
			if r.Reason == "" || r.Source != "cucm" || r.File != "cdr_fuzz" {
				t.Fatalf("rejection %+v", r)
			}
			for _, v := range values {
				if strings.Contains(r.Reason, v) {
					t.Fatalf("rejection reason %q holds an identifier", r.Reason)
				}
			}
		}
	})
}
