#!/bin/sh
# pcsctool.sh - integration tests of build/host/pcsctool: gen -> verify round
# trips with injected faults (exact verdict counts), fdtdump on every FDT gen
# writes, show (text, JSON, memory image), pack, capture from a fake sysfs,
# every --kho layout, `pcsctool kho` against an independent map reader,
# wrap's pcsc.kho_bitmap option per kernel release.
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
	# show reads the handover back: one record per removed node (14), the same digest.
	if check "show vf4096 handed over" 0 "$T" show "$tmp/vf2"; then
		n=$(printf '%s\n' "$out" | grep -c '^removed ')
		[ "$n" -eq 14 ] && printf '%s\n' "$out" | grep -qx "digest ok ${sha#pcsc: sha256 }" &&
		printf '%s\n' "$out" | grep -qx 'removed 0000:10:00.3 STALE device' &&
		ok "show vf4096 handed over: 14 removed, digest ok" || nok "show vf4096 handed over ($n removed)" "$(printf '%s\n' "$out" | grep -v '^0000')"
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

# 11. Every KHO layout gen writes (--kho), verified by the stub's session.
# Root compatible, map format, subtree property and blob-size per layout
# from SPEC 2.2, checked on kho.dtb with fdtget (not with lib/).
le64() { # FDT FILE NODE PROP -> the native (little-endian) u64 as 0x%x
	fdtget -t bx "$1" "$2" "$3" 2>/dev/null | python3 -c 'import sys; b=bytes(int(x,16) for x in sys.stdin.read().split()); print(hex(int.from_bytes(b,"little")) if len(b)==8 else "bad")'
}
for spec in "v1-512 kho-v1 chunk-list fdt no" "v1-4096 kho-v1 chunk-list fdt no" \
	    "v2 kho-v2 radix-tree preserved-data no" "v3 kho-v3 radix-tree preserved-data yes" \
	    "v4 kho-v4 radix-tree preserved-data yes"; do
	# shellcheck disable=SC2086
	set -- $spec; k=$1; compat=$2; fmt=$3; prop=$4; bs=$5
	d="$tmp/kho-$k"
	flag=""; [ "$k" = v1-4096 ] && flag="--kho-bitmap 4096"
	check "gen --kho $k" 0 "$T" gen $TOPO/default.topo --out "$d" --kho "$k" || continue
	[ "$(fdtget "$d/kho.dtb" / compatible)" = "$compat" ] && grep -qx "kho $k" "$d/manifest" &&
	[ "$(le64 "$d/kho.dtb" /pcsc "$prop")" = "$(sed -n 's/^blob pcsc.dtb \(0x[0-9a-f]*\) .*/\1/p' "$d/manifest")" ] &&
	ok "gen --kho $k: $compat root, pcsc/$prop = the pcsc FDT" || nok "gen --kho $k root" "$(fdtdump "$d/kho.dtb" 2>&1)"
	# shellcheck disable=SC2086
	if check "verify --kho $k $flag" 0 "$T" verify --topology $TOPO/default.topo "$d" $flag; then
		summary_is "verify --kho $k: 13 VALID" "valid=13 stale=0 gone=0 bad=0 new=0 handover=ok"
	fi
	# pcsctool kho, line by line against the manifest and fdtget.
	# shellcheck disable=SC2086
	check "kho $k" 0 "$T" kho "$d" $flag || continue
	printf '%s\n' "$out" >"$d.kho"
	pf=$(sed -n 's/^blob pcsc.dtb \(0x[0-9a-f]*\) .*/\1/p' "$d/manifest")
	want_sub="subtree \"pcsc\" $prop $pf"
	if [ "$bs" = yes ]; then
		want_sub="$want_sub blob-size $(le64 "$d/kho.dtb" /pcsc blob-size)"
		[ "$(le64 "$d/kho.dtb" /pcsc blob-size)" = "$(printf '0x%x' "$(fdtdump "$d/pcsc.dtb" 2>/dev/null | sed -n 's/^\/\/ totalsize:[^0-9]*0x\([0-9a-f]*\).*/0x\1/p')")" ] &&
		ok "kho $k: blob-size = the pcsc FDT's totalsize" || nok "kho $k: blob-size" "$(fdtdump "$d/pcsc.dtb" 2>&1 | head -n 3)"
	fi
	head -n 1 "$d.kho" | grep -qx "kho-fdt $(sed -n 's/^kho-fdt \(0x[0-9a-f]*\) .*/\1/p' "$d/manifest") totalsize 0x[0-9a-f]*" &&
	grep -qx "compatible \"$compat\"" "$d.kho" &&
	grep -q "^abi $compat releases .* map $fmt subtree-prop $prop blob-size $bs$" "$d.kho" &&
	grep -q "^map $(le64 "$d/kho.dtb" / preserved-memory-map) $fmt " "$d.kho" &&
	grep -q "^$want_sub data fdt totalsize 0x[0-9a-f]* compatible \"pcsc-v1\" preserved yes$" "$d.kho" &&
	grep -qx "scratch-array $(sed -n 's/^kho-scratch //p' "$d/manifest" | sed 's/ / size /') entries 1" "$d.kho" &&
	tail -n 1 "$d.kho" | grep -qx "kho: $compat, 1 subtrees, [0-9]* folios in 2 preserved ranges, 1 scratch regions, [0-9]* metadata ranges" &&
	ok "kho $k: root, abi, map, subtree, scratch and summary lines" || nok "kho $k lines" "$(cat "$d.kho")"
	# The data blocks and the pcsc FDT are one preserved range, the KHO
	# root FDT's page (an order-0 folio, docs/abi.md fact 5) the other.
	ds=$(sed -n 's/^blob pcsc_data.bin \(0x[0-9a-f]*\) .*/\1/p' "$d/manifest")
	pe=$(sed -n 's/^blob pcsc.dtb \(0x[0-9a-f]*\) \(0x[0-9a-f]*\)$/\1 \2/p' "$d/manifest" | { read -r a b; printf '0x%x' $((a + b)); })
	kf=$(sed -n 's/^kho-fdt \(0x[0-9a-f]*\) .*/\1/p' "$d/manifest")
	[ "$(grep '^preserved ' "$d.kho")" = "$(printf 'preserved %s-%s size 0x%x\npreserved %s-0x%x size 0x1000' \
		"$ds" "$pe" $((pe - ds)) "$kf" $((kf + 4096)))" ] &&
	grep -qx "range order 0 $kf-$(printf '0x%x' $((kf + 4096))) folios 1" "$d.kho" &&
	ok "kho $k: preserved = data blocks + pcsc FDT, KHO root page (order 0)" || nok "kho $k preserved ($ds-$pe, $kf)" "$(grep '^preserved' "$d.kho")"
