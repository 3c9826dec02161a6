# tests/qemu/test_x86_bootparams.py - the x86 purgatory-style inputs: boot_params from the PVH command line or rsi
# on the 64-bit entry, e820 RAM, setup_data KHO (type 10), RSDP sources, MCFG vs the 0xCF8 fallback. Never edits the build.
import re

import pytest

from stubout import walk_lines
from x86util import (BootParams, assert_x86_exit, run_x86, second_copy, stub_flat_binary,
                     SETUP_KEXEC_KHO)

BP_ADDR = 0x1000000         # 16 MiB: free RAM on a 1 GiB q35 machine
CHAIN_ADDR = 0x2000000      # where the second copy of the stub goes


def machine_rsdp():
    """The RSDP SeaBIOS built on this machine, as the PVH start info says."""
    r = run_x86()
    assert_x86_exit(r)
    for l in r.lines:
        m = re.match(r"^acpi rsdp (0x[0-9a-f]+) from pvh start info$", l)
        if m:
            return int(m.group(1), 16)
    raise AssertionError(r.describe())


def boot_with(tmp_path, bp, append="pcsc.exit=debug", devices=(), **kw):
    dev = [bp.loader(tmp_path)] + list(devices)
    return run_x86(devices=dev, append=f"{append} pcsc.boot_params={bp.addr:#x}", **kw)


def test_x86_ram_and_kho_from_boot_params(tmp_path):
    bp = BootParams(BP_ADDR)
    bp.add_setup(9, b"\x11" * 40)           # SETUP_RNG_SEED: skipped
    bp.add_kho(0x3000000, 0x1000, 0x4000000, 0x100000)
    r = boot_with(tmp_path, bp)
    assert_x86_exit(r)
    assert "x86 ram from boot_params e820 (8 entries)" in r.lines, r.describe()
    ram = [l for l in r.lines if l.startswith("ram ")]
    assert ram == ["ram 0x0-0x9fc00", "ram 0x100000-0x3ffdf000"], r.describe()
    assert "kho fdt 0x3000000 size 0x1000 scratch 0x4000000 size 0x100000" in r.lines, \
        r.describe()
    assert re.match(r"^x86_64 entry pvh image 0x100000-0x[0-9a-f]+ boot_params 0x1000000 ",
                    r.lines[0]), r.describe()


def test_x86_short_kho_entry_and_setup_data_loop(tmp_path):
    bp = BootParams(BP_ADDR)
    bp.add_setup(SETUP_KEXEC_KHO, b"\0" * 16)   # too short for its payload
    r = boot_with(tmp_path, bp)
    assert_x86_exit(r)
    assert "setup_data short KHO entry dropped: success" in r.lines, r.describe()
    assert "no KHO FDT" in r.lines, r.describe()

    bp = BootParams(BP_ADDR)
    bp.add_kho(0x3000000, 0x1000)
    bp.raw_next = None
    img = bytearray(bp.image())
    # make the only node point at itself: the walk must stop, not spin
    import struct
    first = struct.unpack_from("<Q", img, 0x250)[0]
    struct.pack_into("<Q", img, first - BP_ADDR, first)
    path = tmp_path / "loop.bin"
    path.write_bytes(bytes(img))
    r = run_x86(devices=[f"loader,file={path},addr={BP_ADDR:#x},force-raw=on"],
                append=f"pcsc.exit=debug pcsc.boot_params={BP_ADDR:#x}")
    assert_x86_exit(r)
    # The loop is cut where it closes (the node's own link), so the next
    # kernel, which walks the list without a bound, ends too.
    assert "setup_data over 64 nodes or a loop: list cut: success" in r.lines, r.describe()
    assert "kho fdt 0x3000000 size 0x1000 scratch 0x0 size 0x0" in r.lines, r.describe()


def test_x86_rsdp_from_boot_params_then_fallbacks(tmp_path):
    rsdp = machine_rsdp()
    bp = BootParams(BP_ADDR, rsdp=rsdp)
    r = boot_with(tmp_path, bp)
    assert_x86_exit(r)
    assert f"acpi rsdp {rsdp:#x} from boot_params" in r.lines, r.describe()
    assert "ecam 0000:00-ff at 0xb0000000" in r.lines, r.describe()

    # a boot_params RSDP that is not one: said so, then the PVH one is used
    bp = BootParams(BP_ADDR, rsdp=0x2000000)
    r = boot_with(tmp_path, bp)
    assert_x86_exit(r)
    assert "acpi rsdp 0x2000000 from boot_params: not found" in r.lines, r.describe()
    assert f"acpi rsdp {rsdp:#x} from pvh start info" in r.lines, r.describe()


