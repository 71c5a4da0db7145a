#!/usr/bin/env bash
# The benchmark driver (docs/BENCHMARKS.md): starts each server on
# loopback pinned to CPU 0, drives the scenarios with the load generator
# pinned to CPU 1, and writes one JSON line per figure.
#
#   tests/bench/run.sh [--smoke] [--runs N] [--out DIR] [SERVER...]
#
# SERVER: parley (1 c2s worker) parley-w2 parley-w4 (msg only: the
# msg-multi scenario; and when named, login msg and their WebSocket and
# BOSH variants: BOSH requests forwarded between workers), parley-scale (idle only: $BENCH_SCALE sessions,
# 100,000 by default, over 8 c2s workers and 6 generator processes),
# relay (the floor), prosody, ejabberd, jabberd2, parley-pg (parley with
# storage on a PostgreSQL the run starts, once; login idle msg only),
# parley-pg-b (the same with $BENCH_PARLEY_BIN_B's binaries, on the
# same database).
# Default: parley parley-w2 parley-w4. BENCH_SCENARIOS (e.g. "pep" or
# "msg presence") runs only those of each server's scenarios (login idle
# msg presence pep muc scale; only when named: mobile mobile-none mobile-sm
# mobile-carbons mobile-mam csi hibernate joinstorm ws-login ws-idle ws-msg
# bosh-idle bosh-login bosh-msg fast reconnect-fast reconnect-scram
# reconnect-full restart, and parley-b, Parley from
# $BENCH_PARLEY_BIN_B, to compare two builds in one run). Binaries come from build/bench
# (make bench-bins); all state goes to $BENCH_DIR (default
# /tmp/parley-bench), which is wiped first. Every process started here is
# stopped by PID on exit.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BB=${BENCH_BIN:-$ROOT/build/bench}
PB=${PARLEY_BIN:-$ROOT/bin}
DIR=${BENCH_DIR:-/tmp/parley-bench}
PEERS=$ROOT/tests/bench/peers
DOMAIN=localhost
PASSWORD=bench
ITER=4096

smoke=0
runs=3
out=
servers=()
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--runs) runs=$2; shift ;;
	--out) out=$2; shift ;;
	-*) echo "usage: $0 [--smoke] [--runs N] [--out DIR] [SERVER...]" >&2
	    exit 2 ;;
	*) servers+=("$1") ;;
	esac
	shift
done
[ ${#servers[@]} -eq 0 ] && servers=(parley parley-w2 parley-w4)

# scenario sizes (issue defaults; the smoke run is seconds long)
if [ $smoke -eq 1 ]; then
	LOGINS=50 LOGIN_USERS=50 CONC=20 IDLE=100 PAIRS=20 WINDOW=10 SECS=2
	WARM=0.5 SETTLE=0.5 PUSERS=42 CONTACTS=20 PWINDOW=2 ISETTLE=6
	EWINDOW=1 HIB=100 MUSERS=40 MCONTACTS=19 JUSERS=40
	SCALE=600 SCALE_WORKERS=2 SCALE_JOBS=3
	runs=1
else
	LOGINS=${BENCH_LOGINS:-2000} LOGIN_USERS=500 CONC=200
	IDLE=${BENCH_IDLE:-10000} PAIRS=100 WINDOW=10 SECS=${BENCH_SECS:-10}
	WARM=2 SETTLE=3 PUSERS=1050 CONTACTS=20 PWINDOW=2 ISETTLE=8
	# pep: one mood change in flight per user
	EWINDOW=1
	# hibernate: sessions that enable resumption, then drop
	HIB=${BENCH_HIB:-5000}
	# muc: rooms of 50 occupants, one message in flight per occupant
	MUSERS=1000 MCONTACTS=49
	# joinstorm: JUSERS occupants join one room at once
	JUSERS=${BENCH_JUSERS:-1000}
	# each process may hold 20,000 descriptors at most here: 8 c2s
	# workers and 6 generator processes leave room for 100,000
	SCALE=${BENCH_SCALE:-100000} SCALE_WORKERS=8 SCALE_JOBS=6
fi
# the scenarios of list $1 that BENCH_SCENARIOS selects (all if unset)
only() {
	local sc out=
	[ -z "${BENCH_SCENARIOS:-}" ] && { echo "$1"; return; }
	for sc in $1; do
		case " $BENCH_SCENARIOS " in *" $sc "*) out="$out $sc" ;; esac
	done
	echo "$out"
}

# the u accounts the selected scenarios need (presence and pep use p)
NUSERS=1
[ -n "$(only "idle ws-idle bosh-idle")" ] && NUSERS=$IDLE
case " ${servers[*]} " in
*" parley-scale "*) [ -n "$(only scale)" ] && [ $NUSERS -lt $SCALE ] &&
    NUSERS=$SCALE ;;