done

# An independent reader of kho_map.bin (SPEC 2.2's layouts, not lib/): the
# folios per order, merged ranges and map pages, in pcsctool kho's format.
cat >"$tmp/khomap.py" <<'PY'
import struct, sys
d, fmt, root, bmb = sys.argv[1], sys.argv[2], int(sys.argv[3], 16), int(sys.argv[4])
blobs = []
for line in open(d + "/manifest"):
    w = line.split()
    if w and w[0] == "blob":
        blobs.append((int(w[2], 16), open(d + "/" + w[1], "rb").read()))
def rd(a, n):
    for base, b in blobs:
        if base <= a and a + n <= base + len(b):
            return b[a - base:a - base + n]
    raise SystemExit("unmapped 0x%x" % a)
folios, meta = {}, []
def bits(order, start, bm):
    v, k = int.from_bytes(bm, "little"), 0
    while v:
        if v & 1:
            folios.setdefault(order, []).append(start + (k << (order + 12)))
        v >>= 1; k += 1
if fmt == "chunk-list":
    c = root
    while c:
        page = rd(c, 4096); meta.append((c, c + 4096))
        nxt, order, num = struct.unpack_from("<QII", page)
        for i in range(num):
            start, bm = struct.unpack_from("<QQ", page, 16 + 16 * i)
            meta.append((bm, bm + bmb)); bits(order, start, rd(bm, bmb))
        c = nxt
else:
    def walk(p, level, key):
        page = rd(p, 4096); meta.append((p, p + 4096))
        if level == 0:   # key = 1 << (52 - order) | pa >> (12 + order)
            order = 52 - (key.bit_length() - 1)
            bits(order, (key << (12 + order)) & (2**64 - 1), page)
            return
        for i in range(512):
            q = struct.unpack_from("<Q", page, 8 * i)[0]
            if q:
                walk(q, level - 1, key | i << ((level - 1) * 9 + 15))
    if root:
        walk(root, 5, 0)
def merge(rs):
    out = []
    for s, e in sorted(rs):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out
allr = []
for o in sorted(folios):
    rs = merge((a, a + (4096 << o)) for a in folios[o]); allr += rs
    print("order %d folios %d ranges %d size 0x%x" % (o, len(folios[o]), len(rs), sum(e - s for s, e in rs)))
    for s, e in rs:
        print("range order %d 0x%x-0x%x folios %d" % (o, s, e, (e - s) >> (12 + o)))
for s, e in merge(allr):
    print("preserved 0x%x-0x%x size 0x%x" % (s, e, e - s))
for s, e in merge(meta):
    print("meta 0x%x-0x%x size 0x%x" % (s, e, e - s))
PY
# kho_ranges DIR FMT BITMAP [kho args...]: compare pcsctool kho with khomap.py.
kho_ranges() {
	d=$1; fmt=$2; bmb=$3; shift 3
	"$T" kho "$d" "$@" 2>/dev/null | grep -E '^(order|range order|preserved|meta) ' >"$tmp/got"
	python3 "$tmp/khomap.py" "$d" "$fmt" "$(le64 "$d/kho.dtb" / preserved-memory-map)" "$bmb" >"$tmp/want" 2>&1
	if [ -s "$tmp/want" ] && cmp -s "$tmp/got" "$tmp/want"; then return 0; fi
	nok "kho ranges $d $*" "$(diff "$tmp/want" "$tmp/got" | head -n 20)"; return 1
}
for spec in "v1-512 chunk-list 512" "v1-4096 chunk-list 4096 --kho-bitmap 4096" "v2 radix-tree 0" \
	    "v3 radix-tree 0" "v4 radix-tree 0"; do
	# shellcheck disable=SC2086
	set -- $spec; k=$1; shift
	kho_ranges "$tmp/kho-$k" "$@" && ok "kho $k: per-order ranges, preserved, meta = independent reader"
