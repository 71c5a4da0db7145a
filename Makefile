# Parley: one non-recursive build for everything. Objects in $(BUILD),
# binaries in $(BIN). `make asan` builds the same tree with ASan+UBSan into
# build/asan and bin/asan and runs the tests against it.

CC		?= cc
# Debian's interpreter: the one with python3-slixmpp and python3-pytest
PYTHON		?= /usr/bin/python3
BUILD		?= build
BIN		?= bin
SANFLAGS	?=
OPT		?= -O2
# parallel jobs where `make test` runs independent work side by side
JOBS		?= $(shell nproc 2>/dev/null || echo 2)

PKGS		:= expat gnutls libcares lmdb libidn libpq
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lpthread \
		   -lwslay -lhttp_parser

WARN		:= -Wall -Wextra -Werror -Wshadow -Wformat=2 \
		   -Wstrict-prototypes -Wmissing-prototypes
# Hardening (docs/hardening.md): stack protector, position-independent
# executables, full RELRO; FORTIFY_SOURCE needs the optimiser and is left
# to the sanitizers in their builds.
HARDEN_CFLAGS	:= -fstack-protector-strong -fPIE
ifeq ($(SANFLAGS),)
ifneq ($(filter-out -O0,$(OPT)),)
HARDEN_CFLAGS	+= -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
endif
HARDEN_LDFLAGS	:= -pie -Wl,-z,relro,-z,now

