package main

import (
	"os"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter"
)

// testPauses reads DSAR_TEST_PAUSE ("stage=duration,..."), which the kill
// tests set to hold a process at a known point while they kill it. Stages:
// claimed (a run has claimed a request), mid-write (half the bundle is
// written), written (the bundle is in place, the register not yet told).
// Unset in normal use, when every pause is zero.
var testPauses = func() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, kv := range strings.Split(os.Getenv("DSAR_TEST_PAUSE"), ",") {
		k, v, ok := strings.Cut(kv, "=")
		if d, err := time.ParseDuration(v); ok && err == nil {
			out[k] = d
		}
	}
	if d := out["mid-write"]; d > 0 {
		exporter.TestHookMidWrite = func() { time.Sleep(d) }
	}
	return out
}()

func testPause(stage string) {
	if d := testPauses[stage]; d > 0 {
		time.Sleep(d)
	}
}
