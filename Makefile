# Parley: one non-recursive build for everything. Objects in $(BUILD),
# binaries in $(BIN). `make asan` builds the same tree with ASan+UBSan into
# build/asan and bin/asan and runs the tests against it.

CC		?= cc
BUILD		?= build
BIN		?= bin
SANFLAGS	?=
OPT		?= -O2

PKGS		:= expat gnutls libcares lmdb libidn
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev

WARN		:= -Wall -Wextra -Werror -Wshadow -Wformat=2 \
		   -Wstrict-prototypes -Wmissing-prototypes
CFLAGS		+= -std=c17 $(OPT) -g $(WARN) -D_GNU_SOURCE $(SANFLAGS) \
		   $(PKG_CFLAGS) -MMD -MP
LDFLAGS		+= $(SANFLAGS)
LDLIBS		+= $(PKG_LIBS)

COMMON_SRCS	+= common/arena.c
COMMON_SRCS	+= common/base64.c
COMMON_SRCS	+= common/buf.c
COMMON_SRCS	+= common/conf.c
COMMON_SRCS	+= common/credwire.c
COMMON_SRCS	+= common/jid.c
COMMON_SRCS	+= common/link.c
COMMON_SRCS	+= common/log.c
COMMON_SRCS	+= common/map.c
COMMON_SRCS	+= common/proc.c
COMMON_SRCS	+= common/scram.c
COMMON_SRCS	+= common/tls.c
COMMON_SRCS	+= common/util.c
COMMON_SRCS	+= common/xml.c
COMMON_SRCS	+= common/xmlstream.c
COMMON_SRCS	+= common/xmpp.c

STORE_SRCS	+= storage/store.c

PARLEYD_SRCS	+= parleyd/main.c

ROUTER_SRCS	+= router/main.c
ROUTER_SRCS	+= router/blocking.c
ROUTER_SRCS	+= router/c2s.c
ROUTER_SRCS	+= router/ctl.c
ROUTER_SRCS	+= router/deliver.c
ROUTER_SRCS	+= router/disco.c
ROUTER_SRCS	+= router/doc.c
ROUTER_SRCS	+= router/last.c
ROUTER_SRCS	+= router/private.c
ROUTER_SRCS	+= router/time.c
ROUTER_SRCS	+= router/vcard.c
ROUTER_SRCS	+= router/version.c
ROUTER_SRCS	+= router/iq.c
ROUTER_SRCS	+= router/offline.c
ROUTER_SRCS	+= router/presence.c
ROUTER_SRCS	+= router/register.c
ROUTER_SRCS	+= router/roster.c
ROUTER_SRCS	+= router/ping.c
ROUTER_SRCS	+= router/s2s.c
ROUTER_SRCS	+= router/session.c

C2S_SRCS	+= c2s/main.c
C2S_SRCS	+= c2s/auth.c
C2S_SRCS	+= c2s/bind.c
C2S_SRCS	+= c2s/limits.c
C2S_SRCS	+= c2s/listen.c
C2S_SRCS	+= c2s/register.c
C2S_SRCS	+= c2s/sasl.c
C2S_SRCS	+= c2s/stream.c
C2S_SRCS	+= c2s/uplink.c

S2S_SRCS	+= s2s/main.c
S2S_SRCS	+= s2s/certid.c
S2S_SRCS	+= s2s/conn.c
S2S_SRCS	+= s2s/dialback.c
S2S_SRCS	+= s2s/dns.c
S2S_SRCS	+= s2s/in.c
S2S_SRCS	+= s2s/listen.c
S2S_SRCS	+= s2s/out.c
S2S_SRCS	+= s2s/srv.c
S2S_SRCS	+= s2s/uplink.c

CTL_SRCS	+= storage/parleyctl.c

UNIT_TESTS	+= arena
UNIT_TESTS	+= base64
UNIT_TESTS	+= buf
UNIT_TESTS	+= certid
UNIT_TESTS	+= conf
UNIT_TESTS	+= credwire
UNIT_TESTS	+= dialback
UNIT_TESTS	+= jid
UNIT_TESTS	+= link
UNIT_TESTS	+= map
UNIT_TESTS	+= sasl
UNIT_TESTS	+= scram
UNIT_TESTS	+= srv
UNIT_TESTS	+= store
UNIT_TESTS	+= xml
UNIT_TESTS	+= xmlstream

