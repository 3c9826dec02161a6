# tests/qemu/test_x86_page_tables.py - issue 15 (x86): the stub's live page tables read back just before its jump,
# 4- and 5-level, against an e820 the test writes: RAM WB, reserved types not WB, ECAM UC, the image mapped. Never edits the build.
"""The x86 stub's identity map, proven by reading it back.

QEMU has no cache model: a wrong memory type changes nothing a guest can
see, so the only proof is the tables themselves. Each case boots the stub
with a boot_params page whose e820 the test wrote (q35's own, with
reserved ranges of every type carved out of RAM), stops it with the
gdbstub at x86_paging_handover (the tables the session ran on) and at
x86_jump64 (the tables the next kernel gets), walks the live tables from
CR3 (x86paging.py) and checks the rules of docs/security.md ("What the
stub maps, x86_64"). The memory type of a leaf is the IA32_PAT entry its
PAT:PCD:PWT index selects; the PAT is the one the case left in the CPU
(QEMU's gdbstub does not show MSRs): the power-on value after SeaBIOS, or
what the test's old kernel (x86payload/entry64.S) wrote.

Cases: the PVH entry (4-level, 1 GiB pages); the 64-bit entry from an old
kernel with Linux's PAT and EFER.NXE set, 4-level without 1 GiB pages
(-cpu qemu64) and 5-level (CR4.LA57); 5-level with a PAT whose only UC
entry is index 7 (PAT bit set); a PAT with no UC entry at all (the stub
writes the power-on value).
"""
import os
import re
import subprocess

import pytest

from qemurun import need
from stubout import pcsc_lines
from x86util import (BootParams, NEXT_EXIT, PAYLOAD_DIR, X86_LOAD_ADDR, X86_STUB,
                     fake_next_kernel, machine_e820, wrap_stub, x86_cmd)
from x86paging import (PAT_UC, PAT_WB, PAT_NAMES, elf_symbols, info_tlb, overlapping,
                       run_to_stops, unmapped)

MIB, GIB = 1 << 20, 1 << 30
MEM_MIB = 3072              # q35: 2 GiB below the PCI hole, 1 GiB at 4 GiB (a whole 1 GiB page)
BP_ADDR = 0x800000          # boot_params page, its command line at +0x1000
PAYLOAD_AT = 0x1000000      # the test old kernel (x86payload/payload.lds)
STUB_AT = 0x2000000         # 64-bit entry: the wrapped stub, as kexec places it (2 MiB aligned)
NEXT_AT = 0x2000000         # PVH entry: the fake next kernel's bzImage (pcsc.x86.next)

# IA32_PAT values, entry 0 in the low byte.
PAT_POWER_ON = 0x0007040600070406   # SDM: WB WT UC- UC WB WT UC- UC (SeaBIOS leaves it)
PAT_LINUX = 0x0407050600070106      # arch/x86/mm/pat/memtype.c pat_init: WB WC UC- UC WB WP UC- WT
PAT_UC_AT_7 = 0x0007050604070106    # WB WC UC- WT WB WP UC- UC: PCD|PWT alone would be WT
PAT_NO_UC = 0x0407050604070106      # WB WC UC- WT WB WP UC- WT: no UC entry anywhere

CASES = {
    "pvh-4level": dict(entry="pvh", cpu="max", la57=False, pat=None),
    "64bit-4level-no-1g": dict(entry="64bit", cpu="qemu64", la57=False, pat=PAT_LINUX),
    "64bit-5level": dict(entry="64bit", cpu="max,+la57", la57=True, pat=PAT_LINUX),
    "64bit-5level-uc-at-index-7": dict(entry="64bit", cpu="max,+la57", la57=True, pat=PAT_UC_AT_7),
    "64bit-4level-pat-without-uc": dict(entry="64bit", cpu="max", la57=False, pat=PAT_NO_UC),
}

# Carved out of RAM: every non-RAM e820 type, at 2 MiB and at 4 KiB
# granularity, one across a 2 MiB boundary. Nothing the stub reads is there.
HOLES = [
    (0x3000000, 0x200000, 2, "reserved, one whole 2 MiB block"),
    (0x3401000, 0x3000, 4, "ACPI NVS, 4 KiB pages"),
    (0x3600000, 0x1000, 3, "ACPI reclaimable"),
    (0x3800000, 0x100000, 5, "unusable"),
    (0x3a00000, 0x1000, 12, "type 12 (any other type)"),
    (0x3bff000, 0x2000, 2, "reserved across a 2 MiB boundary"),
]


