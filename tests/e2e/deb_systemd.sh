#!/bin/bash
# The Debian package under a real systemd, without touching this machine
# (test_package.py, docs/operator.md "The unit"): systemd runs as PID 1
# of its own PID, mount, network, UTS and cgroup namespaces, in a cgroup
# of its own below this machine's cgroup2 hierarchy, on an overlay whose
# lower layer is / (writes land in WORK/upper), as systemd-nspawn would
# run it; the package is installed there first (postinst enables the
# unit) and systemd boots straight to parley.service. From outside,
# through nsenter: the unit is active with parleyd's READY=1 status
# (Type=notify), its processes run as parley, parleyctl adds an account
# through the router, a client logs in, systemctl reload keeps the main
# process, the journal has no warning from it, systemctl stop ends it
# cleanly. Then PID 1 is killed, which ends the namespaces and the
# overlay with them.
# usage: deb_systemd.sh DEB WORK LOGIN_SCRIPT
#        deb_systemd.sh --inner DEB WORK   (in the namespaces: boots)
set -eu

if [ "$1" = --inner ]; then
	deb=$2
	m=$3/merged
	# shellcheck source=deb_root.sh
	. "$(dirname "$0")/deb_root.sh"
	deb_root "$3"
	mount -t sysfs -o ro sysfs "$m/sys"
	# the cgroup namespace's root: the cgroup made for this run
	mount -t cgroup2 cgroup2 "$m/sys/fs/cgroup"
	cp "$deb" "$m/tmp/parley.deb"
	chroot "$m" dpkg -i /tmp/parley.deb
	test -L "$m/etc/systemd/system/multi-user.target.wants/parley.service"
	echo "deb_systemd: booting"
	# container=: systemd's own convention for running in a container
	exec chroot "$m" /usr/bin/env container=parley-test \
	    /lib/systemd/systemd --system --unit=parley.service \
	    --log-target=console
fi

deb=$1
work=$2
login=$3
here=$(cd "$(dirname "$0")" && pwd)
cg2=$(findmnt -n -o TARGET -t cgroup2 | head -1)
[ -n "$cg2" ] || { echo "deb_systemd: no cgroup2 hierarchy" >&2; exit 98; }
cg=$cg2/parley-test-$$
mkdir -p "$work"
mkdir "$cg"
pid1=
cleanup() {
	[ -n "$pid1" ] && kill -KILL "$pid1" 2>/dev/null
	wait 2>/dev/null || true
	# the cgroups systemd made below ours, emptied by the kill
	for _ in $(seq 50); do
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ -d "$cg" ] || break
		sleep 0.1
	done
}
trap cleanup EXIT
sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$cg" \
    unshare --mount --net --pid --fork --uts --cgroup --propagation private \
    --kill-child bash "$0" --inner "$deb" "$work" >"$work/boot.log" 2>&1 &
unshare_pid=$!
for _ in $(seq 300); do
	pid1=$(pgrep -P "$unshare_pid" -x systemd || true)
	[ -n "$pid1" ] && break
	kill -0 "$unshare_pid" 2>/dev/null || break
	sleep 0.1
done
cat "$work/boot.log"
[ -n "$pid1" ] || { echo "deb_systemd: systemd did not start" >&2; exit 1; }
echo "deb_systemd: systemd is pid $pid1 here, 1 in its namespace"
ns() {
	nsenter -t "$pid1" -m -p -n -u -r -w "$@"
}
state() {
	ns systemctl show -P "$1" parley.service
}
for _ in $(seq 300); do
	case $(state ActiveState) in
	active|failed) break ;;
	esac
	sleep 0.1
done
ns systemctl status --no-pager parley.service || true
[ "$(state ActiveState)" = active ]
[ "$(state SubState)" = running ]
[ "$(state StatusText)" = "every process is up" ]
main=$(state MainPID)
echo "deb_systemd: user $(ns ps -o user= -p "$main")"
[ "$(ns ps -o user= -p "$main")" = parley ]
# every process of the unit is parley's
[ -z "$(ns ps -o user= --ppid "$main" | grep -vx parley || true)" ]

echo "s3cret-pw" | ns parleyctl -c /etc/parley/parley.conf \
    adduser alice@localhost
nsenter -t "$pid1" -n /usr/bin/python3 "$login" alice@localhost s3cret-pw

ns systemctl reload parley.service
[ "$(state ActiveState)" = active ]
[ "$(state MainPID)" = "$main" ]
[ "$(state NRestarts)" = 0 ]
warnings=$(ns journalctl -q -u parley.service -p warning --no-pager)
echo "deb_systemd: journal warnings: ${warnings:-none}"
ns journalctl -q -u parley.service --no-pager | tail -5

ns systemctl stop parley.service
[ "$(state ActiveState)" = inactive ]
[ "$(state Result)" = success ]
[ -z "$warnings" ]
echo "deb_systemd: ok"
