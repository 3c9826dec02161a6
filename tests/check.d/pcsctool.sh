#!/bin/sh
# pcsctool.sh - integration tests of build/host/pcsctool: gen -> verify round
# trips with injected faults (exact verdict counts), fdtdump on every FDT gen
# writes, show (text, JSON, memory image), pack, capture from a fake sysfs.
# Ends with "pcsctool: N passed, M failed".
O=${O:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
case $O in /*) T=$O/host/pcsctool ;; *) T=$top/$O/host/pcsctool ;; esac
TOPO=tests/fixtures/topo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
nok() { failed=$((failed + 1)); echo "not ok - $1"; [ -n "$2" ] && printf '%s\n' "$2" | sed 's/^/#   /' | head -n 20; }
# check NAME EXPECTED_STATUS CMD... : run, keep output in $out, compare status
check() {
	name=$1; want=$2; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ "$rc" -eq "$want" ]; then return 0; fi
	nok "$name (exit $rc, wanted $want)" "$out"; return 1
}
# summary line counts: summary_is NAME "valid=.. stale=.. gone=.. bad=.. new=.."
summary_is() {
	line=$(printf '%s\n' "$out" | grep '^pcsc: summary' | tail -n 1)
	for kv in $2; do
		case " $line " in
		*" $kv "*) ;;
		*) nok "$1: want $kv" "$line"; return 1 ;;
		esac
	done
	ok "$1"
}

if [ ! -x "$T" ]; then
	echo "not ok - $T not built"
	echo "pcsctool: 0 passed, 1 failed"; exit 1
fi

# 1. clean cache of the default machine: every endpoint VALID, exit 0.
if check "gen default" 0 "$T" gen $TOPO/default.topo --out "$tmp/def"; then ok "gen default"; fi
if check "verify clean default" 0 "$T" verify --topology $TOPO/default.topo "$tmp/def"; then
	summary_is "verify clean default: 13 VALID" "valid=13 stale=0 gone=0 bad=0 new=0"
	n=$(printf '%s\n' "$out" | grep -c '^pcsc: 0000:.* VALID$')
	[ "$n" -eq 13 ] && ok "verify clean default: 13 VALID lines" || nok "13 VALID lines, got $n" "$out"
fi
if check "verify strict default" 0 "$T" verify --mode strict --topology $TOPO/default.topo "$tmp/def"; then
	summary_is "verify strict default" "valid=13 stale=0 gone=0 bad=0 new=0"
fi

# 2. 4,096 VFs with every per-entry fault: exact counts, exit 1.
FAULTS="--stale 10:00.3 --stale stale=40:00.0:class --stale gone=00:05.0 --stale drop=20:00.1
	--stale dup=40:00.7 --stale badname=10:01.1 --stale badda=30:00.5:align
	--stale badda=10:01.2:notpreserved --stale badda=10:01.3:notram --stale badda=10:01.4:meta
	--stale badda=10:01.5:size --stale badda=10:01.6:none --stale badda=20:01.1:overlap"
# shellcheck disable=SC2086
if check "gen vf4096 + faults" 0 "$T" gen $TOPO/vf4096.topo --out "$tmp/vf" $FAULTS; then
	case "$out" in *"4102 entries (4101 blocks), 13 faults"*) ok "gen vf4096: 4102 nodes, 4101 blocks" ;;
	*) nok "gen vf4096 node count" "$out" ;; esac
fi
if check "verify vf4096" 1 "$T" verify --topology $TOPO/vf4096.topo "$tmp/vf"; then
	# 4101 endpoints + gone + dup - drop = 4102 nodes. STALE: 10:00.3
	# (device) and 40:00.0 (class). BAD: dup x2, badname, align,
	# notpreserved, notram, meta, size, none, overlap x2 (20:01.1 and the
	# block it points into, 20:01.0's) = 11. NEW: 20:00.1 (dropped) and
	# 10:01.1 (its only node has a malformed name).
	summary_is "verify vf4096: exact verdict counts" "valid=4088 stale=2 gone=1 bad=11 new=2"
	for l in "0000:10:00.3 8086:42d3 STALE device (live 8086:1889)" "0000:00:05.0 8086:10d3 GONE" "0000:20:00.1 8086:1889 NEW"; do
		printf '%s\n' "$out" | grep -q "^pcsc: $l" && ok "report line '$l'" || nok "report line '$l'" "$(printf '%s\n' "$out" | grep -E 'STALE|GONE|NEW' | head)"
	done
fi

# The handed-over cache (--write) is valid pcsc-v1 with the stub's
# properties; verifying it again keeps every entry and the same digest, and
# the functions whose entries were removed are now NEW (4101 - 4088 = 13).
if check "verify vf4096 --write" 1 "$T" verify --topology $TOPO/vf4096.topo "$tmp/vf" --write "$tmp/vf2"; then
	sha=$(printf '%s\n' "$out" | grep '^pcsc: sha256 ')
	fdtdump "$tmp/vf2/pcsc.dtb" >"$tmp/dump2" 2>/dev/null
	n=$(grep -c '^    dev_' "$tmp/dump2")
	grep -q 'compatible = "pcsc-v1"' "$tmp/dump2" && grep -q '^    sha256 = ' "$tmp/dump2" &&
	grep -q 'stub-version' "$tmp/dump2" && [ "$n" -eq 4088 ] && ! grep -q 'DEV_' "$tmp/dump2" &&
	ok "handed-over pcsc.dtb: pcsc-v1, sha256, 4088 nodes" || nok "handed-over pcsc.dtb ($n nodes)" "$(head -n 20 "$tmp/dump2")"
	if check "re-verify handed-over cache" 0 "$T" verify --topology $TOPO/vf4096.topo "$tmp/vf2"; then
		summary_is "re-verify: 4088 VALID, 13 NEW" "valid=4088 stale=0 gone=0 bad=0 new=13"
		[ -n "$sha" ] && printf '%s\n' "$out" | grep -qx "$sha" && ok "re-verify: same sha256" || nok "re-verify sha256" "$sha"
	fi
fi

# 3. whole-cache failures: exit 2 and the cache is detached.
for c in pcsc-magic pcsc-compat pcsc-totalsize kho-compat map-loop pcsc-outside; do
	"$T" gen $TOPO/default.topo --out "$tmp/c-$c" --stale corrupt=$c >/dev/null 2>&1
	if check "verify corrupt=$c" 2 "$T" verify --topology $TOPO/default.topo "$tmp/c-$c"; then ok "verify corrupt=$c rejects the cache"; fi
done

# 4. fdtdump reads every FDT gen writes.
for d in def vf; do
	for f in kho.dtb pcsc.dtb; do
		if fdtdump "$tmp/$d/$f" >"$tmp/dump" 2>&1 && grep -q 'compatible = "\(kho\|pcsc\)-v1"' "$tmp/dump"; then
			ok "fdtdump $d/$f"
		else
			nok "fdtdump $d/$f" "$(head -n 5 "$tmp/dump")"
		fi
	done
done
n=$(fdtdump "$tmp/vf/pcsc.dtb" 2>/dev/null | grep -c '^    [dD][eE][vV]_')
[ "$n" -eq 4102 ] && ok "fdtdump vf/pcsc.dtb lists 4102 nodes" || nok "fdtdump vf/pcsc.dtb nodes: $n"

# 5. show: text, JSON, and the same from a packed memory image.
if check "show def" 0 "$T" show "$tmp/def"; then
	printf '%s\n' "$out" | grep -q '^0000:03:00.0 8086:10c9 class 0200 cached [0-9]*/4096$' &&
	printf '%s\n' "$out" | grep -q '^show: 13 entries, 0 bad' && ok "show def lines" || nok "show def lines" "$out"
fi
if check "show vf BAD reasons" 0 "$T" show "$tmp/vf"; then
	bad=$(printf '%s\n' "$out" | grep -c ' BAD ')
	[ "$bad" -eq 11 ] && printf '%s\n' "$out" | grep -q '^DEV_0000_10_01_1 8086:1889 BAD malformed name$' &&
	printf '%s\n' "$out" | grep -q '^0000:10:01.2 8086:1889 BAD da not preserved$' &&
	ok "show vf: 11 BAD with reasons" || nok "show vf: BAD lines ($bad)" "$(printf '%s\n' "$out" | grep BAD)"
fi
if check "show --json" 0 "$T" show --json "$tmp/def"; then
	printf '%s\n' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["total"]==13 and d["bad"]==0 and d["entries"][0]["id"]=="8086:29c0"' 2>/dev/null &&
	ok "show --json parses" || nok "show --json" "$out"
fi
kho=$(sed -n 's/^kho-fdt \(0x[0-9a-f]*\) .*/\1/p' "$tmp/def/manifest")
if check "pack def" 0 "$T" pack "$tmp/def" --out "$tmp/def.img" --base 0x5ff00000; then ok "pack def"; fi
"$T" show "$tmp/def" | grep -v '^show:' >"$tmp/a"
if check "show --image" 0 "$T" show --image "$tmp/def.img" --base 0x5ff00000 --kho-fdt "$kho" --ram 0x40000000:0x40000000; then
	printf '%s\n' "$out" | grep -v '^show:' | cmp -s - "$tmp/a" && ok "show --image = show DIR" || nok "show --image differs" "$out"
fi
if check "verify --image" 0 "$T" verify --topology $TOPO/default.topo --image "$tmp/def.img" --base 0x5ff00000 --kho-fdt "$kho" --ram 0x40000000:0x40000000; then
	summary_is "verify --image clean" "valid=13 stale=0 gone=0 bad=0 new=0"
fi
# RAM taken as the image: a kho-fdt outside it is refused.
if check "show --image kho outside" 2 "$T" show --image "$tmp/def.img" --base 0x5ff00000 --kho-fdt 0x1000; then ok "show --image refuses a KHO FDT outside RAM"; fi

# 6. x86 layout (RAM at 0) and 256-byte pcsc_data.
if check "gen --base 0 --S 256" 0 "$T" gen $TOPO/default.topo --out "$tmp/x86" --base 0 --S 256; then
	grep -q '^kho-fdt 0x2' "$tmp/x86/manifest" && grep -q '^S 256$' "$tmp/x86/manifest" && ok "x86 layout at RAM + 512 MiB" || nok "x86 layout" "$(cat "$tmp/x86/manifest")"
fi
if check "verify x86 S=256" 0 "$T" verify --topology $TOPO/default.topo "$tmp/x86"; then
	summary_is "verify x86 S=256" "valid=13 stale=0 gone=0 bad=0 new=0"
fi

# 7. capture from a fake sysfs tree.
sys="$tmp/sys"; dev="$sys/bus/pci/devices"
mkcfg() { # DIR VENDOR(lo hi) DEVICE(lo hi) HDRTYPE CLASS(3 bytes) SIZE
	mkdir -p "$dev/$1"
	python3 - "$dev/$1/config" "$2" "$3" "$4" "$5" "$6" <<'PY'
import sys
path, ven, did, hdr, cls, size = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16), int(sys.argv[4], 16), int(sys.argv[5], 16), int(sys.argv[6])
b = bytearray(size)
b[0:2] = ven.to_bytes(2, "little"); b[2:4] = did.to_bytes(2, "little")
b[9:12] = cls.to_bytes(3, "little"); b[0x0e] = hdr
open(path, "wb").write(b)
PY
}
mkcfg 0000:00:00.0 8086 29c0 0 060000 4096
mkcfg 0000:00:02.0 1b36 000c 1 060400 4096       # bridge: not saved
mkcfg 0000:01:00.0 8086 10c9 80 020000 4096      # PF (multi-function bit)
mkcfg 0000:01:10.0 ffff ffff 0 020000 4096       # VF: IDs from sysfs files
printf '0x8086\n' >"$dev/0000:01:10.0/vendor"; printf '0x10ca\n' >"$dev/0000:01:10.0/device"
mkcfg 0000:02:00.0 1af4 1041 0 020000 64         # unprivileged read: skipped
if check "capture" 0 "$T" capture --sysfs "$sys" --out "$tmp/cap"; then
	case "$out" in *"capture: 3 endpoints"*) ok "capture: 3 endpoints" ;; *) nok "capture count" "$out" ;; esac
