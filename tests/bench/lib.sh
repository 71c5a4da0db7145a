# Sourced by tests/bench/run.sh and tests/bench/sessmem.sh: the processes
# they start (recorded by PID in $DIR/pids, stopped by PID) and the Parley
# configuration the benchmark measures.

cleanup() {	# stops everything still recorded
	local f
	for f in "$DIR"/pids/*.pid; do
		[ -e "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null || true
	done
	rm -f "$DIR"/pids/*.pid
}

# starts argv in the background pinned to CPU, records the pid as NAME
spawn_on() {	# CPU NAME LOG argv...
	local cpu=$1 name=$2 logf=$3
	shift 3
	taskset -c "$cpu" "$@" >"$logf" 2>&1 &
	echo $! >"$DIR/pids/$name.pid"
}

pid_of() { cat "$DIR/pids/$1.pid"; }

stop() {	# NAME: SIGTERM, then SIGKILL after 30 s
	local f=$DIR/pids/$1.pid pid i
	[ -e "$f" ] || return 0
	pid=$(cat "$f")
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$f"
}

wait_port() {	# PORT SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		if (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	log "nothing listens on 127.0.0.1:$1 after $2 s"
	return 1
}

# waits until the idle scenario's generator (recorded as loadgen) has all
# N sessions up: its logins_per_s line in JSONL; 1 if it ended first or a
# login failed. Sets UP_AFTER to the seconds waited.
loadgen_wait_up() {	# JSONL LOG N
	local i
	for ((i = 0; ; i++)); do
		grep -q '"logins_per_s"' "$1" && break
		if ! kill -0 "$(pid_of loadgen)" 2>/dev/null; then
			log "loadgen ended before all sessions were up:"
			cat "$2" >&2
			return 1
		fi
		sleep 0.5
	done
	UP_AFTER=$((i / 2))
	if ! grep -q "\"sessions\",\"value\":$3," "$1" ||
	    ! grep -q '"login_failures","value":0,' "$1"; then
		log "not every session logged in:"
		cat "$2" >&2
		return 1
	fi
}

# parley-pg (tests/bench/run.sh): storage on the PostgreSQL database of
# BENCH_PG_DB (a conninfo), none when unset
pg_conf_lines() {
	[ -n "${BENCH_PG_DB:-}" ] || return 0
	printf 'storage postgresql\npostgresql "%s"\n' "$BENCH_PG_DB"
}

parley_conf() {	# DIR WORKERS PORT CERT KEY: writes DIR/parley.conf
	local d=$1
	cat >"$d/parley.conf" <<CONF
# written by tests/bench/lib.sh
workers $2
datadir $d/data
rundir $d/run
log-level ${BENCH_LOG_LEVEL:-warn}
lmdb-mapsize 4G
scram-iterations $ITER
c2s-listen 127.0.0.1:$3
c2s-tls-listen 127.0.0.1:$(($3 + 1))
# WebSocket and BOSH (the ws-* and bosh-* scenarios), port + 3
https-listen 127.0.0.1:$(($3 + 3))
c2s-max-sessions 1000000
idle-timeout 1h
negotiation-timeout 60
# bosh-msg: a BOSH connection carries hundreds of requests (the peers
# set no limit per connection)
http-keepalive-requests 100000
# rate limits off, as for the peers: every session comes from 127.0.0.x
c2s-stanza-rate 0
c2s-max-per-address 0
auth-fail-max 0
# the archive (XEP-0313): on by default; the mobile-* scenarios set it
archive ${BENCH_ARCHIVE:-yes}
# muc: the rate limit off too; rooms at conference.$DOMAIN
muc-rate 100000
muc-max-rooms-per-user 100000
$(pg_conf_lines)
host $DOMAIN {
	certificate $4
	key $5
	muc yes
}
CONF
}
