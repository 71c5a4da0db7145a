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
# duration of the install (scripts/apt-deps.sh), and the system services are
# stopped afterwards if they run anyway.
#
# Idempotent and silent when everything is present. Run as root.
set -eu

pkgs=(prosody ejabberd erlang-p1-sqlite3 jabberd2 sqlite3 gnuplot-nox
	gnutls-bin valgrind gdb)

. "$(dirname "$0")/apt-deps.sh"
apt_install_missing deps-bench "${pkgs[@]}"

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