def carve(e820, holes):
    """e820 with each (addr, size, type) cut out of the RAM entry holding it."""
    out = list(e820)
    for a, n, t, _ in holes:
        for i, (ea, en, et) in enumerate(out):
            if et == 1 and ea <= a and a + n <= ea + en:
                out[i:i + 1] = [x for x in ((ea, a - ea, 1), (a, n, t),
                                            (a + n, ea + en - a - n, 1)) if x[1]]
                break
        else:
            raise AssertionError(f"hole {a:#x} not inside RAM")
    return sorted(out)


def ram_ranges(e820):
    """e820 RAM merged, each rounded inward to whole pages."""
    out = []
    for a, n, t in sorted(e820):
        if t != 1:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], a + n)
        else:
            out.append([a, a + n])
    return [((a + 0xfff) & ~0xfff, b & ~0xfff) for a, b in out if ((a + 0xfff) & ~0xfff) < b & ~0xfff]


def in_ranges(ranges, start, end):
    return any(a <= start and end <= b for a, b in ranges)


def expected_pat(case):
    """The PAT the stub runs with: the old kernel's when it has WB and UC,
    else the power-on value the stub writes."""
    pat = case["pat"]
    if pat is None:
        return PAT_POWER_ON
    types = [(pat >> (8 * i)) & 0xff for i in range(8)]
    return pat if PAT_WB in types and PAT_UC in types else PAT_POWER_ON


def describe(leaves, pat, start, end, limit=12):
    return "\n".join(f"  {l.va:#x}+{l.size:#x} L{l.level} {PAT_NAMES.get(l.mtype(pat), '?')} "
                     f"{'W' if l.w else '-'}{'-' if l.nx else 'X'} entry={l.entry:#x}"
                     for l in overlapping(leaves, start, end)[:limit])


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    """What every case shares: the test's e820, the fake next kernel, the
    stub's symbols and sizes."""
    tmp = tmp_path_factory.mktemp("x86pt")
    e820 = carve(machine_e820(mem_mib=MEM_MIB), HOLES)
    elf = need(X86_STUB)
    syms = elf_symbols(elf, {"x86_paging_handover", "x86_jump64", "__image_start",
                             "__image_end", "__text_end"})
    if "__text_end" not in syms:
        # a stub from before the text had a page-aligned end of its own
        sh = subprocess.run(["readelf", "-SW", elf], capture_output=True, text=True).stdout
        m = re.search(r"\s\.text\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", sh)
        syms["__text_end"] = int(m.group(1), 16) + int(m.group(2), 16)
    nxt = fake_next_kernel(tmp)
    return {"tmp": tmp, "e820": e820, "syms": syms, "next": nxt}


def payload(tmp, case):
    """The test old kernel for the 64-bit entry (x86payload/entry64.S)."""
    pat = case["pat"]
    o, elf = os.path.join(str(tmp), "entry64.o"), os.path.join(str(tmp), "entry64.elf")
    subprocess.run(["gcc", "-m32", "-c", os.path.join(PAYLOAD_DIR, "entry64.S"), "-o", o,
                    f"-DSTUB_ENTRY={STUB_AT + 0x200:#x}", f"-DBOOT_PARAMS={BP_ADDR:#x}",
                    f"-DLA57={int(case['la57'])}", "-DNXE=1",
                    f"-DPAT_LO={pat & 0xffffffff:#x}", f"-DPAT_HI={pat >> 32:#x}"], check=True)
    subprocess.run(["ld", "-m", "elf_i386", "-T", os.path.join(PAYLOAD_DIR, "payload.lds"),
                    "--build-id=none", "--no-warn-rwx-segments", "-o", elf, o], check=True)
    return elf


