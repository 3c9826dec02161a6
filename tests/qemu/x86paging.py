# tests/qemu/x86paging.py - read the x86 stub's live page tables: QEMU stopped by the gdbstub at chosen addresses
# (ramcheck's mechanism), CR0/CR3/CR4/EFER from the monitor, every table page from guest RAM, walked in Python. Never edits a table.
"""x86_64 page-table reader for tests/qemu/test_x86_page_tables.py.

run_to_stops() starts QEMU stopped (-S) with a QMP socket and a gdbstub,
sets a breakpoint at each address of `stops`, and at every stop records
the control registers (HMP `info registers`) and the leaves of the live
translation tables, walked from CR3 through guest-physical reads (QMP
pmemsave, one 4 KiB table at a time): 4 or 5 levels as CR4.LA57 says,
PS leaves at levels 2 and 3. Then it detaches and lets QEMU end as it
would (the stub's jump, the next kernel's exit).

A Leaf is one translation: virtual base, size, the raw entry, its level
and the permissions combined over every level of the walk (W only when
every level allows it, NX when any level forbids execution), as the CPU
combines them (Intel SDM Vol. 3A "Access Rights").
"""
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass

import ramcheck

TABLE_MASK = 0x000ffffffffff000
PAT_WB, PAT_UC = 0x06, 0x00
PAT_NAMES = {0: "UC", 1: "WC", 4: "WT", 5: "WP", 6: "WB", 7: "UC-"}


@dataclass
class Leaf:
    va: int
    size: int
    entry: int
    level: int
    w: bool                 # writable through every level
    nx: bool                # execute-disable at some level

    @property
    def pa(self):
        return self.entry & TABLE_MASK & ~(self.size - 1)

    @property
    def end(self):
        return self.va + self.size

    def pat_index(self):
        """PAT:PCD:PWT; the PAT bit is bit 7 of a 4 KiB PTE, bit 12 of a
        2 MiB / 1 GiB leaf (bit 7 is PS there)."""
        pat = (self.entry >> (7 if self.level == 1 else 12)) & 1
        return pat << 2 | ((self.entry >> 4) & 1) << 1 | ((self.entry >> 3) & 1)

    def mtype(self, pat_msr):
        """The PAT memory type this leaf selects (0 UC, 6 WB, ...)."""
        return (pat_msr >> (8 * self.pat_index())) & 0xff


def leaf_shift(level):
    return 12 + 9 * (level - 1)


def walk(read_page, cr3, levels):
    """Every present leaf reachable from cr3, sorted by virtual address.
    read_page(pa) -> 4096 bytes. Bounded: at most 4096 tables."""
    leaves, seen = [], set()

    def rec(table, level, base, w, nx):
        assert table not in seen, f"table {table:#x} reached twice"
        seen.add(table)
        assert len(seen) <= 4096, "more than 4096 page tables"
        data = read_page(table)
        for i in range(512):
            e = int.from_bytes(data[8 * i:8 * i + 8], "little")
            if not e & 1:
                continue
            va = base + (i << leaf_shift(level))
            ew, enx = w and bool(e & 2), nx or bool(e >> 63)
            if level == 1 or (level in (2, 3) and e & 0x80):
                leaves.append(Leaf(va, 1 << leaf_shift(level), e, level, ew, enx))
            else:
                assert level > 1 and not (level > 3 and e & 0x80), f"PS at level {level}"
                rec(e & TABLE_MASK, level - 1, va, ew, enx)

    rec(cr3 & TABLE_MASK, levels, 0, True, False)
    return sorted(leaves, key=lambda l: l.va)


def overlapping(leaves, start, end):
    """The leaves that map any byte of [start, end)."""
    return [l for l in leaves if l.va < end and l.end > start]


def unmapped(leaves, start, end):
    """Sub-ranges of [start, end) no leaf maps."""
    out, cur = [], start
    for l in overlapping(leaves, start, end):
        if l.va > cur:
            out.append((cur, l.va))
        cur = max(cur, l.end)
    if cur < end:
        out.append((cur, end))
    return out


