#!/usr/bin/env bash
# What an idle session costs, item by item (docs/BENCHMARKS.md, "What a
# session costs"). Two runs of the idle scenario against Parley with one
# c2s worker, configured as tests/bench/run.sh configures it:
#
#  massif  parley-router and parley-c2s started directly (as parleyd
#          would start them; the s2s process plays no part) under
#          valgrind --tool=massif. A detailed heap snapshot of each is
#          taken through vgdb before the sessions log in and again once
#          they have been quiet for SETTLE seconds; tests/bench/sessmem.py
#          groups the live bytes by allocation site.
#  rss     parleyd as in the benchmark, no valgrind. At the same two
#          moments: each process's smaps_rollup, glibc's malloc_stats()
#          and malloc_info() (called in the process through gdb), and for
#          the kernel side ss -tm of the server's sockets and
#          /proc/slabinfo; then smaps_rollup again after malloc_trim(0).
#
#   tests/bench/sessmem.sh [-n N] [-N N] [-p PORT] [-o DIR] [-s SECS]
#                          [-m] [-r]
#
#   -n N     sessions of the massif run (10000)
#   -N N     sessions of the rss run (10000)
#   -p PORT  client port; PORT+1 is the direct TLS port (15270)
#   -o DIR   results (default $SESSMEM_DIR/results)
#   -s SECS  quiet time before measuring (8, as in the benchmark: the
#            c2s frees a quiet session's parser after 5 s)
#   -m / -r  the massif run only / the rss run only
#
# Binaries come from bin/ and build/bench (make all bench-bins); state goes
# to $SESSMEM_DIR (default /tmp/parley-sessmem), wiped first. Every process
# started here is stopped by PID on exit. Needs valgrind and ss; gdb for
# the malloc figures and the structure layouts, binutils (objdump) to name
# the frames inside GnuTLS.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BB=${BENCH_BIN:-$ROOT/build/bench}
PB=${PARLEY_BIN:-$ROOT/bin}
DIR=${SESSMEM_DIR:-/tmp/parley-sessmem}
DOMAIN=localhost
PASSWORD=bench
ITER=4096

NMASSIF=10000
NRSS=10000
PORT=15270
SETTLE=8
out=
do_massif=1
do_rss=1
while getopts "n:N:p:o:s:mr" ch; do
	case $ch in
	n) NMASSIF=$OPTARG ;;
	N) NRSS=$OPTARG ;;
	p) PORT=$OPTARG ;;
	o) out=$OPTARG ;;
	s) SETTLE=$OPTARG ;;
	m) do_rss=0 ;;
	r) do_massif=0 ;;
	*) sed -n '2,/^set -eu/p' "$0" | sed '$d' >&2; exit 2 ;;
	esac
done
out=${out:-$DIR/results}

log() { echo "sessmem: $*" >&2; }

for t in valgrind vgdb ss taskset; do
	if ! command -v $t >/dev/null 2>&1; then
		log "$t not found (apt-get install valgrind iproute2" \
		    "util-linux)"
		exit 2
	fi
done
# without gdb: no malloc_stats(), malloc_trim() or structure layouts
has_gdb=1
if ! command -v gdb >/dev/null 2>&1; then
	log "gdb not found (apt-get install gdb): malloc figures left out"
	has_gdb=0
fi

mkdir -p "$DIR"
rm -rf "${DIR:?}"/srv "${DIR:?}"/pids "${DIR:?}"/raw
mkdir -p "$DIR/srv" "$DIR/pids" "$DIR/raw" "$out"
RAW=$DIR/raw
"$ROOT/scripts/mkcert.sh" $DOMAIN "$DIR/cert.pem" "$DIR/key.pem" >/dev/null
ulimit -n "$(ulimit -Hn)"
. "$ROOT/tests/bench/lib.sh"
trap cleanup EXIT

