# tests/qemu/test_hostile.py - every hostile cache of hostile.CASES on arm64 virt and x86 q35, one module parametrised
# by arch: exact report, the next kernel still entered, guest RAM unchanged outside what the stub may write.
"""Hostile caches (issue 8) on both arches.

The next kernel is the test payload wrapped with the stub on arm64 (it
parks, RAM readable) and a fake bzImage the stub places and enters on
x86. An adapter per arch (Arm64Hostile, X86Hostile) builds the machine,
says how a case boots (KHO in /chosen or in boot_params' setup_data), how
the entry into the next kernel looks and what the stub may write; the
tests are the same for both. Tests one arch has alone run with that arch
as the only param (`on`).
"""
import os
import re
import struct
import subprocess
from dataclasses import dataclass

import pytest

import hostile
import ramcheck
from qemurun import arches, only
from ramcheck import assert_ram_intact, run_snapshots
from stubout import pcsc_lines, summary, walk_lines
from topology import walk_to_topo

# The same devices on both machines: two e1000e, a multi-function virtio
# pair, a root port (arm64 adds a device behind it, see Arm64Hostile).
DEVS = ["e1000e,addr=2.0,netdev=n0", "virtio-net-pci,addr=3.0,multifunction=on,netdev=n1",
        "virtio-blk-pci,addr=3.1,drive=d0", "e1000e,addr=4.0,netdev=n2",
        "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5.0"]


def backends(netdevs):
    """The drive and netdevs DEVS (and arm64's extra e1000e) name."""
    return (["-drive", "if=none,id=d0,file=null-co://,format=raw"]
            + [a for i in range(netdevs) for a in ("-netdev", f"user,id=n{i}")])


def walk_totals(lines):
    """The key=value fields of the walk's 'walk functions=' line."""
    tot = [l for l in lines if l.startswith("walk functions=")]
    assert tot, lines
    return dict(kv.split("=") for kv in tot[0].split()[1:])


class Hostile:
    """What both adapters share: the first boot's walk, the facts
    hostile.gen_fixture reads, a case booted with guest RAM dumped before
    the stub and once the next kernel is entered."""
    break_at = None

    def learn(self, first, ecam, last_dev, **facts):
        self.first = first
        self.walk = walk_lines(first.lines)
        self.topo = walk_to_topo(self.walk, ecam)
        self.saved = [(s, v, d) for s, v, d, _, k in self.walk if k in ("ep", "pf", "vf")]
        eps = [s for s, _, _, c, k in self.walk if k == "ep" and c != "060000"]
        present = {f[0] for f in self.walk}
        gone = next(f"0000:00:{d:02x}.0" for d in range(last_dev, 0, -1)
                    if f"0000:00:{d:02x}.0" not in present)
        self.facts = dict(facts, ecam=ecam,
                          roles={"a": eps[0], "b": eps[1], "z": eps[-1], "gone": gone})

    def fixture(self, case):
        return hostile.gen_fixture(self.tmp, case, self.topo, self.facts["ram"], self.cache_at,
                                   self.kind, self.facts, self.saved)

    def run(self, case, initrd_over_pcsc=False):
        fx = self.fixture(case)
        cmd = self.command(fx, case.name, initrd_over_pcsc)
        return fx, run_snapshots(cmd, self.tmp, self.ram, self.until, timeout=30,
                                 break_at=self.break_at)

    def run_reported(self, case):
        """run(case), then what every case asserts first: the next kernel
        reached and entered once, no exception line, the stub's report
        exactly as the case expects (hostile.check_report). Returns (fx,
        snap, the pcsc lines, a context text for asserts)."""
        fx, snap = self.run(case)
        lines = pcsc_lines(snap["serial"])
        ctx = f"case {case.name}\n--- serial ---\n{snap['serial'][-6000:]}"
        assert snap["reached"], "next kernel not reached\n" + ctx
        self.assert_entered_once(snap["serial"], lines, ctx)
        assert not [l for l in lines if l.startswith("exception")], ctx
        errs = hostile.check_report(case, fx, lines)
        assert not errs, "\n".join(errs) + "\n" + ctx
        return fx, snap, lines, ctx

    def symbol(self, name):
        """Where the stub's function name runs in this machine (the ELF's
        nm; arm64's addresses are offsets from the image start)."""
        from qemurun import O
        elf = os.path.join(O, self.elf_arch, "pcsc-stub.elf")
        out = subprocess.run([self.nm, elf], capture_output=True, text=True, check=True).stdout
        found = [int(t[0], 16) for t in (l.split() for l in out.splitlines())
                 if len(t) == 3 and t[2] == name]
        assert len(found) == 1, (name, found)
        return self.load_base() + found[0]

    def detach_range(self, fx, lines):
        """The KHO root page, when the stub detached the pcsc subtree there."""
        if "detached the pcsc subtree from the KHO FDT" in lines:
            return [(fx.kho[0] & ~0xfff, 0x1000, "KHO root FDT (pcsc child NOPed)")]
        return []

    def reader(self, snap, which="before"):
        """read(addr, n): guest RAM in snap's which dump, None where not dumped."""
        def read(a, n):
            try:
                return hostile.ram_bytes(snap, self.ram, a, n, which)
            except AssertionError:
                return None
        return read

    def assert_root_untouched(self, fx, snap, ctx):
        """The KHO root's page (where the dump holds it) as the loader left it."""
        page = fx.kho[0] & ~0xfff
        before = self.reader(snap)(page, 0x1000)
        if before is not None:
            assert self.reader(snap, "after")(page, 0x1000) == before, ctx


ARM64_RAM = (0x40000000, 0x10000000)                   # -m 256M
ARM64_ENTERED = re.compile(r"^next: entered EL1 x0=(0x[0-9a-f]+) dtb=ok x1-x3=0 mmu=off "
                           r"dcache=off$", re.M)


