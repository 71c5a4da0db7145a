#!/usr/bin/env bash
# Installs the Debian 12 packages the federation interop lab needs
# (tests/interop, scripts/lab), skipping those already present:
#   prosody, ejabberd       the peer servers Parley federates with
#   dnsmasq-base            the lab's DNS server (A and SRV records)
#   gnutls-bin              certtool, for the lab CA and certificates
#   iproute2                ip netns
#   python3-slixmpp, python3-pytest   the test clients and runner
#
# The packaged prosody and ejabberd want to start their system services at
# install time; those listen on 5222/5269 on every address and would
# collide with the lab and the e2e suite. So service start-up is disabled
# for the duration of the install (scripts/apt-deps.sh), and afterwards the
# system prosody/ejabberd services are stopped if they run anyway. The lab
# starts its own instances by hand, each with its own configuration.
#
# Idempotent and silent when everything is present. Run as root.
set -eu

pkgs=(prosody ejabberd dnsmasq-base gnutls-bin iproute2
	python3-slixmpp python3-pytest)

. "$(dirname "$0")/apt-deps.sh"

# Stops the system service NAME if it runs; touches nothing else.
stop_system_service() {
	local name=$1 pid
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		if systemctl is-active --quiet "$name" 2>/dev/null; then
			echo "deps-interop: stopping system service $name"
			systemctl stop "$name" || true
		fi
		return 0
	fi
	# No systemd (containers): ask the init script, and check its pid file.
	case $name in
	prosody) pidf=/run/prosody/prosody.pid ;;
	ejabberd) pidf=/run/ejabberd/ejabberd.pid ;;
	esac
	pid=
	[ -r "$pidf" ] && pid=$(cat "$pidf" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		echo "deps-interop: stopping system service $name"
		if [ -x "/etc/init.d/$name" ]; then
			"/etc/init.d/$name" stop >/dev/null 2>&1 || true
		fi
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
		fi
	fi
	# ejabberd started by its init script runs as user "ejabberd" with
	# its own epmd; only processes of that user are the system service's.
	if [ "$name" = ejabberd ] && id ejabberd >/dev/null 2>&1; then
		for pid in $(pgrep -u ejabberd 2>/dev/null || true); do
			echo "deps-interop: stopping ejabberd system process $pid"
			kill "$pid" 2>/dev/null || true
		done
	fi
}

apt_install_missing deps-interop "${pkgs[@]}"

for s in prosody ejabberd; do
	installed "$s" && stop_system_service "$s"
done
exit 0
