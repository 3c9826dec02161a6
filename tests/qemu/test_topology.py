# tests/qemu/test_topology.py - the stub's read-only walk of QEMU topologies (root ports, x3130 switch,
# multi-function, e1000e, virtio, nvme with SR-IOV) on both arches, alone and after an "old kernel" that
# enabled VFs; exact walk lines. One module parametrised by arch (issue 14). Never edits the build.
"""Topology walks, one module parametrised by arch.

The stub alone sees what firmware left: arm64 virt with -kernel has no
firmware, so every bridge is unnumbered and nothing behind one is walked;
x86 q35's SeaBIOS numbers the bridges (x86util.Q35_DEFAULT_WALK) but
enables no VF. After an old kernel (arm64: tests/qemu/payload, which also
numbers the bridges; x86: tests/qemu/x86payload) the enabled VFs are
walked too. Tests that exist on one arch only are parametrised with that
arch alone (only()).
"""
import pytest

from arm64util import assert_clean_poweroff, run_arm64, run_arm64_as_old_kernel
from qemurun import arches, only
from stubout import walk_lines
from topology import default_topology, nvme_sriov, topology_backends
from x86util import Q35_DEFAULT_WALK, BootParams, assert_x86_exit, machine_e820, run_x86



# -- the per-arch adapter ---------------------------------------------------

def assert_exit(arch, r):
    """The stub reached its end: arm64 PSCI SYSTEM_OFF, x86 isa-debug-exit
    with its own status; last line 'poweroff 0'."""
    if arch == "arm64":
        assert_clean_poweroff(r)
    else:
        assert_x86_exit(r)


def stub_alone(arch, devices, extra):
    """The stub booted straight from QEMU (arm64 -kernel, x86 PVH)."""
    if arch == "arm64":
        return run_arm64(devices=devices, extra=extra)
    return run_x86(devices=devices, extra=extra)


def machine_ecam(devices, extra):
    """q35's ECAM base as the stub read it from MCFG (never typed in)."""
    import re
    r = run_x86(devices=devices, extra=extra)
    assert_x86_exit(r)
    for l in r.lines:
        m = re.match(r"^ecam 0000:00-ff at (0x[0-9a-f]+)$", l)
        if m:
            return int(m.group(1), 16)
    raise AssertionError(r.describe())


def after_old_kernel(arch, tmp_path, devices, extra, numvfs=None, append=None):
    """The stub entered by the arch's test old kernel, which enabled numvfs
    VFs of every SR-IOV PF (None: TotalVFs)."""
    if arch == "arm64":
        return run_arm64_as_old_kernel(tmp_path, devices, extra=extra,
                                       numvfs="all" if numvfs is None else numvfs)
    from x86util import x86_payload
    pay = x86_payload(tmp_path, machine_ecam(devices, extra), numvfs=numvfs)
    kw = {"append": append} if append else {}
    return run_x86(devices=devices, extra=extra, kernel=pay, **kw)


def totals(r):
    line = [l for l in r.lines if l.startswith("walk functions=")]
    assert len(line) == 1, r.describe()
    return dict(kv.split("=") for kv in line[0].split()[1:])


def walk_of(r):
    """The walk lines verbatim (x86 compares them with Q35_DEFAULT_WALK)."""
    return [l for l in r.lines if l.startswith("walk ") and not l.startswith("walk functions=")]


# -- arm64 virt: what the payload numbers, as walk_lines tuples ---------------

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


# -- x86 q35: Q35_DEFAULT_WALK (x86util) -------------------------------------
# SeaBIOS numbers bridges depth first in slot order: rp1 (00:02.0) -> bus 1,
# rp2 (00:03.0) -> bus 2, rp3 (00:04.0) -> bus 3 with the x3130 upstream
# port, its downstream ports on bus 4 -> buses 5, 6, 7. VFs stay off: no
# firmware enables them.

def with_vfs(n):
    """Q35_DEFAULT_WALK after the old kernel enabled n VFs of the nvme PF
    (VF offset 1, stride 1: 02:00.1 onwards, same bus)."""
    out = []
    for l in Q35_DEFAULT_WALK:
        if l.startswith("walk 0000:02:00.0 "):
            out.append("walk 0000:02:00.0 1b36:0010 class 010802 pf")
            for k in range(1, n + 1):
                out.append(f"walk 0000:02:{k >> 3:02x}.{k & 7:x} 1b36:0010 class ------ vf")
        else:
            out.append(l)
    return out


@pytest.mark.parametrize("arch", arches())
def test_default_topology_stub_alone_walks_what_firmware_numbered(arch):
    # arm64 (-kernel, no firmware): every bridge has secondary = subordinate
    # = 0, so only the root bus is walked. x86: SeaBIOS numbered them all.
    r = stub_alone(arch, default_topology(8), topology_backends())
    assert_exit(arch, r)
    t = totals(r)
    if arch == "arm64":
        assert walk_lines(r.lines) == ROOT_BUS, r.describe()
        assert (t["functions"], t["buses"], t["unnumbered_bridges"]) == ("6", "1", "3"), \
            r.describe()
        for sbdf in ("0000:00:01.0", "0000:00:02.0", "0000:00:03.0"):
            assert f"walk: {sbdf} bridge unnumbered (secondary 0): nothing behind it seen" \
                in r.lines, r.describe()
    else:
        assert walk_of(r) == Q35_DEFAULT_WALK, r.describe()
        line = [l for l in r.lines if l.startswith("walk functions=")][0]
        assert line.startswith("walk functions=20 buses=8 cfg_reads="), r.describe()
        assert (" unnumbered_bridges=0 bad_bridges=0 crs_timeouts=0 cap_loops=0 "
                "vf_out_of_range=0 overflow=0") in line