CFLAGS		+= -std=c17 $(OPT) -g $(WARN) -D_GNU_SOURCE $(SANFLAGS) \
		   $(HARDEN_CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS		+= $(SANFLAGS) $(HARDEN_LDFLAGS)
LDLIBS		+= $(PKG_LIBS)

COMMON_SRCS	+= common/accept.c
COMMON_SRCS	+= common/addr.c
COMMON_SRCS	+= common/arena.c
COMMON_SRCS	+= common/base64.c
COMMON_SRCS	+= common/buf.c
COMMON_SRCS	+= common/clock.c
COMMON_SRCS	+= common/conf.c
COMMON_SRCS	+= common/credwire.c
COMMON_SRCS	+= common/jid.c
COMMON_SRCS	+= common/link.c
COMMON_SRCS	+= common/linktls.c
COMMON_SRCS	+= common/log.c
COMMON_SRCS	+= common/map.c
COMMON_SRCS	+= common/mucjoin.c
COMMON_SRCS	+= common/peer.c
COMMON_SRCS	+= common/priv.c
COMMON_SRCS	+= common/proc.c
COMMON_SRCS	+= common/role.c
COMMON_SRCS	+= common/ready.c
COMMON_SRCS	+= common/routerlink.c
COMMON_SRCS	+= common/scram.c
COMMON_SRCS	+= common/sdnotify.c
COMMON_SRCS	+= common/siphash.c
COMMON_SRCS	+= common/tls.c
COMMON_SRCS	+= common/transport.c
COMMON_SRCS	+= common/util.c
COMMON_SRCS	+= common/upslot.c
COMMON_SRCS	+= common/work.c
COMMON_SRCS	+= common/xdata.c
COMMON_SRCS	+= common/xml.c
COMMON_SRCS	+= common/xmlstream.c
COMMON_SRCS	+= common/xmpp.c
COMMON_SRCS	+= common/xeptime.c

STORE_SRCS	+= storage/store.c
STORE_SRCS	+= storage/store_account.c
STORE_SRCS	+= storage/store_archive.c
STORE_SRCS	+= storage/store_block.c
STORE_SRCS	+= storage/store_codec.c
STORE_SRCS	+= storage/store_conf.c
STORE_SRCS	+= storage/store_doc.c
STORE_SRCS	+= storage/store_disabled.c
STORE_SRCS	+= storage/store_role.c
STORE_SRCS	+= storage/store_offline.c
STORE_SRCS	+= storage/store_pubsub.c
STORE_SRCS	+= storage/store_roster.c
STORE_SRCS	+= storage/pg.c
STORE_SRCS	+= storage/pg_schema.c
STORE_SRCS	+= storage/pg_account.c
STORE_SRCS	+= storage/pg_roster.c
STORE_SRCS	+= storage/pg_offline.c
STORE_SRCS	+= storage/pg_doc.c
STORE_SRCS	+= storage/pg_block.c
STORE_SRCS	+= storage/pg_pubsub.c
STORE_SRCS	+= storage/pg_archive.c
STORE_SRCS	+= storage/pg_list.c
STORE_SRCS	+= storage/invitation.c

PARLEYD_SRCS	+= parleyd/main.c

ROUTER_SRCS	+= router/main.c
ROUTER_SRCS	+= router/restart.c
ROUTER_SRCS	+= router/handover.c
ROUTER_SRCS	+= router/handover_fmt.c
ROUTER_SRCS	+= router/muc_handover.c
ROUTER_SRCS	+= router/sm.c
ROUTER_SRCS	+= router/blocking.c
ROUTER_SRCS	+= router/caps.c
ROUTER_SRCS	+= router/ctl.c
ROUTER_SRCS	+= router/deliver.c
ROUTER_SRCS	+= router/disco.c
ROUTER_SRCS	+= router/doc.c
ROUTER_SRCS	+= router/fanout.c
ROUTER_SRCS	+= router/last.c
ROUTER_SRCS	+= router/links.c
ROUTER_SRCS	+= router/private.c
ROUTER_SRCS	+= router/time.c
ROUTER_SRCS	+= router/vcard.c
ROUTER_SRCS	+= router/version.c
ROUTER_SRCS	+= router/iq.c
ROUTER_SRCS	+= router/offline.c
ROUTER_SRCS	+= router/pep.c
ROUTER_SRCS	+= router/pep_disco.c
ROUTER_SRCS	+= router/pep_compat.c
ROUTER_SRCS	+= router/presence.c
ROUTER_SRCS	+= router/pubsub.c
ROUTER_SRCS	+= router/pubsub_req.c
ROUTER_SRCS	+= router/pubsub_svc.c
ROUTER_SRCS	+= router/mam.c
ROUTER_SRCS	+= router/mam_query.c
ROUTER_SRCS	+= router/register.c
ROUTER_SRCS	+= router/roster.c
ROUTER_SRCS	+= router/ping.c
ROUTER_SRCS	+= router/s2s.c
ROUTER_SRCS	+= router/session.c
ROUTER_SRCS	+= router/subscription.c
ROUTER_SRCS	+= router/subreq.c
ROUTER_SRCS	+= router/capsver.c
ROUTER_SRCS	+= router/carbons.c
ROUTER_SRCS	+= router/extdisco.c
ROUTER_SRCS	+= router/proxy.c
ROUTER_SRCS	+= router/ctlinfo.c
ROUTER_SRCS	+= router/push.c
ROUTER_SRCS	+= router/muc.c
ROUTER_SRCS	+= router/muc_admin.c
ROUTER_SRCS	+= router/muc_config.c
ROUTER_SRCS	+= router/muc_history.c
ROUTER_SRCS	+= router/muc_msg.c
ROUTER_SRCS	+= router/muc_room.c
ROUTER_SRCS	+= router/muc_iq.c
ROUTER_SRCS	+= router/upload.c
ROUTER_SRCS	+= router/metrics.c
ROUTER_SRCS	+= router/contact.c
ROUTER_SRCS	+= router/adhoc.c
ROUTER_SRCS	+= router/adhoc_admin.c
ROUTER_SRCS	+= router/adhoc_cred.c
ROUTER_SRCS	+= router/motd.c
ROUTER_SRCS	+= router/pwjob.c
ROUTER_SRCS	+= router/roles.c
ROUTER_SRCS	+= router/adhoc_role.c
ROUTER_SRCS	+= router/adhoc_editadmin.c
ROUTER_SRCS	+= router/invite.c
ROUTER_SRCS	+= router/boshrelay.c
ROUTER_SRCS	+= router/sesskeep.c

C2S_SRCS	+= c2s/main.c
C2S_SRCS	+= c2s/drain.c
C2S_SRCS	+= c2s/quiesce.c
C2S_SRCS	+= c2s/auth.c
C2S_SRCS	+= c2s/bind.c
C2S_SRCS	+= c2s/csi.c
C2S_SRCS	+= c2s/caps.c
C2S_SRCS	+= c2s/limits.c
C2S_SRCS	+= c2s/listen.c
C2S_SRCS	+= c2s/ping.c
C2S_SRCS	+= c2s/register.c
C2S_SRCS	+= c2s/sasl.c
C2S_SRCS	+= c2s/sm.c
C2S_SRCS	+= c2s/sasl2.c
C2S_SRCS	+= c2s/fast.c
C2S_SRCS	+= c2s/upgrade.c
C2S_SRCS	+= c2s/stream.c
C2S_SRCS	+= c2s/uplink.c
C2S_SRCS	+= c2s/http.c
C2S_SRCS	+= c2s/hostmeta.c
C2S_SRCS	+= c2s/metrics.c
C2S_SRCS	+= c2s/websocket.c
C2S_SRCS	+= c2s/wsframe.c
C2S_SRCS	+= c2s/bosh.c
C2S_SRCS	+= c2s/upload.c
C2S_SRCS	+= c2s/static.c
C2S_SRCS	+= c2s/boshfwd.c
C2S_SRCS	+= c2s/rejoin.c

S2S_SRCS	+= s2s/main.c
S2S_SRCS	+= s2s/certid.c
S2S_SRCS	+= s2s/component.c
S2S_SRCS	+= s2s/conn.c
S2S_SRCS	+= s2s/dialback.c
S2S_SRCS	+= s2s/dns.c
S2S_SRCS	+= s2s/in.c
S2S_SRCS	+= s2s/listen.c
S2S_SRCS	+= s2s/out.c
S2S_SRCS	+= s2s/policy.c
S2S_SRCS	+= s2s/rejoin.c
S2S_SRCS	+= s2s/srv.c
S2S_SRCS	+= s2s/uplink.c
S2S_SRCS	+= s2s/stats.c

PROXY_SRCS	+= proxy/main.c
PROXY_SRCS	+= proxy/relay.c
PROXY_SRCS	+= proxy/socks5.c
PROXY_SRCS	+= proxy/uplink.c

CTL_SRCS	+= storage/parleyctl.c
CTL_SRCS	+= storage/ctlops.c
CTL_SRCS	+= storage/check.c
CTL_SRCS	+= storage/pie_parse.c
CTL_SRCS	+= storage/pie_import.c
CTL_SRCS	+= storage/pie_export.c

UNIT_TESTS	+= accept
UNIT_TESTS	+= linktls
UNIT_TESTS	+= addr
UNIT_TESTS	+= arena
UNIT_TESTS	+= base64
UNIT_TESTS	+= buf
UNIT_TESTS	+= c2s_scenario
UNIT_TESTS	+= csi
UNIT_TESTS	+= sm
UNIT_TESTS	+= caps
UNIT_TESTS	+= caps_cache
UNIT_TESTS	+= certid
UNIT_TESTS	+= clock
UNIT_TESTS	+= conf
UNIT_TESTS	+= credwire
UNIT_TESTS	+= fanout
UNIT_TESTS	+= dialback
UNIT_TESTS	+= jid
UNIT_TESTS	+= link
UNIT_TESTS	+= log
UNIT_TESTS	+= map
UNIT_TESTS	+= routerlink
UNIT_TESTS	+= sasl
UNIT_TESTS	+= scram
UNIT_TESTS	+= siphash
UNIT_TESTS	+= socks5
UNIT_TESTS	+= relay
UNIT_TESTS	+= srv
UNIT_TESTS	+= s2s_scenario
UNIT_TESTS	+= store
UNIT_TESTS	+= store_codec
UNIT_TESTS	+= invitation
UNIT_TESTS	+= xdata
UNIT_TESTS	+= subscription
UNIT_TESTS	+= transport
UNIT_TESTS	+= work
UNIT_TESTS	+= xml
UNIT_TESTS	+= xmlstream
UNIT_TESTS	+= wsframe
UNIT_TESTS	+= upslot
UNIT_TESTS	+= sdnotify
UNIT_TESTS	+= wsclient
UNIT_TESTS	+= muc_record
UNIT_TESTS	+= sesskeep

# the benchmark (tests/bench, docs/BENCHMARKS.md): test tooling, built
# into $(BUILD)/bench, never installed
BENCH_COMMON	+= tests/bench/bench.c
BENCH_COMMON	+= tests/bench/wsclient.c
BENCH_BINS	:= $(BUILD)/bench/loadgen $(BUILD)/bench/relay \
		   $(BUILD)/bench/provision

obj		= $(patsubst %.c,$(BUILD)/%.o,$(1))
COMMON_LIB	:= $(BUILD)/libparley.a
PROGS		:= $(BIN)/parleyd $(BIN)/parley-router $(BIN)/parley-c2s \
		   $(BIN)/parley-s2s $(BIN)/parleyctl $(BIN)/parley-proxy
UNIT_BINS	:= $(patsubst %,$(BUILD)/tests/test_%,$(UNIT_TESTS))

.PHONY: all deps run test test-prebuild unit unit-bins unit-valgrind conftest e2e \
	interop asan asan-check clean \
	install uninstall deb \
	bench bench-bins bench-smoke bench-peers bench-mem bench-capacity fuzz \
	fuzz-build fuzz-smoke pg pg-full e2e-hosts e2e-hosts-some

all: $(PROGS)

# the dependency file is written aside and renamed: a make that reads
# it half written would stop, and `make test` runs builds beside other
# makes (test-prebuild)
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MF $(@:.o=.d).tmp -c -o $@ $<
	@mv -f $(@:.o=.d).tmp $(@:.o=.d)

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
$(BIN)/parley-proxy: $(call obj,$(PROXY_SRCS)) $(COMMON_LIB)
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
TEST_OBJS_socks5 := proxy/socks5.c
TEST_OBJS_relay	:= proxy/relay.c proxy/socks5.c
TEST_OBJS_wsframe := c2s/wsframe.c
TEST_OBJS_wsclient := tests/bench/wsclient.c tests/bench/bench.c
TEST_OBJS_fanout	:= router/fanout.c
TEST_OBJS_certid	:= s2s/certid.c
TEST_OBJS_dialback	:= s2s/dialback.c
TEST_OBJS_srv	:= s2s/srv.c
TEST_OBJS_subscription := router/subscription.c
TEST_OBJS_caps	:= router/capsver.c
TEST_OBJS_caps_cache := router/caps.c router/capsver.c router/handover_fmt.c
# the whole router but main.c, on a real LMDB store
TEST_OBJS_muc_record := $(filter-out router/main.c,$(ROUTER_SRCS))
TEST_OBJS_sesskeep := $(TEST_OBJS_muc_record)
TEST_OBJS_c2s_scenario := tests/unit/scn.c tests/unit/scn_c2s.c \
		   c2s/stream.c c2s/auth.c c2s/bind.c c2s/register.c \
		   c2s/limits.c c2s/sasl.c c2s/csi.c c2s/caps.c c2s/sm.c \
		   c2s/ping.c c2s/sasl2.c c2s/fast.c c2s/upgrade.c c2s/rejoin.c
TEST_OBJS_csi	:= $(TEST_OBJS_c2s_scenario)
TEST_OBJS_sm	:= $(TEST_OBJS_c2s_scenario)
TEST_OBJS_s2s_scenario := tests/unit/scn.c tests/unit/scn_s2s.c \
		   s2s/conn.c s2s/in.c s2s/listen.c s2s/out.c s2s/policy.c \
		   s2s/srv.c s2s/certid.c s2s/dialback.c s2s/component.c \
		   s2s/rejoin.c
$(BUILD)/tests/test_%: tests/unit/test_%.c $(COMMON_LIB) \
		$(foreach t,$(UNIT_TESTS),$(call obj,$(TEST_OBJS_$(t))))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MF $@.d.tmp $(LDFLAGS) -o $@ $< \
	    $(call obj,$(TEST_OBJS_$*)) $(COMMON_LIB) $(LDLIBS) -lcmocka
	@mv -f $@.d.tmp $@.d

deps:
	@scripts/deps.sh

run: deps all
	@scripts/webclient.sh
	@scripts/run.sh

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# one valgrind per core at a time; the first failure stops the rest
unit-valgrind: $(UNIT_BINS)
	@printf '%s\n' $(UNIT_BINS) | xargs -P $(JOBS) -I{} sh -c \
	    'echo "== valgrind {}"; valgrind -q --error-exitcode=99 \
	    --leak-check=full --suppressions=$(abspath tests/valgrind.supp) \
	    --errors-for-leak-kinds=definite {} >/dev/null || \
	    { echo "valgrind: {} failed"; exit 255; }'

conftest: $(BIN)/parleyd
	@tests/conf/run.sh $(BIN)/parleyd

# pytest-xdist workers: each test starts its own servers on free ports,
# and most of a test's time is waiting (about 6 CPU minutes in 5.5 wall
# minutes on 3 workers), so three share the 2-core machine, under ASan
# too (its servers spend about twice that CPU, and its deadlines scale)
E2E_JOBS	?= 3
ASAN_E2E_JOBS	?= 3
e2e: all
	@PARLEY_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q -n $(E2E_JOBS) \
	    tests/e2e

# every server of the suite as three hosts on loopback: the router's and
# two c2s hosts with router-address over TLS-PSK (docs/internals.md,
# "The whole e2e suite across hosts"). e2e-hosts runs the whole suite so
# (not in make test: about twice e2e's time); make test runs only
# e2e-hosts-some, E2E_HOSTS_TESTS (here, after e2e): messages,
# presence, roster, group chat, PEP, the archive and XEP-0198 resumption
# across hosts
E2E_HOSTS_TESTS	?= tests/e2e/test_presence.py \
		   $(addprefix tests/e2e/test_routing.py::test_, \
		     message_delivered_with_full_from iq_between_clients \
		     many_messages_in_order) \
		   $(addprefix tests/e2e/test_roster.py::test_, \
		     set_result_and_push_to_interested_resources versioning) \
		   $(addprefix tests/e2e/test_muc.py::test_, \
		     join_order_message_leave history_and_subject \
		     private_messages_and_nick_change) \
		   $(addprefix tests/e2e/test_pep.py::test_, \
		     contact_sees_items_and_events last_item_at_login) \
		   $(addprefix tests/e2e/test_mam.py::test_, \
		     both_directions_and_stanza_id offline_archived_once) \
		   $(addprefix tests/e2e/test_sm.py::test_, \
		     resume_other_process resume_after_sigkill \
		     router_restart_reannounces)
e2e-hosts: all
	@PARLEY_E2E_HOSTS=3 PARLEY_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest \
	    -q -n $(E2E_JOBS) tests/e2e
e2e-hosts-some: all
	@PARLEY_E2E_HOSTS=3 PARLEY_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest \
	    -q -n $(E2E_JOBS) $(E2E_HOSTS_TESTS)

# the PostgreSQL backend (docs/internals.md, "Storage: PostgreSQL"): a
# throwaway server, test_store and these e2e files against it. make pg
# (part of make test) runs one file per area the backend serves, without
# the slow cases that test processes rather than storage (PG_E2E_K);
# make pg-full runs them all and the files below too.
PG_E2E		?= tests/e2e/test_pg.py tests/e2e/test_roster.py \
		   tests/e2e/test_offline.py tests/e2e/test_blocking.py \
		   tests/e2e/test_pep.py tests/e2e/test_mam.py \
		   tests/e2e/test_muc.py tests/e2e/test_register.py \
		   tests/e2e/test_operator.py
PG_E2E_K	?= not backoff and not rate_limit and not c2s_crash and \
		   not remote_occupant
# the rest of accounts, migration, publish-subscribe, the archive and
# group chat
PG_E2E_FULL	?= $(PG_E2E) tests/e2e/test_auth.py tests/e2e/test_disable.py \
		   tests/e2e/test_account_reuse.py tests/e2e/test_migrate.py \
		   tests/e2e/test_pep_compat.py tests/e2e/test_pubsub_service.py \
		   tests/e2e/test_muc_more.py
pg: all $(BUILD)/tests/test_store
	@PG_E2E_K="$(PG_E2E_K)" tests/pg/run.sh $(PYTHON) \
	    $(BUILD)/tests/test_store $(abspath $(BIN)) $(E2E_JOBS) $(PG_E2E)
pg-full: all $(BUILD)/tests/test_store
	@tests/pg/run.sh $(PYTHON) $(BUILD)/tests/test_store \
	    $(abspath $(BIN)) $(E2E_JOBS) $(PG_E2E_FULL)

# the federation lab (docs/interop.md): Prosody, ejabberd and a second
# Parley in a network namespace with its own DNS; needs root
interop: all
	@scripts/deps-interop.sh
	@PARLEY_BIN=$(abspath $(BIN)) PYTHON=$(PYTHON) tests/interop/run.sh -q

# builds run on every core; the suites that pace themselves (e2e on its
# workers, the lab, the benchmark) one after another. The ASan and fuzz
# builds (test-prebuild) run at nice 19 beside the unit, valgrind, conf,
# e2e, PostgreSQL and interop runs, which leave most of a core idle
# while they wait on timers and peers: the builds take only what the
# suites leave (their log is $(PREBUILD_LOG)); a suite that fails stops
# the builds. Then the ASan run (asan-check, its log $(ASAN_LOG),
# printed when it ends), the longest, with deadlines scaled for a slow
# machine, goes beside bench-smoke (sanity checks, no deadlines of the
# tests' kind) and fuzz-smoke at nice 19 after it. make pg and the lab
# run before it: their deadlines are the normal build's (beside the
# ASan run, the lab's ejabberd missed its 10 s start check).
PREBUILD_LOG	:= $(BUILD)/log/prebuild.log
ASAN_LOG	:= $(BUILD)/log/asan.log
test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all unit-bins bench-bins
	@mkdir -p $(dir $(PREBUILD_LOG)); \
	nice -n 19 $(MAKE) --no-print-directory test-prebuild \
	    >$(PREBUILD_LOG) 2>&1 & builds=$$!; \
	$(MAKE) --no-print-directory unit unit-valgrind conftest e2e \
	    e2e-hosts-some pg interop || \
	    { kill $$builds 2>/dev/null; exit 1; }; \
	wait $$builds || { tail -60 $(PREBUILD_LOG); \
	    echo "test: the ASan or fuzz build failed ($(PREBUILD_LOG))"; \
	    exit 1; }
	@echo "== make asan-check beside bench-smoke fuzz-smoke"; \
	$(MAKE) --no-print-directory asan-check >$(ASAN_LOG) 2>&1 & asan=$$!; \
	$(MAKE) --no-print-directory bench-smoke && \
	    nice -n 19 $(MAKE) --no-print-directory -j$(JOBS) fuzz-smoke; \
	rc=$$?; wait $$asan; arc=$$?; \
	echo "== make asan-check (log $(ASAN_LOG))"; cat $(ASAN_LOG); \
	[ $$arc -eq 0 ] || echo "test: the ASan run failed ($(ASAN_LOG))"; \
	[ $$rc -eq 0 ] && [ $$arc -eq 0 ]

test-prebuild:
	@$(ASAN_MAKE) -j$(JOBS) all unit-bins
	@$(MAKE) --no-print-directory -j$(JOBS) fuzz-build

# deadlines in the e2e tests scale by PARLEY_TIME_SCALE (tests/lib)
ASAN_MAKE	= $(MAKE) --no-print-directory BUILD=build/asan BIN=bin/asan \
		  OPT=-O1 SANFLAGS="-fsanitize=address,undefined \
		  -fno-omit-frame-pointer -fno-sanitize-recover=all"
asan:
	@$(ASAN_MAKE) -j$(JOBS) all unit-bins
	@$(MAKE) --no-print-directory asan-check

# the ASan build's unit and e2e runs (make asan builds first)
asan-check:
	@PARLEY_TIME_SCALE=3 \
	    LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	    $(ASAN_MAKE) E2E_JOBS=$(ASAN_E2E_JOBS) unit e2e

clean:
	rm -rf build bin

# ---- installing: docs/operator.md, "Installing as a service" ----------
# FHS places under PREFIX; the configuration in /etc/parley whatever the
# PREFIX, written only when there is none. /var/lib/parley and
# /run/parley are the systemd unit's (StateDirectory, RuntimeDirectory).
PREFIX		?= /usr/local
DESTDIR		?=
SBINDIR		:= $(PREFIX)/sbin
# parleyd finds its children at ../lib/parley from its own directory
HELPERDIR	:= $(PREFIX)/lib/parley
UNITDIR		:= $(PREFIX)/lib/systemd/system
DOCDIR		:= $(PREFIX)/share/doc/parley
CONFDIR		:= /etc/parley
HELPERS		:= parley-router parley-c2s parley-s2s parley-proxy

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(HELPERDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 $(BIN)/parleyd $(BIN)/parleyctl $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(addprefix $(BIN)/,$(HELPERS)) $(DESTDIR)$(HELPERDIR)/
	install -m 0755 scripts/mkcert.sh $(DESTDIR)$(HELPERDIR)/mkcert
	sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/parley.service.in \
	    >$(DESTDIR)$(UNITDIR)/parley.service
	install -m 0644 docs/operator.md $(DESTDIR)$(DOCDIR)/
	@conf=$(DESTDIR)$(CONFDIR)/parley.conf; \
	if [ -e $$conf ]; then echo "keeping $$conf"; else \
	    sed -f packaging/parley-conf.sed etc/parley.conf >$$conf.new && \
	    if grep -n '^[^#]*[[:space:]]var/' $$conf.new; then \
		echo "packaging/parley-conf.sed: paths left relative" >&2; \
		rm -f $$conf.new; exit 1; fi && \
	    chmod 0644 $$conf.new && mv $$conf.new $$conf && \
	    echo "installed $$conf"; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/parleyd $(DESTDIR)$(SBINDIR)/parleyctl \
	    $(addprefix $(DESTDIR)$(HELPERDIR)/,$(HELPERS) mkcert) \
	    $(DESTDIR)$(UNITDIR)/parley.service $(DESTDIR)$(DOCDIR)/operator.md
	rmdir $(DESTDIR)$(HELPERDIR) $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@echo "kept $(DESTDIR)$(CONFDIR) and the data in /var/lib/parley"

# the Debian package, from an install staged in $(BUILD)/deb/root
deb: all
	rm -rf $(BUILD)/deb
	@$(MAKE) --no-print-directory install PREFIX=/usr \
	    DESTDIR=$(abspath $(BUILD)/deb/root) >/dev/null
	@scripts/mkdeb.sh $(BUILD)/deb/root $(BUILD)/deb

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

bench-bins: $(BENCH_BINS)

# Parley alone, full size (about 10 minutes); results in /tmp/parley-bench
bench: all bench-bins
	@scripts/bench

# what an idle session costs, item by item, in the c2s and the router
# (valgrind's massif, malloc_stats, smaps, the kernel's socket memory;
# 2 to 5 minutes); results in /tmp/parley-sessmem/results
bench-mem: all bench-bins
	@scripts/deps-bench.sh
	@tests/bench/sessmem.sh

# how many idle sessions this machine holds and what each costs per
# process, at two sizes (docs/BENCHMARKS.md, "Capacity"; 5 to 15 minutes
# a size, niced); results in /tmp/parley-capacity/results
CAPACITY_SIZES ?= 30000 80000
bench-capacity: all bench-bins
	@tests/bench/capacity.sh $(CAPACITY_SIZES)

# seconds long, no peers: checks that the benchmark works and its numbers
# are sane (failed logins, lost sessions or no deliveries fail it)
bench-smoke: all bench-bins
	@scripts/bench --smoke

# Parley, the relay floor, Prosody, ejabberd and jabberd2 (needs root for
# scripts/deps-bench.sh on first use)
bench-peers: all bench-bins
	@scripts/deps-bench.sh
	@scripts/bench-peers

# ---- fuzzing: tests/fuzz, docs/hardening.md ------------------------------
# libFuzzer targets built with clang into $(FUZZ_BUILD): the common code
# and each target's process objects are compiled again with coverage and
# ASan+UBSan. `make fuzz` runs each target for FUZZ_SECONDS with a corpus
# kept in $(FUZZ_BUILD)/corpus; `make fuzz-smoke` (part of `make test`)
# replays the seeds and the crash reproducers in tests/fuzz/regress, then
# fuzzes each target for FUZZ_SMOKE_SECONDS.
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_SMOKE_SECONDS ?= 6
FUZZ_BUILD	:= $(BUILD)/fuzz
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	:= -std=c17 -O1 -g $(WARN) -D_GNU_SOURCE $(FUZZ_SAN) \
		   -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -MMD -MP
FUZZ_FLAGS	:= -close_fd_mask=2 -timeout=20 -rss_limit_mb=2048 \
		   -print_final_stats=1

FUZZ_TARGETS	+= xmlstream
FUZZ_TARGETS	+= jid
FUZZ_TARGETS	+= sasl
FUZZ_TARGETS	+= link_router
FUZZ_TARGETS	+= link_c2s
FUZZ_TARGETS	+= link_s2s
FUZZ_TARGETS	+= c2s
FUZZ_TARGETS	+= s2s
FUZZ_TARGETS	+= certid
FUZZ_TARGETS	+= conf
FUZZ_TARGETS	+= router
FUZZ_TARGETS	+= pubsub
FUZZ_TARGETS	+= caps
FUZZ_TARGETS	+= mam
FUZZ_TARGETS	+= socks5
FUZZ_TARGETS	+= http
FUZZ_TARGETS	+= websocket
FUZZ_TARGETS	+= bosh
FUZZ_TARGETS	+= muc
FUZZ_TARGETS	+= linkpsk
FUZZ_TARGETS	+= upslot
FUZZ_TARGETS	+= fast
FUZZ_TARGETS	+= pie
FUZZ_TARGETS	+= handover
FUZZ_TARGETS	+= upgrade

# process-private objects a target links, as TEST_OBJS_ for unit tests
FUZZ_OBJS_sasl	:= c2s/sasl.c
FUZZ_OBJS_fast	:= c2s/fast.c c2s/sasl.c
FUZZ_OBJS_upgrade := c2s/upgrade.c
FUZZ_OBJS_link_router := router/links.c router/ctl.c router/ctlinfo.c \
		   router/metrics.c router/boshrelay.c \
		   router/s2s.c \
		   router/register.c router/pwjob.c router/sm.c \
		   router/handover_fmt.c
FUZZ_OBJS_link_c2s := c2s/uplink.c c2s/caps.c c2s/rejoin.c
FUZZ_OBJS_link_s2s := s2s/uplink.c s2s/rejoin.c
FUZZ_OBJS_c2s	:= c2s/stream.c c2s/auth.c c2s/bind.c c2s/register.c \
		   c2s/sasl.c c2s/uplink.c c2s/limits.c c2s/csi.c c2s/caps.c \
		   c2s/drain.c c2s/quiesce.c \
		   c2s/sm.c c2s/ping.c c2s/sasl2.c c2s/fast.c c2s/upgrade.c \
		   c2s/rejoin.c
FUZZ_OBJS_s2s	:= s2s/conn.c s2s/in.c s2s/listen.c s2s/out.c s2s/policy.c \
		   s2s/srv.c s2s/certid.c s2s/dialback.c s2s/component.c \
		   s2s/rejoin.c
FUZZ_OBJS_certid := s2s/certid.c s2s/dialback.c
FUZZ_OBJS_caps	:= router/capsver.c
# the whole router but main.c, on the in-memory store
FUZZ_OBJS_router := $(filter-out router/main.c,$(ROUTER_SRCS)) \
		   storage/store_codec.c storage/store_disabled.c \
		   storage/store_role.c storage/invitation.c \
		   tests/fuzz/fake_store.c tests/fuzz/fuzz_rbase.c
FUZZ_OBJS_pubsub := $(FUZZ_OBJS_router)
FUZZ_OBJS_mam	:= router/mam_query.c
FUZZ_OBJS_socks5 := proxy/socks5.c
FUZZ_OBJS_http	:= c2s/http.c c2s/hostmeta.c c2s/websocket.c c2s/wsframe.c \
		   c2s/limits.c \
		   c2s/bosh.c c2s/upload.c c2s/static.c c2s/metrics.c \
		   c2s/boshfwd.c tests/fuzz/fuzz_web.c
FUZZ_OBJS_websocket := $(FUZZ_OBJS_http)
FUZZ_OBJS_bosh	:= $(FUZZ_OBJS_http)
FUZZ_OBJS_muc	:= $(FUZZ_OBJS_router)
FUZZ_OBJS_pie	:= storage/pie_parse.c
FUZZ_OBJS_handover := router/handover_fmt.c
FUZZ_DICT_xmlstream := xml.dict
FUZZ_DICT_jid	:= jid.dict
FUZZ_DICT_sasl	:= sasl.dict
FUZZ_DICT_link_router := link.dict
FUZZ_DICT_link_c2s := link.dict
FUZZ_DICT_link_s2s := link.dict
FUZZ_DICT_c2s	:= xml.dict
FUZZ_DICT_s2s	:= xml.dict
FUZZ_DICT_certid := certid.dict
FUZZ_DICT_conf	:= conf.dict
FUZZ_DICT_router := xml.dict
FUZZ_DICT_pubsub := pubsub.dict
FUZZ_DICT_caps	:= caps.dict
FUZZ_DICT_mam	:= mam.dict
FUZZ_DICT_http	:= http.dict
FUZZ_DICT_websocket := xml.dict
FUZZ_DICT_bosh	:= bosh.dict
FUZZ_DICT_muc	:= muc.dict
FUZZ_DICT_pie	:= pie.dict

fuzzobj		= $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(1))
FUZZ_LIB	:= $(FUZZ_BUILD)/libparley.a
FUZZ_BINS	:= $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_HARNESS	:= $(call fuzzobj,tests/fuzz/fuzz.c)

# one libFuzzer command line: $(1) target. Paths are absolute: the conf
# target works in a directory of its own.
FUZZ_ABS	 = $(abspath $(FUZZ_BUILD))
fuzz_cmd	= $(FUZZ_ABS)/fuzz_$(1) $(FUZZ_FLAGS) \
		  $(if $(FUZZ_DICT_$(1)), \
		  -dict=$(abspath tests/fuzz/$(FUZZ_DICT_$(1)))) \
		  -artifact_prefix=$(FUZZ_ABS)/artifacts/$(1)-
fuzz_dirs	= $(abspath $(wildcard tests/fuzz/corpus/$(1) \
		  tests/fuzz/regress/$(1)))

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MF $(@:.o=.d).tmp -c -o $@ $<
	@mv -f $(@:.o=.d).tmp $(@:.o=.d)

$(FUZZ_LIB): $(call fuzzobj,$(COMMON_SRCS))
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_HARNESS) \
		$(FUZZ_LIB) \
		$(foreach t,$(FUZZ_TARGETS),$(call fuzzobj,$(FUZZ_OBJS_$(t))))
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_HARNESS) \
	    $(call fuzzobj,$(FUZZ_OBJS_$*)) $(FUZZ_LIB) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@set -e; mkdir -p $(FUZZ_BUILD)/artifacts; \
	$(foreach t,$(FUZZ_TARGETS),echo "== fuzz $(t) for $(FUZZ_SECONDS)s"; \
	    mkdir -p $(FUZZ_BUILD)/corpus/$(t); \
	    $(call fuzz_cmd,$(t)) -max_total_time=$(FUZZ_SECONDS) \
	    $(FUZZ_ABS)/corpus/$(t) $(abspath tests/fuzz/corpus/$(t));)

