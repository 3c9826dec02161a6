# tests/qemu/test_x86_cross_arch.py - the same fixture recipe on arm64 virt and x86 q35: the stub's reports agree
# line by line for everything behind the root ports (same BDFs there), and in verdict counts. Never edits the build.
import os

import pytest

from arm64util import Arm64Machine, assert_clean_poweroff
from stubout import report_lines
from topology import nvme_sriov, pick_faults
from x86util import X86Machine, assert_x86_exit

DEVICES = (["pcie-root-port,id=rp1,chassis=1,slot=1", "e1000e,bus=rp1,netdev=n0",
            "pcie-root-port,id=rp2,chassis=2,slot=2"] + nvme_sriov(4, bus="rp2"))
EXTRA = ["-netdev", "user,id=n0"]


def behind_root_ports(r):
    """Verdict lines of functions on buses other than 00 (the root bus
    differs between the machines: q35's ICH9 vs virt's host bridge)."""
    keep = {s for s, _ in report_lines(r.lines)}
    return [l for l in r.lines if l.split(" ", 1)[0] in keep and l[5:7] != "00"]


def counts(r):
    from stubout import summary
    s = summary(r.lines)
    assert s, r.describe()
    return {k: s[k] for k in ("stale", "gone", "bad", "new", "removed", "handover")}


@pytest.mark.skipif("arm64" not in os.environ.get("ARCHES", "arm64 x86_64").split(),
                    reason="cross-arch comparison needs the arm64 stub (ARCHES has no arm64)")
def test_same_fixture_same_report_on_arm64_and_x86(tmp_path):
    reports = {}
    for arch, M in (("arm64", Arm64Machine), ("x86", X86Machine)):
        (tmp_path / arch).mkdir()
        m = M(tmp_path / arch, DEVICES, extra=EXTRA)
        live = m.walk()
        f = pick_faults(live)
        cache = m.gen(live, name="cross", faults=[f"stale={f['stale']}:device", f"gone={f['gone']}",
                                                   f"badda={f['bad']}:align"])
        r = m.boot(cache=cache)
        if arch == "arm64":
            assert_clean_poweroff(r)
        else:
            assert_x86_exit(r)
        reports[arch] = r
    a, x = reports["arm64"], reports["x86"]
    la, lx = behind_root_ports(a), behind_root_ports(x)
    assert la and la == lx, "arm64:\n" + "\n".join(la) + "\nx86:\n" + "\n".join(lx)
    assert counts(a) == counts(x), (counts(a), counts(x))
    assert any(l.endswith(" STALE device (live 8086:10d3)") for l in lx), lx
    assert sum(1 for l in lx if l.endswith(" 1b36:0010 VALID")) == 4, lx   # the VFs
    # Same BDFs behind the root ports on both: both firmwares/old kernels
    # number rp1 -> bus 1, rp2 -> bus 2.
    assert lx == ["0000:01:00.0 8086:4a89 STALE device (live 8086:10d3)",
                  "0000:01:1f.0 8086:10d3 GONE absent",
                  "0000:02:00.0 ffff:ffff BAD da unaligned"] + [
                  f"0000:02:00.{k} 1b36:0010 VALID" for k in range(1, 5)], lx