def test_x86_boot_params_option_must_be_a_page(tmp_path):
    r = run_x86(append="pcsc.exit=debug pcsc.boot_params=0x1000010")
    assert_x86_exit(r)
    assert "pcsc.boot_params=0x1000010 ignored: not a page address" in r.lines, r.describe()
    assert any(l.startswith("x86 ram from pvh memmap") for l in r.lines), r.describe()


def test_x86_64bit_entry_with_rsi_boot_params(tmp_path):
    # The PVH copy plays kexec: it jumps to a second copy of the stub, loaded
    # as a flat binary at 32 MiB, through its 64-bit entry with rsi =
    # boot_params. The second copy relocates itself, reads its options from
    # boot_params' command line and finds the RSDP by the BIOS scan (no
    # acpi_rsdp_addr, no PVH start info).
    rsdp = machine_rsdp()
    bp = BootParams(BP_ADDR, cmdline="console=ttyS0 pcsc.exit=debug pcsc.mode=strict "
                                     "pcsc.report=full")
    bp.add_kho(0x3000000, 0x2000, 0x4000000, 0x200000)
    flat = stub_flat_binary()
    r = boot_with(tmp_path, bp,
                  append=f"pcsc.exit=debug pcsc.x86.selftest=chain64@{CHAIN_ADDR:#x}",
                  devices=[f"loader,file={flat},addr={CHAIN_ADDR:#x},force-raw=on"])
    assert_x86_exit(r)
    second = second_copy(r, CHAIN_ADDR)
    assert re.match(rf"^x86_64 entry 64bit image {CHAIN_ADDR:#x}-0x[0-9a-f]+ "
                    rf"boot_params {BP_ADDR:#x} start_info 0x0$", second[0]), r.describe()
    assert second[1] == "pcsc-stub 0.1", r.describe()
    assert "mode strict" in second, r.describe()
    assert "x86 ram from boot_params e820 (8 entries)" in second, r.describe()
    assert f"acpi rsdp {rsdp:#x} from bios scan" in second or \
        f"acpi rsdp {rsdp:#x} from ebda scan" in second, r.describe()
    assert "ecam 0000:00-ff at 0xb0000000" in second, r.describe()
    assert "kho fdt 0x3000000 size 0x2000 scratch 0x4000000 size 0x200000" in second


def test_x86_legacy_cf8_fallback_walks_the_same_functions():
    ecam = run_x86()
    assert_x86_exit(ecam)
    cf8 = run_x86(append="pcsc.exit=debug pcsc.ecam=off")
    assert_x86_exit(cf8)
    assert "pcsc.ecam=off: MCFG not used" in cf8.lines, cf8.describe()
    assert ("no MCFG: legacy 0xCF8 config access, segment 0 only, 256-byte config space"
            in cf8.lines), cf8.describe()
    assert walk_lines(cf8.lines) == walk_lines(ecam.lines), cf8.describe()
    assert len(walk_lines(cf8.lines)) >= 5


@pytest.mark.parametrize("cpu", ["qemu64", "max"])   # 2 MiB pages only / 1 GiB pages
def test_x86_64bit_entry_above_4g(tmp_path, cpu):
    # The purgatory-style entry at 5 GiB: the second copy relocates itself
    # there, maps itself before moving CR3 to its own tables, and finds ECAM
    # and RAM (both low and above 4 GiB) from boot_params.
    from x86util import machine_e820
    high = 0x140000000
    e820 = machine_e820(mem_mib=5120)
    assert (0x100000000, 0xc0000000, 1) in e820, e820
    bp = BootParams(BP_ADDR, e820=e820, cmdline="pcsc.exit=debug pcsc.report=full")
    flat = stub_flat_binary()
    r = boot_with(tmp_path, bp, mem="5G", extra=["-cpu", cpu],
                  append=f"pcsc.exit=debug pcsc.x86.selftest=chain64@{high:#x}",
                  devices=[f"loader,file={flat},addr={high:#x},force-raw=on"])
    assert_x86_exit(r)
    second = second_copy(r, high)
    assert re.match(rf"^x86_64 entry 64bit image {high:#x}-0x[0-9a-f]+ "
                    rf"boot_params {BP_ADDR:#x} start_info 0x0$", second[0]), r.describe()
    assert "ram 0x100000000-0x1c0000000" in second, r.describe()
    assert "ecam 0000:00-ff at 0xb0000000" in second, r.describe()
    assert walk_lines(second), r.describe()
