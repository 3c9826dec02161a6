#!/bin/sh
# tests/qemu/run.sh - run the QEMU pytest suite for $ARCHES (make test-qemu).
# Selects tests by file name (test_<arch>_*.py, plus the arch-parametrised
# test_*.py named for no arch); never builds anything itself.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
ARCHES=${ARCHES:-"arm64 x86_64"}
# Modules parametrised by arch read $ARCHES (qemurun.arches()).
export O ARCHES
files=""
for a in $ARCHES; do
	case "$a" in
	x86_64) pat=x86 ;;
	*) pat=$a ;;
	esac
	for f in "$top"/tests/qemu/test_${pat}_*.py; do
		[ -f "$f" ] && files="$files $f"
	done
done
# Modules named for no arch (test_kho_abi.py ...) are parametrised by arch:
# with any $ARCHES, they run the arches it names.
for f in "$top"/tests/qemu/test_*.py; do
	case "${f##*/}" in
	test_arm64_* | test_x86_* | test_efi_*) ;;
	*) [ -f "$f" ] && files="$files $f" ;;
	esac
done
# The EFI apps span both arches (OVMF x64, AAVMF aa64): with the full set.
case " $ARCHES " in
*" arm64 "*" x86_64 "*|*" x86_64 "*" arm64 "*)
	for f in "$top"/tests/qemu/test_efi_*.py; do
		[ -f "$f" ] && files="$files $f"
	done ;;
esac
if [ -z "$files" ]; then
	echo "qemu: no tests for: $ARCHES"
	exit 0
fi
# Debian's python3 has pytest; a pyenv shim on PATH may not.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cd "$top" || exit 1
# -p no:cacheprovider: never write .pytest_cache into the tree.
exec "$py" -m pytest -p no:cacheprovider -q -rf "$@" $files