fi
if check "show capture" 0 "$T" show "$tmp/cap"; then
	printf '%s\n' "$out" | awk '{print $1, $2}' | head -n 3 >"$tmp/got"
	printf '0000:00:00.0 8086:29c0\n0000:01:00.0 8086:10c9\n0000:01:10.0 8086:10ca\n' | cmp -s - "$tmp/got" &&
	ok "show capture: IDs incl. VF from sysfs" || nok "show capture" "$out"
fi
fdtdump "$tmp/cap/pcsc.dtb" >/dev/null 2>&1 && ok "fdtdump cap/pcsc.dtb" || nok "fdtdump cap/pcsc.dtb"

# 8. acpi: EFI system table -> RSDP -> XSDT -> MCFG, read back by lib/.
if check "acpi" 0 "$T" acpi --out "$tmp/acpi" --at 0x7f000000 --ecam 0x4010000000:0:0:255 --ecam 0x3f000000:1:0x10:0x1f; then
	printf '%s\n' "$out" | grep -q '^acpi: ecam 0000:00-ff at 0x4010000000$' &&
	printf '%s\n' "$out" | grep -q '^acpi: ecam 0001:10-1f at 0x3f000000$' &&
	[ "$(stat -c %s "$tmp/acpi/acpi.bin")" -eq 4096 ] &&
	[ "$(dd if="$tmp/acpi/acpi.bin" bs=1 skip=512 count=8 2>/dev/null)" = "RSD PTR " ] &&
	ok "acpi: two windows read back, RSDP at +0x200" || nok "acpi output" "$out"
