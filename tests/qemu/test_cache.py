# tests/qemu/test_cache.py - caches an old kernel would leave, derived from the machine's own walk (pcsctool
# gen), placed with -device loader and announced as each arch does (arm64: /chosen; x86: a SETUP_KEXEC_KHO
# setup_data entry); asserts the stub's exact report. One module parametrised by arch (issue 14).
# Never hand-types a BDF.
"""Preserved caches, one module parametrised by arch.

The module's machine (one per arch, walked once) is QEMU's default
topology with 8 SR-IOV VFs, booted through the arch's old kernel (arm64
tests/qemu/payload, x86 tests/qemu/x86payload) which enables them. The
stub's options go to /chosen/bootargs (arm64) or the command line after
pcsc.exit=debug (x86). Tests that exist on one arch only are parametrised
with that arch alone (only()).
"""
import os

import pytest

from arm64util import Arm64Machine, assert_clean_poweroff, walk_reads
from qemurun import arches, only
from stubout import summary_of, verdicts
from topology import default_topology, pick_faults, saved, sbdf_key, topology_backends
from x86util import X86Machine, assert_x86_exit



class Machine:
    """The per-arch adapter: one machine of either arch, walked once."""

    def __init__(self, arch, tmp):
        self.arch = arch
        if arch == "arm64":
            self.m = Arm64Machine(tmp, default_topology(vfs=8), extra=topology_backends())
            self.ram_top = 0x40000000 + 0x40000000       # pcsctool gen's default: -m 1G
        else:
            self.m = X86Machine(tmp, default_topology(vfs=8), extra=topology_backends())
            self.ram_top = max(a + s for a, s, t in self.m.e820 if t == 1)
        self.live = self.m.walk()

    def gen(self, name, faults=()):
        return self.m.gen(self.live, name=name, faults=faults)

    def boot(self, cache, opts=""):
        """Boot with the cache and pcsc.* options opts; asserts the stub
        reached its end (poweroff 0: it had no next kernel)."""
        if self.arch == "arm64":
            r = self.m.boot(cache=cache, append=opts or None)
            assert_clean_poweroff(r)
        else:
            r = self.m.boot(cache=cache, append=f"pcsc.exit=debug {opts}".strip())
            assert_x86_exit(r)
        return r

    def walk_reads(self):
        """cfg reads of the cache-less walk of this machine."""
        return walk_reads(self.m)


@pytest.fixture(scope="module")
def machine(request, tmp_path_factory):
    return Machine(request.param, tmp_path_factory.mktemp(f"cache-{request.param}"))


BOTH = pytest.mark.parametrize("machine", arches(), indirect=True)


def only_on(arch):
    return pytest.mark.parametrize("machine", only(arch), indirect=True)


@BOTH
def test_live_walk_has_vfs(machine):
    kinds = [f[4] for f in machine.live]
    assert kinds.count("vf") == 8 and kinds.count("pf") == 1, machine.live


@BOTH
def test_kho_fdt_and_scratch_read_as_announced(machine):
    # arm64: /chosen linux,kho-fdt + linux,kho-scratch; x86: setup_data
    from khoutil import kho_line, scratch_regions
    cache = machine.gen("clean-announced")
    r = machine.boot(cache)
    addr, size = cache["kho_fdt"]
    sa, ss = cache["kho_scratch"]
    assert f"kho fdt {addr:#x} size {size:#x} scratch {sa:#x} size {ss:#x}" \
        in r.lines, r.describe()
    # the (addr, size) pair is an array: the stub reports the regions in it
    k = kho_line(r)
    assert k["compatible"] == "kho-v1" and k["bitmap"] == 512, r.describe()
    top = machine.ram_top
    assert k["scratch"] == scratch_regions(cache) == \
        [(top - 0x1000000, top - 0x800000)], r.describe()
    if machine.arch == "arm64":
        assert k["scratch"] == [(0x7f000000, 0x7f800000)], r.describe()


@BOTH
def test_clean_cache_all_valid_and_handed_over(machine):
    r = machine.boot(machine.gen("clean"))
    exp = [f"{s} {v}:{d} VALID" for s, v, d, _, _ in saved(machine.live)]
    assert verdicts(r) == exp, r.describe()
    s = summary_of(r)
    n = len(exp)
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == (n, 0, 0, 0, 0), r.describe()
    assert (s["entries"], s["removed"], s["funcs"], s["handover"]) == \
        (n, 0, len(machine.live), "ok"), r.describe()
    # quick mode judges from the walk alone: no config read beyond it, VFs
    # (never read) judged through their PF.
    assert s["cfg_reads"] == machine.walk_reads(), r.describe()
    assert [l for l in r.lines if l.startswith("sha256 ")], r.describe()