# bounded: a replay of every seed and reproducer, then a short run each;
# one rule per target, so that `make -j` runs them side by side (each
# libFuzzer process is single-threaded)
FUZZ_SMOKES	:= $(patsubst %,fuzz-smoke-%,$(FUZZ_TARGETS))
.PHONY: fuzz-smoke $(FUZZ_SMOKES)
fuzz-smoke: $(FUZZ_SMOKES)
	@cat $(patsubst %,$(FUZZ_BUILD)/log/%.cov,$(FUZZ_TARGETS)) \
	    >$(FUZZ_BUILD)/log/coverage

$(FUZZ_SMOKES): fuzz-smoke-%: $(FUZZ_BUILD)/fuzz_%
	@set -e; mkdir -p $(FUZZ_BUILD)/artifacts $(FUZZ_BUILD)/log; \
	log=$(FUZZ_BUILD)/log/$*.log; rm -f $(FUZZ_BUILD)/log/$*.cov; \
	find $(call fuzz_dirs,$*) -type f \
	    -exec $(call fuzz_cmd,$*) {} + >$$log.replay 2>&1 || \
	    { tail -40 $$log.replay; \
	    echo "fuzz-smoke: $*: a seed or reproducer fails"; exit 1; }; \
	rm -rf $(FUZZ_BUILD)/smoke/$*; mkdir -p $(FUZZ_BUILD)/smoke/$*; \
	$(call fuzz_cmd,$*) -max_total_time=$(FUZZ_SMOKE_SECONDS) \
	    $(FUZZ_ABS)/smoke/$* $(call fuzz_dirs,$*) >$$log 2>&1 || \
	    { tail -40 $$log; echo "fuzz-smoke: $* failed; the input" \
	    "is in $(FUZZ_BUILD)/artifacts"; exit 1; }; \
	awk -v t=$* -v floors=tests/fuzz/coverage-floor \
	    -v out=$(FUZZ_BUILD)/log/$*.cov 'BEGIN { \
	    while ((getline l < floors) > 0) { split(l, f); \
	    if (f[1] == t) floor = f[2] } } \
	    $$2 == "DONE" { for (i = 3; i < NF; i++) \
	    v[$$i] = $$(i + 1); printf "fuzz-smoke %-12s %9s runs " \
	    "%6s exec/s  cov %s ft %s (floor %s)\n", t, \
	    substr($$1, 2), v["exec/s:"], v["cov:"], v["ft:"], floor; \
	    cov = v["cov:"]; print t, cov > out } \
	    END { if (cov == "") msg = "no final statistics"; \
	    else if (floor == "") msg = "no floor in " floors; \
	    else if (cov + 0 < floor + 0) msg = "coverage " cov \
	    " under its floor " floor " (" floors ")"; \
	    if (msg != "") { print "fuzz-smoke: " t ": " msg; \
	    exit 1 } }' $$log
