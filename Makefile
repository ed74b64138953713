# setns: build, test and install. `make` builds build/setns and build/netns;
# `sudo make test` runs every check and the whole suite as root.

GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   := build
CMDS    := $(notdir $(wildcard cmd/*))
GOFLAGS_BUILD := -trimpath -ldflags=-s

.PHONY: all test lint bench clean FORCE

all: $(addprefix $(BUILD)/,$(CMDS))

$(BUILD)/%: FORCE
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/$*

# lint: formatting, vet, staticcheck (pinned in go.mod), and the rule that
# raw system calls live only in netns/sys_linux.go.
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt: unformatted: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@bad=$$(grep -rl --include='*.go' 'golang.org/x/sys/unix' . | grep -v -e '^./netns/sys_linux.go$$' || true); \
	  if [ -n "$$bad" ]; then echo "raw syscalls outside netns/sys_linux.go: $$bad"; exit 1; fi

test: lint all
	@[ "$$(id -u)" = 0 ] || { echo "make test needs root: sudo make test"; exit 1; }
	NETNS_TEST_REQUIRE_ROOT=1 $(GO) test -race -count=1 ./...

clean:
	rm -rf $(BUILD)