esac
[ -n "$(only "msg ws-msg mobile mobile-none mobile-sm mobile-carbons mobile-mam")" ] &&
    [ $NUSERS -lt $((PAIRS * 2)) ] &&
    NUSERS=$((PAIRS * 2))
[ -n "$(only "bosh-msg")" ] && [ $NUSERS -lt $((PAIRS * 2)) ] &&
    NUSERS=$((PAIRS * 2))
[ -n "$(only "login ws-login bosh-login fast reconnect-fast reconnect-scram reconnect-full")" ] &&
    [ $NUSERS -lt $LOGIN_USERS ] &&
    NUSERS=$LOGIN_USERS
[ -n "$(only hibernate)" ] && [ $NUSERS -lt $HIB ] && NUSERS=$HIB
[ -n "$(only muc)" ] && [ $NUSERS -lt $MUSERS ] && NUSERS=$MUSERS
[ -n "$(only joinstorm)" ] && [ $NUSERS -lt $JUSERS ] && NUSERS=$JUSERS
out=${out:-$DIR/results}

mkdir -p "$DIR"
# two runs in one directory would stop each other's servers
exec 9>"$DIR/lock"
if ! flock -n 9; then
	echo "bench: another run is using $DIR (set BENCH_DIR)" >&2
	exit 1
fi
rm -rf "${DIR:?}"/srv "${DIR:?}"/pids
mkdir -p "$DIR/srv" "$DIR/pids" "$out"
JSON=$out/results.jsonl
: >"$JSON"
"$ROOT/scripts/mkcert.sh" $DOMAIN "$DIR/cert.pem" "$DIR/key.pem" >/dev/null

# raise the descriptor limit for the servers and the generator
ulimit -n "$(ulimit -Hn)"


log() { echo "bench: $*" >&2; }

. "$ROOT/tests/bench/lib.sh"
trap cleanup EXIT




# servers run on CPU 0, the generator on CPU 1
spawn() { spawn_on 0 "$@"; }	# NAME LOG argv...

# ---- servers --------------------------------------------------------------
# each start_X sets PORT and ROOTPIDS (process tree roots for loadgen -x)

PORT=15222

# parley-pg's PostgreSQL (tests/lib/pgserver.py): started once per run,
# on the servers' CPU, as the postgres user; its postmaster's PID is
# recorded, so cleanup stops it (SIGTERM, after Parley: pids in order)
PG_TOP=$DIR/srv/pg
PG_CONNINFO=
PG_SERIAL=0
PG_DB=
pg_start() {
	[ -n "$PG_CONNINFO" ] && return 0
	mkdir -p "$PG_TOP"
	# BENCH_PG_FSYNC=on: WAL synced as in production (default off)
	if ! PG_CONNINFO=$(PG_FSYNC=${BENCH_PG_FSYNC:-off} taskset -c 0 \
	    /usr/bin/python3 \
	    "$ROOT/tests/lib/pgserver.py" start "$PG_TOP"); then
		cat "$PG_TOP/log" >&2 2>/dev/null
		return 1
	fi
	head -n 1 "$PG_TOP/data/postmaster.pid" >"$DIR/pids/pg.pid"
}

# a fresh database for parley-pg, as a fresh LMDB directory for parley
# (the previous one dropped): sets PG_DB
pg_fresh_db() {
	local q=(psql -X -q -v ON_ERROR_STOP=1 -d "$PG_CONNINFO" -c)
	[ $PG_SERIAL -gt 0 ] &&
	    "${q[@]}" "DROP DATABASE IF EXISTS bench$PG_SERIAL" >/dev/null
	PG_SERIAL=$((PG_SERIAL + 1))
	"${q[@]}" "CREATE DATABASE bench$PG_SERIAL TEMPLATE template0" \
	    >/dev/null
	PG_DB="$PG_CONNINFO dbname=bench$PG_SERIAL"
}

