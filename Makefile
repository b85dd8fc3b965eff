# Mint — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       ?= bin/mint
DATA_DIR  ?= ./mint-data
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/mint-wallet/mint/internal/cli.Version=$(VERSION)
TESTFLAGS ?= -race -count=1 -timeout 20m

# A count of executions, not a duration: Go 1.26's fuzz coordinator can fail a target with "context
# deadline exceeded" (no crasher) when a -fuzztime duration runs out on a busy machine.
FUZZTIME  ?= 200000x

.PHONY: run build stack stack-down chaos test test-short fuzz lint bench clean

build: ## build the mint binary into bin/
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mint

run: build ## start the whole system (mint dev) and print its URLs
	$(BIN) dev --data-dir $(DATA_DIR)

# The whole system as separate processes behind nginx, with Mailpit and Prometheus
# (deploy/stack/stack.sh; MINT_STACK_* settings there). Needs nginx, prometheus and mailpit installed.
stack: build ## mint db, the services (two wallet and transactions replicas), Mailpit, Prometheus, nginx on :8088
	MINT_STACK_BIN=$(abspath $(BIN)) deploy/stack/stack.sh up

stack-down: ## stop every process make stack started
	deploy/stack/stack.sh down

# mint chaos (docs/RELIABILITY.md): a stack of its own — RabbitMQ, Redis and Mailpit of its own, mint db,
# the services with replicas, nginx — broken by a seeded fault schedule under CHAOS_TRANSFERS transfers
# at 32 clients, then every promise checked; SEED=n replays a run. Files in ./chaos-data/.
CHAOS_TRANSFERS ?= 10000
chaos: build ## break a local stack of its own under load, then check every promise (SEED=n replays)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" $(BIN) chaos --transfers $(CHAOS_TRANSFERS) $(if $(SEED),--seed $(SEED))

# RabbitMQ: every test works in a vhost it creates and deletes on the shared broker, and the tests
# that stop a broker start a node of their own (testenv.OwnRabbit: ~150 MB and seconds of CPU to boot;
# three tests, at most two nodes at once), so the shared broker is never restarted and no test needs a
# phase of its own.
# The end-to-end package runs last, alone and with -v: go test streams a package's output as it runs
# only when it tests one package, and these tests take minutes. What its tests keep (the web wallet's
# screenshots) is under test-artifacts/_artifacts/.
# FERRETDB_PATCH_TESTS: the tests of the vendored FerretDB's own patches (a module of its own, so not
# in ./...; the patches' behaviour through the wire protocol is tested in internal/platform/mongox).
# MINT_TEST_SMTP_OUTAGE: the notifications outage test keeps its SMTP server refusing for 30 s (3 s
# without it).
FERRETDB_PATCH_TESTS := github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata/pool \
	github.com/FerretDB/FerretDB/internal/util/fsql \
	github.com/FerretDB/FerretDB/internal/handler/sjson

test: ## every test: unit, integration (real RabbitMQ/Redis, embedded MongoDB-wire DB) and end-to-end
	MINT_TEST_SMTP_OUTAGE=30s $(GO) test $(TESTFLAGS) $$($(GO) list ./... | grep -v '/test/e2e$$') $(FERRETDB_PATCH_TESTS)
	mkdir -p test-artifacts
	$(GO) test $(TESTFLAGS) -v -artifacts -outputdir $(CURDIR)/test-artifacts ./test/e2e/

# One target per go test run: -fuzz takes one target at a time. New corpus entries stay in the Go
# cache; a failing input is written to test/fuzz/testdata/fuzz and fails the run.
fuzz: ## run each fuzz target for FUZZTIME executions (request bodies, consumed events, amounts, tokens)
	$(GO) test -run '^$$' -fuzz '^FuzzRequestBody$$' -fuzztime $(FUZZTIME) ./test/fuzz/
	$(GO) test -run '^$$' -fuzz '^FuzzEvent$$' -fuzztime $(FUZZTIME) ./test/fuzz/
	$(GO) test -run '^$$' -fuzz '^FuzzParseDecimal$$' -fuzztime $(FUZZTIME) ./internal/platform/money/
	$(GO) test -run '^$$' -fuzz '^FuzzRequestedUnmarshalJSON$$' -fuzztime $(FUZZTIME) ./internal/platform/money/
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./internal/platform/jwtverify/

# -short: every test that needs a server, the embedded database or the built binary skips
# (testenv.Integration); the end-to-end package runs none.
test-short: ## the tests that need no server, in under a minute
	$(GO) test -short -count=1 ./... $(FERRETDB_PATCH_TESTS)

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	golangci-lint run ./...

bench: ## the benchmarks recorded in docs/BENCHMARKS.md
	$(GO) test -run '^$$' -bench . -benchmem ./internal/auth/... ./internal/platform/...

clean:
	rm -rf bin test-artifacts
