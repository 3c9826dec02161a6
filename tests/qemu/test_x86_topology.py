# tests/qemu/test_x86_topology.py - the x86 stub walks q35 topologies (root ports, x3130 switch, multi-function,
# e1000e, virtio, nvme with SR-IOV) numbered by SeaBIOS, and prints exact walk lines. Never edits the build.
from stubout import walk_lines
from topology import default_topology, topology_backends
from x86util import Q35_DEFAULT_WALK, BootParams, assert_x86_exit, machine_e820, run_x86

# x86util.Q35_DEFAULT_WALK: SeaBIOS numbers bridges depth first in slot order: rp1 (00:02.0) -> bus 1,
# rp2 (00:03.0) -> bus 2, rp3 (00:04.0) -> bus 3 with the x3130 upstream
# port, its downstream ports on bus 4 -> buses 5, 6, 7. VFs stay off: no
# firmware enables them.


def walk_of(r):
    return [l for l in r.lines if l.startswith("walk ") and not l.startswith("walk functions=")]


def test_x86_q35_default_topology_exact_walk():
    r = run_x86(devices=default_topology(8), extra=topology_backends())
    assert_x86_exit(r)
    assert walk_of(r) == Q35_DEFAULT_WALK, r.describe()
    totals = [l for l in r.lines if l.startswith("walk functions=")]
    assert totals and totals[0].startswith(
        "walk functions=20 buses=8 cfg_reads="), r.describe()
    assert (" unnumbered_bridges=0 bad_bridges=0 crs_timeouts=0 cap_loops=0 "
            "vf_out_of_range=0 overflow=0") in totals[0]


def test_x86_q35_topology_same_walk_through_boot_params(tmp_path):
    # The purgatory-style inputs (e820 from the machine, in a boot_params
    # page) find the same ECAM and the same functions.
    devs, extra = default_topology(8), topology_backends()
    bp = BootParams(0x1000000, e820=machine_e820(devs, extra))
    r = run_x86(devices=[bp.loader(tmp_path)] + devs, extra=extra,
                append="pcsc.exit=debug pcsc.boot_params=0x1000000")
    assert_x86_exit(r)
    assert any(l.startswith("x86 ram from boot_params e820") for l in r.lines), r.describe()
    assert walk_of(r) == Q35_DEFAULT_WALK, r.describe()


def test_x86_q35_topology_cf8_fallback_same_functions():
    # 0xCF8 reaches 256 bytes: the same functions, found without ECAM.
    r = run_x86(devices=default_topology(8), extra=topology_backends(),
                append="pcsc.exit=debug pcsc.ecam=off")
    assert_x86_exit(r)
    assert walk_of(r) == Q35_DEFAULT_WALK, r.describe()


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


def test_x86_q35_sriov_vfs_enabled_by_old_kernel(tmp_path):
    from x86util import x86_payload
    devs, extra = default_topology(8), topology_backends()
    pay = x86_payload(tmp_path, machine_ecam(devs, extra))
    r = run_x86(devices=devs, extra=extra, kernel=pay)
    assert_x86_exit(r)
    assert "payload: 02:00.0 numvfs 0008" in r.out, r.describe()
    assert walk_of(r) == with_vfs(8), r.describe()
    assert any(l.startswith("walk functions=28 buses=8 ") for l in r.lines), r.describe()


def test_x86_q35_sriov_partial_numvfs(tmp_path):
    from x86util import x86_payload
    devs, extra = default_topology(8), topology_backends()
    pay = x86_payload(tmp_path, machine_ecam(devs, extra), numvfs=3)
    r = run_x86(devices=devs, extra=extra, kernel=pay)
    assert_x86_exit(r)
    assert walk_of(r) == with_vfs(3), r.describe()


def test_x86_q35_cf8_cannot_see_vfs(tmp_path):
    # The SR-IOV capability is extended config space: beyond 0xCF8's 256
    # bytes. The fallback lists the PF as a plain endpoint and no VF.
    from x86util import x86_payload
    devs, extra = default_topology(8), topology_backends()
    pay = x86_payload(tmp_path, machine_ecam(devs, extra))
    r = run_x86(devices=devs, extra=extra, kernel=pay, append="pcsc.exit=debug pcsc.ecam=off")
    assert_x86_exit(r)
    assert walk_of(r) == Q35_DEFAULT_WALK, r.describe()
