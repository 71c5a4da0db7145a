#!/usr/bin/env bash
# Runs the federation interop suite: brings the lab up (scripts/lab),
# runs pytest inside the lab's network namespace, brings the lab down
# again on exit (whatever happens), and exits with pytest's status.
#   tests/interop/run.sh                      the whole suite
#   tests/interop/run.sh test_lab.py -x       pytest arguments (paths are
#                                             relative to tests/interop)
# Environment: PARLEY_BIN (default <repo>/bin), PARLEYLAB_DIR (default
# /tmp/parleylab), PARLEYLAB_KEEP=1 leaves the lab up afterwards.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${PARLEYLAB_DIR:-/tmp/parleylab}
export PARLEYLAB_DIR=$dir
export PARLEY_BIN=${PARLEY_BIN:-$root/bin}

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: the lab needs root (network namespaces)" >&2
	exit 2
fi
down() {
	if [ "${PARLEYLAB_KEEP:-0}" != 1 ]; then
		"$root/scripts/lab" down --dir "$dir" >/dev/null ||
			echo "run.sh: scripts/lab down failed" >&2
	fi
}
trap down EXIT
trap 'exit 130' INT TERM
"$root/scripts/lab" up --dir "$dir" || exit 2
cd "$here" || exit 2
ip netns exec parleylab "${PYTHON:-/usr/bin/python3}" -m pytest "$@"
