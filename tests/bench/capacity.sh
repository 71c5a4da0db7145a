#!/usr/bin/env bash
# How many concurrent authenticated sessions this machine holds, and what
# each costs per process (docs/BENCHMARKS.md, "Capacity"). For each size
# N given: parleyd with one c2s worker per PER sessions (a process may
# hold 20,000 descriptors here), the idle scenario from as many generator
# processes (loadgen -j, each from its own 127.0.x.0/24), and once every
# session is up and quiet for SETTLE seconds: smaps_rollup (RSS, PSS) of
# every server and generator process, /proc/meminfo and
# /proc/net/sockstat. Two sizes or more give the slope: bytes per session
# by program, the generator's, the kernel's, and so the largest N the
# machine's memory allows. Everything runs under nice (memory is the
# figure, not speed).
#
#   tests/bench/capacity.sh [-p PORT] [-o DIR] [-s SECS] [-P PER] N...
#
#   -p PORT  client port (15280); PORT+1 and PORT+3 are taken too
#   -o DIR   results (default $CAPACITY_DIR/results)
#   -s SECS  quiet time before measuring (10: the c2s frees a quiet
#            session's parser after 5 s)
#   -P PER   sessions per c2s worker and per generator process (15000)
#
# make bench-capacity runs it at 30,000 and 80,000 sessions (override
# with CAPACITY_SIZES). Binaries come from bin/ and build/bench (make all
# bench-bins); state goes to $CAPACITY_DIR (default
# /tmp/parley-capacity), wiped first. Every process started here is
# stopped by PID on exit.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BB=${BENCH_BIN:-$ROOT/build/bench}
PB=${PARLEY_BIN:-$ROOT/bin}
DIR=${CAPACITY_DIR:-/tmp/parley-capacity}
DOMAIN=localhost
PASSWORD=bench
ITER=4096
NICE=${CAPACITY_NICE:-10}

PORT=15280
SETTLE=10
PER=15000
out=
while getopts "p:o:s:P:" ch; do
	case $ch in
	p) PORT=$OPTARG ;;
	o) out=$OPTARG ;;
	s) SETTLE=$OPTARG ;;
	P) PER=$OPTARG ;;
	*) sed -n '2,/^set -eu/p' "$0" | sed '$d' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 30000 80000
out=${out:-$DIR/results}

log() { echo "capacity: $*" >&2; }

mkdir -p "$DIR"
exec 9>"$DIR/lock"
if ! flock -n 9; then
	log "another run is using $DIR (set CAPACITY_DIR)"
	exit 1
fi
rm -rf "${DIR:?}"/srv "${DIR:?}"/pids "${DIR:?}"/raw
mkdir -p "$DIR/srv" "$DIR/pids" "$DIR/raw" "$out"
RAW=$DIR/raw
"$ROOT/scripts/mkcert.sh" $DOMAIN "$DIR/cert.pem" "$DIR/key.pem" >/dev/null
ulimit -n "$(ulimit -Hn)"
. "$ROOT/tests/bench/lib.sh"
trap cleanup EXIT

spawn() {	# NAME LOG argv...: in the background, niced, pid recorded
	local name=$1 logf=$2
	shift 2
	nice -n "$NICE" "$@" >"$logf" 2>&1 &
	echo $! >"$DIR/pids/$name.pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

descendants() {	# PID: the pids below it, depth first
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# one line per process: who, comm, rss kB, pss kB
snap_procs() {	# WHO PID...
	local who=$1 p comm sm
	shift
	for p in "$@"; do
		# a process may end meanwhile (a worker's helper thread, a
		# generator process done): skipped
		comm=$(cat /proc/"$p"/comm 2>/dev/null) || continue
		sm=$(cat /proc/"$p"/smaps_rollup 2>/dev/null) || continue
		echo "$who $comm $(echo "$sm" | awk '/^Rss:/ {r = $2}
		    /^Pss:/ {p = $2} END {print r, p}')"
	done
}

measure() {	# LABEL
	local sp=$(pid_of parleyd) lp=
	{
		# shellcheck disable=SC2046
		snap_procs server "$sp" $(descendants "$sp")
		if [ -e "$DIR/pids/loadgen.pid" ]; then
			lp=$(pid_of loadgen)
			# shellcheck disable=SC2046
			snap_procs gen "$lp" $(descendants "$lp")
		fi
	} >"$RAW/$1.procs"
	cp /proc/meminfo "$RAW/$1.meminfo"
	cp /proc/net/sockstat "$RAW/$1.sockstat"
}

provisioned=0
provision_upto() {	# N: accounts u0..uN-1 (the earlier ones kept)
	[ "$1" -le $provisioned ] && return 0
	log "provisioning $1 users"
	mkdir -p "$DIR/srv/data"
	chmod 700 "$DIR/srv/data"
	"$BB/provision" -D "$DIR/srv/data" -d $DOMAIN -u u -n "$1" \
	    -w $PASSWORD -i $ITER -m 4096 >/dev/null
	provisioned=$1
}

run_size() {	# N
	local n=$1 w lg i
	w=$(((n + PER - 1) / PER))
	provision_upto "$n"
	mkdir -p "$DIR/srv/run"
	chmod 700 "$DIR/srv/run"
	parley_conf "$DIR/srv" $w $PORT "$DIR/cert.pem" "$DIR/key.pem"
	spawn parleyd "$RAW/$n.parleyd.log" "$PB/parleyd" \
	    -c "$DIR/srv/parley.conf"
	for ((i = 0; i < 300; i++)); do
		port_open && break
		sleep 0.1
	done
	# every worker linked to the router (each holds one router.sock)
	for ((i = 0; i < 300; i++)); do
		[ "$(ss -xHn state established |
		    grep -c "$DIR/srv/run/router.sock ")" -ge "$w" ] && break
		sleep 0.1
	done
	sleep 2
	measure "$n.base"
	lg=$RAW/$n.loadgen.jsonl
	: >"$lg"
	log "$n sessions: $w c2s workers, $w generator processes"
	spawn loadgen "$RAW/$n.loadgen.log" "$BB/loadgen" -s idle \
	    -p $PORT -d $DOMAIN -w $PASSWORD -l "capacity-$n" -o "$lg" \
	    -x "$(pid_of parleyd)" -k "$n" -j "$w" -c 200 \
	    -e $((SETTLE + 10))
	loadgen_wait_up "$lg" "$RAW/$n.loadgen.log" "$n" || return 1
	log "$n sessions up after $UP_AFTER s; quiet for $SETTLE s"
	sleep "$SETTLE"
	measure "$n.idle"
	# the generator stops its processes once its own settle time is
	# over, and reports sessions the server closed meanwhile
	while kill -0 "$(pid_of loadgen)" 2>/dev/null; do
		sleep 1
	done
	rm -f "$DIR/pids/loadgen.pid"
	if ! grep -q '"sessions_lost","value":0,' "$lg"; then
		log "the server closed sessions while they were held"
		return 1
	fi
	stop parleyd
	cat "$lg" >>"$out/capacity.jsonl"
	log "$n sessions measured"
}

: >"$out/capacity.jsonl"
sizes=()
for n in "$@"; do
	run_size "$n"
	sizes+=("$n")
done
/usr/bin/python3 "$ROOT/tests/bench/capacity.py" "$RAW" "$out" "${sizes[@]}"