wait_for() {	# SECONDS WHAT command...
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	log "timed out after $secs s waiting for $what"
	return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
uplink_up() {	# RUNDIR: a c2s is connected to the router
	ss -xHn state established | grep -q "$1/router.sock "
}

provision() {	# DATADIR N
	mkdir -p "$1"
	chmod 700 "$1"
	"$BB/provision" -D "$1" -d $DOMAIN -u u -n "$2" -w $PASSWORD \
	    -i $ITER >/dev/null
}

# the configuration of tests/bench/run.sh (start_parley), one worker
write_conf() {	# DIR
	local d=$1
	mkdir -p "$d/run"
	chmod 700 "$d/run"
	parley_conf "$d" 1 $PORT "$DIR/cert.pem" "$DIR/key.pem"
}

# the idle scenario in the background, pinned to CPU 1; returns once every
# session is logged in (the generator then stays quiet for HOLD seconds)
LGJSON=
loadgen_ramp() {	# TAG N CONC HOLD [loadgen options]
	local tag=$1 n=$2 conc=$3 hold=$4
	shift 4
	LGJSON=$RAW/$tag.loadgen.jsonl
	: >"$LGJSON"
	spawn_on 1 loadgen "$RAW/$tag.loadgen.log" "$BB/loadgen" -s idle \
	    -p "$PORT" -d $DOMAIN -w $PASSWORD -l "sessmem-$tag" \
	    -o "$LGJSON" -k "$n" -c "$conc" -e "$hold" "$@"
	loadgen_wait_up "$LGJSON" "$RAW/$tag.loadgen.log" "$n" || return 1
	log "$n sessions up after $UP_AFTER s; quiet for $SETTLE s"
}

# ---- massif ---------------------------------------------------------------

# a detailed snapshot of each process, and where its libraries are mapped
# (sessmem.py names frames inside the stripped GnuTLS from them)
massif_snap() {	# LABEL
	local p
	for p in router c2s; do
		vgdb --vgdb-prefix="$DIR/vgdb" --pid="$(pid_of $p)" \
		    detailed_snapshot "$RAW/massif.$p.$1" >/dev/null 2>&1
		cp "/proc/$(pid_of $p)/maps" "$RAW/massif.$p.maps"
	done
}

run_massif() {
	local d=$DIR/srv/massif vg
	log "massif: provisioning $NMASSIF users"
	provision "$d/data" "$NMASSIF"
	write_conf "$d"
	vg=(valgrind --tool=massif --threshold=0 --depth=40 --vgdb=yes
	    --vgdb-prefix="$DIR/vgdb")
	spawn_on 0 router "$RAW/massif.router.log" "${vg[@]}" \
	    --massif-out-file="$RAW/massif.router.final" \
	    "$PB/parley-router" -c "$d/parley.conf"
	wait_for 60 "the router's socket" test -S "$d/run/router.sock"
	spawn_on 0 c2s "$RAW/massif.c2s.log" "${vg[@]}" \
	    --massif-out-file="$RAW/massif.c2s.final" \
	    "$PB/parley-c2s" -c "$d/parley.conf" -i 1
	wait_for 60 "the c2s port" port_open
	wait_for 60 "the c2s link" uplink_up "$d/run"
	sleep 2
	massif_snap base
	# fewer logins at once than the benchmark's 200: valgrind is slow
	loadgen_ramp massif "$NMASSIF" 50 $((SETTLE + 600))
	sleep "$SETTLE"
	massif_snap idle
	log "massif: snapshots taken"
	stop loadgen
	stop c2s
	stop router
}

# ---- plain RSS ------------------------------------------------------------

children_of() {	# PID: "pid comm" of each child
	local f p
	for f in /proc/[0-9]*/stat; do
		p=${f#/proc/}
		p=${p%/stat}
		# field 4 is the ppid; comm (field 2) has no spaces here
		read -r _ comm _ ppid _ <"$f" 2>/dev/null || continue
		[ "$ppid" = "$1" ] && echo "$p ${comm//[()]/}"
	done
}

# glibc's malloc_stats(), called in the process; it prints to stderr
# (the $ in the gdb commands are gdb's convenience variables)
# shellcheck disable=SC2016
malloc_stats_of() {	# PID FILE
	[ $has_gdb -eq 1 ] || return 0
	# O_WRONLY|O_CREAT|O_TRUNC = 577, mode 0644 = 420
	gdb -p "$1" -batch -nx \
	    -ex "set \$fd = (int)open(\"$2\", 577, 420)" \
	    -ex 'set $old = (int)dup(2)' \
	    -ex 'call (int)dup2($fd, 2)' \
	    -ex 'call (void)malloc_stats()' \
	    -ex 'call (int)dup2($old, 2)' \
	    -ex 'call (int)close($fd)' \
	    -ex 'call (int)close($old)' >/dev/null 2>&1
}

# shellcheck disable=SC2016
malloc_info_of() {	# PID FILE: glibc's malloc_info() XML (free chunks)
	[ $has_gdb -eq 1 ] || return 0
	gdb -p "$1" -batch -nx \
	    -ex "set \$f = (void *)fopen(\"$2\", \"w\")" \
	    -ex 'call (int)malloc_info(0, $f)' \
	    -ex 'call (int)fclose($f)' >/dev/null 2>&1
}

rss_measure() {	# LABEL
	local pid comm
	while read -r pid comm; do
		cat "/proc/$pid/smaps_rollup" >"$RAW/rss.$comm.$1.smaps"
		case $comm in
		parley-router|parley-c2s)
			malloc_stats_of "$pid" "$RAW/rss.$comm.$1.malloc"
			malloc_info_of "$pid" \
			    "$RAW/rss.$comm.$1.mallinfo.xml" ;;
		esac
	done < <(children_of "$(pid_of parleyd)")
	cat "/proc/$(pid_of parleyd)/smaps_rollup" >"$RAW/rss.parleyd.$1.smaps"
	cat /proc/net/sockstat >"$RAW/rss.sockstat.$1"
	cat /proc/slabinfo >"$RAW/rss.slabinfo.$1"
	ss -tmnH state established "( sport = :$PORT )" >"$RAW/rss.ss.$1"
}

run_rss() {
	local d=$DIR/srv/rss pid comm
	log "rss: provisioning $NRSS users"
	provision "$d/data" "$NRSS"
	write_conf "$d"
	spawn_on 0 parleyd "$RAW/rss.parleyd.log" "$PB/parleyd" \
	    -c "$d/parley.conf"
	wait_for 30 "the c2s port" port_open
	wait_for 30 "the c2s link" uplink_up "$d/run"
	sleep 2
	rss_measure base
	loadgen_ramp rss "$NRSS" 200 $((SETTLE + 600))
	sleep "$SETTLE"
	rss_measure idle
	# how much of the RSS is free memory malloc keeps: the same after
	# malloc_trim(0), which hands free pages inside the heap back
	while [ $has_gdb -eq 1 ] && read -r pid comm; do
		[ "$comm" = parley-c2s ] || [ "$comm" = parley-router ] ||
		    continue
		gdb -p "$pid" -batch -nx -ex 'call (int)malloc_trim(0)' \
		    >/dev/null 2>&1
		cat "/proc/$pid/smaps_rollup" >"$RAW/rss.$comm.trim.smaps"
	done < <(children_of "$(pid_of parleyd)")
	log "rss: measured"
	stop loadgen
	stop parleyd
}

# ---- report -------------------------------------------------------------

if [ $has_gdb -eq 1 ]; then
	gdb -batch -ex 'ptype /o struct stream' -ex 'ptype /o struct xstream' \
	    "$PB/parley-c2s" >"$RAW/structs.c2s" 2>&1 || true
	gdb -batch -ex 'ptype /o struct sess' -ex 'ptype /o struct user' \
	    -ex 'ptype /o struct map_slot' \
	    "$PB/parley-router" >"$RAW/structs.router" 2>&1 || true
fi
if [ $do_massif -eq 1 ]; then
	run_massif
fi
if [ $do_rss -eq 1 ]; then
	run_rss
fi
/usr/bin/python3 "$ROOT/tests/bench/sessmem.py" --massif-sessions "$NMASSIF" \
    --rss-sessions "$NRSS" "$RAW" "$out"
