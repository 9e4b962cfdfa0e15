# oncall-sync: make (all), check, demo, sandbox, bench, install, uninstall, clean.
# SANITIZE=1 builds and tests with ASan and UBSan; WERROR=1 adds -Werror.

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/lib/oncall-sync
# the wrapper's jq programs (share/oncall-sync/*.jq in the tree)
DATADIR ?= $(PREFIX)/share/oncall-sync
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/oncall-sync
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
       -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wformat=2 \
       -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN += -Werror
endif
VARIANT = default
ifeq ($(SANITIZE),1)
VARIANT = sanitize
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
CPPFLAGS += -Ilib -DONCALL_VERSION='"$(VERSION)"'
LDLIBS = -lcurl -lcjson -lssl -lcrypto -lm

BUILD = build/$(VARIANT)
PROGS = fetch-oncall match-users reconcile-groups

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A = $(BUILD)/lib/liboncall.a

# Each program: its main.c plus modules only it uses (an archive, so unit
# tests can link its pure functions).
define prog_rules
$(1)_SRC = $$(filter-out $(1)/main.c,$$(wildcard $(1)/*.c))
$(1)_OBJ = $$($(1)_SRC:%.c=$(BUILD)/%.o)
$(1)_A = $(BUILD)/$(1)/lib$(1).a
$$($(1)_A): $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR) rcs $$@ $$^
$(BUILD)/$(1)/$(1): $(BUILD)/$(1)/main.o $$($(1)_A) $(LIB_A)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
bin/$(1): $(BUILD)/$(1)/$(1) build/variant
	@mkdir -p bin
	cp $$< $$@.tmp && mv $$@.tmp $$@
endef
$(foreach p,$(PROGS),$(eval $(call prog_rules,$(p))))
PROG_A = $(foreach p,$(PROGS),$($(p)_A))

UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.t)

# Rebuild the copies in bin/ when the variant changes.
$(shell mkdir -p build; echo '$(VARIANT)' | cmp -s - build/variant || echo '$(VARIANT)' > build/variant)

.DEFAULT_GOAL := all
all: $(PROGS:%=bin/%)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/tests/unit/%.t: $(BUILD)/tests/unit/%.o $(PROG_A) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $< $(PROG_A) $(LIB_A) $(LDLIBS)

# Test drivers: small programs the end-to-end tests run (not tests themselves).
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(PROG_A) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $< $(PROG_A) $(LIB_A) $(LDLIBS)

# Fuzz replays: each libFuzzer target in tests/fuzz/ linked with a plain
# main (tests/fuzz/replay.c) in this build, so make check replays the corpora
# without clang or libFuzzer (tests/e2e/fuzz-replay.t).
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%-replay)
$(BUILD)/tests/fuzz/%.o: CPPFLAGS += $(PROGS:%=-I%)
$(BUILD)/tests/fuzz/%-replay: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay.o $(PROG_A) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/tests/fuzz/replay.o $(PROG_A) $(LIB_A) $(LDLIBS)

unit: $(UNIT_BIN) $(TOOL_BIN) $(FUZZ_REPLAY)

# deps: what building, running and the demo need; deps-test: and the tests'.
deps:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps
deps-test:
	@scripts/install-deps --check --test >/dev/null 2>&1 || scripts/install-deps --test

# make check: the unit tests and tests/e2e (about a minute on 2 cores).
# make check-all: that, the slow suites in tests/slow (the full fault matrix,
# fuzzing, the daemon's real waits) and the valgrind runs.
# make check-time: the suites that read clocks, again with the clock a year
# ahead and the time zone at UTC+14 (faketime).
PROVE ?= prove
# Two test files per core: most of a suite's time is spent waiting on the
# simulators, so twice the cores keeps them busy (make check: 64 s, not 91 s,
# on 2 cores).
PROVE_FLAGS ?= -j$(shell echo $$((2 * $$(nproc 2>/dev/null || echo 1))))
E2E = $(sort $(wildcard tests/e2e/*.t))
SLOW = $(sort $(wildcard tests/slow/*.t))
# The suites that read a clock: tests/e2e, and the slow ones that wait for
# Retry-After dates and handovers; not bench.t (no clock; its simulators
# start as the benchmark's) nor strongdm-sim.t (a Python gRPC client: grpcio
# hangs under libfaketime; servers are started off it, tests/sim-strongdm.sh).
TIME_TESTS = $(filter-out tests/e2e/bench.t,$(E2E)) tests/slow/fetch-oncall-faults.t \
	tests/slow/oncall-sync-daemon.t
# Packages first, then the build: under make -j they must not overlap.
check: deps-test
	$(MAKE) --no-print-directory all unit
	ONCALL_BUILD=$(BUILD) $(PROVE) $(PROVE_FLAGS) $(UNIT_BIN) $(E2E)

check-slow: deps-test
	$(MAKE) --no-print-directory all unit
	ONCALL_BUILD=$(BUILD) $(PROVE) $(PROVE_FLAGS) $(SLOW)

check-all:
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory check-slow
	$(MAKE) --no-print-directory check-valgrind

# With the clock CHECK_TIME_SHIFT ahead (libfaketime) in a time zone at UTC+14.
# man-db's seccomp sandbox refuses libfaketime's semaphores: it is turned off.
CHECK_TIME_SHIFT ?= +365d
CHECK_TIME_TZ ?= Pacific/Kiritimati
check-time: deps-test
	$(MAKE) --no-print-directory all unit
	TZ=$(CHECK_TIME_TZ) MAN_DISABLE_SECCOMP=1 ONCALL_BUILD=$(BUILD) \
		faketime -f '$(CHECK_TIME_SHIFT)' $(PROVE) $(PROVE_FLAGS) $(UNIT_BIN) $(TIME_TESTS)

# Six of the end-to-end suites again with every program they run under
# valgrind (--leak-check=full; an error or a definite leak fails the test).
VALGRIND_TESTS ?= tests/e2e/pipeline.t tests/e2e/fetch-oncall.t tests/e2e/match-users.t \
	tests/e2e/reconcile-groups.t tests/e2e/reconcile-groups-safety.t tests/e2e/oncall-sync-sync.t
# (valgrind keeps the cores busy itself: one file per core)
VALGRIND_PROVE_FLAGS ?= -j$(shell nproc 2>/dev/null || echo 1)
check-valgrind: deps-test
	$(MAKE) --no-print-directory all
	VALGRIND=1 $(PROVE) $(VALGRIND_PROVE_FLAGS) $(VALGRIND_TESTS)

demo: deps
	$(MAKE) --no-print-directory all
	scripts/demo

# The demo world left running: both simulators, a config, keys and a state
# directory, and the exports that point the programs at them.
sandbox: deps
	$(MAKE) --no-print-directory all
	scripts/demo --keep

bench: deps-test
	$(MAKE) --no-print-directory all
	scripts/bench $(or $(SIZE),large)

fuzz:
	@scripts/fuzz $(FUZZ_RUNS)

MANS = $(wildcard man/*.1)
JQ = $(wildcard share/oncall-sync/*.jq)
DOCS = README.md LICENSE

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	install -m 755 $(PROGS:%=bin/%) $(DESTDIR)$(LIBEXECDIR)/
	install -m 644 $(JQ) $(DESTDIR)$(DATADIR)/
	sed -e 's|^ONCALL_LIBEXEC_DEFAULT=.*|ONCALL_LIBEXEC_DEFAULT=$(LIBEXECDIR)|' \
		-e 's|^ONCALL_SHARE_DEFAULT=.*|ONCALL_SHARE_DEFAULT=$(DATADIR)|' bin/oncall-sync > $(DESTDIR)$(BINDIR)/oncall-sync
	chmod 755 $(DESTDIR)$(BINDIR)/oncall-sync
	for p in $(PROGS); do ln -sf $(LIBEXECDIR)/$$p $(DESTDIR)$(BINDIR)/$$p; done
	for m in $(MANS); do gzip -9n -c $$m > $(DESTDIR)$(MANDIR)/man1/$${m#man/}.gz; chmod 644 $(DESTDIR)$(MANDIR)/man1/$${m#man/}.gz; done
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 644 examples/config.json $(DESTDIR)$(DOCDIR)/config.json.example
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSCONFDIR)/cron.d
	install -d -m 750 $(DESTDIR)$(SYSCONFDIR)/oncall-sync
	sed 's|/usr/local/bin|$(BINDIR)|g' scripts/oncall-sync.service > $(DESTDIR)$(SYSTEMDDIR)/oncall-sync.service
	install -m 644 scripts/oncall-sync.timer $(DESTDIR)$(SYSTEMDDIR)/
	sed 's|/usr/local/bin|$(BINDIR)|g' scripts/oncall-sync-daemon.service > $(DESTDIR)$(SYSTEMDDIR)/oncall-sync-daemon.service
	chmod 644 $(DESTDIR)$(SYSTEMDDIR)/oncall-sync-daemon.service
	install -d $(DESTDIR)$(SYSCONFDIR)/logrotate.d
	install -m 644 scripts/oncall-sync.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/oncall-sync
	path=$$(printf '%s\n' $(BINDIR) /usr/bin /bin | awk '!seen[$$0]++' | paste -sd: -); \
	sed -e "s|^PATH=.*|PATH=$$path|" -e 's|/usr/local/bin|$(BINDIR)|g' scripts/oncall-sync.cron > $(DESTDIR)$(SYSCONFDIR)/cron.d/oncall-sync
	chmod 644 $(DESTDIR)$(SYSTEMDDIR)/oncall-sync.service $(DESTDIR)$(SYSCONFDIR)/cron.d/oncall-sync
	install -m 644 examples/config.json $(DESTDIR)$(SYSCONFDIR)/oncall-sync/config.json.example

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/oncall-sync $(PROGS:%=$(DESTDIR)$(BINDIR)/%)
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR)
	rm -f $(MANS:man/%=$(DESTDIR)$(MANDIR)/man1/%.gz) $(MANS:man/%=$(DESTDIR)$(MANDIR)/man1/%)
	rm -f $(DESTDIR)$(SYSTEMDDIR)/oncall-sync.service $(DESTDIR)$(SYSTEMDDIR)/oncall-sync.timer
	rm -f $(DESTDIR)$(SYSCONFDIR)/cron.d/oncall-sync
	rm -f $(DESTDIR)$(SYSCONFDIR)/oncall-sync/config.json.example
	-rmdir $(DESTDIR)$(SYSCONFDIR)/oncall-sync 2>/dev/null   # kept when it holds a config or keys
	rm -rf $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(SYSTEMDDIR)/oncall-sync-daemon.service $(DESTDIR)$(SYSCONFDIR)/logrotate.d/oncall-sync

# deb: oncall-sync_$(VERSION)_ARCH.deb here, built by debhelper (debian/) in a
# copy of the tree under build/deb (dpkg-buildpackage writes beside the
# source), then checked by lintian (errors and warnings fail).
DEB_ARCH = $(shell dpkg --print-architecture 2>/dev/null)
DEB = oncall-sync_$(VERSION)_$(DEB_ARCH).deb
deb:
	@scripts/install-deps --deb --check
	@test "$$(dpkg-parsechangelog -S Version)" = "$(VERSION)" || \
		{ echo "make deb: debian/changelog is not at version $(VERSION)" >&2; exit 2; }
	rm -rf build/deb && mkdir -p build/deb/oncall-sync-$(VERSION)
	tar -c --exclude=./.git --exclude=./build --exclude='./*.deb' \
		$(PROGS:%=--exclude=./bin/%) . | tar -x -C build/deb/oncall-sync-$(VERSION)
	cd build/deb/oncall-sync-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning --info build/deb/oncall-sync_$(VERSION)_$(DEB_ARCH).changes
	cp build/deb/$(DEB) $(DEB)
	@echo "make deb: $(DEB)"

# check-deb: scripts/test-deb (as root: build, install, test, upgrade, purge).
check-deb:
	scripts/install-deps --test --deb
	$(PROVE) scripts/test-deb

clean:
	rm -rf build $(PROGS:%=bin/%) oncall-sync_*.deb

.PHONY: all unit deps deps-test check check-slow check-all check-time check-valgrind demo sandbox bench fuzz install uninstall deb check-deb clean
.SECONDARY:
-include $(shell find build/$(VARIANT) -name '*.d' 2>/dev/null)