done
# Many folios with holes (every per-entry fault of section 2), one chunk
# list and one radix tree; a radix tree above 4 GiB; x86 RAM at 0.
kho_ranges "$tmp/vf" chunk-list 512 && ok "kho vf4096+faults v1-512: per-order ranges = independent reader"
# shellcheck disable=SC2086
"$T" gen $TOPO/vf4096.topo --out "$tmp/vf-v3" --kho v3 $FAULTS >/dev/null 2>&1
kho_ranges "$tmp/vf-v3" radix-tree 0 && ok "kho vf4096+faults v3: per-order ranges = independent reader"
if check "gen v4 above 4 GiB" 0 "$T" gen $TOPO/default.topo --out "$tmp/hi" --kho v4 --ram-size 0x200000000 --at 0x180000000; then
	kho_ranges "$tmp/hi" radix-tree 0 && ok "kho v4 at 6 GiB: radix keys above 4 GiB = independent reader"
	if check "verify v4 above 4 GiB" 0 "$T" verify --topology $TOPO/default.topo "$tmp/hi"; then
		summary_is "verify v4 above 4 GiB" "valid=13 stale=0 gone=0 bad=0 new=0"
	fi
fi
if check "gen x86 v2" 0 "$T" gen $TOPO/default.topo --out "$tmp/x86v2" --kho v2 --base 0; then
	kho_ranges "$tmp/x86v2" radix-tree 0 && ok "kho v2 with RAM at 0 = independent reader"
fi

# The kho-v1 bitmap size. A 4096-byte map read as 512 (no flag, as the stub
# unforced) loses what lies past each bitmap's first 4096 folios: the data
# blocks 0x60000000-0x60018000 are an order-4 folio (bit 0x6000 of the
# bitmap at 0) and an order-3 folio (bit 16386 of the bitmap at 1 GiB):
# 12 blocks BAD, while 04:00.0's block (order 1, bit 12) and the pcsc FDT
# (order 0, bit 26) stay preserved. Exit 1. Forced 4096 on a 512 map
# fails closed (exit 2); radix maps ignore the flag.
if check "verify v1-4096 unforced" 1 "$T" verify --topology $TOPO/default.topo "$tmp/kho-v1-4096"; then
	summary_is "verify v1-4096 read as 512: 12 BAD" "valid=1 stale=0 gone=0 bad=12 new=0 handover=ok"
	n=$(printf '%s\n' "$out" | grep -c ' BAD da not preserved$')
	[ "$n" -eq 12 ] && printf '%s\n' "$out" | grep -q '^pcsc: 0000:04:00.0 1af4:1042 VALID$' &&
	ok "verify v1-4096 read as 512: 12 'da not preserved', 04:00.0 VALID" || nok "v1-4096 unforced lines" "$out"
fi
kho_ranges "$tmp/kho-v1-4096" chunk-list 512 && ok "kho v1-4096 read as 512 = independent reader at 512"
if check "verify v1-512 forced 4096" 2 "$T" verify --topology $TOPO/default.topo "$tmp/kho-v1-512" --kho-bitmap 4096; then
	printf '%s\n' "$out" | grep -q '^pcsc: cache rejected: KHO map entry .* proves 512-byte bitmaps, not 4096$' &&
	summary_is "verify v1-512 forced 4096: rejected, detached" "valid=0 handover=detached"
fi
if check "kho v1-512 forced 4096" 2 "$T" kho "$tmp/kho-v1-512" --kho-bitmap 4096; then
	printf '%s\n' "$out" | grep -q '^map 0x[0-9a-f]* chunk-list unreadable$' &&
	ok "kho v1-512 forced 4096: map unreadable, exit 2" || nok "kho forced 4096" "$out"
fi
for k in v2 v3 v4; do
	if check "verify $k --kho-bitmap 512" 0 "$T" verify --topology $TOPO/default.topo "$tmp/kho-$k" --kho-bitmap 512; then
		summary_is "verify $k: --kho-bitmap ignored by a radix map" "valid=13 bad=0"
	fi
done
"$T" kho "$tmp/kho-v1-512" | grep -q '^bitmap-size 512 default evidence 512 (bitmap not page aligned: 0x[0-9a-f]*)$' &&
"$T" kho "$tmp/kho-v1-4096" | grep -qx 'bitmap-size 512 default evidence none (a 4096-byte map also reads as 512)' &&
"$T" kho "$tmp/kho-v1-4096" --kho-bitmap 4096 | grep -q '^bitmap-size 4096 forced ' &&
ok "kho: bitmap-size line, forced or not, and what the map proves" || nok "kho bitmap-size lines" "$("$T" kho "$tmp/kho-v1-4096" 2>&1 | grep bitmap-size)"

