# tests/qemu/test_kho_abi.py - every KHO ABI the stub reads (issue 12), on both arches: kho-v1 with 512- and
# 4096-byte bitmaps, kho-v2..v4 radix trees, scratch arrays, unknown roots detached. Expectations from the bytes.
"""KHO ABIs on arm64 virt (/chosen linux,kho-fdt + linux,kho-scratch) and
x86 q35 (setup_data SETUP_KEXEC_KHO = 10), one module parametrised by arch.

Every cache is `pcsctool gen --kho LAYOUT` of the machine's own walk; what
the stub must print is computed from the blobs pcsctool wrote, read by
khoutil.py (independent of lib/): which pages the map preserves when its
kho-v1 bitmaps are read as 512 or 4096 bytes, the scratch regions, each
entry's da. Options go to /chosen/bootargs (arm64) or the command line
(x86).
"""
import struct

import pytest

import hostile
import khoutil
from arm64util import Arm64Machine, assert_clean_poweroff
from cacheutil import blob_addr
from qemurun import arches
from stubout import summary_of, verdicts
from topology import default_topology, saved, topology_backends

SZ_16M = 16 << 20
SPAN_ORDER0 = 128 << 20          # one 4096-byte bitmap of order-0 pages
STRIDE = 8192                    # PAGE_ALIGN(sizeof(struct pcsc_data)), S = 4096


class Machine:
    """One machine of either arch: walk once, gen caches, boot with options."""

    def __init__(self, arch, tmp):
        self.arch = arch
        if arch == "arm64":
            self.m = Arm64Machine(tmp, default_topology(vfs=4), extra=topology_backends())
            self.ram = (0x40000000, 0x40000000)          # pcsctool gen's default: -m 1G
        else:
            from x86util import X86Machine
            self.m = X86Machine(tmp, default_topology(vfs=4), extra=topology_backends())
            self.ram = (0, max(a + s for a, s, t in self.m.e820 if t == 1))
        self.live = self.m.walk()
        self.saved = saved(self.live)

    def gen(self, name, **kw):
        return self.m.gen(self.live, name=name, **kw)

    def boot(self, cache, opts="", ram_probe=()):
        """Boot with the cache and pcsc.* options opts; asserts the stub
        reached its end (poweroff 0: it had no next kernel)."""
        if self.arch == "arm64":
            r = self.m.boot(cache=cache, append=opts or None, ram_probe=ram_probe)
            assert_clean_poweroff(r)
        else:
            from x86util import assert_x86_exit
            r = self.m.boot(cache=cache, append=f"pcsc.exit=debug {opts}".strip(),
                            ram_probe=ram_probe)
            assert_x86_exit(r)
        return r

    def all_valid(self):
        return [f"{s} {v}:{d} VALID" for s, v, d, _, _ in self.saved]


@pytest.fixture(scope="module", params=arches())
def mach(request, tmp_path_factory):
    return Machine(request.param, tmp_path_factory.mktemp(f"kho-{request.param}"))


def assert_kho_line(r, cache, bitmap_bytes):
    """The stub's kho line names the root's ABI and counts what an
    independent reader of the same map counts."""
    k = khoutil.kho_line(r)
    want = khoutil.read_map(cache, bitmap_bytes)
    compat = "kho-v1" if cache["kho"].startswith("v1") else "kho-" + cache["kho"]
    assert k["compatible"] == compat, r.describe()
    keys = ("chunks", "bitmaps", "folios") if compat == "kho-v1" else ("nodes", "leaves", "folios")
    assert {x: k[x] for x in keys} == {x: want[x] for x in keys}, (k, want)
    if compat == "kho-v1":
        assert k["bitmap"] == bitmap_bytes, r.describe()
    assert k["scratch"] == khoutil.scratch_regions(cache), r.describe()
    return k


