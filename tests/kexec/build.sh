#!/bin/sh
# tests/kexec/build.sh - builds the kexec chain test's guest userland for ARCH (arm64|x86_64):
# static pcsc-kexec and pcsctool in $O/kexec/ARCH/. Never touches the main build's objects.
#   tests/kexec/build.sh ARCH [O]
set -eu
arch=$1
O=${2:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
out=$O/kexec/$arch
mkdir -p "$out"
case "$arch" in
arm64)
	cc=aarch64-linux-gnu-gcc
	adir=arm64
	fdtinc=$O/deps/fdt-include
	libfdt=$O/deps/arm64-root/usr/lib/aarch64-linux-gnu/libfdt.a ;;
x86_64)
	cc=gcc
	adir=x86
	fdtinc=/usr/include
	libfdt=/usr/lib/x86_64-linux-gnu/libfdt.a ;;
*)
	echo "build.sh: ARCH must be arm64 or x86_64" >&2
	exit 64 ;;
esac
for f in "$libfdt" "$fdtinc/libfdt.h"; do
	[ -f "$f" ] || { echo "build.sh: missing $f (make deps)" >&2; exit 66; }
done
ver=$(sed -n 's/^PCSC_VERSION := //p' Makefile)
cflags="-std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -static -Iinclude -I$fdtinc"
# Rebuild only when a source is newer than the binary; a build lands by rename,
# so an interrupted one never leaves a binary that looks up to date.
stale() {
	t=$1; shift
	[ -f "$t" ] || return 0
	for s in "$@"; do [ "$s" -nt "$t" ] && return 0; done
	return 1
}
if stale "$out/pcsc-kexec" tests/kexec/pcsc-kexec.c tests/kexec/build.sh; then
	$cc $cflags tests/kexec/pcsc-kexec.c "$libfdt" -o "$out/pcsc-kexec.tmp"
	mv "$out/pcsc-kexec.tmp" "$out/pcsc-kexec"
fi
# The CPU's SHA-256 code as in every host tool (Makefile HOST_CPU_OBJ).
srcs="$(ls tools/pcsctool/*.c lib/*.c) arch/$adir/sha256_cpu.c"
if stale "$out/pcsctool" $srcs include/pcsc/*.h tests/kexec/build.sh; then
	$cc $cflags -DPCSC_VERSION=\"$ver\" $srcs "$libfdt" -o "$out/pcsctool.tmp"
	mv "$out/pcsctool.tmp" "$out/pcsctool"
fi
echo "$out/pcsc-kexec $out/pcsctool"
