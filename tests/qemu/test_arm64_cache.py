# tests/qemu/test_arm64_cache.py - caches an old kernel would leave, derived
# from the machine's own walk (pcsctool gen), placed with -device loader and
# announced in /chosen; asserts the stub's exact report. Never hand-types a BDF.
import os

import pytest

from arm64util import Arm64Machine, assert_clean_poweroff, walk_reads
from stubout import summary_of, verdicts
from topology import default_topology, pick_faults, saved, topology_backends


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    m = Arm64Machine(tmp_path_factory.mktemp("arm64cache"), default_topology(vfs=8),
                     extra=topology_backends())
    m.live = m.walk()
    return m


def test_arm64_kho_fdt_and_scratch_read_from_chosen(machine):
    from khoutil import kho_line, scratch_regions
    cache = machine.gen(machine.live, name="clean-chosen")
    r = machine.boot(cache=cache)
    assert_clean_poweroff(r)
    addr, size = cache["kho_fdt"]
    sa, ss = cache["kho_scratch"]
    assert f"kho fdt {addr:#x} size {size:#x} scratch {sa:#x} size {ss:#x}" \
        in r.lines, r.describe()
    # the (addr, size) pair is an array: the stub reports the regions in it
    k = kho_line(r)
    assert k["compatible"] == "kho-v1" and k["bitmap"] == 512, r.describe()
    assert k["scratch"] == scratch_regions(cache) == [(0x7f000000, 0x7f800000)], r.describe()


def test_arm64_clean_cache_all_valid_and_handed_over(machine):
    r = machine.boot(cache=machine.gen(machine.live, name="clean"))
    assert_clean_poweroff(r)
    exp = [f"{s} {v}:{d} VALID" for s, v, d, _, _ in saved(machine.live)]
    assert verdicts(r) == exp, r.describe()
    s = summary_of(r)
    n = len(exp)
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == (n, 0, 0, 0, 0), r.describe()
    assert (s["entries"], s["removed"], s["funcs"], s["handover"]) == \
        (n, 0, len(machine.live), "ok"), r.describe()
    # quick mode judges from the walk alone: no config read beyond it, VFs
    # (never read) judged through their PF.
    assert s["cfg_reads"] == walk_reads(machine), r.describe()
    assert [l for l in r.lines if l.startswith("sha256 ")], r.describe()


def test_arm64_stale_gone_bad_entries_exact_report(machine):
    f = pick_faults(machine.live)
    cache = machine.gen(machine.live, name="faults",
                        faults=[f"stale={f['stale']}:device", f"gone={f['gone']}",
                                f"badda={f['bad']}:align"])
    r = machine.boot(cache=cache)
    assert_clean_poweroff(r)
    exp = []
    for s, v, d, _, _ in saved(machine.live) + [(f["gone"], None, None, None, None)]:
        if s == f["stale"]:
            # pcsctool's stale=BDF:device flips the cached device ID ^ 0x5a5a
            exp.append((s, f"{s} {v}:{int(d, 16) ^ 0x5a5a:04x} STALE device (live {v}:{d})"))
        elif s == f["gone"]:
            exp.append((s, f"{s} 8086:10d3 GONE absent"))     # pcsctool's made-up NIC
        elif s == f["bad"]:
            exp.append((s, f"{s} ffff:ffff BAD da unaligned"))  # never read through da
        else:
            exp.append((s, f"{s} {v}:{d} VALID"))
    from topology import sbdf_key
    exp = [line for _, line in sorted(exp, key=lambda e: sbdf_key(e[0]))]
    assert verdicts(r) == exp, r.describe()
    s = summary_of(r)
    n = len(saved(machine.live))
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == (n - 2, 1, 1, 1, 0), \
        r.describe()
    assert (s["entries"], s["removed"], s["handover"]) == (n + 1, 3, "ok"), r.describe()


def test_arm64_dropped_entry_is_new(machine):
    f = pick_faults(machine.live)
    r = machine.boot(cache=machine.gen(machine.live, name="drop",
                                       faults=[f"drop={f['stale']}"]))
    assert_clean_poweroff(r)
    live = {s: (v, d) for s, v, d, _, _ in machine.live}
    v, d = live[f["stale"]]
    assert f"{f['stale']} {v}:{d} NEW" in r.lines, r.describe()
    s = summary_of(r)
    assert (s["new"], s["removed"], s["stale"], s["gone"], s["bad"]) == (1, 0, 0, 0, 0), \
        r.describe()


@pytest.mark.parametrize("corrupt,why", [
    ("pcsc-magic", "pcsc FDT bad magic 0xdededede"),
    ("pcsc-compat", 'pcsc FDT unknown compatible "pcsc-v0"'),
])
def test_arm64_corrupt_pcsc_fdt_is_detached(machine, corrupt, why):
    r = machine.boot(cache=machine.gen(machine.live, name="corrupt-" + corrupt,
                                       faults=[f"corrupt={corrupt}"]))
    assert_clean_poweroff(r)
    assert verdicts(r) == [], r.describe()
    i = r.lines.index(f"cache rejected: {why}")
    assert r.lines[i + 1] == "detached the pcsc subtree from the KHO FDT", r.describe()
    s = summary_of(r)
    assert (s["entries"], s["funcs"], s["handover"]) == (0, 0, "detached"), r.describe()


