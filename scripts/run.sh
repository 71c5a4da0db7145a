#!/bin/bash
# `make run`: starts a development server for the domain localhost in the
# foreground, with a self-signed certificate and all state under var/.
# The Makefile has installed the dependencies and built bin/ already.
set -eu

cd "$(dirname "$0")/.."

scripts/mkcert.sh localhost var/localhost.crt var/localhost.key
# private: the data holds credentials, the run directory the sockets
mkdir -p var/data var/run
chmod 0700 var/data var/run

cat <<BANNER

  Parley: XMPP server for the domain "localhost"
    listening on 127.0.0.1 and ::1
      port 5222  client connections with STARTTLS
      port 5223  client connections with direct TLS
      port 7777  SOCKS5 file transfer proxy (XEP-0065) at proxy.localhost,
                 on 127.0.0.1 only
    and on 127.0.0.1 for web clients (docs/operator.md)
      port 5280  HTTP: WebSocket /xmpp-websocket, BOSH /http-bind,
                 /.well-known/host-meta
                 web chat (converse.js): http://127.0.0.1:5280/chat/
                 (BOSH instead: http://127.0.0.1:5280/chat/?transport=bosh)
      port 5281  the same over HTTPS
    certificate var/localhost.crt (self-signed), data in var/data

  add a user:  bin/parleyctl adduser alice@localhost
               (reads the password from stdin, or prompts for it)
  stop:        Ctrl-C

BANNER

exec bin/parleyd -c etc/parley.conf
