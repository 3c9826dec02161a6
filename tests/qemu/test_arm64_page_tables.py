# tests/qemu/test_arm64_page_tables.py - the arm64 stub's live translation tables, read back
# through the gdbstub at the jump and walked here. Never takes the stub's word for its own map.
"""Issue 15, arm64: stop the stub at arm64_jump_next (MMU still on, the
tables final), read TTBR0/TCR/SCTLR/MAIR/HCR_EL2 from QEMU's gdbstub
(system-registers.xml) and the tables from guest-physical memory
(qqemu.PhyMemMode), walk them here with the Arm ARM's rules (VMSAv8-64
stage 1, 4 KiB granule) and check the type and permissions of every
region the machine's own DTB describes: RAM, a /reserved-memory no-map
region and a /memreserve/ entry placed for the test, a reserved region
without no-map, ECAM, the UART, the stub's text, rodata and data, the DTB.
Then the guest runs on and the next kernel must be entered with the MMU
off. Regimes: EL1; EL2 with VHE (HCR_EL2.E2H set by the old-kernel
payload); EL2 without (cortex-a57 has no FEAT_VHE; -cpu max left at E2H 0).
"""
import os
import re
import signal
import subprocess
import time

import pytest

import ramcheck
from acpiutil import dtb_as_acpi
from arm64util import (arm64_cmd, arm64_dumpdtb, ARM64_STUB, ARM64_STUB_ADDR, next_payload,
                       payload_image, wrap_arm64)
from dtbutil import dtb_cells, dtb_ecam_windows, fdtget
from qemurun import need, need_tool

GIB, MIB2, PAGE = 1 << 30, 2 << 20, 4096
RAM = (0x40000000, 1 << 30)                     # -m 1G
# Placed for the test, clear of the stub (RAM + 2 MiB or 0x50000000), its
# next kernel and the DTB. Not 2 MiB aligned: only 4 KiB pages can cut them out.
NOMAP = (0x5c123000, 0x5000)                    # /reserved-memory, no-map
NOMAP_2M = (0x5e000000, 0x400000)               # no-map on 2 MiB blocks
RESERVED_MAPPED = (0x5c800000, 0x100000)        # /reserved-memory without no-map
MEMRESERVE = (0x5d234000, 0x3000)               # /memreserve/
TIMEOUT = 60

REGIMES = {
    # name: machine, cpu, EL, HCR_EL2.E2H, entered through the old-kernel payload
    "el1": ("virt", "max", 1, False, False),
    "el2_vhe": ("virt,virtualization=on", "max", 2, True, True),
    "el2_nvhe_a57": ("virt,virtualization=on", "cortex-a57", 2, False, False),
    "el2_nvhe_max": ("virt,virtualization=on", "max", 2, False, False),
}


# ----------------------------------------------------------- the machine --
def stub_syms():
    """{name: offset from the image start} of the stub ELF (nm)."""
    out = subprocess.run(["aarch64-linux-gnu-nm", need(ARM64_STUB[:-4] + ".elf")],
                         capture_output=True, text=True, check=True).stdout
    return {t[2]: int(t[0], 16) for t in (l.split() for l in out.splitlines()) if len(t) == 3}


