#!/usr/bin/env bash
# Installs the Debian 12 packages the benchmark against peers needs
# (scripts/bench-peers), skipping those already present:
#   prosody, ejabberd, jabberd2   the peer servers measured next to Parley
#   erlang-p1-sqlite3             ejabberd's SQLite driver (accounts and
#                                 rosters provisioned straight into SQLite)
#   sqlite3                       to look into ejabberd's database
#   gnuplot-nox                   docs/bench-ratios.png
#   gnutls-bin                    certtool, for the bench certificate
#   valgrind, gdb                 make bench-mem (massif; malloc_stats and
#                                 structure layouts read through gdb)
#
# The packaged servers want to start their system services at install time;
# those listen on 5222/5269 on every address and would collide with the
# benchmark and the e2e suite. So service start-up is disabled for the
# duration of the install by a temporary /usr/sbin/policy-rc.d that exits
# 101 (a pre-existing one is put back afterwards), as scripts/deps-interop.sh
# does, and the system services are stopped afterwards if they run anyway.
#
# Idempotent and silent when everything is present. Run as root.
set -eu

pkgs=(prosody ejabberd erlang-p1-sqlite3 jabberd2 sqlite3 gnuplot-nox
	gnutls-bin valgrind gdb)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
		grep -q "install ok installed"
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps-bench: missing packages: ${missing[*]}" >&2
		echo "deps-bench: run as root, or: sudo apt-get install" \
			"${missing[*]}" >&2
		exit 1
	fi
	echo "deps-bench: installing ${missing[*]}"
	policy=/usr/sbin/policy-rc.d
	saved=
	if [ -e "$policy" ] || [ -L "$policy" ]; then
		saved=$(mktemp /usr/sbin/.policy-rc.d.saved.XXXXXX)
		cp -a "$policy" "$saved"
	fi
	restore() {
		rm -f "$policy"
		if [ -n "$saved" ]; then
			mv -f "$saved" "$policy"
		fi
	}
	trap restore EXIT
	printf '#!/bin/sh\n# temporary, from scripts/deps-bench.sh\nexit 101\n' \
		>"$policy"
	chmod 755 "$policy"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>/dev/null
	restore
	trap - EXIT
fi

# system services that run anyway (no policy-rc.d at an earlier install):
# the interop deps script knows how to stop prosody and ejabberd; jabberd2's
# init script starts four processes as user "jabber".
if [ -x scripts/deps-interop.sh ]; then
	scripts/deps-interop.sh
fi
if id jabber >/dev/null 2>&1; then
	for pid in $(pgrep -u jabber 2>/dev/null || true); do
		echo "deps-bench: stopping jabberd2 system process $pid"
		kill "$pid" 2>/dev/null || true
	done
fi
exit 0
