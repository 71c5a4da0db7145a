#!/bin/bash
# `make deb`: the Debian package from a staged install. STAGE is the
# DESTDIR that `make install PREFIX=/usr` filled; the maintainer scripts
# (packaging/deb) and DEBIAN/control are added there and dpkg-deb builds
# OUTDIR/parley_VERSION-1_ARCH.deb. Depends comes from dpkg-shlibdeps
# (dpkg-dev) on the binaries, as debhelper's ${shlibs:Depends} would.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 STAGE OUTDIR" >&2
	exit 1
fi
cd "$(dirname "$0")/.."
stage=$(realpath "$1")
out=$(realpath "$2")

version=$(sed -n 's/^#define PARLEY_VERSION[[:space:]]*"\(.*\)"/\1/p' \
    common/version.h)
arch=$(dpkg --print-architecture)
bins=$(find "$stage/usr/sbin" "$stage/usr/lib/parley" -type f \
    -name 'parley*' | sort)

# the package ships no debugging information: built -g for the tree
for b in $bins; do
	strip --strip-unneeded --remove-section=.comment \
	    --remove-section=.note "$b"
done

shlibs() {
	local tmp line
	tmp=$(mktemp -d)
	mkdir "$tmp/debian"
	printf 'Source: parley\n\nPackage: parley\nArchitecture: any\n' \
	    >"$tmp/debian/control"
	# shellcheck disable=SC2086
	line=$(cd "$tmp" && dpkg-shlibdeps -O -e$(echo $bins |
	    sed 's/ / -e/g') 2>/dev/null)
	rm -rf "$tmp"
	echo "${line#shlibs:Depends=}"
}
if command -v dpkg-shlibdeps >/dev/null; then
	depends=$(shlibs)
else
	# the sonames the binaries link (Debian 12's package names)
	depends="libc6, libev4, libexpat1, libgnutls30, libc-ares2, liblmdb0,"
	depends="$depends libidn12, libwslay1, libhttp-parser2.9, libpq5"
fi
[ -n "$depends" ] || { echo "$0: no dependencies found" >&2; exit 1; }

mkdir -p "$stage/DEBIAN"
# Debian policy 12.5: the copyright file, machine-readable (DEP-5)
install -D -m 0644 packaging/deb/copyright \
    "$stage/usr/share/doc/parley/copyright"
install -m 0755 packaging/deb/postinst packaging/deb/prerm \
    packaging/deb/postrm "$stage/DEBIAN/"
# dpkg keeps an operator's edits across upgrades and asks
echo /etc/parley/parley.conf >"$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: parley
Version: $version-1
Architecture: $arch
Maintainer: Parley developers <parley@localhost>
Installed-Size: $size
Depends: $depends, adduser, gnutls-bin
Section: net
Priority: optional
Description: federated XMPP server
 Parley serves XMPP (RFC 6120, 6121) to clients over TCP, TLS, WebSocket
 and BOSH, and federates with other servers. A supervisor (parleyd)
 runs a router, a federation process and several client processes,
 under systemd as the parley user (parley.service); parleyctl manages
 accounts and checks the configuration, certificates and DNS.
CONTROL
deb="$out/parley_${version}-1_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
