# tests/qemu/test_x86_cache.py - caches an old kernel would leave on x86, derived from the machine's own walk
# (pcsctool gen), placed with -device loader, announced by a SETUP_KEXEC_KHO setup_data entry. Never hand-types a BDF.
import pytest

from arm64util import walk_reads
from stubout import summary_of, verdicts
from topology import default_topology, saved, topology_backends
from x86util import X86Machine, assert_x86_exit


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    m = X86Machine(tmp_path_factory.mktemp("x86cache"), default_topology(vfs=8),
                   extra=topology_backends())
    m.live = m.walk()
    return m


def test_x86_live_walk_has_vfs(machine):
    kinds = [f[4] for f in machine.live]
    assert kinds.count("vf") == 8 and kinds.count("pf") == 1, machine.live


def test_x86_kho_fdt_and_scratch_from_setup_data(machine):
    from khoutil import kho_line, scratch_regions
    cache = machine.gen(machine.live, name="clean-setup-data")
    r = machine.boot(cache=cache)
    assert_x86_exit(r)
    addr, size = cache["kho_fdt"]
    sa, ss = cache["kho_scratch"]
    assert f"kho fdt {addr:#x} size {size:#x} scratch {sa:#x} size {ss:#x}" \
        in r.lines, r.describe()
    # the (addr, size) pair is an array: the stub reports the regions in it
    k = kho_line(r)
    assert k["compatible"] == "kho-v1" and k["bitmap"] == 512, r.describe()
    ram_top = max(a + s for a, s, t in machine.e820 if t == 1)
    assert k["scratch"] == scratch_regions(cache) == \
        [(ram_top - 0x1000000, ram_top - 0x800000)], r.describe()


def test_x86_clean_cache_all_valid_and_handed_over(machine):
    r = machine.boot(cache=machine.gen(machine.live, name="clean"))
    assert_x86_exit(r)
    exp = [f"{s} {v}:{d} VALID" for s, v, d, _, _ in saved(machine.live)]
    assert verdicts(r) == exp, r.describe()
    s = summary_of(r)
    n = len(exp)
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == (n, 0, 0, 0, 0), r.describe()
    assert (s["entries"], s["removed"], s["funcs"], s["handover"]) == \
        (n, 0, len(machine.live), "ok"), r.describe()
    assert s["cfg_reads"] == walk_reads(machine), r.describe()
    assert [l for l in r.lines if l.startswith("sha256 ")], r.describe()


def test_x86_stale_gone_bad_entries_exact_report(machine):
    from topology import pick_faults, sbdf_key
    f = pick_faults(machine.live)
    cache = machine.gen(machine.live, name="faults",
                        faults=[f"stale={f['stale']}:device", f"gone={f['gone']}",
                                f"badda={f['bad']}:align"])
    r = machine.boot(cache=cache)
    assert_x86_exit(r)
    exp = []
    for s, v, d, _, _ in saved(machine.live) + [(f["gone"], None, None, None, None)]:
        if s == f["stale"]:
            exp.append((s, f"{s} {v}:{int(d, 16) ^ 0x5a5a:04x} STALE device (live {v}:{d})"))
        elif s == f["gone"]:
            exp.append((s, f"{s} 8086:10d3 GONE absent"))
        elif s == f["bad"]:
            exp.append((s, f"{s} ffff:ffff BAD da unaligned"))
        else:
            exp.append((s, f"{s} {v}:{d} VALID"))
    exp = [line for _, line in sorted(exp, key=lambda e: sbdf_key(e[0]))]
    assert verdicts(r) == exp, r.describe()
    s = summary_of(r)
    n = len(saved(machine.live))
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == (n - 2, 1, 1, 1, 0), \
        r.describe()
    assert (s["entries"], s["removed"], s["handover"]) == (n + 1, 3, "ok"), r.describe()


def test_x86_dropped_entry_is_new(machine):
    from topology import pick_faults
    f = pick_faults(machine.live)
    r = machine.boot(cache=machine.gen(machine.live, name="drop", faults=[f"drop={f['stale']}"]))
    assert_x86_exit(r)
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
def test_x86_corrupt_pcsc_fdt_is_detached(machine, corrupt, why):
    r = machine.boot(cache=machine.gen(machine.live, name="corrupt-" + corrupt,
                                       faults=[f"corrupt={corrupt}"]))
    assert_x86_exit(r)
    assert verdicts(r) == [], r.describe()
    i = r.lines.index(f"cache rejected: {why}")
    assert r.lines[i + 1] == "detached the pcsc subtree from the KHO FDT", r.describe()
    s = summary_of(r)
    assert (s["entries"], s["funcs"], s["handover"]) == (0, 0, "detached"), r.describe()


def test_x86_mode_off_passes_the_cache_through(machine):
    r = machine.boot(cache=machine.gen(machine.live, name="off"),
                     append="pcsc.exit=debug pcsc.mode=off")
    assert_x86_exit(r)
    s = summary_of(r)
    assert (s["mode"], s["cfg_reads"], s["handover"]) == ("off", 0, "untouched"), r.describe()
    assert verdicts(r) == [], r.describe()


def test_x86_cf8_fallback_judges_the_cache(machine):
    """With no ECAM (pcsc.ecam=off) the session still walks segment 0 through
    0xCF8: physical functions stay VALID; VFs, which 0xCF8 cannot see (their
    SR-IOV capability is in extended space), are GONE and removed."""
    r = machine.boot(cache=machine.gen(machine.live, name="clean-cf8"),
                     append="pcsc.exit=debug pcsc.ecam=off")
    assert_x86_exit(r)
    assert any("legacy 0xCF8" in l for l in r.lines), r.describe()
    exp = [f"{s} {v}:{d} {'GONE' if k == 'vf' else 'VALID'}"
           for s, v, d, _, k in saved(machine.live)]
    got = [" ".join(l.split()[:3]) for l in verdicts(r)]
    assert got == exp, r.describe()
    s = summary_of(r)
    assert (s["valid"], s["gone"], s["bad"]) == (len(exp) - 8, 8, 0), r.describe()
