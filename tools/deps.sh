#!/bin/sh
# deps.sh OUTDIR - install every Debian package pcsc-stub needs and prepare
# the per-target pieces in OUTDIR/deps: arm64 libfdt/gnu-efi (extracted from
# Debian's arm64 .debs, which cannot be co-installed with the amd64 -dev
# packages) and newlib's libc.a per arch. Idempotent and quiet when done.
set -eu
out=${1:-build}
deps="$out/deps"
here=$(cd "$(dirname "$0")" && pwd)

PACKAGES="make gcc libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross
binutils-aarch64-linux-gnu libfdt-dev device-tree-compiler newlib-source
gnu-efi qemu-system-arm qemu-system-x86 qemu-efi-aarch64 ovmf
libcmocka-dev python3 python3-pytest busybox-static cpio xz-utils zstd
valgrind clang llvm libclang-rt-14-dev mtools dosfstools kexec-tools gnuplot-nox"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
need_arm64_arch=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arm64_arch=1

if [ -n "$missing" ] || [ $need_arm64_arch = 1 ]; then
	echo "deps: installing:$missing"
	[ $need_arm64_arch = 1 ] && as_root dpkg --add-architecture arm64
	as_root apt-get update -qq
	[ -n "$missing" ] && as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# arm64 libfdt.a and gnu-efi, unpacked from Debian's own arm64 packages.
if [ ! -f "$deps/arm64-root/.done" ]; then
	mkdir -p "$deps/debs" "$deps/arm64-root"
	(cd "$deps/debs" && apt-get download -q libfdt-dev:arm64 gnu-efi:arm64 >/dev/null 2>&1) || {
		echo "deps: apt-get download of arm64 packages failed" >&2; exit 1; }
	for d in "$deps"/debs/*_arm64.deb; do dpkg-deb -x "$d" "$deps/arm64-root"; done
	touch "$deps/arm64-root/.done"
fi

# libfdt's three headers, alone in a directory, so freestanding builds can
# see them without seeing glibc's /usr/include.
if [ ! -f "$deps/fdt-include/libfdt.h" ]; then
	mkdir -p "$deps/fdt-include"
	for h in libfdt.h fdt.h libfdt_env.h; do ln -sf "/usr/include/$h" "$deps/fdt-include/$h"; done
fi

for arch in arm64 x86_64; do
	"$here/build-newlib.sh" "$arch" "$deps/newlib-$arch"
done
