# dsar: see README.md. `make demo` and `make test` are the two set-up commands.
GO      ?= go
BIN     := bin/dsar
VERSION ?= 0.1.0
BENCH_DIR := .cache/bench

.PHONY: build demo test fuzz bench lint clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/dsar

# End to end on the samples: a temporary workspace with the embedded SQLite
# register, keys, a verified request, an export and a decrypt.
demo: build
	@bash samples/demo.sh $(BIN)

test: lint
	$(GO) test -timeout 20m ./...

# Brief runs of every fuzz target, one after another (`make test` runs their
# seed corpora). FUZZTIME is a count of executions ("50000x") or a duration
# ("1m"). CI uses a count: Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a duration ends while a worker is busy
# (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 20s
FUZZ_TARGETS := \
	./exporter/sources/asterisk:FuzzParseRecord \
	./exporter/sources/cucm:FuzzCUCMRecord \
	./exporter/sources/queuelog:FuzzQueueLogLine \
	./exporter/sources/generic:FuzzGenericCSV \
	./exporter/sources/generic:FuzzGenericJSONL \
	./exporter/sources/internal/textrec:FuzzSplit \
	./exporter/sources/msgraph:FuzzCallRecord \
	./exporter/sources/msgraph:FuzzPSTN \
	./exporter/sources/msgraph:FuzzPresence \
	./exporter/sources/msgraph:FuzzSignIn \
	./exporter/redact:FuzzMask \
	./exporter/redact:FuzzDefault \
	./formats:FuzzJSONString \
	./formats:FuzzCSVField
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2000x $$pkg; done

# Benchmarks: a cached synthetic 1,000,000-row Master.csv over 2,000 staff,
# one subject exported in all four formats (wall time, rows/s, peak RSS),
# plus the per-format and per-package benchmarks.
bench: build
	@mkdir -p $(BENCH_DIR)
	@test -s $(BENCH_DIR)/Master.csv || { echo "generating $(BENCH_DIR)/Master.csv (1,000,000 rows, once)"; \
		$(GO) run ./samples/gencdr -rows 1000000 -staff 2000 -out $(BENCH_DIR)/Master.csv -subjects $(BENCH_DIR)/subjects.yaml; }
	@test -s $(BENCH_DIR)/Master5M.csv || { echo "generating $(BENCH_DIR)/Master5M.csv (5,000,000 rows, once)"; \
		$(GO) run ./samples/gencdr -rows 5000000 -staff 2000 -out $(BENCH_DIR)/Master5M.csv -subjects $(BENCH_DIR)/subjects5M.yaml; }
	DSAR_BENCH_DIR=$(CURDIR)/$(BENCH_DIR) $(GO) test -run '^$$' -bench BenchmarkExportOneSubject -benchtime 3x -timeout 30m ./cmd/dsar/
	DSAR_BENCH_DIR=$(CURDIR)/$(BENCH_DIR) $(GO) test -run '^$$' -bench BenchmarkBulkRun -benchtime 1x -timeout 60m ./cmd/dsar/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./formats/ ./exporter/sources/asterisk/ ./crypto/
	DSAR_BENCH_1GIB=1 $(GO) test -run '^$$' -bench BenchmarkSealOpen1GiB -benchtime 1x -timeout 30m ./crypto/

lint:
	@out=$$(gofmt -l cmd exporter formats crypto samples); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin .cache