def boot(machine, tmp, name, case, e820, report="pcsc.report=full"):
    """One boot of case with e820, stopped at x86_paging_handover ('session')
    and at x86_jump64 ('jump'), then run to the fake next kernel's exit.
    report: the report option (the harness adds pcsc.report=full where it is missing)."""
    tmp.mkdir()
    syms = machine["syms"]
    base = X86_LOAD_ADDR if case["entry"] == "pvh" else STUB_AT
    reloc = base - syms["__image_start"]
    opts = f"pcsc.exit=debug {report}".strip()
    bp = BootParams(BP_ADDR, e820=e820)
    dev = []
    if case["entry"] == "pvh":
        size = os.path.getsize(machine["next"])
        dev.append(f"loader,file={machine['next']},addr={NEXT_AT:#x},force-raw=on")
        kernel = None
        append = f"{opts} pcsc.boot_params={BP_ADDR:#x} pcsc.x86.next={NEXT_AT:#x},{size:#x}"
    else:
        bp.cmdline = opts
        stub = wrap_stub(tmp, machine["next"])
        dev.append(f"loader,file={stub},addr={STUB_AT:#x},force-raw=on")
        kernel, append = payload(tmp, case), None
    dev.append(bp.loader(tmp))
    cmd = x86_cmd(kernel=kernel, devices=dev, append=append, mem=f"{MEM_MIB}M",
                  extra=["-cpu", case["cpu"]])
    stops = {reloc + syms[s]: s for s in ("x86_paging_handover", "x86_jump64") if s in syms}
    snaps, text, rc = run_to_stops(cmd, list(stops))
    out = {"name": name, "case": case, "text": text, "lines": pcsc_lines(text), "rc": rc,
           "pat": expected_pat(case), "e820": e820, "ram": ram_ranges(e820),
           "image": (base, reloc + syms["__image_end"]), "text_end": reloc + syms["__text_end"]}
    for s in snaps:
        out[{"x86_paging_handover": "session", "x86_jump64": "jump"}[stops[s["at"]]]] = s
    return out


@pytest.fixture(scope="module", params=list(CASES))
def booted(request, machine):
    name = request.param
    return boot(machine, machine["tmp"] / name, name, CASES[name], machine["e820"])


def stop(b, which):
    s = b.get(which)
    if s is None:
        pytest.fail(f"{b['name']}: the stub never stopped at its {which} breakpoint"
                    f" (rc={b['rc']})\n{b['text'][-3000:]}")
    return s


def ecam_window(b):
    for l in b["lines"]:
        m = re.match(r"^ecam [0-9a-f]{4}:([0-9a-f]{2})-([0-9a-f]{2}) at (0x[0-9a-f]+)$", l)
        if m:
            return int(m.group(3), 16), (int(m.group(2), 16) - int(m.group(1), 16) + 1) << 20
    raise AssertionError("no ecam line\n" + b["text"][-3000:])


# ------------------------------------------------------------------ rules --
def test_x86_page_tables_walker_agrees_with_qemu_info_tlb(booted):
    """The Python walk (x86paging.walk) and QEMU's own (`info tlb`) list the
    same leaves with the same bits, at both stops: what the other tests
    judge is what the CPU translates. (`info tlb` shows no PAT bit: it
    drops bit 7 of a 4 KiB PTE and never prints bit 12.)"""
    for which in ("session", "jump"):
        s = stop(booted, which)
        q = info_tlb(s["info_tlb"])
        assert sorted(q) == [l.va for l in s["leaves"]], f"{which}: leaf lists differ"
        for l in s["leaves"]:
            pa, f = q[l.va]
            e = l.entry & ~(0x80 if l.level == 1 else 0)
            want = "".join(c if e >> b & 1 else "-" for c, b in
                           (("X", 63), ("G", 8), ("P", 7), ("D", 6), ("A", 5), ("C", 4), ("T", 3),
                            ("U", 2), ("W", 1)))
            assert (pa, f) == (l.pa, want), f"{which}: {l.va:#x}: qemu {pa:#x} {f}, walk {l.pa:#x} {want}"


def test_x86_page_tables_ram_is_write_back(booted):
    """Every page the e820 calls RAM is mapped 1:1, write-back."""
    s, pat = stop(booted, "jump"), booted["pat"]
    for a, e in booted["ram"]:
        assert not unmapped(s["leaves"], a, e), \
            f"{booted['name']}: RAM {a:#x}-{e:#x} not all mapped: {unmapped(s['leaves'], a, e)[:4]}"
        for l in overlapping(s["leaves"], a, e):
            assert l.pa == l.va, f"not an identity map at {l.va:#x}"
            assert l.mtype(pat) == PAT_WB, \
                f"{booted['name']}: RAM at {l.va:#x} is not WB\n" + describe(s["leaves"], pat, a, e)


