# tests/qemu/test_x86_hostile.py - every hostile cache of hostile.CASES on x86 q35: exact report, the next kernel
# (a fake bzImage the stub places and enters) still entered, guest RAM unchanged outside what the stub may write.
import os
import re

import pytest

import hostile
from stubout import pcsc_lines, walk_lines
from topology import walk_to_topo
from ramcheck import assert_ram_intact, run_snapshots
from x86util import (BootParams, assert_x86_exit, fake_next_kernel, machine_e820, run_x86,
                     stub_flat_binary, x86_cmd)

MEM = 256
BP = 0x800000                    # boot_params page (+ command line, setup_data)
NEXT = 0x2000000                 # where the test puts the next kernel's bzImage
CACHE_AT = 0x8000000             # pcsctool gen --at
BIG_AT = 0x9000000               # the 100,000-node FDT (4.8 MB)
DEVS = ["e1000e,addr=2.0,netdev=n0", "virtio-net-pci,addr=3.0,multifunction=on,netdev=n1",
        "virtio-blk-pci,addr=3.1,drive=d0", "e1000e,addr=4.0,netdev=n2",
        # an empty root port: SeaBIOS gives it bus 1, on which every
        # config read answers all ones
        "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5.0"]
EXTRA = (["-drive", "if=none,id=d0,file=null-co://,format=raw"]
         + [a for i in range(3) for a in ("-netdev", f"user,id=n{i}")])
ENTRY = re.compile(r"^x86_64 entry pvh image (0x[0-9a-f]+)-(0x[0-9a-f]+) ")
PLACED = re.compile(r"^next kernel protocol \S+ at (0x[0-9a-f]+) init_size (0x[0-9a-f]+): "
                    r"jump (0x[0-9a-f]+) rsi=(0x[0-9a-f]+)$")


class X86Hostile:
    def __init__(self, tmp):
        self.tmp = tmp
        r = run_x86(devices=DEVS, extra=EXTRA, mem=f"{MEM}M")
        assert_x86_exit(r)
        self.first = r
        m = ENTRY.match(r.lines[0])
        assert m, r.describe()
        self.stub = (int(m.group(1), 16), int(m.group(2), 16) - int(m.group(1), 16))
        self.ecam = int(next(re.match(r"^ecam 0000:00-ff at (0x[0-9a-f]+)$", l).group(1)
                             for l in r.lines if l.startswith("ecam ")), 16)
        self.e820 = machine_e820(DEVS, EXTRA, mem_mib=MEM)
        self.ram_top = max(a + s for a, s, t in self.e820 if t == 1)
        self.next = fake_next_kernel(tmp)
        self.walk = walk_lines(r.lines)
        self.topo = walk_to_topo(self.walk, self.ecam)
        self.saved = [(s, v, d) for s, v, d, _, k in self.walk if k in ("ep", "pf", "vf")]
        eps = [s for s, _, _, c, k in self.walk if k == "ep" and c != "060000"]
        present = {f[0] for f in self.walk}
        gone = next(f"0000:00:{d:02x}.0" for d in range(30, 0, -1)
                    if f"0000:00:{d:02x}.0" not in present)
        head = open(stub_flat_binary(), "rb").read(4)
        self.facts = {
            "ram": (0, self.ram_top), "ecam": self.ecam, "stub": self.stub,
            "stub_magic": int.from_bytes(head, "big"),
            "mmio": self.ecam, "past_ram": 0x100000000 + 0x10000000,
            "bootdata": BP, "big_at": BIG_AT,
            "roles": {"a": eps[0], "b": eps[1], "z": eps[-1], "gone": gone},
        }
        # Dumped: the e820 RAM (low 640 KiB, and 1 MiB to its end), first
        # when the stub's PVH entry runs (SeaBIOS is done by then).
        self.ram = [(a, s) for a, s, t in self.e820 if t == 1]

    def run(self, case, initrd_over_pcsc=False):
        fx = hostile.gen_fixture(self.tmp, case, self.topo, (0, self.ram_top), CACHE_AT, "x86",
                                 self.facts, self.saved)
        bp = BootParams(BP, e820=self.e820)
        if initrd_over_pcsc:
            bp.ramdisk = fx.pcsc_pages      # the next kernel's initrd, as the loader says
        bp.add_kho(fx.kho[0], fx.kho[1], *fx.scratch)
        dev = [f"loader,file={p},addr={a:#x},force-raw=on" for p, a in fx.loaders()]
        dev += [f"loader,file={self.next},addr={NEXT:#x},force-raw=on",
                bp.loader(self.tmp, f"bp-{case.name}.bin")] + DEVS
        size = os.path.getsize(self.next)
        cmd = x86_cmd(devices=dev, extra=EXTRA, mem=f"{MEM}M",
                      append=f"pcsc.exit=debug pcsc.boot_params={BP:#x} "
                             f"pcsc.x86.next={NEXT:#x},{size:#x}")
        self.bp_size = len(bp.image())
        return fx, run_snapshots(cmd, self.tmp, self.ram, "next: done", timeout=30,
                                  break_at=self.stub[0])