start_parley() {	# WORKERS [pg]
	local d=$DIR/srv/parley st
	BENCH_PG_DB=
	if [ "${2:-}" = pg ]; then
		d=$DIR/srv/parley-pg
		pg_start
		[ -d "$d/data" ] || pg_fresh_db
		BENCH_PG_DB=$PG_DB
	fi
	st=(-D "$d/data")
	[ -n "$BENCH_PG_DB" ] && st=(-P "$BENCH_PG_DB")
	if [ ! -d "$d/data" ]; then
		mkdir -p "$d/data" "$d/run"
		chmod 700 "$d/data" "$d/run"
		log "parley: provisioning $NUSERS + $PUSERS users"
		"$BB/provision" "${st[@]}" -d $DOMAIN -u u -n "$NUSERS" \
		    -w $PASSWORD -i $ITER
		"$BB/provision" "${st[@]}" -d $DOMAIN -u p -n "$PUSERS" \
		    -g $((CONTACTS + 1)) -w $PASSWORD -i $ITER
	fi
	PORT=15222
	WPORT=$((PORT + 3))	# https-listen (lib.sh)
	parley_conf "$d" "$1" $PORT "$DIR/cert.pem" "$DIR/key.pem"
	spawn parley "$d/parleyd.log" "$PB/parleyd" -c "$d/parley.conf"
	ROOTPIDS=$(cat "$DIR/pids/parley.pid")
	# PostgreSQL's processes are the server's too: its CPU and memory
	# under their own name (postgres) beside the router's
	[ -n "$BENCH_PG_DB" ] && ROOTPIDS="$ROOTPIDS $(pid_of pg)"
	wait_port $PORT 20
}

start_relay() {
	PORT=15230
	spawn relay "$DIR/srv/relay.log" "$BB/relay" -p $PORT -d $DOMAIN \
	    -c "$DIR/cert.pem" -k "$DIR/key.pem" -w $PASSWORD
	ROOTPIDS=$(cat "$DIR/pids/relay.pid")
	wait_port $PORT 10
}

# peers: tests/bench/peers.sh defines start_prosody, start_ejabberd,
# start_jabberd2 and their stop functions
. "$ROOT/tests/bench/peers.sh"

start_server() {	# NAME
	case $1 in
	parley) start_parley 1 ;;
	parley-w2) start_parley 2 ;;
	parley-w4) start_parley 4 ;;
	parley-scale) start_parley $SCALE_WORKERS ;;
	parley-b) PB=${BENCH_PARLEY_BIN_B:?} start_parley 1 ;;
	parley-pg) start_parley 1 pg ;;
	parley-pg-b) PB=${BENCH_PARLEY_BIN_B:?} start_parley 1 pg ;;
	relay) start_relay ;;
	prosody|ejabberd|jabberd2) "start_$1" ;;
	*) log "unknown server $1"; exit 2 ;;
	esac
}

stop_server() {	# NAME
	case $1 in
	parley*) stop parley ;;
	relay) stop relay ;;
	*) "stop_$1" ;;
	esac
}

# ---- scenarios ------------------------------------------------------------

lg() {	# LABEL SCENARIO-NAME args...
	local label=$1 scen=$2 x=() p
	shift 2
	for p in $ROOTPIDS; do x+=(-x "$p"); done
	taskset -c 1 "$BB/loadgen" -p $PORT -d $DOMAIN -w $PASSWORD \
	    -l "$label" -a "$scen" -o "$JSON" "${x[@]}" "$@" 2>&1 |
	    sed "s/^/  /" >&2
	return "${PIPESTATUS[0]}"
}

# the restart scenario: the seconds its logins take, about
LOGIN_EST=1

restart_router_after() {	# SECONDS
	local t0
	sleep "$1"
	t0=$(date +%s.%N)
	"$PB/parleyctl" -c "$DIR/srv/parley/parley.conf" restart router \
	    >&2 || return 1
	log "restart router: parleyctl returned after" \
	    "$(awk "BEGIN { printf \"%.3f s\", $(date +%s.%N) - $t0 }")"
}