def test_x86_page_tables_reserved_ranges_are_not_write_back(booted):
    """e820 types 2, 3, 4, 5 and 12 carved out of RAM: never WB; and, as
    the stub reads nothing there, not mapped at all."""
    s, pat = stop(booted, "jump"), booted["pat"]
    for a, n, t, why in HOLES:
        bad = [l for l in overlapping(s["leaves"], a, a + n) if l.mtype(pat) == PAT_WB]
        assert not bad, (f"{booted['name']}: e820 type {t} ({why}) at {a:#x}+{n:#x} is mapped "
                         f"write-back\n" + describe(s["leaves"], pat, a, a + n))
        assert unmapped(s["leaves"], a, a + n) == [(a, a + n)], \
            f"{booted['name']}: {why} mapped though the stub reads nothing there\n" + \
            describe(s["leaves"], pat, a, a + n)


def test_x86_page_tables_ecam_is_uncached_read_only(booted):
    """The MCFG window: all of it mapped strong UC (not UC-, which an MTRR
    could turn into WC); read-only and never executable while the stub runs."""
    a, n = ecam_window(booted)
    pat = booted["pat"]
    for which in ("session", "jump"):
        s = stop(booted, which)
        assert not unmapped(s["leaves"], a, a + n), f"ECAM {a:#x}+{n:#x} not all mapped"
        for l in overlapping(s["leaves"], a, a + n):
            assert l.mtype(pat) == PAT_UC, \
                f"{booted['name']}: ECAM at {l.va:#x} is not UC\n" + describe(s["leaves"], pat, a, a + n)
            if which == "session":
                assert not l.w and l.nx, f"ECAM at {l.va:#x} writable or executable"


def test_x86_page_tables_firmware_tables_read_uncached(booted):
    """The ACPI tables the stub reads (here SeaBIOS's, in e820 reserved
    memory and the BIOS area): mapped UC, read-only, never executable."""
    m = [re.match(r"^acpi rsdp (0x[0-9a-f]+) from ", l) for l in booted["lines"]]
    rsdp = int(next(x for x in m if x).group(1), 16)
    s, pat = stop(booted, "session"), booted["pat"]
    ls = overlapping(s["leaves"], rsdp, rsdp + 20)
    assert ls, f"RSDP page {rsdp:#x} not mapped"
    for l in ls:
        assert l.mtype(pat) == PAT_UC and not l.w and l.nx, \
            f"{booted['name']}: RSDP page\n" + describe(s["leaves"], pat, rsdp, rsdp + 20)


def test_x86_page_tables_image_text_only_executable(booted):
    """The image mapped WB; while the stub runs its text is the only
    executable memory (read-only), its data, BSS and stack writable and
    never executable, EFER.NXE and CR0.WP on."""
    s, pat = stop(booted, "session"), booted["pat"]
    (a, e), t = booted["image"], booted["text_end"]
    assert s["regs"]["EFER"] & (1 << 11), "EFER.NXE off while the stub runs"
    assert s["regs"]["CR0"] & (1 << 16), "CR0.WP off while the stub runs"
    assert not unmapped(s["leaves"], a, e), f"image {a:#x}-{e:#x} not all mapped"
    for l in overlapping(s["leaves"], a, e):
        assert l.mtype(pat) == PAT_WB, f"image at {l.va:#x} not WB"
    for l in overlapping(s["leaves"], a, t):
        assert not l.nx and not l.w and l.va >= a and l.end <= t, \
            f"{booted['name']}: text page\n" + describe(s["leaves"], pat, a, t)
    # Past the text: rodata, data, BSS and the stack, written by the stub
    # (relocations, its arena), never executed.
    for l in overlapping(s["leaves"], t, e):
        assert l.w and l.nx, f"{booted['name']}: data page\n" + describe(s["leaves"], pat, t, e)
    execs = [l for l in s["leaves"] if not l.nx]
    assert all(a <= l.va and l.end <= t for l in execs), \
        f"{booted['name']}: executable outside the text:\n" + \
        "\n".join(f"  {l.va:#x}+{l.size:#x}" for l in execs if not (a <= l.va and l.end <= t))[:2000]