# More subtrees (fdtput), a LUO one among them, and scratch regions.
cp -r "$tmp/kho-v1-4096" "$tmp/luo"
# shellcheck disable=SC2046
fdtput -c "$tmp/luo/kho.dtb" /LUO /memblock &&
fdtput -t bx "$tmp/luo/kho.dtb" /memblock fdt 00 00 00 70 00 00 00 00 &&
fdtput -t bx "$tmp/luo/kho.dtb" /LUO fdt $(fdtget -t bx "$tmp/luo/kho.dtb" /pcsc fdt)
if check "kho 3 subtrees" 0 "$T" kho "$tmp/luo"; then
	n=$(printf '%s\n' "$out" | grep -c '^subtree ')
	[ "$n" -eq 3 ] && printf '%s\n' "$out" | grep -qx 'subtree "memblock" fdt 0x70000000 data not-in-image preserved no' &&
	printf '%s\n' "$out" | grep -q '^subtree "LUO" fdt 0x[0-9a-f]* data fdt .* preserved yes$' &&
	printf '%s\n' "$out" | grep -qx 'bitmap-size 4096 luo evidence 4096 (LUO subtree: Linux 6.19+)' &&
	! printf '%s\n' "$out" | grep -q '^warn LUO' &&
	printf '%s\n' "$out" | tail -n 1 | grep -q '^kho: kho-v1, 3 subtrees, ' &&
	ok "kho: every subtree, LUO implies 4096" || nok "kho 3 subtrees" "$out"
fi
# The stub's rule (kho_v1_bitmap): a LUO child over a 512-byte map is read
# at 4096 and refused where the map proves 512; --kho-bitmap 512 still wins.
cp -r "$tmp/kho-v1-512" "$tmp/luo512"
fdtput -c "$tmp/luo512/kho.dtb" /LUO &&
fdtput -t bx "$tmp/luo512/kho.dtb" /LUO fdt $(fdtget -t bx "$tmp/luo512/kho.dtb" /pcsc fdt)
if check "kho LUO over a 512 map" 2 "$T" kho "$tmp/luo512"; then
	printf '%s\n' "$out" | grep -q '^map 0x[0-9a-f]* chunk-list unreadable$' &&
	ok "kho: a LUO root is read at 4096 as the stub reads it; a 512 map is then refused" ||
	nok "kho LUO over 512" "$out"
fi
if check "show LUO over a 512 map" 2 "$T" show "$tmp/luo512"; then
	ok "show: a LUO root over a 512 map is refused, as the stub refuses it"
fi
if check "kho LUO over a 512 map, forced 512" 0 "$T" kho "$tmp/luo512" --kho-bitmap 512; then
	printf '%s\n' "$out" | grep -q '^bitmap-size 512 forced evidence 512 ' &&
	ok "kho: --kho-bitmap 512 wins over a LUO root" || nok "kho LUO forced 512" "$out"
fi
if check "gen --scratch x2" 0 "$T" gen $TOPO/default.topo --out "$tmp/scr" --kho v3 --scratch 0x70000000:0x1000000 --scratch 0x7e000000:0x800000; then
	if check "kho scratch" 0 "$T" kho "$tmp/scr"; then
		printf '%s\n' "$out" | grep -qx 'scratch 0 0x70000000-0x71000000 size 0x1000000' &&
		printf '%s\n' "$out" | grep -qx 'scratch 1 0x7e000000-0x7e800000 size 0x800000' &&
		printf '%s\n' "$out" | grep -q '^scratch-array 0x[0-9a-f]* size 0x20 entries 2$' &&
		! printf '%s\n' "$out" | grep -q '^warn' && ok "kho: two scratch regions, no warning" || nok "kho scratch lines" "$out"
	fi
	# A region over the cache: upstream never preserves memory in scratch.
	if check "kho scratch over preserved" 0 "$T" kho "$tmp/scr" --kho-scratch "$(sed -n 's/^blob kho_scratch.bin \(0x[0-9a-f]*\) .*/\1/p' "$tmp/scr/manifest"):0x10"; then
		printf '%s\n' "$out" | grep -q '^scratch-array 0x[0-9a-f]* size 0x10 entries 1$' && ok "kho --kho-scratch overrides the manifest" || nok "kho --kho-scratch" "$out"
	fi
	"$T" gen $TOPO/default.topo --out "$tmp/scr2" --scratch 0x60000000:0x10000 >/dev/null
	"$T" kho "$tmp/scr2" | grep -q '^warn preserved 0x60000000-0x[0-9a-f]* overlaps a scratch region$' &&
	ok "kho warns of preserved memory in scratch" || nok "kho scratch overlap warn" "$("$T" kho "$tmp/scr2" 2>&1)"
fi
# The same from a packed memory image (scratch given on the command line).
if check "pack kho-v4" 0 "$T" pack "$tmp/kho-v4" --out "$tmp/v4.img" --base 0x5ff00000; then
	kf=$(sed -n 's/^kho-fdt \(0x[0-9a-f]*\) .*/\1/p' "$tmp/kho-v4/manifest")
	ks=$(sed -n 's/^kho-scratch \(0x[0-9a-f]*\) \(0x[0-9a-f]*\)$/\1:\2/p' "$tmp/kho-v4/manifest")
	if check "kho --image" 0 "$T" kho --image "$tmp/v4.img" --base 0x5ff00000 --kho-fdt "$kf" --kho-scratch "$ks" --ram 0x40000000:0x40000000; then
		printf '%s\n' "$out" | cmp -s - "$tmp/kho-v4.kho" && ok "kho --image = kho DIR" || nok "kho --image differs" "$(printf '%s\n' "$out" | diff "$tmp/kho-v4.kho" - | head)"
	fi
