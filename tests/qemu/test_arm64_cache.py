# tests/qemu/test_arm64_cache.py - caches an old kernel would leave, derived
# from the machine's own walk (pcsctool gen), placed with -device loader and
# announced in /chosen; asserts the stub's exact report. Never hand-types a BDF.
import pytest

from conftest import (Arm64Machine, assert_clean_poweroff, default_topology,
                      topology_backends)


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    m = Arm64Machine(tmp_path_factory.mktemp("arm64cache"), default_topology(vfs=8),
                     extra=topology_backends())
    m.live = m.walk()
    return m


def test_arm64_kho_fdt_and_scratch_read_from_chosen(machine):
    cache = machine.gen(machine.live, name="clean-chosen")
    r = machine.boot(cache=cache)
    assert_clean_poweroff(r)
    addr, size = cache["kho_fdt"]
    assert f"kho fdt {addr:#x} size {size:#x} scratch 0x7f000000 size 0x800000" \
        in r.lines, r.describe()
