#!/usr/bin/env bash
# Installs the Debian 12 packages Parley needs to build, run and test,
# skipping those already present. Run as root on a fresh machine; the
# first install refreshes the package lists.
set -eu

pkgs=(
	gcc make pkg-config
	libev-dev libexpat1-dev libgnutls28-dev libc-ares-dev liblmdb-dev
	libidn11-dev
	libwslay-dev libhttp-parser-dev
	gnutls-bin coturn
	libcmocka-dev valgrind
	clang libclang-rt-14-dev
	python3 python3-pytest python3-pytest-xdist python3-slixmpp
	python3-websockets python3-prometheus-client
)

. "$(dirname "$0")/apt-deps.sh"
apt_install_missing deps "${pkgs[@]}"
