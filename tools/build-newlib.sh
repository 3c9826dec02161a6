#!/bin/sh
# build-newlib.sh ARCH OUTDIR - build newlib's libc.a for one bare-metal target
# from Debian's newlib-source, into OUTDIR (cached: does nothing if present).
# Never installs anything system-wide and never writes into the source tree.
set -eu
arch=$1
# Absolute: the build below runs in a temporary directory.
mkdir -p "$2"
out=$(cd "$2" && pwd)
[ -f "$out/lib/libc.a" ] && exit 0
src_tar=$(ls /usr/src/newlib/newlib-*.tar.* 2>/dev/null | head -n 1)
[ -n "$src_tar" ] || { echo "build-newlib: newlib-source is not installed (make deps)" >&2; exit 1; }

case "$arch" in
arm64)
	host=aarch64-elf; cross=${CROSS_COMPILE:-aarch64-linux-gnu-}
	# -mstrict-align: the stub may run with the MMU (and so alignment
	# fix-ups) off, where an unaligned access faults.
	flags="-mstrict-align" ;;
x86_64)
	host=x86_64-elf; cross=
	# No red zone: the stub's entry code may take exceptions on the same
	# stack. (SSE stays allowed here: newlib has float code we never call.)
	flags="-mno-red-zone" ;;
*)	echo "build-newlib: unknown arch $arch" >&2; exit 1 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/newlib-$arch.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xf "$src_tar" -C "$work"
srcdir=$(find "$work" -maxdepth 2 -name newlib -type d | head -n 1)
mkdir -p "$work/build"
cd "$work/build"
# Position independent (-fPIE): both stubs run wherever kexec or QEMU put
# them and relocate themselves. No stack protector: newlib runs before the
# stub could set a canary up, and it does not need one.
"$srcdir/configure" --host=$host --build="$(gcc -dumpmachine)" \
	CC="${cross}gcc" AR="${cross}ar" RANLIB="${cross}ranlib" \
	CFLAGS="-O2 -g -ffreestanding -fPIE -fno-stack-protector $flags" \
	--disable-multilib --disable-shared --disable-newlib-supplied-syscalls \
	--enable-newlib-io-c99-formats --enable-newlib-io-long-long \
	--disable-newlib-io-float --enable-newlib-nano-malloc \
	>"$work/configure.log" 2>&1 || { tail -n 30 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || { grep -m 5 "error:" "$work/make.log" >&2; exit 1; }
mkdir -p "$out/lib" "$out/include"
cp libc.a "$out/lib/libc.a"
cp -r targ-include/. "$out/include/"
cp -rn "$srcdir/libc/include/." "$out/include/"
echo "newlib: built $out/lib/libc.a"