@pytest.mark.parametrize("layout,opts,bitmap", [
    ("v1-512", "", 512),                         # 6.16, 6.17
    ("v1-512", "pcsc.kho_bitmap=512", 512),
    ("v1-4096", "pcsc.kho_bitmap=4096", 4096),   # 6.18 - 7.0: same compatible
    ("v2", "", None),                            # 7.1: radix tree, preserved-data
    ("v3", "", None),                            # 7.1: + blob-size
    ("v4", "", None),                            # 7.2-rc
], ids=["v1-512", "v1-512-forced", "v1-4096-forced", "v2", "v3", "v4"])
def test_kho_layout_all_valid(mach, layout, opts, bitmap):
    cache = mach.gen(f"clean-{layout}{'-opt' if opts else ''}", kho=layout)
    kho = cache["kho_fdt"]
    pfdt, room = khoutil.pcsc_fdt(cache)
    # the KHO root and the pcsc FDT's header as the next kernel gets them
    r = mach.boot(cache, opts, ram_probe=[(kho[0], kho[1]), (pfdt, 64)])
    assert verdicts(r) == mach.all_valid(), r.describe()
    s = summary_of(r)
    n = len(mach.saved)
    assert (s["valid"], s["bad"], s["entries"], s["removed"], s["handover"]) == \
        (n, 0, n, 0, "ok"), r.describe()
    assert_kho_line(r, cache, bitmap)
    root = r.ram[(kho[0], kho[1])]
    assert khoutil.pcsc_children(root) == ["pcsc"], r.describe()
    if layout in ("v3", "v4"):
        # the handover grew the pcsc FDT (stub-version, counts, sha256):
        # blob-size in the root stays its totalsize, inside its pages
        off, ln = hostile.fdt_props(root)[("/pcsc", "blob-size")]
        total = struct.unpack_from(">I", r.ram[(pfdt, 64)], 4)[0]
        assert ln == 8 and struct.unpack_from("<Q", root, off)[0] == total <= room, r.describe()


