# tests/qemu/test_x86_cache.py - caches an old kernel would leave on x86, derived from the machine's own walk
# (pcsctool gen), placed with -device loader, announced by a SETUP_KEXEC_KHO setup_data entry. Never hand-types a BDF.
import pytest

from conftest import default_topology, topology_backends
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
    cache = machine.gen(machine.live, name="clean-setup-data")
    r = machine.boot(cache=cache)
    assert_x86_exit(r)
    addr, size = cache["kho_fdt"]
    assert f"kho fdt {addr:#x} size {size:#x} scratch 0x3000000 size 0x800000" \
        in r.lines, r.describe()