TLB_RE = re.compile(r"^([0-9a-f]+): ([0-9a-f]+) ([-X])([-G])([-P])([-D])([-A])([-C])([-T])([-U])([-W])$")


def info_tlb(text):
    """QEMU's own walk (HMP `info tlb`): {va: (pa, raw flag string)}, one
    line per leaf, flags of the leaf entry: NX, G, PS/PAT, D, A, PCD, PWT,
    U, W (target/i386/monitor.c print_pte)."""
    out = {}
    for line in text.splitlines():
        m = TLB_RE.match(line.strip())
        assert m, f"info tlb: {line!r}"
        out[int(m.group(1), 16)] = (int(m.group(2), 16), "".join(m.groups()[2:]))
    return out


REG_RE = re.compile(r"\b(RIP|CR0|CR3|CR4|EFER)=([0-9a-fA-F]+)")


def registers(q):
    """RIP, CR0, CR3, CR4, EFER of CPU 0 from HMP `info registers`."""
    text = q.cmd("human-monitor-command", **{"command-line": "info registers"})
    regs = {k: int(v, 16) for k, v in REG_RE.findall(text)}
    assert {"RIP", "CR0", "CR3", "CR4", "EFER"} <= set(regs), text
    return regs


def run_to_stops(cmd, stops, timeout=90):
    """Run the QEMU command line cmd (one -serial) stopped at reset; stop at
    each address in stops (in any order; each is a breakpoint); at every
    stop record {"regs", "leaves", "at"}. Returns (snapshots in the order
    they happened, serial text, QEMU exit status or None on timeout)."""
    t0 = time.monotonic()
    p, d, sock, gsock, serial = ramcheck.start_stopped(cmd, "x86paging-")
    snaps, q, g, rc = [], None, None, None

    def left():
        return max(1.0, timeout - (time.monotonic() - t0))

    try:
        while not (os.path.exists(sock) and os.path.exists(gsock)):
            assert p.poll() is None and time.monotonic() - t0 < 10, \
                "QEMU did not start: " + " ".join(p.args) + "\n" + p.stderr.read().decode()
            time.sleep(0.02)
        q = ramcheck.QMP(sock, timeout=left())
        g = ramcheck.GDB(gsock, timeout=left())
        for a in stops:
            assert g.cmd(f"Z0,{a:x},1") == "OK", "gdbstub refused a breakpoint"
        n = 0

        def read_page(pa):
            nonlocal n
            n += 1
            f = os.path.join(d, f"page-{n}.bin")
            q.cmd("pmemsave", val=pa, size=4096, filename=f)
            with open(f, "rb") as fh:
                data = fh.read()
            os.unlink(f)
            return data

        armed, ended = set(stops), False
        while armed:
            try:
                stop = g.cmd("vCont;c")
            except (AssertionError, OSError):
                ended = True            # the guest ended without reaching the rest
                break
            if not stop.startswith(("T", "S")):
                break
            regs = registers(q)
            assert regs["RIP"] in armed, f"stopped at {regs['RIP']:#x}, not at a breakpoint"
            levels = 5 if regs["CR4"] & (1 << 12) else 4
            tlb = q.cmd("human-monitor-command", **{"command-line": "info tlb"})
            snaps.append({"at": regs["RIP"], "regs": regs, "levels": levels, "info_tlb": tlb,
                          "leaves": walk(read_page, regs["CR3"], levels)})
            # QEMU reports a breakpoint again when continued from it
            armed.discard(regs["RIP"])
            g.cmd(f"z0,{regs['RIP']:x},1")
        if not ended:
            for a in armed:
                g.cmd(f"z0,{a:x},1")
            g.detach()
        try:
            rc = p.wait(timeout=left())
        except subprocess.TimeoutExpired:
            rc = None
    finally:
        for x in (g, q):
            if x:
                x.close()
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        text = open(serial, errors="replace").read().replace("\r", "") \
            if os.path.exists(serial) else ""
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)
    return snaps, text, rc


def elf_symbols(elf, names):
    """{name: link address} for names found in elf (nm)."""
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        t = line.split()
        if len(t) == 3 and t[2] in names:
            syms[t[2]] = int(t[0], 16)
    return syms