def test_x86_page_tables_nothing_else_is_write_back(booted):
    """WB only where the e820 says RAM, or the image is."""
    s, pat = stop(booted, "jump"), booted["pat"]
    ok = booted["ram"] + [booted["image"]]
    for l in s["leaves"]:
        if l.mtype(pat) == PAT_WB:
            assert in_ranges(ok, l.va, l.end), \
                f"{booted['name']}: {l.va:#x}+{l.size:#x} WB outside RAM and the image"


def test_x86_page_tables_granules_as_large_as_allowed(booted):
    """A 2 MiB block that is RAM throughout (outside the text) is one 2 MiB
    or 1 GiB leaf; a 1 GiB block that is RAM throughout is one 1 GiB leaf
    when the CPU has 1 GiB pages (not on qemu64)."""
    s = stop(booted, "jump")
    a, t = booted["image"][0], booted["text_end"]
    gb = booted["case"]["cpu"] != "qemu64"
    whole_gb = 0
    for lo, hi in booted["ram"]:
        blk = (lo + (2 * MIB - 1)) & ~(2 * MIB - 1)
        while blk + 2 * MIB <= hi:
            if not (blk < t and blk + 2 * MIB > a):
                ls = overlapping(s["leaves"], blk, blk + 2 * MIB)
                assert len(ls) == 1 and ls[0].size >= 2 * MIB, \
                    f"{booted['name']}: RAM block {blk:#x} in {len(ls)} leaves " \
                    f"of {sorted({l.size for l in ls})}"
            blk += 2 * MIB
        g = (lo + GIB - 1) & ~(GIB - 1)
        while g + GIB <= hi:
            whole_gb += 1
            ls = overlapping(s["leaves"], g, g + GIB)
            if gb:
                assert len(ls) == 1 and ls[0].size == GIB, f"RAM GiB {g:#x} not one 1 GiB page"
            else:
                assert all(l.size == 2 * MIB for l in ls), f"RAM GiB {g:#x}: {len(ls)} leaves"
            g += GIB
    assert whole_gb, "the test's e820 has no 1 GiB of RAM in one piece"


def test_x86_page_tables_levels_and_pat(booted):
    """5-level tables exactly when the old kernel left CR4.LA57 set; the PAT
    indices the stub chose hold WB and UC in the PAT it runs with."""
    s = stop(booted, "session")
    case = booted["case"]
    assert s["levels"] == (5 if case["la57"] else 4), booted["name"]
    m = [re.match(r"^x86 paging (\d)-level pat (0x[0-9a-f]+)( \(power-on value written\))? "
                  r"wb=(\d) uc=(\d) nx=(on|off) 1g=(on|off) tables=(\d+)/(\d+)$", l)
         for l in booted["lines"]]
    m = next((x for x in m if x), None)
    assert m, "no 'x86 paging' line\n" + booted["text"][-3000:]
    pat = booted["pat"]
    assert int(m.group(1)) == s["levels"]
    assert int(m.group(2), 16) == pat, f"stub says PAT {m.group(2)}, expected {pat:#018x}"
    assert bool(m.group(3)) == (case["pat"] is not None and pat != case["pat"])
    assert (pat >> (8 * int(m.group(4)))) & 0xff == PAT_WB
    assert (pat >> (8 * int(m.group(5)))) & 0xff == PAT_UC
    if case["pat"] == PAT_UC_AT_7:
        assert int(m.group(5)) == 7, "UC is only at index 7 (PAT bit) in this PAT"


