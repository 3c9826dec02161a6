#!/bin/sh
# tests/kexec/kernels.sh - fetches (once, apt-get download) and unpacks Debian bookworm's kernels
# and busybox-static for the kexec chain: $O/deps/kernels/{arm64,amd64}/. Idempotent; never
# installs anything on the host and never deletes a cached .deb.
#   tests/kexec/kernels.sh arm64|x86_64 [O]    prints "IMAGE CONFIG BUSYBOX"
set -eu
arch=$1
O=${2:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
case "$O" in /*) ;; *) O=$top/$O ;; esac
case "$arch" in
arm64) da=arm64 flavour=arm64 ;;
x86_64) da=amd64 flavour=cloud-amd64 ;;
*) echo "kernels.sh: ARCH must be arm64 or x86_64" >&2; exit 64 ;;
esac
d=$O/deps/kernels/$da
x=$d/x
mkdir -p "$d"
# The meta package names the current ABI (linux-image-6.1.0-N-FLAVOUR).
if ! ls "$d"/linux-image-*.deb >/dev/null 2>&1; then
	pkg=$(apt-cache show "linux-image-$flavour:$da" | sed -n "s/^Depends: \(linux-image-[0-9][^ ,]*-$flavour\).*/\1/p" | head -1)
	[ -n "$pkg" ] || { echo "kernels.sh: apt-cache: no linux-image-$flavour:$da" >&2; exit 69; }
	(cd "$d" && apt-get download -q "$pkg:$da" >/dev/null)
fi
if [ "$da" = arm64 ] && ! ls "$d"/busybox-static_*.deb >/dev/null 2>&1; then
	(cd "$d" && apt-get download -q busybox-static:arm64 >/dev/null)
fi
if [ ! -f "$x/.stamp" ]; then
	rm -rf "$x" && mkdir -p "$x"
	for deb in "$d"/*.deb; do
		# /boot and /bin only: the modules are not needed (virtio, pciehp and
		# the PCI host driver are built in: see docs/kexec.md).
		dpkg-deb --fsys-tarfile "$deb" | tar -C "$x" -x --wildcards './boot/*' './bin/*' 2>/dev/null || true
	done
	touch "$x/.stamp"
fi
img=$(ls "$x"/boot/vmlinuz-* | sort | tail -1)
cfg=$(ls "$x"/boot/config-* | sort | tail -1)
if [ "$da" = arm64 ]; then
	# Debian's arm64 vmlinuz may be a gzip'd Image; wrap and kexec take the Image.
	if [ "$(head -c 2 "$img" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
		if [ ! -f "$img.Image" ]; then
			gzip -dc < "$img" > "$img.Image.tmp" && mv "$img.Image.tmp" "$img.Image"
		fi
		img=$img.Image
	fi
	bb=$x/bin/busybox
else
	bb=$(command -v busybox)
	file -L "$bb" | grep -q 'statically linked' || { echo "kernels.sh: host busybox is not busybox-static" >&2; exit 69; }
fi
echo "$img $cfg $bb"
