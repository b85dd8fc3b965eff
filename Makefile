# Mint — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       ?= bin/mint
DATA_DIR  ?= ./mint-data
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/mint-wallet/mint/internal/cli.Version=$(VERSION)
TESTFLAGS ?= -race -count=1 -timeout 20m

.PHONY: run build test test-short lint bench clean

build: ## build the mint binary into bin/
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mint

run: build ## start the whole system (mint dev) and print its URLs
	$(BIN) dev --data-dir $(DATA_DIR)

# Tests named *BrokerRestart* stop and start the shared RabbitMQ, so they run last, one package at a
# time, after everything else.
# MINT_TEST_SMTP_OUTAGE: the notifications outage test keeps its SMTP server refusing for 30 s, as
# issue 4 asks (3 s without it).
test: ## every test: unit, integration (real RabbitMQ/Redis, embedded MongoDB-wire DB) and end-to-end
	MINT_TEST_SMTP_OUTAGE=30s $(GO) test $(TESTFLAGS) -skip BrokerRestart ./...
	$(GO) test $(TESTFLAGS) -p 1 -run BrokerRestart ./...

test-short: ## unit tests only
	$(GO) test -short -count=1 ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	golangci-lint run ./...

bench: ## the benchmarks recorded in docs/BENCHMARKS.md
	$(GO) test -run '^$$' -bench . -benchmem ./internal/auth/... ./internal/platform/...

clean:
	rm -rf bin
