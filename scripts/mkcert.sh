#!/bin/bash
# Makes a self-signed certificate for one XMPP domain, for development and
# tests: ECDSA P-256 key, 10 years, the domain as dNSName SAN (RFC 6125;
# no xmppAddr, which RFC 7590 lets clients ignore). Does nothing when both
# files exist already.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 DOMAIN CERT KEY" >&2
	exit 1
fi
domain=$1
cert=$2
key=$3

if [ -e "$cert" ] && [ -e "$key" ]; then
	exit 0
fi
if ! command -v certtool >/dev/null 2>&1; then
	echo "$0: certtool not found (apt-get install gnutls-bin)" >&2
	exit 1
fi
case $domain in
*[!A-Za-z0-9.-]* | "" | .* | *..*)
	echo "$0: \"$domain\" is not a domain name" >&2
	exit 1
	;;
esac

mkdir -p "$(dirname "$cert")" "$(dirname "$key")"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/template" <<TEMPLATE
cn = "$domain"
dns_name = "$domain"
expiration_days = 3650
tls_www_server
signing_key
TEMPLATE

# certtool is chatty: show its output only when it fails
if ! certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
    --outfile "$tmp/key.pem" >"$tmp/log" 2>&1 ||
    ! certtool --generate-self-signed --load-privkey "$tmp/key.pem" \
    --template "$tmp/template" --outfile "$tmp/cert.pem" >"$tmp/log" 2>&1
then
	cat "$tmp/log" >&2
	echo "$0: certtool failed" >&2
	exit 1
fi

chmod 600 "$tmp/key.pem"
chmod 644 "$tmp/cert.pem"
# key first: a certificate never sits next to a key it does not match
mv -f "$tmp/key.pem" "$key"
mv -f "$tmp/cert.pem" "$cert"
echo "created $cert and $key for $domain"