class Arm64Hostile(Hostile):
    """arm64 virt: the wrapped stub + the parking next kernel; KHO in /chosen."""
    kind = "arm64"
    cache_at = ARM64_RAM[0] + 0xc000000                # pcsctool gen --at: clear of image and DTB
    elf_arch, nm = "arm64", "aarch64-linux-gnu-nm"
    # faultinject: first argument and pc registers, breakpoint length
    arg0, pc_reg, bp_len = 0, 32, 4
    fault_at = re.compile(r" far=(0x[0-9a-f]+) ")
    ram = [ARM64_RAM]
    until = "next: entered"
    # a root port QEMU -kernel leaves unnumbered (secondary 0), a bridge
    # whose secondary bus points back at its own bus 0, a device behind it
    devs = DEVS + ["e1000e,bus=rp1,netdev=n3"]
    extra = backends(4)

    def __init__(self, tmp):
        from arm64util import (arm64_cmd, arm64_dumpdtb, arm64_machine_facts, ARM64_STUB,
                               next_payload, wrap_arm64)
        from qemurun import run_qemu
        self.tmp = tmp
        facts = arm64_machine_facts(tmp, devices=self.devs, extra=self.extra)
        self.dtb = arm64_dumpdtb(tmp, devices=self.devs, extra=self.extra, mem="256M",
                                 name="h.dtb")
        nxt = next_payload(tmp, facts)
        # the walk boot's next kernel powers off; the cases' one parks
        self.img_off = wrap_arm64(ARM64_STUB, nxt, os.path.join(str(tmp), "walk.Image"))
        b = bytearray(open(nxt, "rb").read())
        struct.pack_into("<Q", b, 0x40 + 48, 0)      # psci 0: park, RAM can be read
        open(nxt, "wb").write(bytes(b))
        self.img = wrap_arm64(ARM64_STUB, nxt, os.path.join(str(tmp), "hostile.Image"))
        head = open(self.img, "rb").read(64)
        self.image_size = struct.unpack_from("<Q", head, 0x10)[0]
        r = run_qemu(arm64_cmd(kernel=self.img_off, dtb=self.dtb, devices=self.devs,
                               extra=self.extra, mem="256M"))
        assert ARM64_ENTERED.search(r.out), r.describe()
        m = re.match(r"^arm64 entry EL1 image (0x[0-9a-f]+)-(0x[0-9a-f]+) dtb (0x[0-9a-f]+)$",
                     r.lines[0])
        assert m, r.describe()
        self.base = int(m.group(1), 16)
        self.dtb_at = int(m.group(3), 16)
        self.learn(r, facts["ecam"], 31, ram=ARM64_RAM, stub=(self.base, self.image_size),
                   stub_magic=struct.unpack(">I", head[:4])[0], mmio=facts["uart"] & ~0xfff,
                   past_ram=ARM64_RAM[0] + ARM64_RAM[1] + 0x10000000,
                   bootdata=self.dtb_at & ~0xfff,
                   big_at=ARM64_RAM[0] + 0x8000000 + 0x400000)   # the 100,000-node FDT

    def command(self, fx, name, initrd_over_pcsc=False, park=True):
        """The DTB with the case's KHO root in /chosen (and, asked for, the
        pcsc FDT pages declared the next kernel's initrd)."""
        from arm64util import arm64_cmd
        from dtbutil import dtb_add_kho
        dtb = os.path.join(str(self.tmp), name + ".dtb")
        subprocess.run(["cp", self.dtb, dtb], check=True)
        dtb_add_kho(dtb, fx.kho[0], fx.kho[1], fx.scratch)
        for edit in fx.dtb_patches:
            edit(dtb)
        assert not fx.more_kho, "arm64's /chosen names one KHO root"
        if fx.root_in:
            hostile.dtb_hide(dtb, fx.kho[0] & ~0xfff, 0x1000, fx.root_in)
        if initrd_over_pcsc:
            a, n = fx.pcsc_pages
            for prop, v in (("linux,initrd-start", a), ("linux,initrd-end", a + n)):
                subprocess.run(["fdtput", "-t", "x", dtb, "/chosen", prop, hex(v >> 32),
                                hex(v & 0xffffffff)], check=True)
        dev = self.devs + [f"loader,file={p},addr={a:#x},force-raw=on" for p, a in fx.loaders()]
        return arm64_cmd(kernel=self.img if park else self.img_off, dtb=dtb, devices=dev,
                         extra=self.extra, mem="256M")

    def load_base(self):
        return self.base

    def assert_entered_once(self, serial, lines, ctx):
        """Entered after exactly one jump, with the same DTB."""
        e = ARM64_ENTERED.search(serial)
        assert e and int(e.group(1), 16) == self.dtb_at, ctx
        assert len([l for l in lines if l.startswith("jump to ")]) == 1, ctx

    def allowed_ranges(self, fx, lines, snap):
        """Its own image (stack and BSS inside it, the wrapped next kernel
        runs in place), the pcsc FDT pages, the KHO root page on detach,
        the DTB's /chosen kho property records when it unplugged the root
        (ramcheck.unplug_writable, from the DTB in the 'before' dump)."""
        return [(self.base, self.image_size, "stub image+BSS+stack, next kernel in place"),
                (fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT pages")] + \
            self.detach_range(fx, lines) + \
            ramcheck.unplug_writable("arm64", lines, self.reader(snap), dtb=self.dtb_at)

    def assert_unplugged(self, fx, snap, ctx):
        """The DTB the next kernel is handed (x0, checked by
        assert_entered_once) names no KHO root: /chosen's linux,kho-fdt and
        linux,kho-scratch, there as the loader wrote them before the stub
        ran, are FDT_NOP tokens after it, and not one other byte of the
        DTB changed."""
        before, _ = self.assert_dtb_kho_nopped(snap, ctx)
        pb = hostile.fdt_props(before)
        (fo, fl), (so, sl) = (pb[("/chosen", n)] for n in ramcheck.DTB_KHO_PROPS)
        assert (fl, sl) == (16, 16), (fl, sl)
        assert struct.unpack_from(">QQ", before, fo) == tuple(fx.kho[:2]), ctx
        assert struct.unpack_from(">QQ", before, so) == tuple(fx.scratch), ctx

    def assert_dtb_kho_nopped(self, snap, ctx, chosen="/chosen"):
        """The DTB at x0 in guest RAM: its chosen node (as the stub finds
        it, ramcheck.dtb_chosen) held one linux,kho-fdt and one
        linux,kho-scratch before the stub ran and holds no linux,kho*
        property after it, those records FDT_NOP tokens, not one other
        byte of the DTB changed. Returns the DTB (before, after)."""
        before = ramcheck.dtb_read(self.reader(snap), self.dtb_at)
        after = ramcheck.dtb_read(self.reader(snap, "after"), self.dtb_at)
        assert before and after and len(before) == len(after), ctx
        assert ramcheck.dtb_chosen(before) == chosen, (ramcheck.dtb_chosen(before), ctx)
        recs = ramcheck.dtb_kho_records(before)
        assert [r[2] for r in recs] == list(ramcheck.DTB_KHO_PROPS), (recs, ctx)
        pb, pa = hostile.fdt_props(before), hostile.fdt_props(after)
        kho = [(chosen, n) for n in ramcheck.DTB_KHO_PROPS]
        assert not [k for k in pa if k[0] == chosen and k[1].startswith("linux,kho")], \
            (sorted(pa), ctx)
        assert pa == {k: v for k, v in pb.items() if k not in kho}, ctx
        want = bytearray(before)
        for s, e, _ in recs:
            want[s:e] = struct.pack(">I", 4) * ((e - s) // 4)
        assert after == bytes(want), ctx
        return before, after

    def assert_checked(self, fx, rc, timed_out, text, rep):
        assert rc == 0 and not timed_out and ARM64_ENTERED.search(text), text
        assert rep and rep["checked"], rep
        stub_end = int(re.search(r"image 0x[0-9a-f]+-(0x[0-9a-f]+)", text).group(1), 16)
        assert [(a, n) for a, n, _ in rep["allowed"]] == \
            [(self.base, stub_end - self.base), fx.pcsc_pages], rep

    def empty_port_walk(self, tmp):
        """This machine's root port is unnumbered: an empty one numbered by
        the old-kernel payload instead, booted with and without it. Below a
        root port only device 0 can exist (PCIe): the port's own probe
        (<= 1 + 541 reads) plus one all-ones read. Returns (port, lines,
        walk, totals, config reads the port cost)."""
        from arm64util import Arm64Machine
        one = Arm64Machine(tmp, ["pcie-root-port,id=rp9,chassis=9,slot=9,addr=9.0"]).boot()
        none = Arm64Machine(tmp, []).boot()
        for r in (one, none):
            assert r.rc == 0, r.describe()
        tot, base = walk_totals(one.lines), walk_totals(none.lines)
        return ("0000:00:09.0", one.lines, walk_lines(one.lines), tot,
                int(tot["cfg_reads"]) - int(base["cfg_reads"]))


X86_MEM = 256
X86_BP = 0x800000                # boot_params page (+ command line, setup_data)
X86_NEXT = 0x2000000             # where the test puts the next kernel's bzImage
X86_ENTRY = re.compile(r"^x86_64 entry pvh image (0x[0-9a-f]+)-(0x[0-9a-f]+) ")
X86_PLACED = re.compile(r"^next kernel protocol \S+ at (0x[0-9a-f]+) init_size (0x[0-9a-f]+): "
                        r"jump (0x[0-9a-f]+) rsi=(0x[0-9a-f]+)$")


class X86Hostile(Hostile):
    """x86 q35: the stub's PVH entry + a fake bzImage it places and enters;
    KHO in boot_params' setup_data. SeaBIOS gives the empty root port bus
    1, on which every config read answers all ones."""
    kind = "x86"
    cache_at = 0x8000000         # pcsctool gen --at
    elf_arch, nm = "x86_64", "nm"
    arg0, pc_reg, bp_len = 5, 16, 1                    # rdi, rip
    fault_at = re.compile(r" cr2=(0x[0-9a-f]+)$")
    until = "next: done"
    devs = DEVS
    extra = backends(3)

    def __init__(self, tmp):
        from x86util import assert_x86_exit, fake_next_kernel, machine_e820, run_x86, \
            stub_flat_binary
        self.tmp = tmp
        r = run_x86(devices=self.devs, extra=self.extra, mem=f"{X86_MEM}M")
        assert_x86_exit(r)
        m = X86_ENTRY.match(r.lines[0])
        assert m, r.describe()
        self.stub = (int(m.group(1), 16), int(m.group(2), 16) - int(m.group(1), 16))
        ecam = int(next(re.match(r"^ecam 0000:00-ff at (0x[0-9a-f]+)$", l).group(1)
                        for l in r.lines if l.startswith("ecam ")), 16)
        self.e820 = machine_e820(self.devs, self.extra, mem_mib=X86_MEM)
        self.ram_top = max(a + s for a, s, t in self.e820 if t == 1)
        self.next = fake_next_kernel(tmp)
        head = open(stub_flat_binary(), "rb").read(4)
        self.learn(r, ecam, 30, ram=(0, self.ram_top), stub=self.stub,
                   stub_magic=int.from_bytes(head, "big"), mmio=ecam,
                   past_ram=0x100000000 + 0x10000000, bootdata=X86_BP,
                   big_at=0x9000000)                       # the 100,000-node FDT (4.8 MB)
        # Dumped: the e820 RAM (low 640 KiB, and 1 MiB to its end), first
        # when the stub's PVH entry runs (SeaBIOS is done by then).
        self.ram = [(a, s) for a, s, t in self.e820 if t == 1]
        self.break_at = self.stub[0]

    def command(self, fx, name, initrd_over_pcsc=False, park=True):
        """boot_params with the case's KHO root in setup_data, or the list
        fx.setup_data lays out (x86_setup_layout: its nodes on pages of
        their own declared e820 reserved), and, asked for, the pcsc FDT
        pages as the next kernel's initrd; the fake bzImage loaded at
        X86_NEXT. park: the next kernel always stops."""
        from x86util import BootParams, x86_cmd
        e820 = self.e820
        if fx.root_in:
            e820 = hostile.e820_hide(e820, fx.kho[0] & ~0xfff, 0x1000, fx.root_in)
        for n in fx.setup_data or ():
            if n.at is not None:
                assert n.at + 0x1000 <= self.ram_top, n
                # the page of its type field: a node may start on the
                # RAM page before it (its link writable, its type not)
                e820 = hostile.e820_hide(e820, (n.at + 8) & ~0xfff, 0x1000, "nomap")
        bp = BootParams(X86_BP, e820=e820)
        if initrd_over_pcsc:
            bp.ramdisk = fx.pcsc_pages      # the next kernel's initrd, as the loader says
        blobs = []                          # [(name, addr, bytes)] beside the case's own
        if fx.setup_data is None:
            bp.add_kho(fx.kho[0], fx.kho[1], *fx.scratch)
            for k in fx.more_kho:
                bp.add_kho(*k)
            blobs.append((f"bp-{name}.bin", X86_BP, bp.image()))
        else:
            img = bytearray(bp.image())
            nodes = x86_setup_layout(fx)
            struct.pack_into("<Q", img, 0x250, nodes[0][0])
            for i, (a, b) in enumerate(nodes):
                if fx.setup_data[i].at is None:
                    img[len(img):] = bytes(a - X86_BP + len(b) - len(img))
                    img[a - X86_BP:a - X86_BP + len(b)] = b
                else:
                    blobs.append((f"sd{i}-{name}.bin", a, b))
            blobs.append((f"bp-{name}.bin", X86_BP, bytes(img)))
        dev = [f"loader,file={p},addr={a:#x},force-raw=on" for p, a in fx.loaders()]
        dev.append(f"loader,file={self.next},addr={X86_NEXT:#x},force-raw=on")
        for n, a, b in blobs:
            path = os.path.join(str(self.tmp), n)
            with open(path, "wb") as f:
                f.write(b)
            dev.append(f"loader,file={path},addr={a:#x},force-raw=on")
        dev += self.devs
        return x86_cmd(devices=dev, extra=self.extra, mem=f"{X86_MEM}M",
                       append=f"pcsc.exit=debug pcsc.boot_params={X86_BP:#x} "
                              f"pcsc.x86.next={X86_NEXT:#x},{os.path.getsize(self.next):#x}")

    def load_base(self):
        return 0                 # PVH: linked where it runs

    def assert_entered_once(self, serial, lines, ctx):
        """Entered once at its 64-bit entry with boot_params in rsi, after
        exactly one placement."""
        entered = [l for l in serial.splitlines() if l.startswith("next: entry64 at ")]
        assert len(entered) == 1 and f" rsi {X86_BP:#x} " in entered[0], ctx
        assert len([l for l in lines if X86_PLACED.match(l)]) == 1, ctx

    def allowed_ranges(self, fx, lines, snap):
        """What may change between the stub's PVH entry (firmware writes
        not counted) and the next kernel's first line: the stub's image
        with BSS and stack, the next kernel where the stub placed it
        (init_size), the boot_params page and the command line page after
        it (the stub merges the next kernel's setup header into it), the
        pcsc FDT pages, the KHO root page on detach; of the setup_data
        nodes after them only the type field of a SETUP_KEXEC_KHO entry
        the stub says it unplugged or dropped (ramcheck.unplug_writable)."""
        m = next(x for x in (X86_PLACED.match(l) for l in lines) if x)
        # this boot's own footprint line: the stub ELF is read from the build
        # tree at every boot (a rebuild between boots changes its size)
        e = next((X86_ENTRY.match(l) for l in lines if X86_ENTRY.match(l)), None)
        stub = (int(e.group(1), 16), int(e.group(2), 16) - int(e.group(1), 16)) if e else self.stub
        return [(stub[0], stub[1], "stub image+BSS+stack"),
                (int(m.group(1), 16), int(m.group(2), 16), "next kernel placed by the stub"),
                (X86_BP, 0x2000, "boot_params (next kernel's header merged)"),
                (fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT pages")] + \
            self.detach_range(fx, lines) + \
            ramcheck.unplug_writable("x86_64", lines, self.reader(snap), bp=X86_BP)

    def kho_entries(self, snap):
        """[(address, type before, type after)] of the setup_data nodes that
        were SETUP_KEXEC_KHO when the stub started; the list itself (links,
        lengths) the same after, asserted."""
        before = ramcheck.setup_data_nodes(self.reader(snap), X86_BP)
        after = ramcheck.setup_data_nodes(self.reader(snap, "after"), X86_BP)
        assert [(a, n, ln) for a, n, _, ln in before] == \
            [(a, n, ln) for a, n, _, ln in after], (before, after)
        return [(b[0], b[2], a[2]) for b, a in zip(before, after)
                if b[2] == ramcheck.SETUP_KEXEC_KHO]

    def seen_setup_types(self, serial):
        """The setup_data types the next kernel found, in order (its
        'next: setup_data type T len L' lines)."""
        return [int(m.group(1), 16) for m in
                re.finditer(r"^next: setup_data type (0x[0-9a-f]+) ", serial, re.M)]

    def assert_unplugged(self, fx, snap, ctx):
        """The one SETUP_KEXEC_KHO entry retyped SETUP_NONE (0) in guest
        RAM, its link, length and payload as they were (the RAM check allows
        only its type field), and the next kernel saw type 0 only."""
        assert [(t0, t1) for _, t0, t1 in self.kho_entries(snap)] == \
            [(ramcheck.SETUP_KEXEC_KHO, ramcheck.SETUP_NONE)], ctx
        assert self.seen_setup_types(snap["serial"]) == [ramcheck.SETUP_NONE], ctx

    def assert_checked(self, fx, rc, timed_out, text, rep):
        """Also boot_params and the next kernel's placement."""
        assert not timed_out and "next: done" in text, text
        assert rep and rep["checked"], rep
        whys = [w for _, _, w in rep["allowed"]]
        assert whys == ["stub image+BSS+stack", "pcsc FDT pages",
                        "boot_params (next kernel header merged)",
                        "next kernel placed by the stub"], rep
        assert (rep["allowed"][1][0], rep["allowed"][1][1]) == fx.pcsc_pages, rep

    def empty_port_walk(self, tmp):
        """The empty root port of this machine's first boot: (port, lines,
        walk, totals, None: no boot without it to count its reads)."""
        return ("0000:00:05.0", self.first.lines, self.walk, walk_totals(self.first.lines),
                None)


@pytest.fixture(scope="module", params=arches())
def hm(request, tmp_path_factory):
    cls = Arm64Hostile if request.param == "arm64" else X86Hostile
    return cls(tmp_path_factory.mktemp(f"hostile-{request.param}"))


def on(*names):
    """A test the arches named have alone: hm parametrised by them."""
    return pytest.mark.parametrize("hm", only(*names), indirect=True)


@pytest.mark.parametrize("case", hostile.CASES, ids=lambda c: c.name)
def test_hostile(hm, case):
    fx, snap, lines, ctx = hm.run_reported(case)
    if case.reject is not None and case.detached:
        # fail closed, checked where the next kernel looks: no pcsc child
        # left in the KHO root in guest RAM (there was one before the stub)
        assert hostile.pcsc_children_in_ram(snap, hm.ram, fx, "before") == ["pcsc"], ctx
        assert hostile.pcsc_children_in_ram(snap, hm.ram, fx) == [], ctx
    if case.unplugged:
        # fail closed where nothing of the root could be read: the next
        # kernel is handed no root at all; the root itself untouched
        hm.assert_unplugged(fx, snap, ctx)
        hm.assert_root_untouched(fx, snap, ctx)
    must = []
    if "handover=ok" in " ".join(lines):
        must.append((fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT (handover properties)"))
    assert_ram_intact(snap, hm.ram, hm.allowed_ranges(fx, lines, snap), must_change=must)


@on("arm64")
def test_hostile_unnumbered_bridge_loops_back(hm):
    """The root port QEMU leaves unnumbered (secondary 0 = its own bus):
    named, not followed, the device behind it never reached."""
    lines = hm.first.lines
    assert "walk: 0000:00:05.0 bridge unnumbered (secondary 0): nothing behind it seen" in lines
    tot = [l for l in lines if l.startswith("walk functions=")][0]
    assert " buses=1 " in tot and " unnumbered_bridges=1 " in tot, lines


def test_hostile_all_ones_bus(hm, tmp_path):
    """An empty root port's bus answers all ones everywhere: the walk scans
    it once (device 0 only, below a root port) and finds nothing."""
    port, lines, walked, tot, port_reads = hm.empty_port_walk(tmp_path)
    assert (tot["buses"], tot["bad_bridges"]) == ("2", "0"), tot
    assert [w[0] for w in walked if w[4] == "bridge"] == [port], lines
    assert not [w for w in walked if w[0].startswith("0000:01:")], lines
    if port_reads is not None:
        assert 4 < port_reads <= 1 + 541 + 1, tot


def test_hostile_ramcheck_names_the_first_changed_byte(hm):
    """The check can fail: leave the pcsc FDT pages out of the allowed
    ranges and it must report an address inside them (the stub rewrote
    that FDT when it removed the BAD entry)."""
    case = next(c for c in hostile.CASES if c.name == "da_unaligned")
    fx, snap = hm.run(case)
    lines = pcsc_lines(snap["serial"])
    allowed = [r for r in hm.allowed_ranges(fx, lines, snap) if r[2] != "pcsc FDT pages"]
    with pytest.raises(AssertionError) as e:
        assert_ram_intact(snap, hm.ram, allowed)
    at = int(re.search(r"RAM changed at (0x[0-9a-f]+)", str(e.value)).group(1), 16)
    assert fx.pcsc_pages[0] <= at < fx.pcsc_pages[0] + fx.pcsc_pages[1], str(e.value)


def test_hostile_100000_nodes_within_bounds(hm):
    """The index is built in one bounded pass over the structure block that
    stops at its cap (the arena's room, far below 100,000 entries): refused
    there, before any entry is judged and before the walk: 0 config reads,
    0 verdict lines, no entry counted past the cap."""
    case = next(c for c in hostile.CASES if c.name == "pcsc_100000_nodes")
    fx, snap = hm.run(case)
    lines = pcsc_lines(snap["serial"])
    s = summary(lines)
    assert snap["reached"] and s, snap["serial"]
    assert (s["cfg_reads"], s["funcs"], s["handover"]) == (0, 0, "detached"), lines
    assert s["entries"] < 100000, lines
    assert hostile.verdict_lines(lines) == [], lines
    assert_ram_intact(snap, hm.ram, hm.allowed_ranges(fx, lines, snap))


HOSTILE_TOPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                            "topo", "hostile.topo")
# docs/bounds.md, stage "walk": reads <= 256 * B + CRS_BUDGET * K + PER_FUNC * F
CRS_BUDGET = 1000
PER_FUNC = 2 + 50 + 3 + 480 + 1 + 5


def test_hostile_topology_sim_within_bounds(tmp_path):
    """CRS forever, capability loops, bridges that loop back, VFs past bus
    255: what QEMU cannot produce, through the stub's own session on the
    simulated machine (pcsctool verify, on the host: no arch param).
    Every anomaly named once, and the config reads within the walk's
    documented bound while the CRS-forever device's whole retry budget was
    spent."""
    from cacheutil import PCSCTOOL
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


def test_hostile_pcsc_fdt_inside_the_initrd_is_not_written(hm):
    """A pcsc FDT whose pages the loader gave the next kernel as its initrd
    (owned memory, like the stub and the DTB or boot_params): the stub must
    not write there. Only what it may write but the pcsc FDT pages may
    change (its image, the KHO root on detach; on x86 also boot_params and
    the next kernel's placement)."""
    case = hostile.Case("pcsc_fdt_inside_the_initrd")
    fx, snap = hm.run(case, initrd_over_pcsc=True)
    lines = pcsc_lines(snap["serial"])
    assert snap["reached"], snap["serial"]
    if hm.kind == "arm64":
        # the stub names the initrd it read from /chosen
        assert "initrd " + f"{fx.pcsc_pages[0]:#x}-{fx.pcsc_pages[0] + fx.pcsc_pages[1]:#x}" \
            in lines, lines
    assert any(l.startswith("cache rejected: pcsc FDT ") and l.endswith(" overlaps memory it must not")
               for l in lines), lines
    assert "detached the pcsc subtree from the KHO FDT" in lines, lines
    allowed = [r for r in hm.allowed_ranges(fx, lines, snap) if r[2] != "pcsc FDT pages"]
    assert_ram_intact(snap, hm.ram, allowed)


def test_hostile_checked_run_finds_the_stub_and_the_pcsc_fdt(hm):
    """ramcheck.checked_run (what run_qemu uses for every stub boot): the
    guest is stopped at the stub's entry and at its jump, and the ranges
    the stub may write are found from its console and the KHO root in the
    'before' dump: the stub's image and the pcsc FDT pages (the next
    kernel powers off on arm64)."""
    from qemurun import O
    from ramcheck import checked_run
    case = next(c for c in hostile.CASES if c.name == "da_unaligned")
    fx = hm.fixture(case)
    rc, timed_out, text, _, rep = checked_run(hm.command(fx, "checked", park=False), 60, O)
    hm.assert_checked(fx, rc, timed_out, text, rep)


def test_hostile_checked_run_allows_the_unplug(hm):
    """ramcheck.checked_run (every run_qemu stub boot) on a root the stub
    unplugs: the ranges it finds the stub may write include exactly the
    unplug's bytes, read from the 'before' dump (arm64 the DTB's /chosen
    linux,kho-fdt and linux,kho-scratch records, x86 the KHO setup_data
    entry's type field) and the RAM check passes; without them it fails."""
    from qemurun import O
    from ramcheck import checked_run
    case = next(c for c in hostile.CASES if c.name == "kho_fdt_past_ram")
    fx = hm.fixture(case)
    rc, timed_out, text, _, rep = checked_run(hm.command(fx, "checked-unplug", park=False), 60, O)
    assert not timed_out and rep and rep["checked"], (rep, text)
    assert "pcsc: " + ramcheck.KHO_UNPLUGGED in text, text
    unplug = [r for r in rep["allowed"] if "unplugged" in r[2]]
    if hm.kind == "arm64":
        assert [r[2] for r in unplug] == [f"DTB /chosen {n} (NOPed: KHO unplugged)"
                                          for n in ramcheck.DTB_KHO_PROPS], rep
        assert all(hm.dtb_at < a and n % 4 == 0 and n >= 12 + 16 for a, n, _ in unplug), rep
    else:
        assert [(a, n) for a, n, _ in unplug] == [(X86_BP + 0x2000 + 8, 4)], rep


def test_hostile_blob_size_up_to_its_preserved_pages(hm):
    """The other side of kho_v4_blob_size_past_its_preserved_pages: a
    blob-size that reaches exactly to the end of what the map preserves
    from the pcsc FDT on (past its totalsize) bounds it: every entry
    VALID, handed over, and the handover sets blob-size in the root to the
    pcsc FDT's new totalsize; of the root, only those 8 bytes change."""
    case = hostile.Case("kho_v4_blob_size_to_its_preserved_end", kho="v4",
                        patch=hostile.blob_size_to(
                            lambda fx: hostile.preserved_from(fx, fx.addr("pcsc.dtb"))))
    fx, snap = hm.run(case)
    lines = pcsc_lines(snap["serial"])
    ctx = f"--- serial ---\n{snap['serial'][-6000:]}"
    assert snap["reached"], ctx
    hm.assert_entered_once(snap["serial"], lines, ctx)
    errs = hostile.check_report(case, fx, lines)
    assert not errs, "\n".join(errs) + "\n" + ctx
    bs = fx.prop_get_u64("kho.dtb", "/pcsc", "blob-size")
    assert bs == fx.pcsc_pages[1] > hostile.pcsc_totalsize(fx), (bs, fx.pcsc_pages)
    root = hostile.kho_root_in_ram(snap, hm.ram, fx)
    off, ln = hostile.fdt_props(root)[("/pcsc", "blob-size")]
    total = struct.unpack_from(">I", hostile.ram_bytes(snap, hm.ram, fx.addr("pcsc.dtb"), 8), 4)[0]
    assert ln == 8 and struct.unpack_from("<Q", root, off)[0] == total, (total, ctx)
    assert hostile.pcsc_totalsize(fx) < total <= bs, (total, bs)
    at = fx.kho[0] + off
    assert_ram_intact(snap, hm.ram, hm.allowed_ranges(fx, lines, snap) + [(at, 8, "blob-size")],
                      must_change=[(at, 8, "blob-size"),
                                   (fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT")])


# 1 TiB + 0x100: RAM on neither machine, mapped by neither stub
EXC_BAD = 0x10000000100


@pytest.mark.parametrize("case,how", hostile.EXCEPTION_CASES, ids=lambda c: getattr(c, "name", c))
def test_hostile_exception_detaches(hm, case, how):
    """The exception handlers' last resort on a KHO root the stub cannot
    read (issue 12: fail closed on the exception paths too). A kho-v4
    cache whose root has an unknown compatible, or fails libfdt's full
    check; or a root nothing of which the stub can map (past RAM, in a
    no-map range, bad magic). The gdbstub stops the guest as the session
    enters kho_open and points its first argument (the RAM map) at
    EXC_BAD, so kho_open's first read through it faults before anything
    was judged. The handler opens the root itself and detaches what it
    can: in guest RAM after the jump no pcsc child is left to find by name
    (NOPed, or renamed in place when libfdt rejects the root), nothing else
    of the root changed; a root it cannot map at all it unplugs (arm64's
    DTB names no KHO root, x86's setup_data entry is type 0), the root
    untouched. The next kernel was entered, once. RAM outside what the
    stub may write is unchanged from the injection on."""
    import khoutil
    from faultinject import le_hex, run_snapshots_injected
    fx = hm.fixture(case)
    cmd = hm.command(fx, case.name)
    at = hm.symbol("kho_open")
    snap = run_snapshots_injected(cmd, hm.tmp, hm.ram, hm.until, at,
                                  [f"P{hm.arg0:x}={le_hex(EXC_BAD)}"], pc_reg=hm.pc_reg,
                                  bp_len=hm.bp_len)
    lines = pcsc_lines(snap["serial"])
    ctx = f"case {case.name}\n--- serial ---\n{snap['serial'][-6000:]}"
    assert snap["reached"], "next kernel not reached\n" + ctx
    hm.assert_entered_once(snap["serial"], lines, ctx)
    exc = [i for i, l in enumerate(lines) if l.startswith("exception ")]
    assert len(exc) == 1, ctx
    i = exc[0]
    m = hm.fault_at.search(lines[i])
    assert m and EXC_BAD <= int(m.group(1), 16) < EXC_BAD + 0x1000, ctx
    # the fault was the session's first look at the root: nothing read,
    # rejected or detached before it; the handler detached, then jumped
    assert not [l for l in lines[:i] if l.startswith(
        ("kho kho-", "cache rejected", "no cache", "detached", "summary", "jump to"))], ctx
    if how == "unplug":
        assert lines[i + 1] == ramcheck.KHO_UNPLUGGED, ctx
        assert "detached the pcsc subtree from the KHO FDT" not in lines, ctx
        hm.assert_unplugged(fx, snap, ctx)
        hm.assert_root_untouched(fx, snap, ctx)
        assert_ram_intact(snap, hm.ram, [r for r in hm.allowed_ranges(fx, lines, snap)
                                         if r[2] != "pcsc FDT pages"])
        return
    assert lines[i + 1] == "detached the pcsc subtree from the KHO FDT", ctx
    assert ramcheck.KHO_UNPLUGGED not in lines, ctx
    before = khoutil.fdt_children(hostile.kho_root_in_ram(snap, hm.ram, fx, "before"))
    after = khoutil.fdt_children(hostile.kho_root_in_ram(snap, hm.ram, fx))
    assert khoutil.pcsc_children(bytes(fx.read("kho.dtb"))) == ["pcsc"], before
    assert "pcsc" in before, before
    if how == "nop":
        assert after == [c for c in before if c != "pcsc"], (before, after, ctx)
    else:
        assert after == ["pcs-" if c == "pcsc" else c for c in before], (before, after, ctx)
    assert hostile.pcsc_children_in_ram(snap, hm.ram, fx) == [], ctx
    # not even the pcsc FDT's pages: the handler only detaches
    assert_ram_intact(snap, hm.ram, [r for r in hm.allowed_ranges(fx, lines, snap)
                                     if r[2] != "pcsc FDT pages"])


def kho_fdt_12_bytes(fx):
    """The root's address in two cells, its size in one: 12 bytes where
    the virt root's #address-cells 2 + #size-cells 2 want 16."""
    return [fx.kho[0] >> 32, fx.kho[0] & 0xffffffff, fx.kho[1]]


MALFORMED = dict(patch=hostile.chosen_kho_fdt_cells(kho_fdt_12_bytes), nocache="no KHO FDT",
                 # the result-level line is out at once, ahead of discovery's held lines
                 notes=[ramcheck.KHO_MALFORMED,
                        "dt chosen: malformed property: wrong property size"])
# (case, the node the stub takes for /chosen, the linux,kho-fdt bytes the
# loader wrote there: a callable of fx)
CHOSEN_CASES = [
    (hostile.Case("chosen_kho_fdt_12_bytes", **MALFORMED), "/chosen",
     lambda fx: struct.pack(">3I", *kho_fdt_12_bytes(fx))),
    # no /chosen: Linux and the stub take /chosen@0 (every entry VALID).
    # libfdt's "/chosen" lookup already matches a chosen@0 (a name without
    # unit address matches "chosen@..."), so this holds with or without
    # dt_chosen_node's fallback: the malformed case below is what tells
    (hostile.Case("chosen_at_0_kho_verified", patch=hostile.chosen_renamed("chosen@0")),
     "/chosen@0", lambda fx: struct.pack(">QQ", *fx.kho[:2])),
    (hostile.Case("chosen_at_0_kho_fdt_12_bytes",
                  **dict(MALFORMED, patch=hostile.patches(MALFORMED["patch"],
                                                          hostile.chosen_renamed("chosen@0")))),
     "/chosen@0", lambda fx: struct.pack(">3I", *kho_fdt_12_bytes(fx))),
]


@on("arm64")
@pytest.mark.parametrize("case,chosen,kho_fdt", CHOSEN_CASES, ids=[c[0].name for c in CHOSEN_CASES])
def test_hostile_dt_chosen_kho(hm, case, chosen, kho_fdt):
    """arm64 finds /chosen as Linux does (/chosen, else /chosen@0) and
    unplugs at discovery a linux,kho-fdt it cannot parse (`dt chosen
    linux,kho-fdt malformed: unplugged`): a root nobody verified must not
    reach the next kernel, which would read what it can of it. In guest
    RAM after the stub, the DTB handed to the next kernel (x0): on the
    unplug, that node's linux,kho-fdt and linux,kho-scratch FDT_NOP
    tokens and not one other byte of the DTB changed, no cache ("no KHO
    FDT"); a valid root in /chosen@0 found and verified as ever (every
    entry VALID, handover=ok), the DTB unchanged. The next kernel entered
    once; nothing else written outside what the stub may write."""
    fx, snap, lines, ctx = hm.run_reported(case)
    before = ramcheck.dtb_read(hm.reader(snap), hm.dtb_at)
    assert before and ramcheck.dtb_chosen(before) == chosen, ctx
    off, ln = hostile.fdt_props(before)[(chosen, "linux,kho-fdt")]
    assert before[off:off + ln] == kho_fdt(fx), ctx
    allowed = hm.allowed_ranges(fx, lines, snap)
    dtb_ranges = [r for r in allowed if r[2].startswith("DTB ")]
    if case.nocache is not None:
        hm.assert_dtb_kho_nopped(snap, ctx, chosen)
        hm.assert_root_untouched(fx, snap, ctx)
        assert [(a - hm.dtb_at, a - hm.dtb_at + n) for a, n, _ in dtb_ranges] == \
            [r[:2] for r in ramcheck.dtb_kho_records(before)], (dtb_ranges, ctx)
        assert_ram_intact(snap, hm.ram, allowed, must_change=dtb_ranges)
        return
    assert summary(lines)["handover"] == "ok", ctx
    assert not dtb_ranges, (dtb_ranges, ctx)
    assert ramcheck.dtb_read(hm.reader(snap, "after"), hm.dtb_at) == before, ctx
    assert_ram_intact(snap, hm.ram, allowed,
                      must_change=[(fx.pcsc_pages[0], fx.pcsc_pages[1],
                                    "pcsc FDT (handover properties)")])


# A second copy of the KHO root (x86), clear of the cache at 0x8000000 and
# of the 100,000-node FDT at 0x9000000
SECOND_ROOT_AT = 0xa000000
SECOND_KHO_CASES = [
    # the first root verified as ever (every entry VALID, handed over)
    hostile.Case("second_kho_entry", notes=["setup_data second KHO entry dropped: success"]),
    # the first unreadable: it is unplugged, the second dropped all the same
    hostile.Case("second_kho_entry_first_past_ram", patch=hostile.kho_fdt_past_ram,
                 reject=hostile.kho_fdt_not_in_ram, detached=False, unplugged=True,
                 notes=["setup_data second KHO entry dropped: success"]),
]


@on("x86_64")
@pytest.mark.parametrize("case", SECOND_KHO_CASES, ids=lambda c: c.name)
def test_hostile_second_kho_entry_dropped(hm, case):
    """Two SETUP_KEXEC_KHO entries, the second naming a copy of the root:
    Linux populates KHO from each (the last winning) and the stub verifies
    only the first, so it retypes the second SETUP_NONE (`setup_data second
    KHO entry dropped: success`). In guest RAM after the stub: the first
    entry as it was (type 10: verified and handed over) or type 0 (its root
    unreadable: unplugged), the second type 0; the next kernel sees no
    second KHO entry; the copy of the root untouched; nothing else written
    outside what the stub may write."""
    def patch(fx):
        if case.patch:
            case.patch(fx)
        fx.add_blob("kho2.dtb", SECOND_ROOT_AT, fx.read("kho.dtb"))
        fx.more_kho.append((SECOND_ROOT_AT, fx.kho[1], *fx.scratch))
    run = hostile.Case(case.name, patch=patch, reject=case.reject, detached=case.detached,
                       unplugged=case.unplugged, notes=case.notes)
    fx, snap, lines, ctx = hm.run_reported(run)
    first = ramcheck.SETUP_NONE if case.unplugged else ramcheck.SETUP_KEXEC_KHO
    kho = hm.kho_entries(snap)
    assert [(t0, t1) for _, t0, t1 in kho] == \
        [(ramcheck.SETUP_KEXEC_KHO, first), (ramcheck.SETUP_KEXEC_KHO, ramcheck.SETUP_NONE)], \
        (kho, ctx)
    want = [first, ramcheck.SETUP_NONE]
    assert hm.seen_setup_types(snap["serial"]) == want, ctx
    copy = hm.reader(snap)(SECOND_ROOT_AT, 0x1000)
    assert copy[:4] == struct.pack(">I", 0xd00dfeed), ctx
    assert hm.reader(snap, "after")(SECOND_ROOT_AT, 0x1000) == copy, ctx
    must = []
    if not case.unplugged:
        assert summary(lines)["handover"] == "ok", ctx
        must.append((fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT (handover properties)"))
    assert_ram_intact(snap, hm.ram, hm.allowed_ranges(fx, lines, snap), must_change=must)


# ------------------------------------------- the setup_data list (x86) ----
@dataclass
class SD:
    """One node of a setup_data list a case lays out (Fixture.setup_data)."""
    type: int
    payload: object = bytes(8)   # bytes, or a callable of fx (kho_entry)
    at: int = None               # where it lies; the page of its type field is
    #                              declared e820 reserved: the stub reads it,
    #                              never retypes it (None: packed after
    #                              boot_params' two pages, in RAM)
    link: int = None             # its next field, an address (None: the next node's, 0 last)
    to: int = None               # its next field: node `to`'s address (a loop)


def kho_entry(root=None):
    """A SETUP_KEXEC_KHO payload: the case's root as announced (after its
    patch), or a root at `root` with the same size and scratch array."""
    def payload(fx):
        return struct.pack("<4Q", fx.kho[0] if root is None else root, fx.kho[1], *fx.scratch)
    return payload


def x86_setup_layout(fx):
    """[(address, node bytes)] of fx.setup_data in list order: each node
    at its own page or packed 16-byte aligned from boot_params + 0x2000,
    linked as SD says."""
    pays = [n.payload(fx) if callable(n.payload) else bytes(n.payload) for n in fx.setup_data]
    at, addrs = X86_BP + 0x2000, []
    for n, p in zip(fx.setup_data, pays):
        addrs.append(at if n.at is None else n.at)
        if n.at is None:
            at += (16 + len(p) + 15) & ~15
    out = []
    for i, (n, p) in enumerate(zip(fx.setup_data, pays)):
        nxt = n.link if n.link is not None else addrs[n.to] if n.to is not None else \
            addrs[i + 1] if i + 1 < len(addrs) else 0
        out.append((addrs[i], struct.pack("<QII", nxt, n.type, len(p)) + p))
    return out


RES_A, RES_B = 0xb000000, 0xb100000   # pages declared e820 reserved (real RAM to QEMU)
FAR = 0x110000000                     # past the 256 MiB machine's RAM: no e820 entry
RNG = 9                               # SETUP_RNG_SEED: any node the stub keeps
KHO = ramcheck.SETUP_KEXEC_KHO
UNPLUG = dict(patch=hostile.kho_fdt_past_ram, reject=hostile.kho_fdt_not_in_ram,
              detached=False, unplugged=True)
LOOP = "setup_data over 64 nodes or a loop: list cut: success"


def second_root(fx):
    fx.add_blob("kho2.dtb", SECOND_ROOT_AT, fx.read("kho.dtb"))


# (case, the setup_data list, the link fields the stub must rewrite {node
# index (-1: boot_params + 0x250): the node it now points at, None: 0; or
# ("type", node index): the type it retypes the node to}, the types the
# next kernel then finds). Every other byte of every node, and of
# the rest of RAM outside what the stub may write, stays as it was.
SETUP_DATA_CASES = [
    # the verified (first) KHO node where the stub may not write, its root
    # unreadable: unplugged by relinking boot_params' field past it ...
    (hostile.Case("setup_kho_reserved_unplugged", **UNPLUG),
     [SD(KHO, kho_entry(), at=RES_A), SD(RNG)], {-1: 1}, [RNG]),
    # ... or the previous node's, the one in RAM before it ...
    (hostile.Case("setup_kho_reserved_after_ram_node_unplugged", **UNPLUG),
     [SD(RNG), SD(KHO, kho_entry(), at=RES_A), SD(RNG)], {0: 2}, [RNG, RNG]),
    # ... taking an unwritable node between with it
    (hostile.Case("setup_kho_reserved_after_reserved_node_unplugged", **UNPLUG),
     [SD(RNG, at=RES_B), SD(KHO, kho_entry(), at=RES_A), SD(RNG)], {-1: 2}, [RNG]),
    # a second KHO node where the stub may not write: cut out, the first
    # verified and handed over as ever
    (hostile.Case("setup_second_kho_reserved", patch=second_root,
                  notes=["setup_data second KHO entry dropped: success"]),
     [SD(KHO, kho_entry()), SD(KHO, kho_entry(SECOND_ROOT_AT), at=RES_A), SD(RNG)],
     {0: 2}, [KHO, RNG]),
    # a second KHO node whose link is in RAM but whose type is not: cut
    # out, and never the link field a later edit goes through (a third KHO
    # node, reserved, is cut at the first node's link too)
    (hostile.Case("setup_second_kho_straddling_ram_then_reserved", patch=second_root,
                  notes=["setup_data second KHO entry dropped: success"] * 2),
     [SD(KHO, kho_entry()), SD(KHO, kho_entry(SECOND_ROOT_AT), at=RES_A - 8),
      SD(KHO, kho_entry(SECOND_ROOT_AT), at=RES_B), SD(RNG)],
     {0: 3}, [KHO, RNG]),
    # a link to what the stub cannot read (no e820 entry): the list ends
    # at the last link it may write, with any unwritable node before
    (hostile.Case("setup_next_past_ram", notes=["setup_data node unreadable: list cut: success"]),
     [SD(KHO, kho_entry()), SD(RNG, link=FAR)], {1: None}, [KHO, RNG]),
    (hostile.Case("setup_next_past_ram_after_reserved_node",
                  notes=["setup_data node unreadable: list cut: success"]),
     [SD(KHO, kho_entry()), SD(RNG, at=RES_A, link=FAR)], {0: None}, [KHO]),
    # a loop back at the KHO node: cut where it closes
    (hostile.Case("setup_kho_self_loop", notes=[LOOP]), [SD(KHO, kho_entry(), to=0)],
     {0: None}, [KHO]),
    (hostile.Case("setup_loop_back_to_kho", notes=[LOOP]),
     [SD(KHO, kho_entry()), SD(RNG, to=0)], {1: None}, [KHO, RNG]),
    # a loop back at a node other than the KHO node: cut where it closes,
    # the KHO node kept
    (hostile.Case("setup_loop_back_to_another_node", notes=[LOOP]),
     [SD(KHO, kho_entry()), SD(RNG), SD(RNG, to=1)], {2: None}, [KHO, RNG, RNG]),
    # a KHO node too short for its payload, in RAM: retyped SETUP_NONE,
    # and the next KHO node is the one verified
    (hostile.Case("setup_short_kho_then_kho",
                  notes=["setup_data short KHO entry dropped: success"]),
     [SD(KHO, bytes(16)), SD(KHO, kho_entry())], {("type", 0): 0}, [0, KHO]),
    # 65 nodes: the 64th's link set to 0 (the next kernel reports 16)
    (hostile.Case("setup_65_nodes", notes=[LOOP]),
     [SD(KHO, kho_entry())] + [SD(RNG, b"")] * 64, {63: None}, [KHO] + [RNG] * 15),
]


@on("x86_64")
@pytest.mark.parametrize("case,nodes,relinked,seen", SETUP_DATA_CASES,
                         ids=[c[0].name for c in SETUP_DATA_CASES])
def test_hostile_setup_data_relinked(hm, case, nodes, relinked, seen):
    """The setup_data list the next kernel walks (Linux: unbounded, KHO
    from every SETUP_KEXEC_KHO node, the last winning) holds only nodes
    the stub has seen and the one KHO node it verified (docs/security.md):
    a KHO node it may not retype (e820 reserved) is cut out at the last
    link field before it in RAM, on the unplug or as a second KHO entry;
    a link it cannot follow, a loop back at the KHO node or a 65th node
    ends the list (that link set to 0). In guest RAM after the stub:
    exactly those link fields rewritten, every other byte of every node
    and of boot_params' setup_data field as the loader left them, nothing
    else written outside what the stub may write; the next kernel was
    entered once and found the types expected."""
    def patch(fx):
        if case.patch:
            case.patch(fx)
        fx.setup_data = nodes
    run = hostile.Case(case.name, patch=patch, reject=case.reject, detached=case.detached,
                       unplugged=case.unplugged, notes=case.notes)
    fx, snap, lines, ctx = hm.run_reported(run)
    layout = x86_setup_layout(fx)
    link_at = {-1: X86_BP + ramcheck.BP_SETUP_DATA}
    link_at.update((i, a) for i, (a, _) in enumerate(layout))
    first = struct.pack("<Q", layout[0][0])
    before, after = hm.reader(snap), hm.reader(snap, "after")
    assert before(link_at[-1], 8) == first, ctx
    want = {-1: bytearray(first)}
    for i, (a, b) in enumerate(layout):
        assert before(a, len(b)) == b, (i, ctx)
        want[i] = bytearray(b)
    for i, j in relinked.items():
        if isinstance(i, tuple):
            want[i[1]][8:12] = struct.pack("<I", j)
        else:
            want[i][:8] = struct.pack("<Q", 0 if j is None else layout[j][0])
    got = {-1: after(link_at[-1], 8)}
    got.update((i, after(a, len(b))) for i, (a, b) in enumerate(layout))
    assert got == {i: bytes(w) for i, w in want.items()}, ctx
    assert hm.seen_setup_types(snap["serial"]) == seen, ctx
    if case.unplugged:
        assert summary(lines)["handover"] == "unplugged", ctx
        must = []
    else:
        assert summary(lines)["handover"] == "ok", ctx
        must = [(fx.pcsc_pages[0], fx.pcsc_pages[1], "pcsc FDT (handover properties)")]
    links = [(layout[i[1]][0] + 8, 4, f"setup_data type {i[1]} (retyped)")
             if isinstance(i, tuple) else (link_at[i], 8, f"setup_data link {i} (relinked)")
             for i in relinked]
    allowed = [r for r in hm.allowed_ranges(fx, lines, snap) if not r[2].startswith("setup_data")]
    assert_ram_intact(snap, hm.ram, allowed + links, must_change=must + links)
