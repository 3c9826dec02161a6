#!/bin/sh
# tests/kexec/run.sh - make test-kexec: the kexec chain tests (tests/qemu/test_kexec.py) for $ARCHES.
# Never builds the main tree (make does); the guest userland is built by the tests themselves.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
export O
# One module parametrised by arch: it reads $ARCHES (qemurun.arches()).
ARCHES=${ARCHES:-"arm64 x86_64"}
export ARCHES
files=tests/qemu/test_kexec.py
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cd "$top" || exit 1
exec "$py" -m pytest -p no:cacheprovider -q -rf "$@" $files
