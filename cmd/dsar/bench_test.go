package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// BenchmarkExportOneSubject exports one subject in all four formats from
// the synthetic Master.csv that `make bench` generates (1,000,000 rows over
// 2,000 staff) and reports rows scanned per second and the process's peak
// RSS. It is skipped unless DSAR_BENCH_DIR names that folder.
func BenchmarkExportOneSubject(b *testing.B) {
	dir := os.Getenv("DSAR_BENCH_DIR")
	if dir == "" {
		b.Skip("DSAR_BENCH_DIR not set: run 'make bench'")
	}
	cdr := filepath.Join(dir, "Master.csv")
	rows := countLines(b, cdr)
	ws := filepath.Join(b.TempDir(), "ws")
	must := func(args ...string) string {
		var out, errb bytes.Buffer
		if code := run(append([]string{"dsar"}, args...), &out, &errb); code != 0 {
			b.Fatalf("dsar %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}
	must("init", ws)
	conf := fmt.Sprintf(`register: {driver: sqlite, path: register.db}
signing_key: keys/controller.sec.asc
subjects: %s
controller_profile: %s
outbox: outbox
sources:
  - name: pbx
    kind: asterisk-csv
    paths: [%q]
    timezone: Europe/London
    extra_columns: [uniqueid, userfield]
`, filepath.Join(dir, "subjects.yaml"), must2(filepath.Abs("../../samples/controller.yaml")), cdr)
	if err := os.WriteFile(filepath.Join(ws, "dsar.yaml"), []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(ws, "dsar.yaml")
	must("--config", cfg, "keys", "generate", "--uid", "R <r@example.org>", "--out", filepath.Join(ws, "r"))
	id := strings.TrimSpace(must("--config", cfg, "request", "new", "--subject", "S-0042", "--type", "access", "--received", "2026-01-05", "--id-requested=false"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must("--config", cfg, "export", id, "--recipient-key", filepath.Join(ws, "r.pub.asc"))
	}
	b.StopTimer()
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows_scanned/s")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak_RSS_MiB")
	}
}

func must2(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func countLines(b *testing.B, path string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("no benchmark data: %v (run 'make bench')", err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err != nil {
			return n
		}
	}
}
