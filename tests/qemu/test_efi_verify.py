# tests/qemu/test_efi_verify.py - `pcsc-stub.efi verify` under OVMF/AAVMF: a cache made
# from the same machine's walk (pcsctool gen + pack, with injected faults) is judged
# line by line, and the blob it writes back verifies with pcsctool. Never writes outside tmp dirs.
"""verify in the EFI app.

Each test boots the machine twice: once `lspci` (the machine describes
itself: walk lines -> conftest.walk_to_topo -> pcsctool gen), once `verify`.
The KHO-layout tests (kho-v4, kho-v1 512/4096 and `--kho-bitmap`) share
one `lspci` walk per arch (the `efi` fixture) and compute their verdicts
from the cache's bytes with khoutil.py.
Measured under TCG with the default topology and 1 GiB: ~16 s + ~28 s on
q35/OVMF (vvfat write-back of out.img included), ~10 s + ~12 s on
virt/AAVMF; each boot is bounded at 120 s.
"""
import os
import struct
import subprocess

import pytest

import hostile
import khoutil
from cacheutil import PCSCTOOL, blob_addr, pcsctool_gen
from qemurun import need, need_tool
from stubout import report_lines, summary, verdicts, walk_lines
from topology import default_topology, topology_backends, walk_to_topo
from efiutil import assert_exit, esp_get, run_efi

TIMEOUT = 120
# (ECAM base the firmware's MCFG gives, RAM for 1 GiB) per arch; pcsctool
# gen puts the cache at RAM + 512 MiB, which both firmwares leave free.
MACHINE = {"x64": (0xb0000000, (0, 0x40000000)),
           "aa64": (0x4010000000, (0x40000000, 0x40000000))}


