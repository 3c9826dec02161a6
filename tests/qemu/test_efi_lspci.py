# tests/qemu/test_efi_lspci.py - `pcsc-stub.efi lspci` under OVMF (q35) and AAVMF
# (virt): ECAM from MCFG, exact walk lines, same walk as the x86 stub. Never writes outside tmp dirs.
"""lspci in the EFI app.

Measured under TCG with the default topology (conftest.default_topology:
root ports, e1000e, nvme, x3130 switch, virtio multi-function): ~16 s on
q35/OVMF (more devices for the firmware to bind), ~10 s on virt/AAVMF;
bounded at 90 s. Firmware numbers the bridges (OVMF the same way SeaBIOS
does: depth first in slot order) and enables no VF, so no PF/VF marks.
"""
import pytest

from stubout import walk_lines
from topology import default_topology, topology_backends
from efiutil import assert_exit, run_efi
from x86util import Q35_DEFAULT_WALK, assert_x86_exit, run_x86

TIMEOUT = 90

# q35 + default topology; identical to what the x86 stub prints
# (x86util.Q35_DEFAULT_WALK, shared with test_topology.py), checked live below as well.
Q35_WALK = Q35_DEFAULT_WALK

# Buses 01-07, behind the root ports, are the same on both machines: the
# same devices, numbered by each firmware depth first in slot order.
BEHIND_ROOT_PORTS = [l for l in Q35_WALK if not l.startswith("walk 0000:00:")]

# virt + default topology under AAVMF: the host bridge (1b36:0008), three
# root ports, the ESP itself on 00:04.0 (virtio-blk, legacy id 1af4:1001,
# efiutil puts the FAT disk on virtio), the rest as on q35.
VIRT_WALK = """\
walk 0000:00:00.0 1b36:0008 class 060000 ep
walk 0000:00:01.0 1b36:000c class 060400 bridge
walk 0000:00:02.0 1b36:000c class 060400 bridge
walk 0000:00:03.0 1b36:000c class 060400 bridge
walk 0000:00:04.0 1af4:1001 class 010000 ep
walk 0000:00:06.0 1af4:1000 class 020000 ep
walk 0000:00:06.1 1af4:1001 class 010000 ep""".splitlines() + BEHIND_ROOT_PORTS

EXPECT = {"x64": (Q35_WALK, "ecam seg 0000 bus 00-ff base 0xb0000000", 261),
          "aa64": (VIRT_WALK, "ecam seg 0000 bus 00-ff base 0x4010000000", 249)}


def walk_of(r):
    return [l for l in r.lines if l.startswith("walk ") and not l.startswith("walk functions=")]


def totals(r):
    t = [l for l in r.lines if l.startswith("walk functions=")]
    assert len(t) == 1, r.describe()
    return dict(kv.split("=") for kv in t[0].split()[1:])


@pytest.mark.parametrize("arch", ["x64", "aa64"])
def test_lspci_default_topology_exact_lines(tmp_path, arch):
    walk, ecam, reads = EXPECT[arch]
    r = run_efi(tmp_path, arch, args="lspci", devices=default_topology(8),
                extra=topology_backends(), timeout=TIMEOUT)
    assert_exit(r, "success")
    assert ecam in r.lines, r.describe()
    assert walk_of(r) == walk, r.describe()
    t = totals(r)
    assert t["functions"] == str(len(walk)) and t["buses"] == "8", r.describe()
    for k in ("unnumbered_bridges", "bad_bridges", "crs_timeouts", "cap_loops",
              "vf_out_of_range", "overflow"):
        assert t[k] == "0", (k, r.describe())
    # Exact, as measured: the walk is deterministic over a given config
    # space (lib/pci_walk.c documents what it reads); a change means the
    # walk changed.
    assert int(t["cfg_reads"]) == reads, r.describe()


def test_lspci_matches_x86_stub_walk(tmp_path):
    """Done-when of issue 6: the EFI app and the bare-metal stub see the
    same functions on the same q35 topology (each boot through its own
    firmware: OVMF for the app, SeaBIOS + PVH for the stub)."""
    devs, extra = default_topology(8), topology_backends()
    stub = run_x86(devices=devs, extra=extra, timeout=TIMEOUT)
    assert_x86_exit(stub)
    app = run_efi(tmp_path, "x64", args="lspci", devices=devs, extra=extra, timeout=TIMEOUT)
    assert_exit(app, "success")
    assert walk_lines(app.lines) == walk_lines(stub.lines), app.describe() + stub.describe()
    assert len(walk_lines(app.lines)) == 20
    # cfg_reads is not compared: under OVMF the walk makes 261 reads, under
    # SeaBIOS 259. Measured: without the SR-IOV nvme both make 246, so the
    # 2 reads come from firmware state around rp2/nvme (likely EDK2's ARI
    # forwarding enable, which SeaBIOS never sets; not confirmed further).


@pytest.mark.parametrize("arch", ["x64", "aa64"])
def test_lspci_rejects_arguments(tmp_path, arch):
    r = run_efi(tmp_path, arch, args="lspci extra")
    assert_exit(r, "usage")
    assert "lspci takes no arguments" in r.lines, r.describe()
