# Mint — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       ?= bin/mint
DATA_DIR  ?= ./mint-data
# Integration and end-to-end tests start servers and child processes; -p 1 keeps them from fighting
# over the 2 cores and the shared RabbitMQ.
TESTFLAGS ?= -race -count=1 -timeout 20m -p 2

.PHONY: run build test test-short lint bench clean

build: ## build the mint binary into bin/
	$(GO) build -o $(BIN) ./cmd/mint

run: build ## start the whole system (mint dev) and print its URLs
	$(BIN) dev --data-dir $(DATA_DIR)

test: ## every test: unit, integration (real RabbitMQ/Redis, embedded MongoDB-wire DB) and end-to-end
	$(GO) test $(TESTFLAGS) ./...

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