@pytest.fixture(scope="module")
def hm(tmp_path_factory):
    return X86Hostile(tmp_path_factory.mktemp("x86hostile"))


def allowed_ranges(hm, fx, lines):
    """What may change between QEMU's reset and the next kernel's first
    line: the stub's image with BSS and stack, the next kernel where the
    stub placed it (init_size), the boot_params page (the stub merges the
    next kernel's setup header into it), the pcsc FDT pages, the KHO root
    page when the stub detached the pcsc subtree there. The first dump is
    taken at the stub's PVH entry, so firmware writes are not counted."""
    m = [PLACED.match(l) for l in lines]
    m = next(x for x in m if x)
    # this boot's own footprint line: the stub ELF is read from the build
    # tree at every boot (a rebuild between boots changes its size)
    e = next((ENTRY.match(l) for l in lines if ENTRY.match(l)), None)
    stub = (int(e.group(1), 16), int(e.group(2), 16) - int(e.group(1), 16)) if e else hm.stub
    out = [(stub[0], stub[1], "stub image+BSS+stack"),
           (int(m.group(1), 16), int(m.group(2), 16), "next kernel placed by the stub"),
           (BP, hm.bp_size, "boot_params (next kernel's header merged)"),
           (fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT pages")]
    if "detached the pcsc subtree from the KHO FDT" in lines:
        out.append((fx.kho[0] & ~0xfff, 0x1000, "KHO root FDT (pcsc child NOPed)"))
    return out


@pytest.mark.parametrize("case", hostile.CASES, ids=lambda c: c.name)
def test_x86_hostile(hm, case):
    fx, snap = hm.run(case)
    lines = pcsc_lines(snap["serial"])
    ctx = f"case {case.name}\n--- serial ---\n{snap['serial'][-6000:]}"
    assert snap["reached"], "next kernel not reached\n" + ctx
    entered = [l for l in snap["serial"].splitlines() if l.startswith("next: entry64 at ")]
    assert len(entered) == 1 and f" rsi {BP:#x} " in entered[0], ctx
    assert len([l for l in lines if PLACED.match(l)]) == 1, ctx
    assert not [l for l in lines if l.startswith("exception")], ctx
    errs = hostile.check_report(case, fx, lines)
    assert not errs, "\n".join(errs) + "\n" + ctx
    if case.reject is not None and case.detached:
        # fail closed, checked where the next kernel looks: no pcsc child
        # left in the KHO root in guest RAM (there was one before the stub)
        assert hostile.pcsc_children_in_ram(snap, hm.ram, fx, "before") == ["pcsc"], ctx
        assert hostile.pcsc_children_in_ram(snap, hm.ram, fx) == [], ctx
    must = []
    if "handover=ok" in " ".join(lines):
        must.append((fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT (hand-over properties)"))
    assert_ram_intact(snap, hm.ram, allowed_ranges(hm, fx, lines), must_change=must)


def test_x86_hostile_all_ones_bus(hm):
    """The empty root port's bus: every read there answers all ones; the
    walk scans it once (device 0 only, below a root port) and finds nothing."""
    lines = hm.first.lines
    rp = [w for w in hm.walk if w[4] == "bridge"]
    assert [w[0] for w in rp] == ["0000:00:05.0"], lines
    assert not [w for w in hm.walk if w[0].startswith("0000:01:")], lines
    tot = [l for l in lines if l.startswith("walk functions=")][0]
    assert " buses=2 " in tot and " bad_bridges=0 " in tot, lines


def test_x86_ramcheck_names_the_first_changed_byte(hm):
    """The check can fail: leave the pcsc FDT pages out of the allowed
    ranges and it must report an address inside them."""
    case = next(c for c in hostile.CASES if c.name == "da_unaligned")
    fx, snap = hm.run(case)
    lines = pcsc_lines(snap["serial"])
    allowed = [r for r in allowed_ranges(hm, fx, lines) if r[2] != "pcsc FDT pages"]
    with pytest.raises(AssertionError) as e:
        assert_ram_intact(snap, hm.ram, allowed)
    at = int(re.search(r"RAM changed at (0x[0-9a-f]+)", str(e.value)).group(1), 16)
    assert fx.pcsc_pages[0] <= at < fx.pcsc_pages[0] + fx.pcsc_pages[1], str(e.value)


def test_x86_hostile_100000_nodes_within_bounds(hm):
    """The index is built in one bounded pass over the structure block that
    stops at its cap (the arena's room, far below 100,000 entries): refused
    there, before any entry is judged and before the walk: 0 config reads,
    0 verdict lines, no entry counted past the cap."""
    from stubout import summary
    import hostile as h
    case = next(c for c in h.CASES if c.name == "pcsc_100000_nodes")
    fx, snap = hm.run(case)
    lines = pcsc_lines(snap["serial"])
    s = summary(lines)
    assert snap["reached"] and s, snap["serial"]
    assert (s["cfg_reads"], s["funcs"], s["handover"]) == (0, 0, "detached"), lines
    assert s["entries"] < 100000, lines
    assert h.verdict_lines(lines) == [], lines
    assert_ram_intact(snap, hm.ram, allowed_ranges(hm, fx, lines))


def test_x86_hostile_pcsc_fdt_inside_the_initrd_is_not_written(hm):
    """A pcsc FDT whose pages boot_params gives the next kernel as its
    initrd (owned memory): the stub must not write there."""
    import hostile as h
    case = h.Case("pcsc_fdt_inside_the_initrd")
    fx, snap = hm.run(case, initrd_over_pcsc=True)
    lines = pcsc_lines(snap["serial"])
    assert snap["reached"], snap["serial"]
    assert any(l.startswith("cache rejected: pcsc FDT ") and l.endswith(" overlaps memory it must not")
               for l in lines), lines
    assert "detached the pcsc subtree from the KHO FDT" in lines, lines
    allowed = [r for r in allowed_ranges(hm, fx, lines) if r[2] != "pcsc FDT pages"]
    assert_ram_intact(snap, hm.ram, allowed)


def test_x86_checked_run_finds_the_stub_and_the_pcsc_fdt(hm):
    """ramcheck.checked_run (what run_qemu uses for every stub boot): stops
    at the PVH entry and at the jump; the ranges the stub may write are
    its image, the pcsc FDT pages (from the KHO root in the 'before' dump),
    boot_params and the next kernel's placement."""
    import hostile as h
    from qemurun import O
    from ramcheck import checked_run
    case = next(c for c in h.CASES if c.name == "da_unaligned")
    fx = h.gen_fixture(hm.tmp, case, hm.topo, (0, hm.ram_top), CACHE_AT, "x86", hm.facts,
                       hm.saved)
    bp = BootParams(BP, e820=hm.e820)
    bp.add_kho(fx.kho[0], fx.kho[1], *fx.scratch)
    dev = [f"loader,file={p},addr={a:#x},force-raw=on" for p, a in fx.loaders()]
    dev += [f"loader,file={hm.next},addr={NEXT:#x},force-raw=on",
            bp.loader(hm.tmp, "bp-checked.bin")] + DEVS
    cmd = x86_cmd(devices=dev, extra=EXTRA, mem=f"{MEM}M",
                  append=f"pcsc.exit=debug pcsc.boot_params={BP:#x} "
                         f"pcsc.x86.next={NEXT:#x},{os.path.getsize(hm.next):#x}")
    rc, timed_out, text, _, rep = checked_run(cmd, 60, O)
    assert not timed_out and "next: done" in text, text
    assert rep and rep["checked"], rep
    whys = [w for _, _, w in rep["allowed"]]
    assert whys == ["stub image+BSS+stack", "pcsc FDT pages",
                    "boot_params (next kernel header merged)", "next kernel placed by the stub"], rep
    assert (rep["allowed"][1][0], rep["allowed"][1][1]) == fx.pcsc_pages, rep
