package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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

// BenchmarkBulkRun exports 500 requests over the 5,000,000-row Master.csv
// that `make bench` generates, with `dsar run`, and reports rows scanned per
// second, peak RSS, and the ratio of its time to one single-subject export
// over the same file (measured in the same benchmark).
func BenchmarkBulkRun(b *testing.B) {
	dir := os.Getenv("DSAR_BENCH_DIR")
	if dir == "" {
		b.Skip("DSAR_BENCH_DIR not set: run 'make bench'")
	}
	cdr := filepath.Join(dir, "Master5M.csv")
	rows := countLines(b, cdr)
	for i := 0; i < b.N; i++ {
		ws := filepath.Join(b.TempDir(), "ws")
		var errb bytes.Buffer
		must := func(args ...string) string {
			var out bytes.Buffer
			errb.Reset()
			if code := run(append([]string{"dsar"}, args...), &out, &errb); code != 0 {
				b.Fatalf("dsar %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
			}
			return out.String()
		}
		b.StopTimer()
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
`, filepath.Join(dir, "subjects5M.yaml"), must2(filepath.Abs("../../samples/controller.yaml")), cdr)
		if err := os.WriteFile(filepath.Join(ws, "dsar.yaml"), []byte(conf), 0o600); err != nil {
			b.Fatal(err)
		}
		cfg := filepath.Join(ws, "dsar.yaml")
		must("--config", cfg, "keys", "generate", "--uid", "R <r@example.org>", "--out", filepath.Join(ws, "r"), "--no-passphrase")
		var first string
		nreq := 500
		if v, err := strconv.Atoi(os.Getenv("DSAR_BENCH_REQUESTS")); err == nil {
			nreq = v
		}
		for s := 1; s <= nreq; s++ {
			id := strings.TrimSpace(must("--config", cfg, "request", "new", "--subject", fmt.Sprintf("S-%04d", s), "--type", "access", "--received", "2026-01-05", "--id-requested=false"))
			must("--config", cfg, "request", "set", id, "--recipient-key", filepath.Join(ws, "r.pub.asc"))
			if first == "" {
				first = id
			}
		}
		// One single-subject export over the same file, for the ratio.
		b.StartTimer()
		t0 := time.Now()
		must("--config", cfg, "export", first, "--recipient-key", filepath.Join(ws, "r.pub.asc"), "--out", filepath.Join(ws, "single"))
		single := time.Since(t0)
		t1 := time.Now()
		out := must("--config", cfg, "run", "--log-format", "json")
		bulk := time.Since(t1)
		b.StopTimer()
		if !strings.Contains(out, fmt.Sprintf("%d exported, 0 failed", nreq-1)) {
			b.Fatalf("run: %s", out)
		}
		b.ReportMetric(bulk.Seconds(), "bulk_s")
		b.ReportMetric(single.Seconds(), "single_s")
		b.ReportMetric(bulk.Seconds()/single.Seconds(), "bulk/single")
		// The run's one scan of the file for all its subjects, from its
		// own log, against the whole single export (scan and bundle).
		if scan := scanSeconds(b, errb.String()); scan > 0 {
			b.ReportMetric(scan, "scan_s")
			b.ReportMetric(scan/single.Seconds(), "scan/single")
			b.ReportMetric((bulk.Seconds()-scan)/float64(nreq-1), "per_bundle_s")
		}
		b.ReportMetric(float64(rows)/bulk.Seconds(), "rows_scanned/s")
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak_RSS_MiB")
	}
}

// scanSeconds reads the duration of the run's source scan from its JSON log.
func scanSeconds(b *testing.B, log string) float64 {
	for _, line := range strings.Split(log, "\n") {
		var ev struct {
			Type string `json:"message_type"`
			MS   int64  `json:"duration_ms"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Type == "sources_scanned" {
			return float64(ev.MS) / 1000
		}
	}
	b.Logf("no sources_scanned event in the run's log")
	return 0
}
