# tests/qemu/test_arm64_hostile.py - every hostile cache of hostile.CASES on arm64 virt: exact report, the next
# kernel (test payload wrapped with the stub) still entered, guest RAM unchanged outside what the stub may write.
import os
import re
import struct
import subprocess

import pytest

import hostile
from arm64util import (arm64_cmd, arm64_dumpdtb, arm64_machine_facts, ARM64_STUB, next_payload,
                       wrap_arm64)
from dtbutil import dtb_add_kho
from qemurun import run_qemu
from stubout import walk_lines
from topology import walk_to_topo
from ramcheck import assert_ram_intact, run_snapshots

RAM = (0x40000000, 0x10000000)          # -m 256M
CACHE_AT = RAM[0] + 0xc000000           # pcsctool gen --at: clear of image and DTB
BIG_AT = RAM[0] + 0x8000000 + 0x400000  # the 100,000-node FDT (4.8 MB)
DEVS = ["e1000e,addr=2.0,netdev=n0", "virtio-net-pci,addr=3.0,multifunction=on,netdev=n1",
        "virtio-blk-pci,addr=3.1,drive=d0", "e1000e,addr=4.0,netdev=n2",
        # a root port: QEMU -kernel leaves it unnumbered (secondary 0), a
        # bridge whose secondary bus points back at its own bus 0
        "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5.0", "e1000e,bus=rp1,netdev=n3"]
EXTRA = (["-drive", "if=none,id=d0,file=null-co://,format=raw"]
         + [a for i in range(4) for a in ("-netdev", f"user,id=n{i}")])
ENTERED = re.compile(r"^next: entered EL1 x0=(0x[0-9a-f]+) dtb=ok x1-x3=0 mmu=off dcache=off$",
                     re.M)


class Arm64Hostile:
    """The machine, its walk, the wrapped stub + parking next kernel."""

    def __init__(self, tmp):
        self.tmp = tmp
        facts = arm64_machine_facts(tmp, devices=DEVS, extra=EXTRA)
        self.dtb = arm64_dumpdtb(tmp, devices=DEVS, extra=EXTRA, mem="256M", name="h.dtb")
        nxt = next_payload(tmp, facts)
        # the walk boot's next kernel powers off; the cases' one parks
        self.img_off = wrap_arm64(ARM64_STUB, nxt, os.path.join(str(tmp), "walk.Image"))
        b = bytearray(open(nxt, "rb").read())
        struct.pack_into("<Q", b, 0x40 + 48, 0)      # psci 0: park, RAM can be read
        open(nxt, "wb").write(bytes(b))
        self.img = wrap_arm64(ARM64_STUB, nxt, os.path.join(str(tmp), "hostile.Image"))
        head = open(self.img, "rb").read(64)
        self.image_size = struct.unpack_from("<Q", head, 0x10)[0]
        r = run_qemu(arm64_cmd(kernel=self.img_off, dtb=self.dtb, devices=DEVS, extra=EXTRA,
                               mem="256M"))
        assert ENTERED.search(r.out), r.describe()
        self.first = r
        m = re.match(r"^arm64 entry EL1 image (0x[0-9a-f]+)-(0x[0-9a-f]+) dtb (0x[0-9a-f]+)$",
                     r.lines[0])
        assert m, r.describe()
        self.base = int(m.group(1), 16)
        self.dtb_at = int(m.group(3), 16)
        self.walk = walk_lines(r.lines)
        self.topo = walk_to_topo(self.walk, facts["ecam"])
        self.saved = [(s, v, d) for s, v, d, _, k in self.walk if k in ("ep", "pf", "vf")]
        eps = [s for s, _, _, c, k in self.walk if k == "ep" and c != "060000"]
        present = {f[0] for f in self.walk}
        gone = next(f"0000:00:{d:02x}.0" for d in range(31, 0, -1)
                    if f"0000:00:{d:02x}.0" not in present)
        self.facts = {
            "ram": RAM, "ecam": facts["ecam"], "stub": (self.base, self.image_size),
            "stub_magic": struct.unpack(">I", head[:4])[0],
            "mmio": facts["uart"] & ~0xfff, "past_ram": RAM[0] + RAM[1] + 0x10000000,
            "bootdata": self.dtb_at & ~0xfff, "big_at": BIG_AT,
            "roles": {"a": eps[0], "b": eps[1], "z": eps[-1], "gone": gone},
        }

    def run(self, case, initrd_over_pcsc=False):
        fx = hostile.gen_fixture(self.tmp, case, self.topo, RAM, CACHE_AT, "arm64",
                                 self.facts, self.saved)
        dtb = os.path.join(str(self.tmp), case.name + ".dtb")
        subprocess.run(["cp", self.dtb, dtb], check=True)
        dtb_add_kho(dtb, fx.kho[0], fx.kho[1], fx.scratch)
        if initrd_over_pcsc:
            # the loader declares the pcsc FDT pages to be the next kernel's initrd
            a, n = fx.pcsc_pages
            for prop, v in (("linux,initrd-start", a), ("linux,initrd-end", a + n)):
                subprocess.run(["fdtput", "-t", "x", dtb, "/chosen", prop, hex(v >> 32),
                                hex(v & 0xffffffff)], check=True)
        dev = DEVS + [f"loader,file={p},addr={a:#x},force-raw=on" for p, a in fx.loaders()]
        cmd = arm64_cmd(kernel=self.img, dtb=dtb, devices=dev, extra=EXTRA, mem="256M")
        snap = run_snapshots(cmd, self.tmp, [RAM], "next: entered", timeout=30)
        return fx, snap