fi
# Roots the stub rejects: exit 2, and what can be shown is shown.
if check "kho corrupt=kho-compat" 2 "$T" kho "$tmp/c-kho-compat"; then
	printf '%s\n' "$out" | grep -qx 'compatible "kho-v0"' && printf '%s\n' "$out" | grep -qx 'abi unknown' &&
	printf '%s\n' "$out" | grep -qx 'subtree "pcsc" props fdt' && ok "kho: unknown compatible shown, exit 2" || nok "kho kho-compat" "$out"
fi
if check "kho corrupt=map-loop" 2 "$T" kho "$tmp/c-map-loop"; then
	printf '%s\n' "$out" | grep -q 'KHO map chunk list loops at ' && ok "kho: looping map, exit 2" || nok "kho map-loop" "$out"
fi
"$T" gen $TOPO/default.topo --out "$tmp/c-kho-magic" --stale corrupt=kho-magic >/dev/null 2>&1
if check "kho corrupt=kho-magic" 2 "$T" kho "$tmp/c-kho-magic"; then ok "kho: bad magic, exit 2"; fi
if check "kho corrupt=pcsc-outside" 0 "$T" kho "$tmp/c-pcsc-outside"; then
	printf '%s\n' "$out" | grep -q '^subtree "pcsc" fdt 0x[0-9a-f]* data outside-ram preserved no$' &&
	ok "kho: a subtree outside RAM is shown, the root is fine" || nok "kho pcsc-outside" "$out"
fi
if check "kho bad option" 64 "$T" kho "$tmp/kho-v4" --json; then ok "kho: unknown option is a usage error"; fi

# 12. capture --kho: the same layouts from sysfs.
for k in v1-4096 v4; do
	if check "capture --kho $k" 0 "$T" capture --sysfs "$sys" --out "$tmp/cap-$k" --kho $k; then
		flag=""; [ "$k" = v1-4096 ] && flag="--kho-bitmap 4096"
		# shellcheck disable=SC2086
		grep -qx "kho $k" "$tmp/cap-$k/manifest" &&
		[ "$(fdtget "$tmp/cap-$k/kho.dtb" / compatible)" = "kho-${k%%-*}" ] &&
		"$T" show "$tmp/cap-$k" $flag | grep -qx 'show: 3 entries, 0 bad, 2 preserved ranges' &&
		"$T" kho "$tmp/cap-$k" $flag | grep -q "^abi kho-${k%%-*} " &&
		ok "capture --kho $k: root, show, kho" || nok "capture --kho $k" "$("$T" show "$tmp/cap-$k" $flag 2>&1)"
	fi
done
if check "capture --kho bogus" 64 "$T" capture --sysfs "$sys" --out "$tmp/cap-x" --kho v9; then ok "capture: unknown --kho is a usage error"; fi

# 13. wrap: the kho-v1 bitmap option for the kernel that runs kexec
# (docs/kexec.md), never inside the image.
for rv in "6.1.0-57-arm64 none" "6.16.3 512" "6.17.0-8-generic 512" "6.17.8 512" "6.17.9 4096" \
	  "6.18.0-rc3 none" "6.18.0 4096" "6.19.2-arch1-1 4096" "7.0.0+ 4096" "7.1.0 none" \
	  "7.2.0-rc1 none" "banana none"; do
	# shellcheck disable=SC2086
	set -- $rv
	if check "wrap --kernel-release $1" 0 "$T" wrap --arch arm64 "$tmp/stub.bin" "$tmp/next.Image" -o "$tmp/wk.Image" --kernel-release "$1"; then
		got=$(printf '%s\n' "$out" | sed -n 's/^wrap: kho-bitmap \([0-9a-z]*\): .*/\1/p')
		app=$(printf '%s\n' "$out" | sed -n 's/^wrap: append //p')
		want_app=""; [ "$2" != none ] && want_app="pcsc.kho_bitmap=$2"
		[ "$got" = "$2" ] && [ "$app" = "$want_app" ] && cmp -s "$tmp/wk.Image" "$tmp/w.Image" &&
		ok "wrap on $1: kho-bitmap $2, image unchanged" || nok "wrap on $1 (want $2)" "$out"
	fi
done
for o in 512 4096 none; do
	if check "wrap --kho-bitmap $o" 0 "$T" wrap --arch arm64 "$tmp/stub.bin" "$tmp/next.Image" -o "$tmp/wk.Image" --kernel-release 6.17.9 --kho-bitmap $o; then
		printf '%s\n' "$out" | grep -qx "wrap: kho-bitmap $o: set by --kho-bitmap $o" &&
		{ [ $o = none ] && ! printf '%s\n' "$out" | grep -q '^wrap: append' ||
		  printf '%s\n' "$out" | grep -qx "wrap: append pcsc.kho_bitmap=$o"; } &&
		ok "wrap --kho-bitmap $o overrides the release" || nok "wrap --kho-bitmap $o" "$out"
	fi