def make_dtb(tmp_path, machine, nomap=(NOMAP, NOMAP_2M), memreserve=(MEMRESERVE,),
             mapped=(RESERVED_MAPPED,), name="pt.dtb", extra=""):
    """The machine's own DTB plus /memreserve/ entries and a /reserved-memory
    node: each of nomap with no-map, each of mapped without; extra: more
    nodes under the root (dts text)."""
    base = arm64_dumpdtb(tmp_path, machine=machine, name="base-" + name)
    dts = subprocess.run([need_tool("dtc"), "-q", "-I", "dtb", "-O", "dts", base],
                         capture_output=True, text=True, check=True).stdout
    rsv = "".join(f"/memreserve/ {a:#x} {n:#x};\n" for a, n in memreserve)
    dts = dts.replace("/dts-v1/;\n", "/dts-v1/;\n" + rsv, 1)
    kids = "".join(f"\t\tnomap@{a:x} {{ reg = <{a >> 32:#x} {a & 0xffffffff:#x} "
                   f"{n >> 32:#x} {n & 0xffffffff:#x}>; no-map; }};\n" for a, n in nomap)
    kids += "".join(f"\t\tshared@{a:x} {{ reg = <{a >> 32:#x} {a & 0xffffffff:#x} "
                    f"{n >> 32:#x} {n & 0xffffffff:#x}>; }};\n" for a, n in mapped)
    dts += ("/ {\n\treserved-memory {\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n"
            f"\t\tranges;\n{kids}\t}};\n{extra}}};\n")
    out = os.path.join(str(tmp_path), name)
    subprocess.run([need_tool("dtc"), "-q", "-I", "dts", "-O", "dtb", "-o", out, "-"], input=dts,
                   text=True, check=True)
    return out


def uart_of(dtb):
    path = fdtget(dtb, "/chosen", "stdout-path", "s").split(":")[0]
    reg = dtb_cells(dtb, path, "reg")
    return (reg[0] << 32) | reg[1]


def boot_cmd(tmp_path, regime, dtb, append="pcsc.report=full"):
    """(QEMU command, stub base): the stub wrapped with the test payload as
    its next kernel, entered straight (-kernel) or by the old-kernel payload."""
    machine, cpu, el, e2h, via_payload = REGIMES[regime]
    facts = {"dtb": dtb, "ecam": dtb_ecam_windows(dtb)[0][1] if dtb_ecam_windows(dtb) else 0,
             "uart": uart_of(dtb)}
    img = wrap_arm64(ARM64_STUB, next_payload(tmp_path, facts),
                     os.path.join(str(tmp_path), "wrapped.bin"))
    extra = ["-append", append] if append else []
    if via_payload:
        pay = payload_image(tmp_path, facts["ecam"], facts["uart"], ARM64_STUB_ADDR, numvfs=0,
                            set_e2h=e2h)
        cmd = arm64_cmd(kernel=pay, dtb=dtb, machine=machine, extra=extra, devices=[
            f"loader,file={img},addr={ARM64_STUB_ADDR:#x},force-raw=on"])
        base = ARM64_STUB_ADDR
    else:
        cmd = arm64_cmd(kernel=img, dtb=dtb, machine=machine, extra=extra)
        base = RAM[0] + MIB2          # QEMU: an Image with text_offset 0 goes at RAM + 2 MiB
    cmd[cmd.index("-cpu") + 1] = cpu
    return cmd, base


# ------------------------------------------------------ the gdbstub stop --
SYSREGS = ("SCTLR", "SCTLR_EL2", "TCR_EL1", "TCR_EL2", "TTBR0_EL1", "TTBR0_EL2",
           "MAIR_EL1", "MAIR_EL2", "HCR_EL2")


def _xfer(g, name):
    out, off = "", 0
    for _ in range(256):
        r = g.cmd(f"qXfer:features:read:{name}:{off:x},800")
        out += r[1:]
        off += len(r) - 1
        if r[:1] == "l":
            return out
        assert r[:1] == "m", f"qXfer {name}: {r[:40]}"
    raise AssertionError(f"qXfer {name}: too long")


def _regnums(g):
    """{register name: gdb number} from the target description QEMU sends."""
    nums, n = {}, 0
    for inc in re.findall(r'href="([^"]+)"', _xfer(g, "target.xml")):
        for m in re.finditer(r"<reg ([^>]*)/>", _xfer(g, inc)):
            a = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
            n = int(a["regnum"]) if "regnum" in a else n
            nums[a["name"]] = n
            n += 1
    return nums