@pytest.fixture(scope="module")
def hm(tmp_path_factory):
    return Arm64Hostile(tmp_path_factory.mktemp("arm64hostile"))


def allowed_ranges(hm, fx, lines):
    """What the stub may write: its own image (stack and BSS inside it, the
    wrapped next kernel runs in place), the pcsc FDT pages, and the KHO root
    page only when it detached the pcsc subtree there."""
    out = [(hm.base, hm.image_size, "stub image+BSS+stack, next kernel in place"),
           (fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT pages")]
    if "detached the pcsc subtree from the KHO FDT" in lines:
        out.append((fx.kho[0] & ~0xfff, 0x1000, "KHO root FDT (pcsc child NOPed)"))
    return out


@pytest.mark.parametrize("case", hostile.CASES, ids=lambda c: c.name)
def test_arm64_hostile(hm, case):
    fx, snap = hm.run(case)
    from stubout import pcsc_lines
    lines = pcsc_lines(snap["serial"])
    ctx = f"case {case.name}\n--- serial ---\n{snap['serial'][-6000:]}"
    # the next kernel was entered, after exactly one jump, with the same DTB
    assert snap["reached"], "next kernel not reached\n" + ctx
    e = ENTERED.search(snap["serial"])
    assert e and int(e.group(1), 16) == hm.dtb_at, ctx
    assert len([l for l in lines if l.startswith("jump to ")]) == 1, ctx
    assert not [l for l in lines if l.startswith("exception")], ctx
    errs = hostile.check_report(case, fx, lines)
    assert not errs, "\n".join(errs) + "\n" + ctx
    if case.reject is not None and case.detached:
        # fail closed, checked where the next kernel looks: no pcsc child
        # left in the KHO root in guest RAM (there was one before the stub)
        assert hostile.pcsc_children_in_ram(snap, [RAM], fx, "before") == ["pcsc"], ctx
        assert hostile.pcsc_children_in_ram(snap, [RAM], fx) == [], ctx
    must = []
    if "handover=ok" in " ".join(lines):
        must.append((fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT (hand-over properties)"))
    assert_ram_intact(snap, [RAM], allowed_ranges(hm, fx, lines), must_change=must)


def test_arm64_hostile_unnumbered_bridge_loops_back(hm):
    """The root port QEMU leaves unnumbered (secondary 0 = its own bus):
    named, not followed, the device behind it never reached."""
    lines = hm.first.lines
    assert "walk: 0000:00:05.0 bridge unnumbered (secondary 0): nothing behind it seen" in lines
    tot = [l for l in lines if l.startswith("walk functions=")][0]
    assert " buses=1 " in tot and " unnumbered_bridges=1 " in tot, lines


def test_arm64_ramcheck_names_the_first_changed_byte(hm):
    """The check can fail: leave the pcsc FDT pages out of the allowed
    ranges and it must report an address inside them (the stub rewrote
    that FDT when it removed the BAD entry)."""
    case = next(c for c in hostile.CASES if c.name == "da_unaligned")
    fx, snap = hm.run(case)
    allowed = [r for r in allowed_ranges(hm, fx, []) if r[2] != "pcsc FDT pages"]
    with pytest.raises(AssertionError) as e:
        assert_ram_intact(snap, [RAM], allowed)
    at = int(re.search(r"RAM changed at (0x[0-9a-f]+)", str(e.value)).group(1), 16)
    assert fx.pcsc_pages[0] <= at < fx.pcsc_pages[0] + fx.pcsc_pages[1], str(e.value)


def test_arm64_hostile_100000_nodes_within_bounds(hm):
    """The index is built in one bounded pass over the structure block that
    stops at its cap (the arena's room, far below 100,000 entries): refused
    there, before any entry is judged and before the walk: 0 config reads,
    0 verdict lines, no entry counted past the cap."""
    case = next(c for c in hostile.CASES if c.name == "pcsc_100000_nodes")
    fx, snap = hm.run(case)
    from stubout import pcsc_lines, summary
    lines = pcsc_lines(snap["serial"])
    s = summary(lines)
    assert snap["reached"] and s, snap["serial"]
    assert (s["cfg_reads"], s["funcs"], s["handover"]) == (0, 0, "detached"), lines
    assert s["entries"] < 100000, lines
    assert hostile.verdict_lines(lines) == [], lines
    assert_ram_intact(snap, [RAM], allowed_ranges(hm, fx, lines))


HOSTILE_TOPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                            "topo", "hostile.topo")
# docs/bounds.md, stage "walk": reads <= 256 * B + CRS_BUDGET * K + PER_FUNC * F
CRS_BUDGET = 1000
PER_FUNC = 2 + 50 + 3 + 480 + 1 + 5


def test_hostile_topology_sim_within_bounds(tmp_path):
    """CRS forever, capability loops, bridges that loop back, VFs past bus
    255: what QEMU cannot produce, through the stub's own session on the
    simulated machine (pcsctool verify). Every anomaly named once, and the
    config reads within the walk's documented bound while the CRS-forever
    device's whole retry budget was spent."""
    from cacheutil import PCSCTOOL
    from stubout import pcsc_lines, summary
    d = os.path.join(str(tmp_path), "c")
    subprocess.run([PCSCTOOL, "gen", HOSTILE_TOPO, "--out", d], check=True,
                   capture_output=True)
    r = subprocess.run([PCSCTOOL, "verify", "--topology", HOSTILE_TOPO, d],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = pcsc_lines(r.stdout)
    for want in [
            "walk: 0000:00:01.0 bridge unnumbered (secondary 0): nothing behind it seen",
            "walk: 0000:02:00.0 bridge secondary 01 subordinate 01 not above its own bus: "
            "not followed",
            "walk: 0000:00:03.0 bridge secondary 04 subordinate 03 inverted: not followed",
            "walk: 0000:00:04.0 bridge secondary 02 subordinate 02 claims a bus already walked: "
            "not followed",
            "walk: 0000:06:00.0 capability list loops: treated as conventional PCI",
            "walk: 0000:07:00.0 extended capability list loops",
            "walk: 0000:09:00.0 still CRS after the retry budget: treated as absent",
            "walk: 0000:fe:00.0 SR-IOV: 7 of 8 VFs past bus ff: ignored"]:
        assert lines.count(want) == 1, (want, lines)
    s = summary(lines)
    buses, crs_devices = 9, 2          # hostile.topo: walked buses, devices answering CRS
    bound = 256 * buses + CRS_BUDGET * crs_devices + PER_FUNC * s["funcs"]
    assert CRS_BUDGET < s["cfg_reads"] <= bound, (s, bound)
    assert (s["valid"], s["entries"], s["handover"]) == (7, 7, "ok"), lines


def test_arm64_hostile_pcsc_fdt_inside_the_initrd_is_not_written(hm):
    """A pcsc FDT whose pages the loader gave the next kernel as its initrd
    (owned memory, like the stub and the DTB): the stub must not write
    there. Only the stub's image and the KHO root (detach) may change."""
    case = hostile.Case("pcsc_fdt_inside_the_initrd")
    fx, snap = hm.run(case, initrd_over_pcsc=True)
    from stubout import pcsc_lines
    lines = pcsc_lines(snap["serial"])
    assert snap["reached"], snap["serial"]
    assert "initrd " + f"{fx.pcsc_pages[0]:#x}-{fx.pcsc_pages[0] + fx.pcsc_pages[1]:#x}" \
        in lines, lines
    assert any(l.startswith("cache rejected: pcsc FDT ") and l.endswith(" overlaps memory it must not")
               for l in lines), lines
    assert "detached the pcsc subtree from the KHO FDT" in lines, lines
    allowed = [r for r in allowed_ranges(hm, fx, lines) if r[2] != "pcsc FDT pages"]
    assert_ram_intact(snap, [RAM], allowed)


def test_arm64_checked_run_finds_the_stub_and_the_pcsc_fdt(hm):
    """ramcheck.checked_run (what run_qemu uses for every stub boot): the
    guest is stopped at the stub's entry and at its jump, and the ranges
    the stub may write are found from its console and the KHO root in the
    'before' dump: exactly the image and the pcsc FDT pages here."""
    from qemurun import O
    from ramcheck import checked_run
    case = next(c for c in hostile.CASES if c.name == "da_unaligned")
    fx = hostile.gen_fixture(hm.tmp, case, hm.topo, RAM, CACHE_AT, "arm64", hm.facts, hm.saved)
    dtb = os.path.join(str(hm.tmp), "checked.dtb")
    subprocess.run(["cp", hm.dtb, dtb], check=True)
    dtb_add_kho(dtb, fx.kho[0], fx.kho[1], fx.scratch)
    dev = DEVS + [f"loader,file={p},addr={a:#x},force-raw=on" for p, a in fx.loaders()]
    rc, timed_out, text, _, rep = checked_run(
        arm64_cmd(kernel=hm.img_off, dtb=dtb, devices=dev, extra=EXTRA, mem="256M"), 60, O)
    assert rc == 0 and not timed_out and ENTERED.search(text), text
    assert rep and rep["checked"], rep
    stub_end = int(re.search(r"image 0x[0-9a-f]+-(0x[0-9a-f]+)", text).group(1), 16)
    assert [(a, n) for a, n, _ in rep["allowed"]] == \
        [(hm.base, stub_end - hm.base), fx.pcsc_pages], rep


def test_arm64_hostile_all_ones_bus(tmp_path):
    """An empty root port numbered by the old-kernel payload: its bus 1
    answers all ones everywhere; the walk scans it once and finds nothing.
    Below a root port only device 0 can exist (PCIe), so the bus costs one
    all-ones read: the port's own probe (<= 1 + 541 reads) plus that one."""
    from arm64util import Arm64Machine
    one = Arm64Machine(tmp_path, ["pcie-root-port,id=rp9,chassis=9,slot=9,addr=9.0"]).boot()
    none = Arm64Machine(tmp_path, []).boot()
    tot = {}
    for name, r in (("port", one), ("none", none)):
        line = [l for l in r.lines if l.startswith("walk functions=")]
        assert line and r.rc == 0, r.describe()
        tot[name] = dict(kv.split("=") for kv in line[0].split()[1:])
    assert (tot["port"]["buses"], tot["port"]["bad_bridges"]) == ("2", "0"), tot
    walked = walk_lines(one.lines)
    assert [w[0] for w in walked if w[4] == "bridge"] == ["0000:00:09.0"], one.lines
    assert not [w for w in walked if w[0].startswith("0000:01:")], one.lines
    port_reads = int(tot["port"]["cfg_reads"]) - int(tot["none"]["cfg_reads"])
    assert 4 < port_reads <= 1 + 541 + 1, tot
