#!/bin/bash
# The Debian package installed for real, without touching this machine:
# run by test_package.py under `unshare -m -n` (a mount and a network
# namespace of its own), it mounts an overlay whose lower layer is / and
# whose writes land in WORK/upper, chroots into it and there installs the
# package with dpkg -i (postinst: the user, the certificate, the unit
# enabled), starts the server as the unit would (as parley, with the
# unit's ExecStart), lets LOGIN_SCRIPT log in from outside the chroot
# (same network namespace, loopback only), and purges the package.
# usage: deb_overlay.sh DEB WORK LOGIN_SCRIPT
set -eu

deb=$1
work=$2
login=$3
m=$work/merged
# shellcheck source=deb_root.sh
. "$(dirname "$0")/deb_root.sh"
deb_root "$work"

cp "$deb" "$m/tmp/parley.deb"
echo "== dpkg -i"
chroot "$m" dpkg -i /tmp/parley.deb
chroot "$m" getent passwd parley
test -L "$m/etc/systemd/system/multi-user.target.wants/parley.service"
test -r "$m/etc/parley/certs/localhost.crt"

# what systemd would do for the unit: RuntimeDirectory, then ExecStart
install -d -o "$(chroot "$m" id -u parley)" -m 0700 "$m/run/parley"
exec_start=$(sed -n 's/^ExecStart=//p' \
    "$m/usr/lib/systemd/system/parley.service")
echo "== $exec_start"
# shellcheck disable=SC2086
chroot --userspec=parley:parley "$m" $exec_start \
    >"$work/parleyd.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
	grep -q "ready: every process is up" "$work/parleyd.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
cat "$work/parleyd.log"
grep -q "ready: every process is up" "$work/parleyd.log"
echo "s3cret-pw" | chroot "$m" parleyctl -c /etc/parley/parley.conf \
    adduser alice@localhost
/usr/bin/python3 "$login" alice@localhost s3cret-pw
kill -TERM "$pid"
wait "$pid"

echo "== dpkg --purge"
chroot "$m" dpkg --purge parley
test ! -e "$m/usr/sbin/parleyd"
test ! -e "$m/var/lib/parley"
test ! -e "$m/etc/parley/parley.conf"
chroot "$m" getent passwd parley
echo "deb_overlay: ok"