def test_x86_page_tables_hand_over_keeps_types_and_boots_the_next_kernel(booted):
    """At the jump: the same memory types as during the session, every
    mapping writable and executable (kexec's own identity map is), EFER.NXE
    and CR0.WP as the entry found them, the next kernel's init_size mapped
    WB; and the fake next kernel runs to its exit."""
    se, j, pat = stop(booted, "session"), stop(booted, "jump"), booted["pat"]
    types = lambda ls: [(l.va, l.size, l.mtype(pat)) for l in ls]     # noqa: E731
    assert types(se["leaves"]) == types(j["leaves"]), "memory types changed at the handover"
    assert all(l.w and not l.nx for l in j["leaves"]), "handover map not writable/executable"
    nxe = booted["case"]["entry"] == "64bit"          # the old kernel left NXE on, PVH did not
    assert bool(j["regs"]["EFER"] & (1 << 11)) == nxe
    assert not j["regs"]["CR0"] & (1 << 16), "CR0.WP left on"
    m = [re.match(r"^next kernel protocol \S+ at (0x[0-9a-f]+) init_size (0x[0-9a-f]+)", l)
         for l in booted["lines"]]
    m = next((x for x in m if x), None)
    assert m, booted["text"][-3000:]
    dest, init = int(m.group(1), 16), int(m.group(2), 16)
    assert not unmapped(j["leaves"], dest, dest + init)
    assert all(l.mtype(pat) == PAT_WB for l in overlapping(j["leaves"], dest, dest + init))
    assert "next: entry64 at" in booted["text"], booted["text"][-3000:]
    assert booted["rc"] == NEXT_EXIT, f"rc={booted['rc']}\n" + booted["text"][-3000:]


def test_x86_page_tables_pool_exhausted_says_so_and_still_boots(machine):
    """50 reserved 8 KiB ranges, each across a 2 MiB boundary, need two 4 KiB
    tables each: more than the pool. The stub says so in one line (at its
    default report level), leaves
    what it cannot map unmapped (never mapped otherwise) and still enters
    the next kernel."""
    holes = [(0x8000000 + i * 0x400000 - 0x1000, 0x2000, 2, "pool") for i in range(50)]
    e820 = carve(machine["e820"], holes)
    assert len(e820) <= 128, "e820 longer than boot_params holds"
    # At the default report level: a range left unmapped is said even there.
    b = boot(machine, machine["tmp"] / "pool", "pvh-pool", CASES["pvh-4level"], e820,
             report="pcsc.report=summary")
    full = [l for l in b["lines"] if l.startswith("x86 page tables: pool of")]
    assert len(full) == 1, b["text"][-3000:]
    m = re.match(r"^x86 page tables: pool of (\d+) full \((\d+) more needed\): "
                 r"(0x[0-9a-f]+)-(0x[0-9a-f]+) left unmapped$", full[0])
    assert m, full[0]
    j = stop(b, "jump")
    lo, hi = int(m.group(3), 16), int(m.group(4), 16)
    assert unmapped(j["leaves"], lo, hi) == [(lo, hi)], "the refused range is mapped"
    ok = b["ram"] + [b["image"]]
    for l in j["leaves"]:
        assert l.mtype(b["pat"]) != PAT_WB or in_ranges(ok, l.va, l.end), f"{l.va:#x} WB"
    for a, n, _, _ in holes:
        assert unmapped(j["leaves"], a, a + n) == [(a, a + n)], f"hole {a:#x} mapped"
    assert "next: done" in b["text"] and b["rc"] == NEXT_EXIT, b["text"][-3000:]


def test_x86_page_tables_ecam_claiming_ram_is_refused(machine):
    """An e820 that calls q35's MCFG window RAM (a firmware mistake): the
    stub maps that range as the RAM the e820 says it is and never UC, does
    not read it as config space (one line, at the default report level),
    falls back to 0xCF8 and still enters the next kernel."""
    a, n = 0xb0000000, 0x10000000                 # q35's MCFG window, 256 buses
    e820 = sorted([x for x in machine["e820"] if not (x[0] < a + n and a < x[0] + x[1])] +
                  [(a, n, 1)])
    b = boot(machine, machine["tmp"] / "ecam-ram", "pvh-ecam-ram", CASES["pvh-4level"], e820,
             report="pcsc.report=summary")
    ecam = [l for l in b["lines"] if l.startswith("ecam ")]
    assert ecam == [f"ecam 0000:00-ff at {a:#x} not mapped: overlapping memory: not walked"], \
        b["text"][-3000:]
    for which in ("session", "jump"):
        s = stop(b, which)
        for l in overlapping(s["leaves"], a, a + n):
            assert l.mtype(b["pat"]) == PAT_WB, \
                f"{which}: {l.va:#x} in the RAM the e820 claims is not WB\n" + \
                describe(s["leaves"], b["pat"], a, a + n)
    assert "next: done" in b["text"] and b["rc"] == NEXT_EXIT, b["text"][-3000:]