class EfiMachine:
    def __init__(self, tmp_path, arch):
        self.tmp, self.arch = tmp_path, arch
        self.devs, self.extra = default_topology(8), topology_backends()
        r = self.run("lspci", "walk")
        assert_exit(r, "success")
        self.walk = walk_lines(r.lines)
        assert self.walk, r.describe()
        self.topo_text = walk_to_topo(self.walk, MACHINE[arch][0])
        self.topo = os.path.join(str(tmp_path), "machine.topo")
        with open(self.topo, "w") as f:
            f.write(self.topo_text)

    def run(self, args, name, files=None):
        """Boot with args; the ESP is a FAT image (vvfat loses writes)."""
        d = os.path.join(str(self.tmp), name)
        os.makedirs(d, exist_ok=True)
        return run_efi(d, self.arch, args=args, devices=self.devs, extra=self.extra,
                       files=files, mem="1G", timeout=TIMEOUT, image=True)

    def get(self, r, name):
        return esp_get(r.esp, name, os.path.join(str(self.tmp), name))

    def gen(self, faults=(), name="cache", kho=None, scratch=()):
        """pcsctool gen of the machine's walk in KHO layout kho (scratch
        regions [(start, size)], none = pcsctool's default): the manifest."""
        return pcsctool_gen(self.tmp, self.topo_text, faults=faults, ram=MACHINE[self.arch][1],
                            name=name, kho=kho, scratch=scratch)

    def cache(self, faults=(), name="cache", kho=None):
        """pcsctool gen + pack: (image bytes, base, kho_fdt)."""
        return self.pack(self.gen(faults=faults, name=name, kho=kho), name)

    def pack(self, m, name):
        """pcsctool pack of the gen directory of manifest m: (image bytes, base, kho_fdt)."""
        img = os.path.join(str(self.tmp), name + ".img")
        p = subprocess.run([need(PCSCTOOL), "pack", m["dir"], "--out", img],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        base = min(a for _, a in m["blobs"])
        with open(img, "rb") as f:
            return f.read(), base, m["kho_fdt"][0]

    def pcsctool_verify(self, image, base, kho, extra=()):
        ram = MACHINE[self.arch][1]
        return subprocess.run([need(PCSCTOOL), "verify", "--topology", self.topo,
                               "--image", image, "--base", hex(base), "--kho-fdt", hex(kho),
                               "--ram", f"{ram[0]:#x}:{ram[1]:#x}"] + list(extra),
                              capture_output=True, text=True)


def endpoints(walk):
    return [w[0] for w in walk if w[4] != "bridge"]


@pytest.mark.parametrize("arch", ["x64", "aa64"])
def test_verify_clean_cache_all_valid_and_blob_written(tmp_path, arch):
    m = EfiMachine(tmp_path, arch)
    img, base, kho = m.cache()
    r = m.run("verify cache.img --out out.img", "verify", files={"cache.img": img})
    assert_exit(r, "success")
    assert f"efi cache cache.img base {base:#x} size {len(img):#x} kho-fdt {kho:#x}" in r.lines
    assert "efi cache placed at its own address" in r.lines, r.describe()
    eps = endpoints(m.walk)
    assert report_lines(r.lines) == [(s, "VALID") for s in eps], r.describe()
    s = summary(r.lines)
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == (len(eps), 0, 0, 0, 0)
    assert s["handover"] == "ok" and s["entries"] == len(eps), r.describe()
    # The written blob is the verified cache: pcsctool agrees (exit 0)
    # and the sha256 it prints is the one the app printed.
    out = m.get(r, "out.img")
    assert os.path.getsize(out) == len(img)
    p = m.pcsctool_verify(out, base, kho)
    assert p.returncode == 0, p.stdout + p.stderr
    sha = [l for l in r.lines if l.startswith("sha256 ")]
    assert sha and sha[0] in p.stdout, (sha, p.stdout)


@pytest.mark.parametrize("arch", ["x64", "aa64"])
def test_verify_injected_faults_exact_verdicts(tmp_path, arch):
    m = EfiMachine(tmp_path, arch)
    eps = endpoints(m.walk)
    # 01:00.0 (e1000e) is in both machines' walks; pick others by position.
    stale, dropped = "01:00.0", eps[-1][5:]
    img, base, kho = m.cache(faults=[f"stale={stale}", "gone=0e:00.0", f"drop={dropped}"])
    r = m.run("verify cache.img --out out.img", "verify", files={"cache.img": img})
    assert_exit(r, "not-valid")
    want = []
    for s in eps:
        if s == "0000:" + stale:
            want.append((s, "STALE"))
        elif s == "0000:" + dropped:
            want.append((s, "NEW"))
        else:
            want.append((s, "VALID"))
    want.append(("0000:0e:00.0", "GONE"))
    want.sort()
    assert sorted(report_lines(r.lines)) == want, r.describe()
    s = summary(r.lines)
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == \
        (len(eps) - 2, 1, 1, 0, 1), r.describe()
    assert s["removed"] == 2, r.describe()
    # The blob written back has the STALE and GONE nodes removed: it now
    # verifies clean (NEW functions are allowed).
    p = m.pcsctool_verify(m.get(r, "out.img"), base, kho)
    assert p.returncode == 0, p.stdout + p.stderr


def test_verify_strict_and_usage(tmp_path):
    m = EfiMachine(tmp_path, "x64")
    img, _, _ = m.cache()
    r = m.run("verify cache.img --strict", "strict", files={"cache.img": img})
    assert_exit(r, "success")
    assert summary(r.lines)["mode"] == "strict", r.describe()
    r = m.run("verify", "usage")
    assert_exit(r, "usage")
    r = m.run("verify missing.img", "missing")
    assert_exit(r, "io")


def test_verify_corrupt_cache_is_rejected(tmp_path):
    m = EfiMachine(tmp_path, "x64")
    # The app finds base and KHO root by the two FDTs' compatibles; with
    # the pcsc FDT's smashed, the layout must be given explicitly.
    img, base, kho = m.cache(faults=["corrupt=pcsc-compat"])
    r = m.run(f"verify cache.img --base {base:#x} --kho-fdt {kho:#x}", "verify",
              files={"cache.img": img})
    assert_exit(r, "rejected")
    assert not report_lines(r.lines), r.describe()
    assert any(l.startswith("cache rejected: ") for l in r.lines), r.describe()


# --- KHO layouts and --kho-bitmap (issue 12) --------------------------------
# One machine per arch, walked once; every cache is `pcsctool gen --kho
# LAYOUT` of its walk, and what the app must print is computed from the
# blobs pcsctool wrote by khoutil.py (independent of lib/).

STRIDE = 8192    # one entry's pcsc_data block: PAGE_ALIGN(S + 2*S/8), S = 4096
USAGE = ("usage: verify FILE [--strict] [--kho-bitmap 512|4096] [--kho-scratch ADDR:SIZE] "
         "[--out FILE] [--base ADDR --kho-fdt ADDR]")
DETACHED = "detached the pcsc subtree from the KHO FDT"


@pytest.fixture(scope="module", params=["x64", "aa64"])
def efi(request, tmp_path_factory):
    return EfiMachine(tmp_path_factory.mktemp(f"efi-kho-{request.param}"), request.param)


def out_image(m, r, name):
    """The app's out.img of run r, copied to a file of its own."""
    return esp_get(r.esp, "out.img", os.path.join(str(m.tmp), name + "-out.img"))


def all_valid(m):
    return [f"{s} {v}:{d} VALID" for s, v, d, _, kind in m.walk if kind != "bridge"]


def read_as(m, cache, bitmap_bytes):
    """What the session must print when it reads the kho-v1 map's bitmaps
    as bitmap_bytes long (khoutil.expected_reading)."""
    return khoutil.expected_reading(cache, bitmap_bytes,
                                    [(s, v, d) for s, v, d, _, kind in m.walk if kind != "bridge"],
                                    STRIDE)


def assert_kho_line(r, cache, bitmap_bytes):
    """The session's kho line names the root's ABI, the kho-v1 bitmap size
    it read (bitmap_bytes; None for a radix map) and counts what khoutil
    counts in the same map read that way."""
    k = khoutil.kho_line(r)
    want = khoutil.read_map(cache, bitmap_bytes or 512)
    if cache["kho"].startswith("v1"):
        compat, keys = "kho-v1", ("chunks", "bitmaps", "folios")
        assert k["bitmap"] == bitmap_bytes, r.describe()
    else:
        compat, keys = "kho-" + cache["kho"], ("nodes", "leaves", "folios")
        assert "bitmap" not in k, r.describe()
    assert k["compatible"] == compat, r.describe()
    assert {x: k[x] for x in keys} == {x: want[x] for x in keys}, (k, want)


def assert_all_valid(m, r, cache, bitmap_bytes):
    assert_exit(r, "success")
    assert verdicts(r) == all_valid(m), r.describe()
    n = len(all_valid(m))
    s = summary(r.lines)
    assert (s["valid"], s["bad"], s["entries"], s["removed"], s["handover"]) == \
        (n, 0, n, 0, "ok"), r.describe()
    assert_kho_line(r, cache, bitmap_bytes)


def assert_read_as_512(m, r, cache):
    """r read cache's 4096-byte bitmaps as 512 bytes: exactly the entries
    (or the pcsc FDT) past the first 4096 bits of their bitmap are lost."""
    reject, exp = read_as(m, cache, 512)
    assert_kho_line(r, cache, 512)
    s = summary(r.lines)
    if reject:
        assert_exit(r, "rejected")
        assert verdicts(r) == [], r.describe()
        i = r.lines.index(reject)
        assert r.lines[i + 1] == DETACHED and s["handover"] == "detached", r.describe()
    else:
        assert_exit(r, "not-valid")
        assert verdicts(r) == exp, r.describe()
        bad = len([l for l in exp if " BAD " in l])
        assert (s["bad"], s["valid"], s["removed"], s["handover"]) == \
            (bad, len(exp) - bad, bad, "ok"), r.describe()


def assert_pcsctool_agrees(m, r, out, base, kho, extra=()):
    """pcsctool verify passes the written blob and prints the app's sha256."""
    p = m.pcsctool_verify(out, base, kho, extra)
    assert p.returncode == 0, p.stdout + p.stderr
    sha = [l for l in r.lines if l.startswith("sha256 ")]
    assert sha and sha[0] in p.stdout, (sha, p.stdout)


def test_verify_kho_v4_all_valid_and_blob_written(efi):
    """A kho-v4 root (7.2-rc: radix-tree map, preserved-data + blob-size),
    found by the app's layout search, read as a radix tree: every entry
    VALID. The blob written back verifies with pcsctool, and its blob-size
    is the handed-over pcsc FDT's totalsize, inside its pages."""
    cache = efi.gen(name="v4", kho="v4")
    img, base, kho = efi.pack(cache, "v4")
    r = efi.run("verify cache.img --out out.img", "v4", files={"cache.img": img})
    assert f"efi cache cache.img base {base:#x} size {len(img):#x} kho-fdt {kho:#x}" in r.lines
    assert_all_valid(efi, r, cache, None)
    out = out_image(efi, r, "v4")
    assert_pcsctool_agrees(efi, r, out, base, kho)
    with open(out, "rb") as f:
        data = f.read()
    root = data[kho - base:kho - base + 4096]
    off, ln = hostile.fdt_props(root)[("/pcsc", "blob-size")]
    pfdt, room = khoutil.pcsc_fdt(cache)
    total = struct.unpack_from(">I", data, pfdt - base + 4)[0]
    assert ln == 8 and struct.unpack_from("<Q", root, off)[0] == total <= room, r.describe()


def test_verify_kho_v1_4096_needs_kho_bitmap_4096(efi):
    """A 6.18 - 7.0 map (kho-v1, 4096-byte bitmaps): --kho-bitmap 4096
    reads it whole, every entry VALID, and the written blob verifies with
    pcsctool given the same size. Without the flag the app reads 512
    bytes of each bitmap, as the stub does: what lies past the first 4096
    bits is lost (entries BAD `da not preserved`, or the cache rejected
    when the pcsc FDT is such a folio), exactly as the bytes say."""
    cache = efi.gen(name="w4096", kho="v1-4096")
    img, base, kho = efi.pack(cache, "w4096")
    assert read_as(efi, cache, 4096) == (None, all_valid(efi))
    reject, exp = read_as(efi, cache, 512)
    assert reject or any(" BAD " in l for l in exp), exp     # the flag decides
    r = efi.run("verify cache.img --kho-bitmap 4096 --out out.img", "w4096-forced",
                files={"cache.img": img})
    assert_all_valid(efi, r, cache, 4096)
    assert_pcsctool_agrees(efi, r, out_image(efi, r, "w4096-forced"), base, kho,
                           ["--kho-bitmap", "4096"])
    r = efi.run("verify cache.img --out out.img", "w4096-default", files={"cache.img": img})
    assert_read_as_512(efi, r, cache)
    if not reject:
        # the BAD entries removed, what is left verifies read as 512
        assert_pcsctool_agrees(efi, r, out_image(efi, r, "w4096-default"), base, kho)


def test_verify_kho_bitmap_512_on_v1_512_all_valid(efi):
    """A 6.16 map (kho-v1, 512-byte bitmaps) with --kho-bitmap 512."""
    cache = efi.gen(name="w512", kho="v1-512")
    img, _, _ = efi.pack(cache, "w512")
    r = efi.run("verify cache.img --kho-bitmap 512", "w512", files={"cache.img": img})
    assert_all_valid(efi, r, cache, 512)


def test_verify_kho_bitmap_512_overrides_a_luo_root(efi):
    """A LUO child of the KHO root proves 4096-byte bitmaps (6.19+): the
    same v1-4096 map is read whole unforced, and --kho-bitmap 512 forces
    the 512-byte reading (so the flag is not the default in disguise)."""
    cache = efi.gen(name="luo", kho="v1-4096")
    dtb = os.path.join(cache["dir"], "kho.dtb")
    subprocess.run([need_tool("fdtput"), "-c", dtb, "/LUO"], check=True, capture_output=True)
    with open(dtb, "rb") as f:
        assert sorted(khoutil.fdt_children(f.read())) == ["LUO", "pcsc"]
    img, _, _ = efi.pack(cache, "luo")
    r = efi.run("verify cache.img", "luo", files={"cache.img": img})
    assert_all_valid(efi, r, cache, 4096)
    r = efi.run("verify cache.img --kho-bitmap 512", "luo-512", files={"cache.img": img})
    assert_read_as_512(efi, r, cache)


def test_verify_kho_bitmap_4096_on_v1_512_is_rejected(efi):
    """The unsafe direction: a 512-byte-bitmap map forced to 4096. The
    first map entry that proves 512 (bitmap not page aligned, or a start
    off a 4096-bit span) rejects the map and the cache is detached."""
    cache = efi.gen(name="w512-forced", kho="v1-512")
    img, _, _ = efi.pack(cache, "w512-forced")
    span = lambda order: (4096 * 8) << (order + 12)     # noqa: E731
    order, start, bm = next(e for e in khoutil.v1_entries(cache)
                            if e[2] % 4096 or e[1] % span(e[0]))
    r = efi.run("verify cache.img --kho-bitmap 4096", "w512-forced", files={"cache.img": img})
    assert_exit(r, "rejected")
    want = (f"cache rejected: KHO map entry {start:#x}/{bm:#x} proves 512-byte bitmaps, "
            "not 4096")
    i = r.lines.index(want)
    assert r.lines[i + 1] == DETACHED, r.describe()
    assert verdicts(r) == [] and summary(r.lines)["handover"] == "detached", r.describe()


@pytest.mark.parametrize("value", ["1000", "0", ""], ids=["1000", "0", "missing"])
def test_verify_kho_bitmap_bad_value_is_usage(efi, value):
    """Anything but 512 or 4096 (0 too: the session's "unforced") is a
    usage error before the file is read, on a cache that verifies clean."""
    img, _, _ = efi.cache(name="usage-cache")
    r = efi.run(f"verify cache.img --kho-bitmap {value}".rstrip(), f"usage-{value or 'missing'}",
                files={"cache.img": img})
    assert_exit(r, "usage")
    assert USAGE in r.lines, r.describe()
    assert not [l for l in r.lines if l.startswith(("efi cache", "efi read", "summary "))], \
        r.describe()


# --- --kho-scratch: the KHO scratch array -----------------------------------
# As test_kho_abi's stub test: a second scratch region exactly one entry's
# pcsc_data block. `pcsctool pack` writes every manifest blob, so the array
# (kho_scratch.bin, the page after the KHO root) lies inside the packed image
# and the session reads it through the same physmem as the rest.

SZ_16M = 16 << 20


def scratch_cache(m, name):
    """(cache, image, victim SBDF): pcsctool's default scratch region, then
    the victim's pcsc_data block; the block is preserved in the map, so
    only scratch can make it BAD."""
    probe = m.gen(name=name + "-probe")
    das = khoutil.entries_da(probe)
    eps = endpoints(m.walk)
    victim = eps[len(eps) // 2]
    da = das[victim]
    assert (da - blob_addr(probe, "pcsc_data.bin")) % STRIDE == 0
    assert khoutil.preserved(khoutil.read_map(probe)["ranges"], da, STRIDE)
    ram = MACHINE[m.arch][1]
    default = (ram[0] + ram[1] - SZ_16M, 8 << 20)
    cache = m.gen(name=name, scratch=[default, (da, STRIDE)])
    assert khoutil.entries_da(cache) == das          # the layout ignores the scratch
    assert khoutil.scratch_regions(cache) == [(da, da + STRIDE),
                                              (default[0], default[0] + default[1])]
    img, base, _ = m.pack(cache, name)
    addr, size = cache["kho_scratch"]
    assert size == 32 and base <= addr and addr + size <= base + len(img)
    return cache, img, victim


def test_verify_kho_scratch_da_inside_a_region_is_bad(efi):
    """--kho-scratch naming the cache's own array: the entry whose da lies
    in its second region, and only it, is BAD da in KHO scratch, and the
    kho line lists both regions. The same image without the flag: no
    scratch known (scratch=0), every entry VALID - the flag decides."""
    cache, img, victim = scratch_cache(efi, "scratch")
    addr, size = cache["kho_scratch"]
    r = efi.run(f"verify cache.img --kho-scratch {addr:#x}:{size:#x}", "scratch",
                files={"cache.img": img})
    assert_exit(r, "not-valid")
    assert "efi cache placed at its own address" in r.lines, r.describe()
    exp = [f"{s} ffff:ffff BAD da in KHO scratch" if s == victim else f"{s} {v}:{d} VALID"
           for s, v, d, _, kind in efi.walk if kind != "bridge"]
    assert verdicts(r) == exp, r.describe()
    s = summary(r.lines)
    assert (s["valid"], s["bad"], s["removed"], s["handover"]) == \
        (len(exp) - 1, 1, 1, "ok"), r.describe()
    assert_kho_line(r, cache, 512)
    k = khoutil.kho_line(r)
    assert (k["nscratch"], k["scratch"]) == (2, khoutil.scratch_regions(cache)), r.describe()
    r = efi.run("verify cache.img", "scratch-none", files={"cache.img": img})
    assert_all_valid(efi, r, cache, 512)
    k = khoutil.kho_line(r)
    assert (k["nscratch"], k["scratch"]) == (0, []), r.describe()


def test_verify_kho_scratch_not_whole_entries_is_rejected(efi):
    """SIZE is kho_scratch_read's to judge: 24 bytes is no whole number of
    16-byte entries, and the cache is rejected and detached."""
    cache = efi.gen(name="scratch-24")
    img, _, _ = efi.pack(cache, "scratch-24")
    addr = cache["kho_scratch"][0]
    r = efi.run(f"verify cache.img --kho-scratch {addr:#x}:24", "scratch-24",
                files={"cache.img": img})
    assert_exit(r, "rejected")
    i = r.lines.index(f"cache rejected: KHO scratch array {addr:#x}+0x18 not whole "
                      "16-byte entries")
    assert r.lines[i + 1] == DETACHED, r.describe()
    assert verdicts(r) == [] and summary(r.lines)["handover"] == "detached", r.describe()


@pytest.mark.parametrize("value", ["0x1000", "0x1000:0", ""], ids=["no-size", "size-0", "missing"])
def test_verify_kho_scratch_bad_value_is_usage(efi, value):
    """pcsctool's START:SIZE grammar: no colon, a zero SIZE, or no value is a usage error before the file is read."""
    img, _, _ = efi.cache(name="usage-cache")
    r = efi.run(f"verify cache.img --kho-scratch {value}".rstrip(),
                f"scratch-usage-{value or 'missing'}".replace(":", "_"),
                files={"cache.img": img})
    assert_exit(r, "usage")
    assert USAGE in r.lines, r.describe()
    assert not [l for l in r.lines if l.startswith(("efi cache", "efi read", "summary "))], \
        r.describe()