@BOTH
def test_stale_gone_bad_entries_exact_report(machine):
    f = pick_faults(machine.live)
    cache = machine.gen("faults", faults=[f"stale={f['stale']}:device", f"gone={f['gone']}",
                                          f"badda={f['bad']}:align"])
    r = machine.boot(cache)
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
    exp = [line for _, line in sorted(exp, key=lambda e: sbdf_key(e[0]))]
    assert verdicts(r) == exp, r.describe()
    s = summary_of(r)
    n = len(saved(machine.live))
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == (n - 2, 1, 1, 1, 0), \
        r.describe()
    assert (s["entries"], s["removed"], s["handover"]) == (n + 1, 3, "ok"), r.describe()


@BOTH
def test_dropped_entry_is_new(machine):
    f = pick_faults(machine.live)
    r = machine.boot(machine.gen("drop", faults=[f"drop={f['stale']}"]))
    live = {s: (v, d) for s, v, d, _, _ in machine.live}
    v, d = live[f["stale"]]
    assert f"{f['stale']} {v}:{d} NEW" in r.lines, r.describe()
    s = summary_of(r)
    assert (s["new"], s["removed"], s["stale"], s["gone"], s["bad"]) == (1, 0, 0, 0, 0), \
        r.describe()


@BOTH
@pytest.mark.parametrize("corrupt,why", [
    ("pcsc-magic", "pcsc FDT bad magic 0xdededede"),
    ("pcsc-compat", 'pcsc FDT unknown compatible "pcsc-v0"'),
])
def test_corrupt_pcsc_fdt_is_detached(machine, corrupt, why):
    r = machine.boot(machine.gen("corrupt-" + corrupt, faults=[f"corrupt={corrupt}"]))
    assert verdicts(r) == [], r.describe()
    i = r.lines.index(f"cache rejected: {why}")
    assert r.lines[i + 1] == "detached the pcsc subtree from the KHO FDT", r.describe()
    s = summary_of(r)
    assert (s["entries"], s["funcs"], s["handover"]) == (0, 0, "detached"), r.describe()


@BOTH
def test_mode_off_passes_the_cache_through(machine):
    r = machine.boot(machine.gen("off"), "pcsc.mode=off")
    s = summary_of(r)
    assert (s["mode"], s["cfg_reads"], s["handover"]) == ("off", 0, "untouched"), r.describe()
    assert verdicts(r) == [], r.describe()


@only_on("arm64")
def test_strict_mode_rereads_and_patches(machine):
    # The fixture's bytes come from a simulation, so strict mode (re-read
    # every cached dword) finds differing bytes and clears their cached
    # bits: a patch, not a drop.
    r = machine.boot(machine.gen("strict"), "pcsc.mode=strict")
    s = summary_of(r)
    n = len(saved(machine.live))
    assert (s["mode"], s["valid"], s["removed"], s["handover"]) == ("strict", n, 0, "ok"), \
        r.describe()
    assert s["patched"] > 0 and s["cleared"] > 0, r.describe()
    assert s["cfg_reads"] > machine.walk_reads(), r.describe()


@only_on("x86_64")
def test_cf8_fallback_judges_the_cache(machine):
    """With no ECAM (pcsc.ecam=off) the session still walks segment 0 through
    0xCF8: physical functions stay VALID; VFs, which 0xCF8 cannot see (their
    SR-IOV capability is in extended space), are GONE and removed."""
    r = machine.boot(machine.gen("clean-cf8"), "pcsc.ecam=off")
    assert any("legacy 0xCF8" in l for l in r.lines), r.describe()
    exp = [f"{s} {v}:{d} {'GONE' if k == 'vf' else 'VALID'}"
           for s, v, d, _, k in saved(machine.live)]
    got = [" ".join(l.split()[:3]) for l in verdicts(r)]
    assert got == exp, r.describe()
    s = summary_of(r)
    assert (s["valid"], s["gone"], s["bad"]) == (len(exp) - 8, 8, 0), r.describe()


@pytest.mark.parametrize("arch", only("arm64"))
def test_nvme_64_vfs_judged_through_the_pf(arch, tmp_path):
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


@pytest.mark.parametrize("arch", only("arm64"))
def test_entries_inside_the_initrd_are_bad(arch, tmp_path):
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