# the benchmark (tests/bench, docs/BENCHMARKS.md): test tooling, built
# into $(BUILD)/bench, never installed
BENCH_COMMON	+= tests/bench/bench.c
BENCH_BINS	:= $(BUILD)/bench/loadgen $(BUILD)/bench/relay \
		   $(BUILD)/bench/provision

obj		= $(patsubst %.c,$(BUILD)/%.o,$(1))
COMMON_LIB	:= $(BUILD)/libparley.a
PROGS		:= $(BIN)/parleyd $(BIN)/parley-router $(BIN)/parley-c2s \
		   $(BIN)/parley-s2s $(BIN)/parleyctl
UNIT_BINS	:= $(patsubst %,$(BUILD)/tests/test_%,$(UNIT_TESTS))

.PHONY: all deps run test unit unit-valgrind conftest e2e interop asan clean \
	bench bench-bins bench-smoke bench-peers

all: $(PROGS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(COMMON_LIB): $(call obj,$(COMMON_SRCS) $(STORE_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BIN)/parleyd: $(call obj,$(PARLEYD_SRCS)) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/parley-router: $(call obj,$(ROUTER_SRCS)) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/parley-c2s: $(call obj,$(C2S_SRCS)) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/parley-s2s: $(call obj,$(S2S_SRCS)) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/parleyctl: $(call obj,$(CTL_SRCS)) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/loadgen: $(call obj,tests/bench/loadgen.c $(BENCH_COMMON))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bench/relay: $(call obj,tests/bench/relay.c $(BENCH_COMMON))
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# provision links the store like parleyctl does
$(BUILD)/bench/provision: $(call obj,tests/bench/provision.c) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A unit test links its own file, the module objects it names in
# TEST_OBJS_<name> (process-private code), and the common archive: the
# linker takes only the archive members the test reaches.
TEST_OBJS_sasl	:= c2s/sasl.c
TEST_OBJS_certid	:= s2s/certid.c
TEST_OBJS_dialback	:= s2s/dialback.c
TEST_OBJS_srv	:= s2s/srv.c
$(BUILD)/tests/test_%: tests/unit/test_%.c $(COMMON_LIB) \
		$(foreach t,$(UNIT_TESTS),$(call obj,$(TEST_OBJS_$(t))))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(call obj,$(TEST_OBJS_$*)) $(COMMON_LIB) $(LDLIBS) -lcmocka

deps:
	@scripts/deps.sh

run: deps all
	@scripts/run.sh

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

unit-valgrind: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== valgrind $$t"; \
	    valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite $$t >/dev/null; done

conftest: $(BIN)/parleyd
	@tests/conf/run.sh $(BIN)/parleyd

e2e: all
	@PARLEY_BIN=$(abspath $(BIN)) /usr/bin/python3 -m pytest -q tests/e2e

# the federation lab (docs/interop.md): Prosody, ejabberd and a second
# Parley in a network namespace with its own DNS; needs root
interop: all
	@scripts/deps-interop.sh
	@PARLEY_BIN=$(abspath $(BIN)) tests/interop/run.sh -q

test: deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory unit-valgrind conftest e2e interop \
	    bench-smoke
	@$(MAKE) --no-print-directory asan

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=bin/asan OPT=-O1 \
	    SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    all unit e2e

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

bench-bins: $(BENCH_BINS)

# Parley alone, full size (about 10 minutes); results in /tmp/parley-bench
bench: all bench-bins
	@scripts/bench

# seconds long, no peers: checks that the benchmark works and its numbers
# are sane (failed logins, lost sessions or no deliveries fail it)
bench-smoke: all bench-bins
	@scripts/bench --smoke

# Parley, the relay floor, Prosody, ejabberd and jabberd2 (needs root for
# scripts/deps-bench.sh on first use)
bench-peers: all bench-bins
	@scripts/deps-bench.sh
	@scripts/bench-peers