def _phys(g, addr, n):
    """n bytes of guest-physical memory (the gdbstub in PhyMemMode)."""
    out = b""
    while len(out) < n:
        k = min(0x400, n - len(out))
        r = g.cmd(f"m{addr + len(out):x},{k:x}")
        assert not r.startswith("E") and len(r) == 2 * k, f"read {addr + len(out):#x}: {r[:8]}"
        out += bytes.fromhex(r)
    return out


MAX_TABLES = 1024          # a walk of the live tables never follows more


def _read_tables(g, root):
    """Every table page reachable from root: {address: [512 descriptors]}."""
    tables, todo = {}, [(root, 0)]
    while todo:
        addr, level = todo.pop()
        if addr in tables:
            continue
        assert len(tables) < MAX_TABLES, "more tables than any map of this machine needs"
        raw = _phys(g, addr, PAGE)
        d = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, PAGE, 8)]
        tables[addr] = d
        if level < 3:
            todo += [(x & 0x0000fffffffff000, level + 1) for x in d if x & 3 == 3]
    return tables


def stop_at_jump(cmd, base, tmp_path, until="next: entered"):
    """Run cmd stopped at reset, break at the stub's arm64_jump_next, read
    the registers and every table, let the guest run on until `until`.
    Returns dict(regs, sys, tables, serial, reached, stopped)."""
    d = str(tmp_path)
    serial, gsock = os.path.join(d, "pt-serial.txt"), os.path.join(d, "pt-gdb.sock")
    c = list(cmd)
    c[c.index("-serial") + 1] = f"file:{serial}"
    c += ["-S", "-chardev", f"socket,path={gsock},server=on,wait=off,id=gdb0",
          "-gdb", "chardev:gdb0"]
    bp = base + stub_syms()["arm64_jump_next"]
    out = {"stopped": False, "reached": False, "sys": {}, "regs": [], "tables": {}}
    t0 = time.monotonic()
    p = subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    g = None
    try:
        while not os.path.exists(gsock):
            assert p.poll() is None and time.monotonic() - t0 < 10, \
                "QEMU did not start: " + p.stderr.read().decode(errors="replace")
            time.sleep(0.02)
        g = ramcheck.GDB(gsock, timeout=TIMEOUT)
        nums = _regnums(g)
        assert g.cmd(f"Z0,{bp:x},4") == "OK"
        try:
            stop = g.cmd("vCont;c")
        except (OSError, AssertionError):
            stop = ""                       # QEMU ended first: the stub never jumped
        if stop.startswith(("T", "S")):
            out["stopped"] = True
            core = bytes.fromhex(g.cmd("g"))
            out["regs"] = [int.from_bytes(core[8 * i:8 * i + 8], "little") for i in range(33)]
            out["regs"].append(int.from_bytes(core[33 * 8:33 * 8 + 4], "little"))   # cpsr
            for name in SYSREGS:       # a CPU without EL2 has no *_EL2
                r = g.cmd(f"p{nums[name]:x}") if name in nums else "00"
                out["sys"][name] = int.from_bytes(bytes.fromhex(r), "little")
            el = (out["regs"][33] >> 2) & 3
            ttbr = out["sys"]["TTBR0_EL2" if el == 2 else "TTBR0_EL1"]
            assert g.cmd("Qqemu.PhyMemMode:1") == "OK"
            out["tables"] = _read_tables(g, ttbr & 0x0000fffffffffffe)
            out["root"] = ttbr & 0x0000fffffffffffe
            g.cmd("Qqemu.PhyMemMode:0")
            g.cmd(f"z0,{bp:x},4")
            g.detach()
            # The next kernel powers off (PSCI): QEMU ends by itself.
            while time.monotonic() - t0 < TIMEOUT and p.poll() is None:
                text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
                if until in text and "\n" in text[text.index(until):]:
                    break                   # the whole line is out
                time.sleep(0.05)
    finally:
        if g:
            g.close()
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    out["serial"] = (open(serial, errors="replace").read() if os.path.exists(serial)
                     else "").replace("\r", "")
    out["reached"] = out["stopped"] and until in out["serial"]
    return out