done
"$T" wrap --arch arm64 "$tmp/stub.bin" "$tmp/next.Image" -o "$tmp/wk.Image" | grep '^wrap: kho' >"$tmp/a"
"$T" wrap --arch arm64 "$tmp/stub.bin" "$tmp/next.Image" -o "$tmp/wk.Image" --kernel-release "$(uname -r)" | grep '^wrap: kho' >"$tmp/b"
[ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" && ok "wrap without --kernel-release reads uname -r ($(uname -r))" || nok "wrap uname" "$(cat "$tmp/a" "$tmp/b")"
if check "wrap --kho-bitmap 1024" 64 "$T" wrap --arch arm64 "$tmp/stub.bin" "$tmp/next.Image" -o "$tmp/wk.Image" --kho-bitmap 1024; then ok "wrap: --kho-bitmap 1024 is a usage error"; fi
# x86_64: the same option lines (a minimal stub ELF and bzImage).
python3 - "$tmp" <<'PY'
import struct, sys
t = sys.argv[1]
seg = bytearray(0x400); seg[0x100:0x108] = b"PCSCX86H"; struct.pack_into("<I", seg, 0x108, 1)
eh = bytearray(64); eh[0:4] = b"\x7fELF"; eh[4] = 2; eh[5] = 1; eh[6] = 1
struct.pack_into("<HHIQQQIHHHHHH", eh, 16, 2, 62, 1, 0x100200, 64, 0, 0, 64, 56, 1, 64, 0, 0)
ph = struct.pack("<IIQQQQQQ", 1, 7, 0x1000, 0x100000, 0x100000, len(seg), 0x2000, 0x1000)
elf = bytearray(0x1000) + seg; elf[0:64] = eh; elf[64:64 + 56] = ph
bz = bytearray(0x2000); bz[0x1f1] = 1; bz[0x202:0x206] = b"HdrS"
struct.pack_into("<H", bz, 0x206, 0x020f); struct.pack_into("<H", bz, 0x236, 1)
struct.pack_into("<I", bz, 0x230, 0x200000); struct.pack_into("<I", bz, 0x260, 0x100000)
open(t + "/stub.elf", "wb").write(elf); open(t + "/next.bzImage", "wb").write(bz)
PY
if check "wrap x86_64 on 6.18.1" 0 "$T" wrap --arch x86_64 "$tmp/stub.elf" "$tmp/next.bzImage" -o "$tmp/w.bzImage" --kernel-release 6.18.1; then
	printf '%s\n' "$out" | grep -qx 'wrap: append pcsc.kho_bitmap=4096' && ok "wrap x86_64: append line" || nok "wrap x86_64" "$out"
fi

# 14. The handover read back (docs/abi.md "What pcsc-stub adds on the pcsc root"): verify checks the
# digest it handed over against the blob (a self-check), show recomputes it
# from the written-back files alone and lists stub-removed by name.
HFAULTS="--stale 03:00.0 --stale stale=02:00.0:class --stale gone=00:05.0
	--stale badda=04:00.0:notpreserved --stale badname=00:01.0 --stale dup=01:00.0"
# shellcheck disable=SC2086
"$T" gen $TOPO/default.topo --out "$tmp/ho" $HFAULTS >/dev/null 2>&1
if check "verify faults --write" 1 "$T" verify --topology $TOPO/default.topo "$tmp/ho" --write "$tmp/ho2"; then
	vout=$out
	summary_is "verify faults: exact counts" "valid=8 stale=2 gone=1 bad=4 new=1 removed=7 handover=ok"
	sha=$(printf '%s\n' "$out" | sed -n 's/^pcsc: sha256 \([0-9a-f]\{64\}\)$/\1/p')
	[ -n "$sha" ] && printf '%s\n' "$out" | tail -n 1 | grep -qx "digest ok $sha" &&
	ok "verify self-check: last line 'digest ok' with the sha256 it handed over" || nok "verify self-check line" "$(printf '%s\n' "$out" | tail -n 3)"
fi
# The removed entries, BDF order, malformed names last, both copies of a duplicate.
cat >"$tmp/ho.removed" <<'R'
removed 0000:00:05.0 GONE absent
removed 0000:01:00.0 BAD duplicate name
removed 0000:01:00.0 BAD duplicate name
removed 0000:02:00.0 STALE class
removed 0000:03:00.0 STALE device
removed 0000:04:00.0 BAD da not preserved
removed ----:--:--.- BAD malformed name
R
if check "show handed-over" 0 "$T" show "$tmp/ho2"; then
	printf '%s\n' "$out" | grep '^removed ' | cmp -s - "$tmp/ho.removed" &&
	ok "show: stub-removed = the injected BDFs, verdicts and reasons" || nok "show removed lines" "$(printf '%s\n' "$out" | grep '^removed ' | diff "$tmp/ho.removed" -)"
	printf '%s\n' "$out" | grep -qx "handover version=[!-~]* mode=quick valid=8 stale=2 gone=1 bad=4 new=1 removed=7" &&
	ok "show: handover line = the session's counts" || nok "show handover line" "$out"
	printf '%s\n' "$out" | grep -qx "digest ok $sha" && printf '%s\n' "$out" | tail -n 1 | grep -qx 'show: 8 entries, 0 bad, 3 preserved ranges' &&
	ok "show: digest recomputed from the files = verify's sha256" || nok "show digest line" "$out"
fi
if check "show --json handed-over" 0 "$T" show --json "$tmp/ho2"; then
	printf '%s\n' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin); h = d["handover"]; want = sys.argv[1]