@pytest.mark.parametrize("arch", arches())
def test_walk_after_old_kernel_enabled_the_vfs(arch, tmp_path):
    # the old kernel enabled all 8 VFs of the nvme PF (and, on arm64,
    # numbered the bridges as Linux would)
    r = after_old_kernel(arch, tmp_path, default_topology(vfs=8), topology_backends())
    assert_exit(arch, r)
    t = totals(r)
    if arch == "arm64":
        assert "payload: bridges=7 last_bus=7 pfs=1 vfs=8 -> stub" in r.out, r.describe()
        assert walk_lines(r.lines) == sorted(ROOT_BUS + BELOW_PORTS), r.describe()
        assert (t["functions"], t["buses"], t["unnumbered_bridges"], t["bad_bridges"]) == \
            ("24", "8", "0", "0"), r.describe()
    else:
        assert "payload: 02:00.0 numvfs 0008" in r.out, r.describe()
        assert walk_of(r) == with_vfs(8), r.describe()
        assert any(l.startswith("walk functions=28 buses=8 ") for l in r.lines), r.describe()


@pytest.mark.parametrize("arch", arches())
def test_partial_vf_enable_lists_only_enabled(arch, tmp_path):
    # 3 VFs enabled of the PF's 16 (arm64: the nvme alone behind a root
    # port) or 8 (x86: the default topology); only those are walked.
    if arch == "arm64":
        devs = ["pcie-root-port,id=rp1,chassis=1,slot=1"] + nvme_sriov(16, bus="rp1")
        extra, pf_bus = (), "01"
    else:
        devs, extra, pf_bus = default_topology(8), topology_backends(), "02"
    r = after_old_kernel(arch, tmp_path, devs, extra, numvfs=3)
    assert_exit(arch, r)
    vfs = [f[0] for f in walk_lines(r.lines) if f[4] == "vf"]
    assert vfs == [f"0000:{pf_bus}:00.{k}" for k in (1, 2, 3)], r.describe()
    if arch == "x86_64":
        assert walk_of(r) == with_vfs(3), r.describe()


@pytest.mark.parametrize("arch", only("arm64"))
def test_vfs_disabled_pf_is_a_plain_endpoint(arch, tmp_path):
    r = after_old_kernel(arch, tmp_path, default_topology(vfs=8), topology_backends(),
                         numvfs=0)
    assert_exit(arch, r)
    w = walk_lines(r.lines)
    assert ("0000:02:00.0", "1b36", "0010", "010802", "ep") in w, r.describe()
    assert not [f for f in w if f[4] in ("vf", "pf")], r.describe()
    assert len(w) == 24 - 8, r.describe()


@pytest.mark.parametrize("arch", only("arm64"))
def test_nvme_64_vfs_derived_from_the_pf(arch, tmp_path):
    devices = ["pcie-root-port,id=rp1,chassis=1,slot=1"] + nvme_sriov(64, bus="rp1")
    r = after_old_kernel(arch, tmp_path, devices, ())
    assert_exit(arch, r)
    assert "payload: bridges=1 last_bus=1 pfs=1 vfs=64 -> stub" in r.out, r.describe()
    w = walk_lines(r.lines)
    vfs = [f for f in w if f[4] == "vf"]
    # VF n at PF RID + First VF Offset (1) + n * stride (1): 01:00.1 .. 01:08.0
    assert [f[0] for f in vfs] == ["0000:01:%02x.%x" % (n // 8, n % 8)
                                   for n in range(1, 65)], r.describe()
    assert all(f[1:4] == ("1b36", "0010", None) for f in vfs), r.describe()
    assert ("0000:01:00.0", "1b36", "0010", "010802", "pf") in w, r.describe()


@pytest.mark.parametrize("arch", only("x86_64"))
def test_same_walk_through_boot_params(arch, tmp_path):
    # The purgatory-style inputs (e820 from the machine, in a boot_params
    # page) find the same ECAM and the same functions.
    devs, extra = default_topology(8), topology_backends()
    bp = BootParams(0x1000000, e820=machine_e820(devs, extra))
    r = run_x86(devices=[bp.loader(tmp_path)] + devs, extra=extra,
                append="pcsc.exit=debug pcsc.boot_params=0x1000000")
    assert_exit(arch, r)
    assert any(l.startswith("x86 ram from boot_params e820") for l in r.lines), r.describe()
    assert walk_of(r) == Q35_DEFAULT_WALK, r.describe()


@pytest.mark.parametrize("arch", only("x86_64"))
def test_cf8_fallback_same_functions(arch):
    # 0xCF8 reaches 256 bytes: the same functions, found without ECAM.
    r = run_x86(devices=default_topology(8), extra=topology_backends(),
                append="pcsc.exit=debug pcsc.ecam=off")
    assert_exit(arch, r)
    assert walk_of(r) == Q35_DEFAULT_WALK, r.describe()


@pytest.mark.parametrize("arch", only("x86_64"))
def test_cf8_cannot_see_vfs(arch, tmp_path):
    # The SR-IOV capability is extended config space: beyond 0xCF8's 256
    # bytes. The fallback lists the PF as a plain endpoint and no VF.
    r = after_old_kernel(arch, tmp_path, default_topology(8), topology_backends(),
                         append="pcsc.exit=debug pcsc.ecam=off")
    assert_exit(arch, r)
    assert walk_of(r) == Q35_DEFAULT_WALK, r.describe()