fails=0
parley_sm=0	# the last Parley scenario left stream-managed sessions
run_one() {	# SERVER RUN
	local s=$1 scen
	if [ "$s" = parley-pg ] || [ "$s" = parley-pg-b ]; then
		# storage on PostgreSQL (issue 19): logins, the archive's
		# writes under msg, and memory
		scen="login idle msg"
	elif [ "$s" = parley-w2 ] || [ "$s" = parley-w4 ]; then
		# the web transports with several workers: only when named
		# (the smoke run: BOSH, forwarded between its two workers)
		scen="msg login ws-login bosh-login ws-msg bosh-msg"
	elif [ "$s" = parley-scale ]; then
		scen="scale"
	elif [ "$s" = relay ]; then
		scen="login idle msg"
	elif [ "$s" = jabberd2 ]; then
		# not in pep: the issue compares Prosody and ejabberd, and
		# jabberd2 2.7's PEP module was not examined
		scen="login idle msg presence"
	else
		scen="login idle msg presence pep muc"
	fi
	# issue 14's scenarios: only when BENCH_SCENARIOS names them
	case $s in
	parley|parley-b|prosody|ejabberd)
		scen="$scen mobile mobile-none mobile-sm mobile-carbons"
		scen="$scen mobile-mam csi hibernate joinstorm"
		# the web transports (WPORT: each server's https port)
		scen="$scen ws-login ws-idle ws-msg bosh-idle"
		# BOSH logins and messages, two requests (XEP-0124 11)
		scen="$scen bosh-login bosh-msg" ;;
	esac
	# FAST (XEP-0484): Parley only, the peers have no FAST
	case $s in parley|parley-b) scen="$scen fast" ;; esac
	# a planned router restart under msg load (issue 19): Parley only,
	# restarting Prosody or ejabberd ends their client connections
	case $s in parley|parley-b) scen="$scen restart" ;; esac
	# reconnects with stream management resumption (issue 17): Parley
	# only, the peers have no SASL2 or FAST and the generator resumes
	# on Parley only
	case $s in parley|parley-b)
		scen="$scen reconnect-fast reconnect-scram reconnect-full" ;;
	esac
	if [ -z "${BENCH_SCENARIOS:-}" ]; then
		scen=${scen%% mobile *}
		# the smoke run: mobile too (seconds; all three features),
		# and the WebSocket transport's msg
		case $s in parley) [ $smoke -eq 1 ] &&
		    scen="$scen mobile ws-msg" ;;
		parley-w2|parley-w4) scen=msg
		    [ $smoke -eq 1 ] && scen="$scen bosh-login bosh-msg" ;;
		esac
	fi
	scen=$(only "$scen")
	# a fresh server per scenario: the teardown of one scenario's
	# sessions must not be billed to the next
	for sc in $scen; do
		SCEN=$sc	# the peers' configurations may depend on it
		# Parley's archive: off for the mobile variants without it
		case $sc in
		mobile-none|mobile-sm|mobile-carbons) BENCH_ARCHIVE=no ;;
		*) BENCH_ARCHIVE=yes ;;
		esac
		export BENCH_ARCHIVE
		# fresh accounts: a stream-managed session that went keeps
		# its unacknowledged messages offline (XEP-0198), which the
		# next scenario's logins would get (duplicates, lost order):
		# before these scenarios and before the one after them (the
		# smoke run's ws-msg follows mobile)
		case $s:$sc in parley*:mobile*|parley*:hibernate|parley*:csi|\
		    parley*:reconnect-*)
			rm -rf "${DIR:?}/srv/parley/data" \
			    "${DIR:?}/srv/parley-pg/data"
			parley_sm=1 ;;
		parley*:*)
			if [ $parley_sm -eq 1 ]; then
				rm -rf "${DIR:?}/srv/parley/data" \
				    "${DIR:?}/srv/parley-pg/data"
			fi
			parley_sm=0 ;;
		esac
		start_server "$s"
		log "$s run $2: $sc"
		case $sc in
		login) lg "$s" login -s login -n $LOGINS -U $LOGIN_USERS \
		    -c $CONC ;;
		# idle sessions are measured after ISETTLE s of silence, as
		# on a real server where they sit for minutes (Parley frees a
		# quiet session's parser after 5 s)
		idle) lg "$s" idle -s idle -k $IDLE -c $CONC -e $ISETTLE ;;
		# the same three over WebSocket (RFC 7395, wss:)
		# FAST (XEP-0484): each of the LOGIN_USERS gets a token
		# with a password login first (not measured), then the
		# logins of login with HT-SHA-256-NONE over XEP-0388
		fast) lg "$s" fast -s fast -n $LOGINS -U $LOGIN_USERS \
		    -c $CONC ;;
		# reconnects (issue 17): LOGIN_USERS sessions with
		# resumable stream management drop their TCP connection and
		# come back, LOGINS times in all: FAST with <resume/> inline
		# in XEP-0388, SCRAM then <resume/>, or a new login and bind
		reconnect-*) lg "$s" "$sc" -s "$sc" -n $LOGINS \
		    -U $LOGIN_USERS -c $CONC ;;
		ws-login) lg "$s" ws-login -s login -T ws -p "$WPORT" \
		    -n $LOGINS -U $LOGIN_USERS -c $CONC ;;
		ws-idle) lg "$s" ws-idle -s idle -T ws -p "$WPORT" -k $IDLE \
		    -c $CONC -e $ISETTLE ;;
		# idle over BOSH (XEP-0206): each session with one request
		# held by the server, as a quiet browser client's
		bosh-idle) lg "$s" bosh-idle -s idle -T bosh -p "$WPORT" \
		    -k $IDLE -c $CONC -e $ISETTLE ;;
		ws-msg) lg "$s" ws-msg -s msg -T ws -p "$WPORT" -P $PAIRS \
		    -W $WINDOW -t $SECS -r $WARM -e $SETTLE -c $CONC ;;
		# login and msg over BOSH: two HTTPS connections per
		# session, requests alternating between them (with several
		# workers, some reach one that does not hold the session)
		bosh-login) lg "$s" bosh-login -s login -T bosh -p "$WPORT" \
		    -n $LOGINS -U $LOGIN_USERS -c $CONC ;;
		bosh-msg) lg "$s" bosh-msg -s msg -T bosh -p "$WPORT" \
		    -P $PAIRS -W $WINDOW -t $SECS -r $WARM -e $SETTLE \
		    -c $CONC ;;
		# the same, at scale: several generator processes
		scale) lg "$s" idle -s idle -k $SCALE -j $SCALE_JOBS \
		    -c $CONC -e $ISETTLE ;;
		msg) lg "$s" msg -s msg -P $PAIRS -W $WINDOW -t $SECS \
		    -r $WARM -e $SETTLE -c $CONC ;;
		# msg while the router restarts (parleyctl restart router,
		# issue 19) about halfway through the measured seconds
		restart) restart_router_after "$(awk \
		    "BEGIN { print $LOGIN_EST + $WARM + $SECS / 2 }")" &
		    rpid=$!
		    lg "$s" restart -s msg -P $PAIRS -W $WINDOW -t $SECS \
		    -r $WARM -e $SETTLE -c $CONC
		    rc=$?
		    wait $rpid || rc=1
		    [ $rc -eq 0 ] ;;
		# msg on a mobile client's terms (issue 14): stream
		# management, carbons with a second resource per user, the
		# archive; then each alone, and none
		mobile*) lg "$s" "$sc" -s msg -P $PAIRS -W $WINDOW \
		    -t $SECS -r $WARM -e $SETTLE -c $CONC \
		    -F "$(case $sc in mobile) echo sm,carbons ;;
		    mobile-sm) echo sm ;; mobile-carbons) echo carbons ;;
		    *) echo none ;; esac)" ;;
		# presence churn, every second user inactive (XEP-0352)
		csi) lg "$s" csi -s presence -u p -N $PUSERS -C $CONTACTS \
		    -W $PWINDOW -t $SECS -r $WARM -e $SETTLE -c $CONC -I 2 ;;
		# memory of sessions kept for resumption (XEP-0198)
		hibernate) lg "$s" hibernate -s hibernate -k $HIB -c 20 \
		    -e $ISETTLE ;;
		presence) lg "$s" presence -s presence -u p -N $PUSERS \
		    -C $CONTACTS -W $PWINDOW -t $SECS -r $WARM -e $SETTLE \
		    -c $CONC ;;
		# the same users and rosters; clients announce caps with
		# mood+notify and publish moods to PEP
		pep) lg "$s" pep -s pep -u p -N $PUSERS -C $CONTACTS \
		    -W $EWINDOW -t $SECS -r $WARM -e $SETTLE -c $CONC ;;
		# rooms of MCONTACTS + 1 at conference.DOMAIN, each occupant
		# with one groupchat message in flight (docs/BENCHMARKS.md)
		muc) lg "$s" muc -s muc -u u -N $MUSERS -C $MCONTACTS \
		    -W $EWINDOW -t $SECS -r $WARM -e $SETTLE -c $CONC ;;
		# every occupant joins one room at once, after all logged in
		joinstorm) lg "$s" joinstorm -s joinstorm -u u -N $JUSERS \
		    -C $((JUSERS - 1)) -e $SETTLE -c $CONC ;;
		esac || {
			log "$s $sc FAILED"
			# a peer's own failures (jabberd2 2.7 kills some
			# logins) are figures, listed in summary.md; ours and
			# the relay's mean the benchmark is broken
			case $s in parley*|relay) fails=$((fails + 1)) ;; esac
		}
		stop_server "$s"
	done
}

t0=$(date +%s)
for ((r = 1; r <= runs; r++)); do
	for s in "${servers[@]}"; do
		run_one "$s" "$r"
	done
done
log "done in $(( $(date +%s) - t0 )) s, results in $JSON"
check=; [ $smoke -eq 1 ] && check=--check
/usr/bin/python3 "$ROOT/tests/bench/report.py" $check \
    "$JSON" "$out"
if [ $fails -gt 0 ]; then
	log "$fails scenario(s) failed"
	exit 1
fi
