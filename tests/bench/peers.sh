# Sourced by tests/bench/run.sh: starting and provisioning the peer servers
# (Prosody 0.12, ejabberd 23.01 and jabberd2 2.7 from Debian 12) from the
# configuration templates in tests/bench/peers/. Placeholders are @NAME@.

# the multiarch library directory (x86_64-linux-gnu, aarch64-linux-gnu, ...)
LIBDIR=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
    gcc -print-multiarch)

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
	local d pep https
	d=$(peer_dir prosody)
	PORT=15240
	# mod_pep only for the pep scenario (prosody.cfg.lua.in); stream
	# management, the archive and CSI only where a scenario uses them
	pep=; [ "${SCEN:-}" = pep ] && pep='"pep";'
	case ${SCEN:-} in mobile|mobile-sm|hibernate) pep="$pep \"smacks\";" ;;
	esac
	case ${SCEN:-} in mobile|mobile-mam) pep="$pep \"mam\";" ;; esac
	[ "${SCEN:-}" = csi ] && pep="$pep \"csi_simple\";"
	# the web scenarios: WebSocket and BOSH on HTTPS at WPORT
	WPORT=15241 https=
	case ${SCEN:-} in ws-*|bosh-*)
		pep="$pep \"websocket\"; \"bosh\";" https=$WPORT ;;
	esac
	fill "$PEERS/prosody.cfg.lua.in" "$d/prosody.cfg.lua" DIR="$d" \
	    PORT=$PORT CERT="$DIR/cert.pem" KEY="$DIR/key.pem" DOMAIN=$DOMAIN \
	    PEP_MODULE="$pep" HTTPS_PORT="$https"
	# group chat only for the muc scenarios: the component ends the
	# file (after the VirtualHost), anyone may create rooms, no limits
	# beyond the defaults (Prosody 0.12's mod_muc has no rate limit)
	case ${SCEN:-} in muc|joinstorm)
		fill "$PEERS/prosody-muc.cfg.lua.in" "$d/muc.cfg.lua" \
		    DOMAIN=$DOMAIN
		cat "$d/muc.cfg.lua" >>"$d/prosody.cfg.lua" ;;
	esac
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
	# the modules list ends the file: the equivalents of the mobile,
	# csi and hibernate scenarios' features, only for them
	case ${SCEN:-} in mobile|mobile-sm|hibernate)
		printf '  mod_stream_mgmt: {}\n' >>"$d/ejabberd.yml" ;;
	esac
	case ${SCEN:-} in mobile|mobile-mam)
		printf '  mod_mam:\n    default: always\n' \
		    >>"$d/ejabberd.yml" ;;
	esac
	[ "${SCEN:-}" = csi ] &&
	    printf '  mod_client_state: {}\n' >>"$d/ejabberd.yml"
	case ${SCEN:-} in muc|joinstorm)
		cat "$PEERS/ejabberd-muc.yml" >>"$d/ejabberd.yml" ;;
	esac
	# the web scenarios: an HTTPS listener (ejabberd-web.yml) after the
	# c2s one, at WPORT, and BOSH's module
	WPORT=15251
	case ${SCEN:-} in ws-*|bosh-*)
		fill "$PEERS/ejabberd-web.yml" "$d/web.yml" PORT=$WPORT
		sed -i "/^    backlog: 4096$/r $d/web.yml" "$d/ejabberd.yml"
		printf '  mod_bosh: {}\n' >>"$d/ejabberd.yml" ;;
	esac
	log "ejabberd: provisioning"
	/usr/bin/python3 "$PEERS/provision.py" ejabberd "$d/ejabberd.db" \
	    $DOMAIN $PASSWORD $ITER "u:$NUSERS" "p:$PUSERS:$((CONTACTS + 1))"
	ERL_LIBS=$LIBDIR EJABBERD_CONFIG_PATH=$d/ejabberd.yml \
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

# jabberd2: three processes, each with its XML configuration (s2s is not
# needed): the router first, then the sm and the c2s, which connect to it.
# The c2s wants the certificate and its key in one PEM file. All three are
# roots for loadgen -x (none is another's parent). The c2s authreg and the
# sm share one SQLite file, as in Debian's packaged configuration.
start_jabberd2() {
	local d t i rport=15262
	d=$(peer_dir jabberd2)
	PORT=15260
	for t in router router-users sm c2s; do
		fill "$PEERS/jabberd2/$t.xml.in" "$d/$t.xml" DIR="$d" \
		    PORT=$PORT ROUTER_PORT=$rport SECRET=bench-router \
		    PEM="$d/server.pem" DOMAIN=$DOMAIN LIBDIR="$LIBDIR"
	done
	cat "$DIR/cert.pem" "$DIR/key.pem" >"$d/server.pem"
	chmod 600 "$d/server.pem"
	log "jabberd2: provisioning"
	/usr/bin/python3 "$PEERS/provision.py" jabberd2 "$d/jabberd2.db" \
	    $DOMAIN $PASSWORD $ITER "u:$NUSERS" "p:$PUSERS:$((CONTACTS + 1))"
	spawn jabberd2-router "$d/router.out" /usr/sbin/jabberd2-router \
	    -c "$d/router.xml"
	wait_port $rport 10
	spawn jabberd2-sm "$d/sm.out" /usr/sbin/jabberd2-sm -c "$d/sm.xml"
	# the c2s refuses streams for a domain whose sm it has not seen
	# come online (host-gone): start it once the sm has bound the domain
	for ((i = 0; ; i++)); do
		grep -q "\[$DOMAIN\] online" "$d/router.log" 2>/dev/null &&
		    break
		if [ $i -ge 200 ]; then
			log "jabberd2: the sm did not come online"
			return 1
		fi
		sleep 0.1
	done
	spawn jabberd2-c2s "$d/c2s.out" /usr/sbin/jabberd2-c2s -c "$d/c2s.xml"
	ROOTPIDS="$(cat "$DIR/pids/jabberd2-router.pid")"
	ROOTPIDS="$ROOTPIDS $(cat "$DIR/pids/jabberd2-sm.pid")"
	ROOTPIDS="$ROOTPIDS $(cat "$DIR/pids/jabberd2-c2s.pid")"
	wait_port $PORT 30
}

stop_jabberd2() {
	stop jabberd2-c2s
	stop jabberd2-sm
	stop jabberd2-router
}
