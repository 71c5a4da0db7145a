#!/bin/sh
# The PostgreSQL backend's suite (docs/internals.md, "Storage:
# PostgreSQL"): starts a throwaway server (tests/lib/pgserver.py), runs
# test_store and the e2e files given against it (PARLEY_TEST_PG), and
# stops it by its PID whatever happened.
# Usage: tests/pg/run.sh PYTHON TEST_STORE BINDIR JOBS E2E_FILE...
# PG_E2E_K, when set, is pytest's -k: the e2e tests to run.
set -u

if [ $# -lt 4 ]; then
	echo "usage: $0 PYTHON TEST_STORE BINDIR JOBS E2E_FILE..." >&2
	exit 2
fi
python=$1 test_store=$2 bindir=$3 jobs=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
top=$(mktemp -d "${TMPDIR:-/tmp}/parley-pg.XXXXXX") || exit 2
trap '"$python" "$here/../lib/pgserver.py" stop "$top"' EXIT
trap 'exit 130' INT TERM

if ! conninfo=$("$python" "$here/../lib/pgserver.py" start "$top"); then
	echo "$0: PostgreSQL did not start:" >&2
	cat "$top/log" >&2 2>/dev/null
	exit 1
fi
export PARLEY_TEST_PG="$conninfo"
echo "== $test_store (PostgreSQL)"
"$test_store" || exit 1
[ $# -eq 0 ] && exit 0
echo "== e2e on PostgreSQL: $*"
if [ -n "${PG_E2E_K:-}" ]; then
	PARLEY_BIN=$bindir "$python" -m pytest -q -n "$jobs" -k "$PG_E2E_K" \
	    "$@"
else
	PARLEY_BIN=$bindir "$python" -m pytest -q -n "$jobs" "$@"
fi
