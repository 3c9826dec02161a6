# tests/qemu/test_arm64_topology.py - the arm64 stub's read-only walk of QEMU
# topologies given on the command line, with and without an "old kernel".
# Never accepts a hang or a missing poweroff line as a pass.
from arm64util import assert_clean_poweroff, run_arm64, run_arm64_as_old_kernel
from stubout import walk_lines
from topology import default_topology, nvme_sriov, topology_backends

ROOT_BUS = [
    ("0000:00:00.0", "1b36", "0008", "060000", "ep"),       # gpex host bridge
    ("0000:00:01.0", "1b36", "000c", "060400", "bridge"),   # rp1
    ("0000:00:02.0", "1b36", "000c", "060400", "bridge"),   # rp2
    ("0000:00:03.0", "1b36", "000c", "060400", "bridge"),   # rp3
    ("0000:00:06.0", "1af4", "1000", "020000", "ep"),       # multi-function .0
    ("0000:00:06.1", "1af4", "1001", "010000", "ep"),       # multi-function .1
]

# As Linux numbers it: depth first, one bus per port, the switch's three
# downstream ports below its upstream port.
BELOW_PORTS = [
    ("0000:01:00.0", "8086", "10d3", "020000", "ep"),       # e1000e
    ("0000:02:00.0", "1b36", "0010", "010802", "pf"),       # nvme PF
] + [("0000:02:%02x.%x" % (n // 8, n % 8), "1b36", "0010", None, "vf")
     for n in range(1, 9)] + [
    ("0000:03:00.0", "104c", "8232", "060400", "bridge"),   # x3130 upstream
    ("0000:04:00.0", "104c", "8233", "060400", "bridge"),   # downstream 1..3
    ("0000:04:01.0", "104c", "8233", "060400", "bridge"),
    ("0000:04:02.0", "104c", "8233", "060400", "bridge"),
    ("0000:05:00.0", "1af4", "1042", "010000", "ep"),       # virtio-blk
    ("0000:06:00.0", "1af4", "1041", "020000", "ep"),       # virtio-net
    ("0000:07:00.0", "1af4", "1041", "020000", "ep"),       # multi-function
    ("0000:07:00.1", "1af4", "1041", "020000", "ep"),
]


def totals(r):
    line = [l for l in r.lines if l.startswith("walk functions=")]
    assert len(line) == 1, r.describe()
    return dict(kv.split("=") for kv in line[0].split()[1:])


def test_arm64_unnumbered_bridges_are_not_followed():
    # -kernel without firmware: every bridge has secondary = subordinate = 0.
    r = run_arm64(devices=default_topology(), extra=topology_backends())
    assert_clean_poweroff(r)
    assert walk_lines(r.lines) == ROOT_BUS, r.describe()
    t = totals(r)
    assert (t["functions"], t["buses"], t["unnumbered_bridges"]) == ("6", "1", "3"), r.describe()
    for sbdf in ("0000:00:01.0", "0000:00:02.0", "0000:00:03.0"):
        assert f"walk: {sbdf} bridge unnumbered (secondary 0): nothing behind it seen" \
            in r.lines, r.describe()


def test_arm64_walk_after_old_kernel_numbered_bridges_and_vfs(tmp_path):
    r = run_arm64_as_old_kernel(tmp_path, default_topology(vfs=8), extra=topology_backends())
    assert_clean_poweroff(r)
    assert "payload: bridges=7 last_bus=7 pfs=1 vfs=8 -> stub" in r.out, r.describe()
    assert walk_lines(r.lines) == sorted(ROOT_BUS + BELOW_PORTS), r.describe()
    t = totals(r)
    assert (t["functions"], t["buses"], t["unnumbered_bridges"], t["bad_bridges"]) == \
        ("24", "8", "0", "0"), r.describe()


def test_arm64_vfs_disabled_pf_is_a_plain_endpoint(tmp_path):
    r = run_arm64_as_old_kernel(tmp_path, default_topology(vfs=8), numvfs=0,
                                extra=topology_backends())
    assert_clean_poweroff(r)
    w = walk_lines(r.lines)
    assert ("0000:02:00.0", "1b36", "0010", "010802", "ep") in w, r.describe()
    assert not [f for f in w if f[4] in ("vf", "pf")], r.describe()
    assert len(w) == 24 - 8, r.describe()


def test_arm64_nvme_64_vfs_derived_from_the_pf(tmp_path):
    devices = ["pcie-root-port,id=rp1,chassis=1,slot=1"] + nvme_sriov(64, bus="rp1")
    r = run_arm64_as_old_kernel(tmp_path, devices)
    assert_clean_poweroff(r)
    assert "payload: bridges=1 last_bus=1 pfs=1 vfs=64 -> stub" in r.out, r.describe()
    w = walk_lines(r.lines)
    vfs = [f for f in w if f[4] == "vf"]
    # VF n at PF RID + First VF Offset (1) + n * stride (1): 01:00.1 .. 01:08.0
    assert [f[0] for f in vfs] == ["0000:01:%02x.%x" % (n // 8, n % 8)
                                   for n in range(1, 65)], r.describe()
    assert all(f[1:4] == ("1b36", "0010", None) for f in vfs), r.describe()
    assert ("0000:01:00.0", "1b36", "0010", "010802", "pf") in w, r.describe()


def test_arm64_partial_vf_enable_lists_only_enabled(tmp_path):
    devices = ["pcie-root-port,id=rp1,chassis=1,slot=1"] + nvme_sriov(16, bus="rp1")
    r = run_arm64_as_old_kernel(tmp_path, devices, numvfs=3)
    assert_clean_poweroff(r)
    vfs = [f[0] for f in walk_lines(r.lines) if f[4] == "vf"]
    assert vfs == ["0000:01:00.1", "0000:01:00.2", "0000:01:00.3"], r.describe()
