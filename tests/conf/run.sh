#!/bin/sh
# Checks the configuration checker: `PARLEYD -n -c FILE` must print
# "configuration OK" and exit 0 for every good-*.conf here, and must exit
# non-zero for every bad-*.conf with the line of bad-*.expect on stderr.
# Files run from a scratch directory holding a fresh test.crt/test.key, so
# messages name them as bad-x.conf. Usage: tests/conf/run.sh bin/parleyd
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 PARLEYD" >&2
	exit 2
fi
case $1 in
/*)	bin=$1 ;;
*)	bin=$(pwd)/$1 ;;
esac
if [ ! -x "$bin" ]; then
	echo "$0: $bin is not an executable" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/parley-conftest.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
cd "$work" || exit 2

# a real pair, in case parleyd -n also loads it into GnuTLS
if ! "$here"/../../scripts/mkcert.sh example.org test.crt test.key \
    >mkcert.log 2>&1; then
	echo "$0: cannot make a test certificate:" >&2
	cat mkcert.log >&2
	exit 2
fi
cp "$here"/good-*.conf "$here"/bad-*.conf .

pass=0
fail=0

report() {
	echo "FAIL $1: $2"
	sed 's/^/	stdout: /' out
	sed 's/^/	stderr: /' err
	fail=$((fail + 1))
}

for f in good-*.conf; do
	"$bin" -n -c "$f" >out 2>err
	rc=$?
	if [ $rc -ne 0 ]; then
		report "$f" "exit status $rc, expected 0"
	elif ! grep -qx "configuration OK" out; then
		report "$f" "no \"configuration OK\" on stdout"
	else
		pass=$((pass + 1))
	fi
done

for f in bad-*.conf; do
	exp=$here/${f%.conf}.expect
	if [ ! -f "$exp" ]; then
		: >out
		: >err
		report "$f" "missing ${f%.conf}.expect"
		continue
	fi
	want=$(head -n 1 "$exp")
	"$bin" -n -c "$f" >out 2>err
	rc=$?
	if [ $rc -eq 0 ]; then
		report "$f" "accepted (exit status 0)"
	elif [ $rc -gt 128 ]; then
		report "$f" "killed by signal $((rc - 128))"
	elif ! grep -qF -- "$want" err; then
		report "$f" "stderr lacks: $want"
	else
		pass=$((pass + 1))
	fi
done

echo "conftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