def test_arm64_strict_mode_rereads_and_patches(machine):
    # The fixture's bytes come from a simulation, so strict mode (re-read
    # every cached dword) finds differing bytes and clears their cached
    # bits: a patch, not a drop.
    r = machine.boot(cache=machine.gen(machine.live, name="strict"),
                     append="pcsc.mode=strict")
    assert_clean_poweroff(r)
    s = summary_of(r)
    n = len(saved(machine.live))
    assert (s["mode"], s["valid"], s["removed"], s["handover"]) == ("strict", n, 0, "ok"), \
        r.describe()
    assert s["patched"] > 0 and s["cleared"] > 0, r.describe()
    assert s["cfg_reads"] > walk_reads(machine), r.describe()


def test_arm64_mode_off_passes_the_cache_through(machine):
    r = machine.boot(cache=machine.gen(machine.live, name="off"), append="pcsc.mode=off")
    assert_clean_poweroff(r)
    s = summary_of(r)
    assert (s["mode"], s["cfg_reads"], s["handover"]) == ("off", 0, "untouched"), r.describe()
    assert verdicts(r) == [], r.describe()


def test_arm64_nvme_64_vfs_judged_through_the_pf(tmp_path):
    from topology import nvme_sriov
    m = Arm64Machine(tmp_path, ["pcie-root-port,id=rp1,chassis=1,slot=1"] + nvme_sriov(64, bus="rp1"))
    live = m.walk()
    assert len([f for f in live if f[4] == "vf"]) == 64
    r = m.boot(cache=m.gen(live, name="vf64"))
    assert_clean_poweroff(r)
    vf_lines = [l for l in verdicts(r) if l.startswith("0000:01:") and not l.startswith("0000:01:00.0 ")]
    assert len(vf_lines) == 64 and all(l.endswith(" 1b36:0010 VALID") for l in vf_lines), r.describe()
    s = summary_of(r)
    assert (s["valid"], s["entries"]) == (66, 66), r.describe()   # host bridge + PF + 64 VFs
    # no config read per VF: the whole session reads no more than the walk
    assert s["cfg_reads"] == walk_reads(m), r.describe()


def test_arm64_entries_inside_the_initrd_are_bad(tmp_path):
    # The old kernel's cache laid out where QEMU puts the initrd, and the
    # initrd *is* that memory image (pcsctool pack): the next kernel will
    # unpack over it. The pcsc FDT itself lies in that owned memory, so the
    # stub must not rewrite it: the whole cache is rejected and detached,
    # no entry is judged and no da is read.
    import subprocess
    from arm64util import arm64_cmd, arm64_dumpdtb, arm64_machine_facts, run_arm64
    from cacheutil import PCSCTOOL, pcsctool_gen
    from dtbutil import dtb_add_kho
    from qemurun import run_qemu
    from stubout import walk_lines
    from topology import walk_to_topo
    devs = ["e1000e,addr=2.0"]
    live = walk_lines(run_arm64(devices=devs).lines)
    facts = arm64_machine_facts(tmp_path, devices=devs)
    rd_at = 0x48000000          # QEMU virt: RAM base + min(RAM / 2, 128 MiB)
    cache = pcsctool_gen(tmp_path, walk_to_topo(live, facts["ecam"]), at=rd_at)
    img = str(tmp_path / "initrd.img")
    subprocess.run([PCSCTOOL, "pack", cache["dir"], "--out", img], check=True,
                   capture_output=True)
    dtb = arm64_dumpdtb(tmp_path, devices=devs, extra=["-initrd", img], name="rd.dtb")
    dtb_add_kho(dtb, *cache["kho_fdt"], cache["kho_scratch"])
    r = run_qemu(arm64_cmd(devices=devs, dtb=dtb, extra=["-initrd", img]))
    assert_clean_poweroff(r)
    assert f"initrd {rd_at:#x}-{rd_at + os.path.getsize(img):#x}" in r.lines, r.describe()
    assert verdicts(r) == [], r.describe()
    pcsc = [a for p, a in cache["blobs"] if os.path.basename(p) == "pcsc.dtb"][0]
    assert f"cache rejected: pcsc FDT {pcsc:#x}+4096 overlaps memory it must not" \
        in r.lines, r.describe()
    assert "detached the pcsc subtree from the KHO FDT" in r.lines, r.describe()
    s = summary_of(r)
    assert (s["entries"], s["bad"], s["removed"], s["valid"], s["handover"]) == \
        (0, 0, 0, 0, "detached"), r.describe()