assert h["digest"] == "ok" and h["sha256"] == h["computed"] == want and h["wellformed"], h
assert h["mode"] == "quick" and h["counts"] == {"valid": 8, "stale": 2, "gone": 1, "bad": 4, "new": 1}, h
got = ["removed %s %s %s" % (r["bdf"], r["verdict"], r["reason"]) for r in h["removed"]]
assert got == [l.rstrip("\n") for l in open(sys.argv[2])], got
assert [r["verdict_code"] for r in h["removed"]] == [2, 3, 3, 1, 1, 3, 3]
assert [r["reason_code"] for r in h["removed"]] == [15, 2, 2, 13, 12, 10, 1]
' "$sha" "$tmp/ho.removed" && ok "show --json: handover object, removed codes" || nok "show --json handover" "$out"
fi
# A cache no stub handed over says so, and is not a failure.
if check "show not handed over" 0 "$T" show "$tmp/ho"; then
	printf '%s\n' "$out" | grep -qx 'handover none (no stub property on the pcsc root: not handed over)' &&
	! printf '%s\n' "$out" | grep -q '^digest ' && "$T" show --json "$tmp/ho" | python3 -c 'import json,sys; assert json.load(sys.stdin)["handover"] is None' &&
	ok "show: 'handover none' without stub properties, JSON null" || nok "show not handed over" "$out"
fi
# Tampering: a cached byte (vendor ID, byte 0 of a kept entry's block) is
# covered; a byte the old kernel never cached (0x800) is not: the next
# kernel re-reads it. The bits are checked in the file before the flip.
pd=$(sed -n 's/^blob pcsc_data.bin \(0x[0-9a-f]*\) .*/\1/p' "$tmp/ho2/manifest")
da=$("$T" show --json "$tmp/ho2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][1]["da"])')
flip() { # DIR OFFSET-IN-BLOCK WANT-CACHED: flip one byte of the block at $da
	python3 - "$1/pcsc_data.bin" $((da - pd)) "$2" "$3" <<'PY'
import sys
p, blk, off, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 0), sys.argv[4] == "1"
b = bytearray(open(p, "rb").read())
cached = b[blk + 4096 + 512 + off // 8] >> (off % 8) & 1
if cached != want:
    sys.exit("byte 0x%x cached=%d" % (off, cached))
b[blk + off] ^= 0x5a
open(p, "wb").write(b)
PY
}
cp -r "$tmp/ho2" "$tmp/ho-vendor"
if ! flip "$tmp/ho-vendor" 0 1; then nok "flip the vendor ID of a kept entry"
elif check "show: cached byte flipped" 3 "$T" show "$tmp/ho-vendor"; then
	printf '%s\n' "$out" | grep -q "^digest MISMATCH stored $sha computed [0-9a-f]\{64\}$" &&
	! printf '%s\n' "$out" | grep -q "computed $sha" &&
	"$T" show --json "$tmp/ho-vendor" | python3 -c 'import json,sys; h=json.load(sys.stdin)["handover"]; assert h["digest"]=="mismatch" and h["sha256"]!=h["computed"]' &&
	ok "show: a flipped vendor ID byte is a digest MISMATCH, exit 3" || nok "show mismatch line" "$out"
fi
cp -r "$tmp/ho2" "$tmp/ho-uncached"
if ! flip "$tmp/ho-uncached" 0x800 0; then nok "flip byte 0x800 of a kept entry"
elif check "show: uncached byte flipped" 0 "$T" show "$tmp/ho-uncached"; then
	printf '%s\n' "$out" | grep -qx "digest ok $sha" && ok "show: a byte never cached (0x800) is not covered: digest ok" || nok "show uncached flip" "$out"
fi
# Properties not of their documented size (fdtput): shown as '?', exit 3;
# no sha256 at all: nothing to check against, a MISMATCH.
cp -r "$tmp/ho2" "$tmp/ho-props"
fdtput -t bx "$tmp/ho-props/pcsc.dtb" / stub-removed 1 2 3 && fdtput -t bx "$tmp/ho-props/pcsc.dtb" / stub-counts 1 2
if check "show: malformed stub properties" 3 "$T" show "$tmp/ho-props"; then
	printf '%s\n' "$out" | grep -qx 'handover version=[!-~]* mode=quick valid=? stale=? gone=? bad=? new=? removed=?' &&
	! printf '%s\n' "$out" | grep -q '^removed ' && printf '%s\n' "$out" | grep -qx "digest ok $sha" &&
	ok "show: stub-counts/stub-removed of the wrong size shown as ?, exit 3" || nok "show malformed props" "$out"
fi
fdtput -d "$tmp/ho-props/pcsc.dtb" / sha256
if check "show: no sha256" 3 "$T" show "$tmp/ho-props"; then
	printf '%s\n' "$out" | grep -qx "digest MISMATCH stored none computed $sha (no sha256 property)" &&
	ok "show: no sha256 property is a MISMATCH" || nok "show no sha256" "$out"
fi
# Every SHA-256 engine, the same digest (--sha cpu exits 69 on a CPU
# without SHA instructions: then only the portable code exists here).
dl=$("$T" show "$tmp/ho2" | grep '^digest ')
for e in portable auto cpu; do
	"$T" --sha $e show "$tmp/ho2" >"$tmp/sha.$e" 2>&1; rc=$?
	if [ "$e" = cpu ] && [ $rc -eq 69 ]; then
		ok "--sha cpu: no SHA-256 instructions on this CPU (exit 69): portable only"; continue
	fi
	[ $rc -eq 0 ] && grep -qx "$dl" "$tmp/sha.$e" &&
	"$T" verify --topology $TOPO/default.topo "$tmp/ho" --sha $e | grep -qx "digest ok $sha" &&
	ok "--sha $e: the same digest line (show and verify)" || nok "--sha $e digest (exit $rc)" "$(cat "$tmp/sha.$e")"
done
if check "--sha bogus" 64 "$T" show "$tmp/ho2" --sha fast; then ok "--sha fast is a usage error"; fi
# Strict mode and a memory image: the self-check holds there too.
if check "verify strict self-check" 1 "$T" verify --mode strict --topology $TOPO/default.topo "$tmp/ho"; then
	s2=$(printf '%s\n' "$out" | sed -n 's/^pcsc: sha256 //p')
	[ -n "$s2" ] && printf '%s\n' "$out" | grep -qx "digest ok $s2" && ok "verify strict: digest ok" || nok "verify strict self-check" "$out"
fi
"$T" pack "$tmp/ho" --out "$tmp/ho.img" --base 0x5ff00000 >/dev/null 2>&1
kf=$(sed -n 's/^kho-fdt \(0x[0-9a-f]*\) .*/\1/p' "$tmp/ho/manifest")
if check "verify --image self-check" 1 "$T" verify --topology $TOPO/default.topo --image "$tmp/ho.img" --base 0x5ff00000 --kho-fdt "$kf" --ram 0x40000000:0x40000000; then
	printf '%s\n' "$out" | grep -qx "digest ok $sha" && ok "verify --image: digest ok, the same sha256" || nok "verify --image self-check" "$out"
fi
# Report levels (--report, the stub's pcsc.report=): summary is exactly what
# the stub prints by default; the self-check line is a detail.
if check "verify --report summary" 1 "$T" verify --report summary --topology $TOPO/default.topo "$tmp/ho"; then
	printf '%s\n' "$out" | grep '^pcsc: summary \|^pcsc: sha256 ' >"$tmp/want"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] && [ "$(wc -l <"$tmp/want")" -eq 2 ] &&
	printf '%s\n' "$out" | cmp -s - "$tmp/want" && printf '%s\n' "$vout" | grep -qxF "$(head -n 1 "$tmp/want")" &&
	ok "verify --report summary: exactly the summary and sha256 lines" || nok "verify --report summary" "$out"
