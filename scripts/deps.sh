#!/usr/bin/env bash
# Installs the Debian 12 packages Parley needs to build, run and test,
# skipping those already present. Run as root on a fresh machine; the
# first install refreshes the package lists.
set -eu

pkgs=(
	gcc make pkg-config
	libev-dev libexpat1-dev libgnutls28-dev libc-ares-dev liblmdb-dev
	libidn11-dev
	gnutls-bin
	libcmocka-dev valgrind
	clang libclang-rt-14-dev
	python3 python3-pytest python3-slixmpp
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