# ------------------------------------------------ walking the tables here --
MAIR_TYPES = {0x00: "Device-nGnRnE", 0x04: "Device-nGnRE", 0xff: "Normal-WB"}


class Map:
    """The leaves of a stage 1 VMSAv8-64 walk (4 KiB granule, T0SZ 16:
    levels 0-3) decoded with the rules of the regime the CPU runs in
    (Arm ARM D8.4 / 'Stage 1 attribute fields'):
      EL1&0 and EL2&0 (HCR_EL2.E2H = 1): AP[2] = read-only, AP[1] = EL0
        access, PXN (bit 53) / UXN (bit 54); a page EL0 may write is never
        privileged-executable;
      EL2 (E2H = 0): one privilege level, AP[2] = read-only, AP[1] RES1,
        XN bit 54, bit 53 RES0.
    SCTLR_ELx.WXN makes every writable page execute-never."""

    def __init__(self, snap):
        s, self.el = snap["sys"], (snap["regs"][33] >> 2) & 3
        self.e2h = bool(s["HCR_EL2"] >> 34 & 1) if self.el == 2 else False
        self.sctlr = s["SCTLR_EL2"] if self.el == 2 else s["SCTLR"]
        self.tcr = s["TCR_EL2"] if self.el == 2 else s["TCR_EL1"]
        self.mair = s["MAIR_EL2"] if self.el == 2 else s["MAIR_EL1"]
        self.wxn = bool(self.sctlr >> 19 & 1)
        self.problems = []
        self.leaves = []            # (va, size, descriptor, level)
        self._walk(snap["tables"], snap["root"], 0, 0)
        self.leaves.sort()
        self.starts = [l[0] for l in self.leaves]

    def _walk(self, tables, addr, level, va):
        shift = 39 - 9 * level
        for i, x in enumerate(tables[addr]):
            a = va | (i << shift)
            if x & 1 == 0:
                continue
            if level < 3 and x & 2:
                if x >> 59:
                    self.problems.append(f"table at {a:#x} L{level} sets APTable/XNTable bits")
                self._walk(tables, x & 0x0000fffffffff000, level + 1, a)
            elif level in (1, 2) or (level == 3 and x & 2):
                self.leaves.append((a, 1 << shift, x, level))
            else:
                self.problems.append(f"invalid descriptor {x:#x} at {a:#x} L{level}")

    def leaf(self, addr):
        import bisect
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0:
            va, size, x, level = self.leaves[i]
            if va <= addr < va + size:
                return self.leaves[i]
        return None

    def decode(self, x):
        ap2, ap1 = x >> 7 & 1, x >> 6 & 1
        pxn, uxn = x >> 53 & 1, x >> 54 & 1
        w = not ap2
        if self.el == 2 and not self.e2h:
            x_ok = not uxn
            bad = ([] if ap1 else ["AP[1] is RES1 in the EL2 regime"]) + \
                  (["bit 53 is RES0 in the EL2 regime"] if pxn else [])
            el0 = False
        else:
            x_ok = not pxn and not (ap1 and not ap2)
            bad = [] if uxn else ["UXN clear: EL0 could execute"]
            el0 = bool(ap1)
        if self.wxn and w:
            x_ok = False
        return {"type": MAIR_TYPES.get(self.mair >> (8 * (x >> 2 & 7)) & 0xff, "other"),
                "w": w, "x": x_ok, "el0": el0, "af": bool(x >> 10 & 1),
                "sh": x >> 8 & 3, "oa": x & 0x0000fffffffff000, "res": bad}

    def at(self, addr):
        """Decoded attributes of the page holding addr, None if unmapped."""
        lf = self.leaf(addr)
        return self.decode(lf[2]) if lf else None

    def spans(self, start, end):
        """Decoded leaves overlapping [start, end): [(va, size, attrs)]."""
        out = []
        for va, size, x, level in self.leaves:
            if va < end and va + size > start:
                out.append((va, size, self.decode(x)))
        return out