fi
if check "verify --report problems" 1 "$T" verify --report problems --topology $TOPO/default.topo "$tmp/ho"; then
	printf '%s\n' "$vout" | grep -E '^pcsc: .* (STALE|GONE|BAD) |^pcsc: summary |^pcsc: sha256 ' >"$tmp/want"
	printf '%s\n' "$out" | cmp -s - "$tmp/want" && [ "$(grep -c ' \(STALE\|GONE\|BAD\) ' "$tmp/want")" -eq 7 ] &&
	ok "verify --report problems: the 7 problem lines, summary, sha256" || nok "verify --report problems" "$out"
fi
if check "verify --report quiet" 1 "$T" verify --report quiet --topology $TOPO/default.topo "$tmp/ho"; then
	[ -z "$out" ] && ok "verify --report quiet: nothing for a cache it could patch" || nok "verify --report quiet" "$out"
fi
if check "verify --report quiet rejected" 2 "$T" verify --report quiet --topology $TOPO/default.topo "$tmp/c-pcsc-compat"; then
	[ "$out" = 'pcsc: cache rejected: pcsc FDT unknown compatible "pcsc-v0"' ] && ok "verify --report quiet: only the rejection line" || nok "verify --report quiet rejected" "$out"
fi
if check "verify --report full" 1 "$T" verify --report full --topology $TOPO/default.topo "$tmp/ho"; then
	[ "$out" = "$vout" ] && ok "verify --report full is the default" || nok "verify --report full" "$out"
fi
if check "verify --report loud" 64 "$T" verify --report loud --topology $TOPO/default.topo "$tmp/ho"; then ok "verify --report loud is a usage error"; fi

# 10. usage errors.
if check "bad fault spec" 64 "$T" gen $TOPO/default.topo --out "$tmp/bad" --stale badda=00:01.0:sideways; then ok "bad fault spec is a usage error"; fi
if check "gone on a live BDF" 64 "$T" gen $TOPO/default.topo --out "$tmp/bad" --stale gone=00:01.0; then ok "gone= on a live function is refused"; fi
if check "missing topology" 66 "$T" gen "$tmp/nonexistent.topo" --out "$tmp/bad"; then ok "missing topology file"; fi

echo "pcsctool: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