fi
if check "acpi --topology" 0 "$T" acpi --out "$tmp/acpi2" --at 0x7f000000 --topology $TOPO/default.topo; then
	case "$out" in *"acpi: ecam 0000:00-ff at 0xb0000000"*) ok "acpi --topology: q35 window" ;; *) nok "acpi --topology" "$out" ;; esac
fi
if check "acpi misaligned window" 65 "$T" acpi --out "$tmp/acpi3" --at 0x7f000000 --ecam 0x4010080000:0:0:255; then ok "acpi refuses a window lib/ would refuse"; fi

# 9. wrap --arch arm64: layout of arch/arm64/next.h, checked independently.
python3 - "$tmp" <<'PY'
import struct, sys
t = sys.argv[1]
s = bytearray(0x10000); s[0x38:0x3c] = b"ARM\x64"; s[0x40:0x48] = b"PCSCNEXT"
struct.pack_into("<Q", s, 0x10, 0x230000)          # stub image_size: 2.2 MiB
n = bytearray(0x30000); n[0x38:0x3c] = b"ARM\x64"
struct.pack_into("<QQQ", n, 8, 0x80000, 0x50000, 2)  # text_offset, image_size, flags (LE)
n[0x1000:0x1004] = b"NEXT"
open(t + "/stub.bin", "wb").write(s); open(t + "/next.Image", "wb").write(n)
be = bytearray(n); struct.pack_into("<Q", be, 24, 3); open(t + "/be.Image", "wb").write(be)
PY
if check "wrap arm64" 0 "$T" wrap --arch arm64 "$tmp/stub.bin" "$tmp/next.Image" -o "$tmp/w.Image"; then
	python3 - "$tmp" <<'PY' && ok "wrap: next at 4 MiB, image_size and PCSCNEXT descriptor" || nok "wrap layout"
