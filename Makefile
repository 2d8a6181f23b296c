# datamap — see README.md. `make demo` and `make test` set everything up.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/back-trace/datamap/cli.Version=$(VERSION)

.PHONY: all setup setup-chromium setup-libreoffice chromium-if-possible openapi-lint-setup openapi-lint build demo test test-cluster test-short fuzz vet bench web-vendor clean

all: build

## setup: download Go modules and the embedded ClickHouse engine (cached per user)
setup:
	$(GO) mod download
	sh stack/chembed/fetch-engine.sh

## setup-chromium: optional; headless Chromium for PDF records and the HTML test
## (not part of setup: it needs root and takes about a minute through apt)
setup-chromium:
	apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }

## setup-libreoffice: optional; LibreOffice headless, for the test that opens
## the XLSX record as auditors do (it skips without it)
setup-libreoffice:
	apt-get install -y --no-install-recommends libreoffice-calc-nogui || { apt-get update && apt-get install -y --no-install-recommends libreoffice-calc-nogui; }

# chromium-if-possible: `make test` renders the HTML record and drives the
# web data map in Chromium; it installs it when it can (root with apt), and
# otherwise says those tests skip.
chromium-if-possible:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		echo "installing chromium for the HTML rendering and web data map tests (apt)…" && \
		{ apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; }; } || \
		echo "note: chromium is not installed; the HTML rendering and web data map tests will skip (make setup-chromium)"

## build: compile bin/datamap
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/datamap ./cmd/datamap

## demo: the main job — embedded NATS + ClickHouse, simulated BackTrace services, the data map
demo: setup build
	./bin/datamap demo

## openapi-lint-setup: the pinned Redocly CLI that lints api/openapi.json
## (npm ci checks it against tools/openapi-lint/package-lock.json)
openapi-lint-setup:
	npm ci --prefix tools/openapi-lint --no-audit --no-fund --loglevel=error

## openapi-lint: lint the API description
openapi-lint: openapi-lint-setup
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true tools/openapi-lint/node_modules/.bin/redocly lint api/openapi.json

## test: every test, against real in-process NATS and the embedded ClickHouse
test: setup vet chromium-if-possible openapi-lint-setup
	DATAMAP_REQUIRE_ENGINE=1 DATAMAP_REQUIRE_REDOCLY=1 DATAMAP_REQUIRE_CHROMIUM=$$(command -v chromium >/dev/null 2>&1 && echo 1) \
		DATAMAP_REQUIRE_LIBREOFFICE=$$(command -v soffice >/dev/null 2>&1 && echo 1) \
		$(GO) test -count=1 -timeout 20m ./...

## test-cluster: the cluster tests (every test named …Cluster…): three NATS
## nodes with 3-replica streams, nodes killed under load; see docs/clustering.md
test-cluster: setup vet
	DATAMAP_REQUIRE_ENGINE=1 DATAMAP_TEST_CLUSTER=1 $(GO) test -count=1 -timeout 30m -run 'Cluster' ./...

## test-short: unit tests only, no engine needed
test-short:
	$(GO) test -short ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

## fuzz: run every fuzz target for a while (FUZZTIME=30s), one line each;
## the first step fails when a Fuzz function in the tree has no line here
FUZZTIME ?= 30s
FUZZ     = $(GO) test -run '^$$' -fuzztime $(FUZZTIME)
fuzz:
	@missing=$$(grep -roE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | sed -E 's|^\./(.*)/[^/]*:func (.*)|./\1 -fuzz '"'"'^\2$$$$'"'"'|' | \
		while read -r line; do grep -qF -- "$$line" Makefile || echo "  $$line"; done); \
		test -z "$$missing" || { printf 'fuzz targets without a line here:\n%s\n' "$$missing"; exit 1; }
	$(FUZZ) ./events -fuzz '^FuzzDecode$$'
	$(FUZZ) ./events -fuzz '^FuzzDecodeOnePassAgrees$$'
	$(FUZZ) ./events -fuzz '^FuzzFastDecodeAgrees$$'
	$(FUZZ) ./events -fuzz '^FuzzParseISODuration$$'
	$(FUZZ) ./events -fuzz '^FuzzRedact$$'
	$(FUZZ) ./events -fuzz '^FuzzDecodeAboutAPerson$$'
	$(FUZZ) ./events/personal -fuzz '^FuzzFind$$'
	$(FUZZ) ./events/subjectref -fuzz '^FuzzCheck$$'
	$(FUZZ) ./events/subjectref -fuzz '^FuzzRef$$'
	$(FUZZ) ./events/taxonomy -fuzz '^FuzzParseTaxonomy$$'
	$(FUZZ) ./ingest -fuzz '^FuzzIngestRequest$$'
	$(FUZZ) ./registry -fuzz '^FuzzParse$$'
	$(FUZZ) ./config -fuzz '^FuzzValidateNeverPanics$$'
	$(FUZZ) ./catalog/schema -fuzz '^FuzzClusterRenderNeverPanics$$'
	$(FUZZ) ./web -fuzz '^FuzzSafeNext$$'
	$(FUZZ) ./traffic -fuzz '^FuzzNormalizeHost$$'
	$(FUZZ) ./traffic/otlp -fuzz '^FuzzExport$$'

## web-vendor: re-fetch the web map's vendored libraries from npm and check
## them against web/assets/vendor/VERSIONS (integrity and sha256); the
## copies are committed, so building and testing never need this
web-vendor:
	sh web/vendor.sh

## bench: Go benchmarks with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
