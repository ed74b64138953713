# setns: build, test and install. `make` builds build/setns, build/netns and
# the man pages in build/man; `sudo make test` runs every check and the whole
# suite as root; `sudo make install` copies what `make` built (it builds
# nothing new when that is up to date, so root needs no Go toolchain).

GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
UNITDIR ?= $(PREFIX)/lib/systemd/system
BUILD   := build
CMDS    := $(notdir $(wildcard cmd/*))
MANS    := $(patsubst man/%.md,%,$(wildcard man/*.md))
GOFLAGS_BUILD := -trimpath -ldflags=-s
# The binaries depend on every non-test Go file and the module files, so an
# up-to-date build is left alone (go build would relink as a different user).
GOSRC   := go.mod go.sum $(shell find . -path ./$(BUILD) -prune -o -name '*.go' ! -name '*_test.go' -print)

# What install puts where; uninstall removes exactly these.
INSTALLED := $(addprefix $(BINDIR)/,$(CMDS)) \
	$(foreach m,$(MANS),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(m)) \
	$(addprefix $(BASHCOMPDIR)/,$(notdir $(wildcard contrib/bash-completion/*))) \
	$(addprefix $(ZSHCOMPDIR)/,$(notdir $(wildcard contrib/zsh/_*))) \
	$(UNITDIR)/netns@.service

.PHONY: all man test lint bench bench-smoke install uninstall clean

all: $(addprefix $(BUILD)/,$(CMDS)) man

man: $(addprefix $(BUILD)/man/,$(MANS))

$(BUILD)/%: $(GOSRC)
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $@ ./cmd/$*
	@touch $@

# Man pages are Markdown in man/, rendered with go-md2man (pinned in go.mod).
# groff's man macros turn hyphenation back on after every example; HY=0
# keeps "WAYLAND_DISPLAY" and the like whole.
$(BUILD)/man/%: man/%.md go.mod
	@mkdir -p $(@D)
	$(GO) tool go-md2man -in $< | sed -e '/^\.nh$$/d' -e '/^\.TH /a .nr HY 0' -e '/^\.TH /a .nh' >$@.tmp
	@mv $@.tmp $@

# setns links in its C fast path (cmd/setns/fastpath.c, a constructor that
# enters the namespace before the Go runtime starts) when a C compiler is
# there, statically so no dynamic loader runs, and with Go's own user and
# DNS code (osusergo, netgo) as in a CGO_ENABLED=0 build. musl-gcc is
# preferred: musl starts without glibc's CPU cache probing (about 0.1 ms of
# trapped cpuid in a VM) and its threads are cheaper for the Go path. With
# no C compiler, or SETNS_CGO=0, setns is pure Go and does the same work.
SETNS_CC  ?= $(shell command -v musl-gcc 2>/dev/null || command -v gcc 2>/dev/null)
SETNS_CGO ?= $(if $(SETNS_CC),1,0)
# netns is built the same way for the C stage of rootless mode
# (internal/rootless/join.c), which joins the user's keeper before the
# runtime starts.
ifeq ($(SETNS_CGO),1)
$(BUILD)/setns $(BUILD)/netns: $(BUILD)/%: $(GOSRC) $(wildcard cmd/setns/*.c cmd/setns/*.h internal/rootless/*.c)
	CC=$(SETNS_CC) CGO_ENABLED=1 $(GO) build -trimpath -tags netgo,osusergo \
	  -ldflags='-s -linkmode=external -extldflags=-static' -o $@ ./cmd/$*
	@touch $@
# The fast-path tests also compare both paths of the binary make built.
SETNS_TEST_ENV := SETNS_TEST_BINARY=$(abspath $(BUILD)/setns)
endif

# lint: formatting, vet, staticcheck (pinned in go.mod), and the rule that
# raw system calls live only in files named sys_linux.go, one per package
# that needs any (netns/sys_linux.go holds the library's): no other file
# imports golang.org/x/sys/unix, and no other file of the product (tests,
# bench/ and internal/nstest aside) calls the syscall package's raw calls
# (mount, flock, socket, ioctl, setns, ...). Process calls such as
# syscall.Exec and syscall.Kill are not counted.
RAWCALLS := syscall\.(Mount|Unmount|Flock|Inotify[A-Za-z0-9]*|Socket|Dup[0-9]*|Read|Write|Close|CloseOnExec|Setns|Unshare|Syscall[0-9]*|RawSyscall[0-9]*|Ioctl[A-Za-z]*|Open|Openat|Setresuid|Setresgid|Setgroups|Prctl)\(
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt: unformatted: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@bad=$$(grep -rl --include='*.go' 'golang.org/x/sys/unix' . | grep -v '/sys_linux\.go$$' || true); \
	  if [ -n "$$bad" ]; then echo "golang.org/x/sys/unix outside a sys_linux.go: $$bad"; exit 1; fi
	@bad=$$(grep -rlE --include='*.go' '$(RAWCALLS)' . | grep -v -e '_test\.go$$' -e '/sys_linux\.go$$' -e '^./bench/' -e '^./internal/nstest/' || true); \
	  if [ -n "$$bad" ]; then echo "raw system calls outside a sys_linux.go: $$bad"; exit 1; fi

# test: the one test command. It runs netnstest's suite a second time as
# user nobody (uid 65534), in the user namespace netnstest.Main makes
# (netnstest's TestUnprivileged), so that `go test` without root is tested
# too. Tests that need a tool the project does not
# (zsh, man, systemd-analyze, strace, ...) skip, naming it and its Debian
# package, and the race detector needs cgo, so a machine with only Go and
# make passes; with CI=true (.ci/run installs them all) nothing may skip.
# TESTFLAGS=-v shows each skip and its reason.
test: lint all
	@[ "$$(id -u)" = 0 ] || { echo "make test needs root: sudo make test"; exit 1; }
	@race=-race; if [ "$$($(GO) env CGO_ENABLED)" != 1 ]; then \
	  if [ "$$CI" = true ]; then echo "make test: -race needs cgo and a C compiler (Debian package gcc), and CI=true forbids skipping"; exit 1; fi; \
	  echo "make test: no C compiler (Debian package gcc): testing without -race"; race=; fi; \
	  echo "NETNS_TEST_REQUIRE_ROOT=1 $(SETNS_TEST_ENV) $(GO) test $$race -count=1 $(TESTFLAGS) ./..."; \
	  NETNS_TEST_REQUIRE_ROOT=1 $(SETNS_TEST_ENV) $(GO) test $$race -count=1 $(TESTFLAGS) ./...

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(addprefix $(BUILD)/,$(CMDS)) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
	  install -D -m 644 $(BUILD)/man/$$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m || exit; done
	install -m 644 contrib/bash-completion/* $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 contrib/zsh/_* $(DESTDIR)$(ZSHCOMPDIR)
	sed 's|/usr/local/bin/|$(BINDIR)/|g' contrib/systemd/netns@.service >$(DESTDIR)$(UNITDIR)/netns@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/netns@.service

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# bench: the library's Go benchmarks, netnstest's (a fixed count: the
# namespaces a benchmark makes live until it ends), then the whole-process
# comparison with ip(8) and nsenter(1) (bench/, see BENCHMARKS.md). Needs
# root; not part of `make test`. bench-smoke is a quick run of all three
# (about 10 s).
bench: all
	@[ "$$(id -u)" = 0 ] || { echo "make bench needs root: sudo make bench"; exit 1; }
	$(GO) test -run '^$$' -bench . -benchmem ./netns/ ./uplink/
	$(GO) test -run '^$$' -bench . -benchtime 1000x ./netnstest/
	$(GO) run ./bench -setns $(BUILD)/setns -netns $(BUILD)/netns

bench-smoke: all
	@[ "$$(id -u)" = 0 ] || { echo "make bench-smoke needs root: sudo make bench-smoke"; exit 1; }
	$(GO) test -run '^$$' -bench . -benchtime 200ms ./netns/ ./uplink/
	$(GO) test -run '^$$' -bench . -benchtime 100x ./netnstest/
	$(GO) run ./bench -smoke -setns $(BUILD)/setns -netns $(BUILD)/netns

clean:
	rm -rf $(BUILD)