import struct, sys
t = sys.argv[1]
w = open(t + "/w.Image", "rb").read(); n = open(t + "/next.Image", "rb").read()
off = 0x400000                                      # 0x230000 rounded up to 2 MiB
assert len(w) == off + len(n) and w[off:] == n
assert struct.unpack_from("<Q", w, 0x10)[0] == off + 0x80000 + 0x50000
assert w[0x40:0x48] == b"PCSCNEXT"
assert struct.unpack_from("<QQQ", w, 0x48) == (off, len(n), 0)
assert w[0x10000:off] == bytes(off - 0x10000)
PY
fi
if check "wrap twice" 65 "$T" wrap --arch arm64 "$tmp/w.Image" "$tmp/next.Image" -o "$tmp/w2.Image"; then ok "wrap refuses an already wrapped stub"; fi
if check "wrap big-endian next" 65 "$T" wrap --arch arm64 "$tmp/stub.bin" "$tmp/be.Image" -o "$tmp/w3.Image"; then ok "wrap refuses a big-endian Image"; fi
if check "wrap riscv64" 64 "$T" wrap --arch riscv64 "$tmp/stub.bin" "$tmp/next.Image" -o "$tmp/w4.Image"; then ok "wrap: unknown arch is a usage error"; fi

# 10. usage errors.
if check "bad fault spec" 64 "$T" gen $TOPO/default.topo --out "$tmp/bad" --stale badda=00:01.0:sideways; then ok "bad fault spec is a usage error"; fi
if check "gone on a live BDF" 64 "$T" gen $TOPO/default.topo --out "$tmp/bad" --stale gone=00:01.0; then ok "gone= on a live function is refused"; fi
if check "missing topology" 66 "$T" gen "$tmp/nonexistent.topo" --out "$tmp/bad"; then ok "missing topology file"; fi

echo "pcsctool: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
