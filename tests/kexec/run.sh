#!/bin/sh
# tests/kexec/run.sh - make test-kexec: the kexec chain tests (tests/qemu/test_<arch>_kexec.py) for $ARCHES.
# Never builds the main tree (make does); the guest userland is built by the tests themselves.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
export O
files=""
for a in ${ARCHES:-arm64 x86_64}; do
	case "$a" in
	x86_64) files="$files tests/qemu/test_x86_kexec.py" ;;
	*) files="$files tests/qemu/test_${a}_kexec.py" ;;
	esac
done
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cd "$top" || exit 1
exec "$py" -m pytest -p no:cacheprovider -q -rf "$@" $files