def subtract(ranges, holes):
    """[start, end) ranges minus holes, all page-aligned here."""
    out = list(ranges)
    for hs, he in holes:
        nxt = []
        for s, e in out:
            if he <= s or hs >= e:
                nxt.append((s, e))
                continue
            if s < hs:
                nxt.append((s, hs))
            if he < e:
                nxt.append((he, e))
        out = nxt
    return out


def merged(spans):
    out = []
    for s, e in sorted(spans):
        if out and out[-1][1] == s:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def check_map(snap, regime, dtb, base, syms, nomap=(NOMAP, NOMAP_2M), memreserve=(MEMRESERVE,),
              mapped=(RESERVED_MAPPED,), ecam=None):
    """Every rule of issue 15 against the walked map; returns the list of
    violations (empty: all good)."""
    machine, cpu, el, e2h, _ = REGIMES[regime]
    bad = []
    m = Map(snap)
    bad += m.problems
    if m.el != el or m.e2h != e2h:
        bad.append(f"stopped at EL{m.el} E2H={m.e2h}, wanted EL{el} E2H={e2h}")
    if snap["regs"][2] != el:
        bad.append(f"arm64_jump_next got el={snap['regs'][2]}")

    def want(addr, what, typ, w, x):
        a = m.at(addr)
        got = a and (a["type"], a["w"], a["x"])
        if got != (typ, w, x):
            bad.append(f"{what} {addr:#x}: {got} (type, writable, executable), want "
                       f"{(typ, w, x)}")

    def unmapped(start, size, what):
        for va, sz, a in m.spans(start, start + size):
            bad.append(f"{what} [{start:#x}+{size:#x}) mapped: leaf {va:#x}+{sz:#x} "
                       f"{a['type']} w={a['w']} x={a['x']}")

    # -- what must never be mapped cacheable: no-map and memreserve first
    for a, n in nomap:
        unmapped(a, n, "no-map region")
        want(a - PAGE, "page below a no-map region", "Normal-WB", True, False)
        want(a + n, "page above a no-map region", "Normal-WB", True, False)
    for a, n in memreserve:
        unmapped(a, n, "/memreserve/ entry")
        want(a - PAGE, "page below a memreserve entry", "Normal-WB", True, False)
        want(a + n, "page above a memreserve entry", "Normal-WB", True, False)
    for a, n in mapped:
        want(a, "reserved region without no-map (Linux maps it)", "Normal-WB", True, False)

    # -- RAM: Normal write-back, writable, execute-never
    for a in (RAM[0], RAM[0] + 0x20000000, RAM[0] + RAM[1] - PAGE):
        if not (base <= a < base + syms.get("_end", 0)):
            want(a, "RAM", "Normal-WB", True, False)
    # -- the stub: text read-only executable, the rest execute-never
    text_end = syms.get("__text_end")
    data_start = syms.get("__data_start")
    if text_end is None or data_start is None:
        bad.append("linker/arm64.lds has no __text_end/__data_start: no text/data boundary")
    else:
        for off in (syms["_head"], syms["arm64_main"], syms["arm64_jump_next"], text_end - 4):
            want(base + off, f"stub text +{off:#x}", "Normal-WB", False, True)
        for off in (text_end, data_start - 4):
            want(base + off, f"stub rodata/relro +{off:#x}", "Normal-WB", False, False)
        for off in (data_start, syms["__bss_start"], syms["__stack_top"] - 16, syms["_end"] - 4):
            want(base + off, f"stub data/bss/stack +{off:#x}", "Normal-WB", True, False)
    # -- the DTB the stub was handed (x1 at arm64_jump_next)
    dtb_at = snap["regs"][1]
    size = os.path.getsize(dtb)
    for a in (dtb_at, dtb_at + size - 1):
        want(a, "DTB", "Normal-WB", True, False)
    # -- devices: ECAM windows and the UART page Device-nGnRE, execute-never
    wins = ecam if ecam is not None else [(b, (e - s + 1) << 20) for _, b, _, s, e
                                          in dtb_ecam_windows(dtb)]
    for b, n in wins:
        for a in (b, b + n // 2, b + n - PAGE):
            want(a, "ECAM", "Device-nGnRE", True, False)
        for va, sz, a in m.spans(b, b + n):
            if a["type"] != "Device-nGnRE" or a["x"]:
                bad.append(f"ECAM leaf {va:#x}+{sz:#x}: {a['type']} x={a['x']}")
    uart = uart_of(dtb)
    want(uart, "UART", "Device-nGnRE", True, False)
    # -- everything else unmapped: flash, GIC, the page after the UART (RTC),
    # virtio-mmio, the high MMIO window, past RAM
    for a, what in ((0, "flash"), (0x08000000, "GIC"), (uart + PAGE, "page after the UART"),
                    (0x0a000000, "virtio-mmio"), (0x8000000000, "high PCI MMIO"),
                    (RAM[0] + RAM[1], "past RAM")):
        if m.at(a) is not None and not any(b <= a < b + n for b, n in wins):
            bad.append(f"{what} {a:#x} mapped: {m.at(a)['type']}")

    # -- the map as a whole
    normal, device = [], []
    for va, sz, x, level in m.leaves:
        a = m.decode(x)
        if a["oa"] != va:
            bad.append(f"leaf {va:#x} maps {a['oa']:#x}: not an identity map")
        if not a["af"]:
            bad.append(f"leaf {va:#x}: AF clear (first access faults)")
        if a["res"]:
            bad.append(f"leaf {va:#x} ({x:#x}): " + ", ".join(a["res"]))
        if a["el0"]:
            bad.append(f"leaf {va:#x}: EL0 may access it")
        if a["w"] and a["x"]:
            bad.append(f"leaf {va:#x}+{sz:#x}: writable and executable")
        if a["x"] and text_end is not None and not (base <= va and va + sz <= base + text_end):
            bad.append(f"leaf {va:#x}+{sz:#x}: executable outside the stub's text")
        if a["type"] == "Normal-WB":
            if a["sh"] != 3:
                bad.append(f"leaf {va:#x}: Normal but not inner shareable")
            normal.append((va, va + sz))
        elif a["type"] == "Device-nGnRE":
            device.append((va, va + sz))
        else:
            bad.append(f"leaf {va:#x}: memory type {a['type']}")
    holes = [(a & ~(PAGE - 1), (a + n + PAGE - 1) & ~(PAGE - 1)) for a, n in
             list(nomap) + list(memreserve)]
    want_normal = subtract([(RAM[0], RAM[0] + RAM[1])], holes)
    if merged(normal) != merged(want_normal):
        bad.append(f"Normal memory is {[(hex(s), hex(e)) for s, e in merged(normal)][:12]}, "
                   f"want RAM minus no-map/memreserve "
                   f"{[(hex(s), hex(e)) for s, e in merged(want_normal)]}")
    want_dev = merged([(b, b + n) for b, n in wins] + [(uart & ~(PAGE - 1),
                                                        (uart & ~(PAGE - 1)) + PAGE)])
    if merged(device) != want_dev:
        bad.append(f"Device memory is {[(hex(s), hex(e)) for s, e in merged(device)][:12]}, "
                   f"want ECAM + UART {[(hex(s), hex(e)) for s, e in want_dev]}")
    # -- the controls: MMU, caches and WXN on; 48-bit VA, 4 KiB granule
    for bit, what in ((0, "M"), (2, "C"), (12, "I"), (19, "WXN")):
        if not m.sctlr >> bit & 1:
            bad.append(f"SCTLR_EL{el}.{what} clear ({m.sctlr:#x})")
    if m.tcr & 0x3f != 16 or m.tcr >> 14 & 3 != 0:
        bad.append(f"TCR_EL{el} {m.tcr:#x}: want T0SZ 16 and a 4 KiB TG0")
    return bad


def assert_jumped(snap, el):
    assert snap["stopped"], "the stub never reached arm64_jump_next\n" + snap["serial"]
    assert snap["reached"], "the next kernel was not entered after the stop\n" + snap["serial"]
    m = re.search(r"^next: entered EL(\d) x0=\S+ dtb=ok x1-x3=0 mmu=off dcache=off$",
                  snap["serial"], re.M)
    assert m and m.group(1) == str(el), snap["serial"]


# ------------------------------------------------------------------ tests --
@pytest.mark.parametrize("regime", list(REGIMES))
def test_arm64_page_tables(tmp_path, regime):
    """RAM Normal write-back except no-map and memreserve; ECAM and the
    UART Device-nGnRE; the stub's text the only executable memory; nothing
    else mapped; the encodings of this EL's regime; then the jump."""
    machine, cpu, el, e2h, _ = REGIMES[regime]
    dtb = make_dtb(tmp_path, machine)
    cmd, base = boot_cmd(tmp_path, regime, dtb)
    snap = stop_at_jump(cmd, base, tmp_path)
    assert snap["stopped"], "the stub never reached arm64_jump_next\n" + snap["serial"]
    bad = check_map(snap, regime, dtb, base, stub_syms())
    assert not bad, "\n".join(bad[:40]) + "\n--- serial ---\n" + snap["serial"][-3000:]
    assert_jumped(snap, el)
    # What the stub says it mapped, and the RAM its session may read: the
    # same pieces, so no cache entry is ever read through a hole.
    kind = " vhe" if e2h else " nvhe" if el == 2 else ""
    assert re.search(rf"^pcsc: mmu EL{el}{kind} tables=\d+/128 nomap=3$", snap["serial"],
                     re.M), snap["serial"]
    holes = [(a & ~(PAGE - 1), (a + n + PAGE - 1) & ~(PAGE - 1)) for a, n in
             (NOMAP, NOMAP_2M, MEMRESERVE)]
    ram = re.findall(r"^pcsc: ram (0x[0-9a-f]+)-(0x[0-9a-f]+)$", snap["serial"], re.M)
    assert [(int(a, 16), int(b, 16)) for a, b in ram] == \
        subtract([(RAM[0], RAM[0] + RAM[1])], holes), snap["serial"]


def test_arm64_page_tables_pool_exhausted_leaves_ram_unmapped(tmp_path):
    """More no-map regions than the table pool can cut out of RAM (each
    straddles a 2 MiB boundary off alignment: two 4 KiB tables): past the
    pool the RAM around them stays unmapped, one line says so at the default
    report level, no no-map
    page is ever mapped, and the next kernel is still entered."""
    regions = [(RAM[0] + 0x8000000 + i * 0x400000 + MIB2 - 0x3000, 0x6000) for i in range(62)]
    dtb = make_dtb(tmp_path, "virt", nomap=regions, memreserve=(), mapped=())
    # At the stub's default report level: RAM left unmapped is said even there.
    cmd, base = boot_cmd(tmp_path, "el1", dtb, append="pcsc.report=summary")
    snap = stop_at_jump(cmd, base, tmp_path)
    assert snap["stopped"], snap["serial"]
    m = Map(snap)
    for a, n in regions:
        assert not m.spans(a, a + n), f"no-map {a:#x} mapped\n" + snap["serial"]
    lines = [l for l in snap["serial"].splitlines() if "page-table pool exhausted" in l]
    assert len(lines) == 1, snap["serial"]
    # The regions the pool did not reach: RAM next to them is unmapped, not
    # Normal around a hole it could not cut.
    unmapped = [a for a, n in regions if m.at(a - PAGE) is None]
    assert unmapped and unmapped == [a for a, n in regions][-len(unmapped):], unmapped
    for a, n in regions:
        for va, sz, at in m.spans(a - MIB2, a + n + MIB2):
            assert not (va < a + n and va + sz > a), f"{va:#x}+{sz:#x} covers no-map {a:#x}"
    assert_jumped(snap, 1)


def test_arm64_page_tables_acpi_ecam_from_mcfg(tmp_path):
    """ACPI arm64 (no PCI node, ECAM from MCFG through the EFI system
    table): the window found late is mapped Device-nGnRE, the tables the
    stub read are RAM, and the no-map region stays out."""
    dtb = make_dtb(tmp_path, "virt")
    dtb, blob, blob_at, wins = dtb_as_acpi(tmp_path, dtb)
    cmd, base = boot_cmd(tmp_path, "el1", dtb)
    cmd += ["-device", f"loader,file={blob},addr={blob_at:#x},force-raw=on"]
    snap = stop_at_jump(cmd, base, tmp_path)
    assert snap["stopped"], snap["serial"]
    assert re.search(r"^pcsc: acpi: rsdp 0x[0-9a-f]+ mcfg windows=1$", snap["serial"], re.M), \
        snap["serial"]
    ecam = [(b, (e - s + 1) << 20) for _, b, _, s, e in wins]
    bad = check_map(snap, "el1", dtb, base, stub_syms(), ecam=ecam)
    assert not bad, "\n".join(bad[:40]) + "\n--- serial ---\n" + snap["serial"][-3000:]
    assert_jumped(snap, 1)


ECAM_IN_RAM = (0x60000000, 1 << 20)             # bus 0 of a second host bridge, in RAM


def test_arm64_page_tables_ecam_claiming_ram_is_refused(tmp_path):
    """A second pci-host-ecam-generic node whose window lies in RAM (a DT
    mistake): the stub neither maps it Device over Normal RAM nor walks RAM
    as config space. One line at the default report level says so; the map
    is otherwise exactly the machine's (RAM Normal, the real ECAM Device)."""
    a, n = ECAM_IN_RAM
    node = ("\tpcie@60000000 {\n\t\tcompatible = \"pci-host-ecam-generic\";\n"
            "\t\tdevice_type = \"pci\";\n\t\t#address-cells = <3>;\n\t\t#size-cells = <2>;\n"
            "\t\tlinux,pci-domain = <1>;\n\t\tbus-range = <0 0>;\n"
            f"\t\treg = <0 {a:#x} 0 {n:#x}>;\n\t}};\n")
    dtb = make_dtb(tmp_path, "virt", extra=node)
    wins = dtb_ecam_windows(dtb)
    assert (a, 1) in [(w[1], w[2]) for w in wins], wins      # the DT really says so
    cmd, base = boot_cmd(tmp_path, "el1", dtb, append="pcsc.report=summary")
    snap = stop_at_jump(cmd, base, tmp_path)
    assert snap["stopped"], snap["serial"]
    lines = [l for l in snap["serial"].splitlines() if l.startswith("pcsc: ecam ")]
    assert lines == [f"pcsc: ecam 0001:00-00 at {a:#x} not mapped: overlapping memory: "
                     "not walked"], snap["serial"]
    real = [(b, (e - s + 1) << 20) for _, b, seg, s, e in wins if seg == 0]
    bad = check_map(snap, "el1", dtb, base, stub_syms(), ecam=real)
    assert not bad, "\n".join(bad[:40]) + "\n--- serial ---\n" + snap["serial"][-3000:]
    m = Map(snap)
    assert m.at(a)["type"] == "Normal-WB" and m.at(a + n - PAGE)["type"] == "Normal-WB"
    assert_jumped(snap, 1)
