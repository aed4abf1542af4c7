# firn — build, test and lint entry points. `make test` is the one command CI runs.

GO               ?= go
export GOTOOLCHAIN ?= local
BIN              := bin/firn
NODE_DIR         := test/node
# staticcheck 2026.2.2, the newest release that builds with this project's Go.
STATICCHECK      := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME         ?= 10s
BENCHTIME        ?= 1s

.PHONY: all run build test go-test node-deps node-test lint fuzz bench clean

all: build

## run: start a server with the defaults (127.0.0.1:8765, data in .firn/)
run:
	$(GO) run ./cmd/firn serve

## build: build bin/firn
build:
	$(GO) build -o $(BIN) ./cmd/firn

## test: install test dependencies, then vet, Go tests (race detector) and Node driver tests
test: node-deps
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory node-test

go-test:
	$(GO) test -race -count=1 ./...

node-deps:
	cd $(NODE_DIR) && npm ci --no-audit --no-fund

node-test: build
	cd $(NODE_DIR) && FIRN_BIN="$(abspath $(BIN))" node --test --test-concurrency=1 *.test.mjs

## lint: gofmt, go vet and staticcheck
lint:
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path './$(NODE_DIR)/node_modules/*'); \
	out=$$(gofmt -l $$files); \
	if [ -n "$$out" ]; then echo "gofmt -l reports unformatted files:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## fuzz: run every fuzz target for FUZZTIME (default 10s) each
fuzz:
	@set -e; \
	for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '/node_modules/' | xargs -r -n1 dirname | sort -u); do \
		for target in $$($(GO) test -list '^Fuzz' $$dir | grep '^Fuzz'); do \
			echo "== $$dir $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

## bench: run the benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

clean:
	rm -rf bin
