# stt Makefile. Every target works on a machine with only Go installed:
# tools are pinned and run with `go run pkg@version`.

GO        ?= go
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
FUZZTIME  ?= 10s
BENCHTIME ?= 1s
COUNT     ?= 1
# Packages with goroutines or shared state, tested under the race detector.
RACE_PKGS ?= ./...
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
CMDS      := $(notdir $(wildcard cmd/*))

.PHONY: all build test unit vet race purego test32 cross fuzz bench lint install clean

all: build

build:
	$(GO) build ./...
	@mkdir -p bin
	$(foreach c,$(CMDS),$(GO) build -o bin/$(c) ./cmd/$(c) &&) true

## test: everything CI runs: vet, unit tests, the purego build, the race
## detector, the tests on 32-bit x86, and vet on other systems.
test: vet unit purego race test32 cross

vet:
	$(GO) vet ./...
	$(GO) vet -tags purego ./...

unit:
	$(GO) test -count=$(COUNT) ./...

purego:
	STT_NETNS_SKIP=1 $(GO) test -count=$(COUNT) -tags purego ./...

race:
	$(GO) test -count=$(COUNT) -race $(RACE_PKGS)

## test32: the tests on 386, where int is 32 bits (linux/amd64 hosts run
## 386 binaries natively; elsewhere only vet for 386).
test32:
	@if [ "$$($(GO) env GOHOSTOS)/$$($(GO) env GOHOSTARCH)" = linux/amd64 ]; then \
		echo "GOARCH=386 STT_NETNS_SKIP=1 $(GO) test -count=$(COUNT) ./..."; GOARCH=386 STT_NETNS_SKIP=1 $(GO) test -count=$(COUNT) ./...; \
	else \
		echo "test32: this host cannot run 386 binaries; vet only"; GOARCH=386 $(GO) vet ./...; \
	fi

## cross: vet (which type-checks tests too) for the other systems and
## architectures the portable code paths serve.
cross:
	GOOS=darwin $(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=freebsd $(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...
	GOARCH=arm $(GO) vet ./...

## fuzz: run every FuzzXxx target for FUZZTIME each.
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

## bench: all benchmarks with allocation counts.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./...

lint:
	$(GO) run $(STATICCHECK) ./...
	$(GO) mod tidy -diff
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

install:
	$(foreach c,$(CMDS),$(GO) build -o $(DESTDIR)$(BINDIR)/$(c) ./cmd/$(c) &&) true

clean:
	rm -rf bin