@pytest.mark.parametrize("layout", ["v1-512", "v4"])
def test_kho_da_inside_a_scratch_region_is_bad(mach, layout):
    """A scratch array of two regions (pcsctool's default one, then exactly
    one entry's pcsc_data block): that entry, and only it, is BAD; the
    second array entry proves the whole array is read. kho-v1 (chunk list)
    and kho-v4 (radix tree): the scratch check comes before the map's."""
    probe = mach.gen(f"scratch-probe-{layout}", kho=layout)
    das = khoutil.entries_da(probe)
    victim = mach.saved[len(mach.saved) // 2][0]
    da = das[victim]
    assert (da - blob_addr(probe, "pcsc_data.bin")) % STRIDE == 0
    # the block is preserved memory in the map: only scratch can make it BAD
    assert khoutil.preserved(khoutil.read_map(probe)["ranges"], da, STRIDE)
    default = (mach.ram[0] + mach.ram[1] - SZ_16M, 8 << 20)   # pcsctool's own region
    cache = mach.gen(f"scratch-{layout}", kho=layout, scratch=[default, (da, STRIDE)])
    assert khoutil.entries_da(cache) == das          # the layout ignores the scratch
    assert khoutil.scratch_regions(cache) == [(da, da + STRIDE),
                                              (default[0], default[0] + default[1])]
    r = mach.boot(cache)
    exp = [f"{s} ffff:ffff BAD da in KHO scratch" if s == victim else f"{s} {v}:{d} VALID"
           for s, v, d, _, _ in mach.saved]
    assert verdicts(r) == exp, r.describe()
    s = summary_of(r)
    assert (s["valid"], s["bad"], s["removed"], s["handover"]) == \
        (len(exp) - 1, 1, 1, "ok"), r.describe()
    assert_kho_line(r, cache, 512 if layout.startswith("v1") else None)


@pytest.mark.parametrize("layout", ["v1-512", "v4"])
def test_kho_unknown_compatible_detaches_every_pcsc_child(mach, layout):
    """A root whose compatible no row of the ABI table has: rejected whole,
    and the pcsc child NOPed in the root in guest RAM, so the next kernel
    cannot adopt a cache nobody verified."""
    cache = mach.gen(f"kho-v0-{layout}", kho=layout, faults=["corrupt=kho-compat"])
    before, _ = khoutil.blob(cache, "kho.dtb")
    assert khoutil.pcsc_children(before) == ["pcsc"]
    kho = cache["kho_fdt"]
    r = mach.boot(cache, ram_probe=[(kho[0], kho[1])])
    assert verdicts(r) == [], r.describe()
    i = r.lines.index('cache rejected: KHO FDT unknown compatible "kho-v0"')
    assert r.lines[i + 1] == "detached the pcsc subtree from the KHO FDT", r.describe()
    s = summary_of(r)
    assert (s["entries"], s["funcs"], s["handover"]) == (0, 0, "detached"), r.describe()
    after = r.ram[(kho[0], kho[1])]
    # NOPed (libfdt accepted the root), not renamed: no child left at all
    assert khoutil.fdt_children(before) == ["pcsc"], before
    assert khoutil.fdt_children(after) == [], r.describe()
    assert len(after) == len(before) and after != before, r.describe()


def expected_512_reading(mach, cache):
    """What a stub that reads the kho-v1-4096 map as 512-byte bitmaps must
    print, from the map's bytes (khoutil.expected_reading)."""
    return khoutil.expected_reading(cache, 512, [(s, v, d) for s, v, d, _, _ in mach.saved],
                                    STRIDE)


@pytest.mark.parametrize("where", ["default", "fdt-past-16M"])
def test_kho_v1_4096_read_without_the_option(mach, where):
    """6.18 - 7.0 maps (4096-byte bitmaps) with no pcsc.kho_bitmap: the stub
    reads 512 bytes of each bitmap, never more. It must not crash, and
    exactly the blocks of folios past the first 4096 bits of their bitmap
    turn BAD (da not preserved) - or, when the pcsc FDT itself is such a
    folio, the whole cache is rejected and detached. The default layout
    (cache at RAM + 512 MiB, large folios far into their span) gives BAD
    entries; 'fdt-past-16M' puts the pcsc FDT 127 MiB into a 512 MiB
    aligned span, past what 512 bytes cover at orders 0 - 2."""
    probe = mach.gen("w4096-probe", kho="v1-4096")
    s0 = blob_addr(probe, "pcsc_data.bin")
    assert s0 % (4 * SPAN_ORDER0) == 0, hex(s0)
    at = None
    if where == "fdt-past-16M":
        # the same layout moved so that the pcsc FDT starts at s0 + 127 MiB
        at = s0 + (127 << 20) - (khoutil.pcsc_fdt(probe)[0] - s0)
    cache = mach.gen(f"w4096-{where}", kho="v1-4096", at=at)
    reject, exp = expected_512_reading(mach, cache)
    # each placement reaches the branch it is named for
    assert (reject is None) == (where == "default"), (reject, exp)
    assert reject or any(" BAD " in l for l in exp), exp
    r = mach.boot(cache)
    assert not [l for l in r.lines if l.startswith("exception")], r.describe()
    assert_kho_line(r, cache, 512)
    s = summary_of(r)
    if reject:
        assert verdicts(r) == [], r.describe()
        i = r.lines.index(reject)
        assert r.lines[i + 1] == "detached the pcsc subtree from the KHO FDT", r.describe()
        assert s["handover"] == "detached", r.describe()
    else:
        assert verdicts(r) == exp, r.describe()
        bad = len([l for l in exp if " BAD " in l])
        assert (s["bad"], s["valid"], s["removed"], s["handover"]) == \
            (bad, len(exp) - bad, bad, "ok"), r.describe()


def test_kho_v1_512_forced_to_4096_is_rejected(mach):
    """The unsafe direction: a 6.16 map (512-byte bitmaps) with
    pcsc.kho_bitmap=4096 would read 3.5 KiB past each bitmap as preserved
    bits. The first entry that proves 512 (bitmap not page aligned, or a
    start off a 4096-bit span) rejects the map, and the cache is detached."""
    cache = mach.gen("w512-forced", kho="v1-512")
    span = lambda order: (4096 * 8) << (order + 12)     # noqa: E731
    order, start, bm = next(e for e in khoutil.v1_entries(cache)
                            if e[2] % 4096 or e[1] % span(e[0]))
    r = mach.boot(cache, "pcsc.kho_bitmap=4096")
    want = (f"cache rejected: KHO map entry {start:#x}/{bm:#x} proves 512-byte bitmaps, "
            "not 4096")
    i = r.lines.index(want)
    assert r.lines[i + 1] == "detached the pcsc subtree from the KHO FDT", r.describe()
    assert verdicts(r) == [] and summary_of(r)["handover"] == "detached", r.describe()
