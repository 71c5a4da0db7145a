# Sourced by tests/bench/run.sh: starting and provisioning the peer servers
# (Prosody 0.12 and ejabberd 23.01 from Debian 12) from the configuration
# templates in tests/bench/peers/. Placeholders are @NAME@.

fill() {	# TEMPLATE OUT NAME=VALUE...
	local t=$1 o=$2 kv
	shift 2
	cp "$t" "$o"
	for kv in "$@"; do
		sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$o"
	done
	if grep -q '@[A-Z_]*@' "$o"; then
		log "$o: placeholder left: $(grep -o '@[A-Z_]*@' "$o" | head -1)"
		exit 1
	fi
}

peer_dir() {	# NAME: fresh state directory
	local d=$DIR/srv/$1
	rm -rf "$d"
	mkdir -p "$d"
	echo "$d"
}

start_prosody() {
	local d
	d=$(peer_dir prosody)
	PORT=15240
	fill "$PEERS/prosody.cfg.lua.in" "$d/prosody.cfg.lua" DIR="$d" \
	    PORT=$PORT CERT="$DIR/cert.pem" KEY="$DIR/key.pem" DOMAIN=$DOMAIN
	mkdir -p "$d/data"
	log "prosody: provisioning"
	/usr/bin/python3 "$PEERS/provision.py" prosody "$d/data" $DOMAIN \
	    $PASSWORD $ITER "u:$NUSERS" "p:$PUSERS:$((CONTACTS + 1))"
	spawn prosody "$d/stdout.log" prosody --config "$d/prosody.cfg.lua"
	ROOTPIDS=$(cat "$DIR/pids/prosody.pid")
	wait_port $PORT 30
}

stop_prosody() { stop prosody; }

# ejabberd without ejabberdctl (which runs as user ejabberd), as the
# interop lab does: erl with ejabberdctl's arguments, as root; no
# distribution (no node name, no epmd): the benchmark needs no ctl node.
start_ejabberd() {
	local d
	d=$(peer_dir ejabberd)
	PORT=15250
	fill "$PEERS/ejabberd.yml.in" "$d/ejabberd.yml" DIR="$d" \
	    PORT=$PORT CERT="$DIR/cert.pem" KEY="$DIR/key.pem" DOMAIN=$DOMAIN
	log "ejabberd: provisioning"
	/usr/bin/python3 "$PEERS/provision.py" ejabberd "$d/ejabberd.db" \
	    $DOMAIN $PASSWORD $ITER "u:$NUSERS" "p:$PUSERS:$((CONTACTS + 1))"
	ERL_LIBS=/usr/lib/x86_64-linux-gnu EJABBERD_CONFIG_PATH=$d/ejabberd.yml \
	    EJABBERD_LOG_PATH=$d/ejabberd.log HOME=$d \
	    ERL_CRASH_DUMP=$d/erl_crash.dump ERL_CRASH_DUMP_BYTES=0 \
	    spawn ejabberd "$d/stdout.log" erl -noinput -noshell \
	    +K true +P 1000000 -mnesia dir "\"$d/db\"" -s ejabberd
	ROOTPIDS=$(cat "$DIR/pids/ejabberd.pid")
	wait_port $PORT 60
	# the listener opens before the SQL pool: logins in the first
	# seconds crash in ejabberd_sql:get_worker (badarg)
	sleep 5
}

stop_ejabberd() { stop ejabberd; }
