#!/usr/bin/env bash
# Installs the Debian 12 packages Parley needs to build, run and test,
# skipping those already present. Run as root on a fresh machine; the
# first install refreshes the package lists.
set -eu

pkgs=(
	gcc make pkg-config
	libev-dev libexpat1-dev libgnutls28-dev libc-ares-dev liblmdb-dev
	libidn11-dev libpq-dev postgresql-15
	libwslay-dev libhttp-parser-dev
	gnutls-bin coturn
	libcmocka-dev valgrind
	clang libclang-rt-14-dev
	python3 python3-pytest python3-pytest-xdist python3-slixmpp
	python3-websockets python3-prometheus-client
	nodejs chromium
)
# Debian's npm, unless a Node.js from elsewhere (NodeSource, for one)
# brought its own: the two packages conflict
command -v npm >/dev/null || pkgs+=(npm)

. "$(dirname "$0")/apt-deps.sh"
apt_install_missing deps "${pkgs[@]}"

# xmpp.js, the third-party client of tests/e2e/test_sasl2_node.py, at the
# version pinned in tests/node/package-lock.json
# (again only when the lock file changed since the last install)
node_dir="$(dirname "$0")/../tests/node"
if [ ! -e "$node_dir/node_modules/.package-lock.json" ] ||
    [ "$node_dir/package-lock.json" -nt \
    "$node_dir/node_modules/.package-lock.json" ]; then
	(cd "$node_dir" && npm ci --no-audit --no-fund)
fi
