# tests/qemu/test_x86_boot.py - the x86_64 stub boots under QEMU q35 (PVH), reports discovery, exits through
# isa-debug-exit with its own status; exceptions are reported. Never accepts QEMU status 0 or 1 as success.
import re

import pytest

from qemurun import run_qemu
from x86util import (EXIT_EXCEPTION, EXIT_OK, assert_x86_exit, run_x86, x86_cmd)


def test_x86_pvh_banner_and_debug_exit():
    r = run_x86()
    assert_x86_exit(r)
    assert EXIT_OK == 33
    assert re.match(r"^x86_64 entry pvh image 0x100000-0x[0-9a-f]+ boot_params 0x0 "
                    r"start_info 0x[0-9a-f]+$", r.lines[0]), r.describe()
    assert r.lines[1] == "pcsc-stub 0.1", r.describe()
    assert r.lines[-2] == "no next kernel", r.describe()
    assert r.seconds < 30, r.describe()


def test_x86_discovery_from_pvh_and_mcfg():
    # q35 with 1 GiB: RAM below 640K and from 1 MiB to the top SeaBIOS/QEMU
    # keep; MCFG (published by SeaBIOS from QEMU's tables) names 0xB0000000.
    r = run_x86()
    assert_x86_exit(r)
    assert "x86 ram from pvh memmap (9 entries)" in r.lines or any(
        l.startswith("x86 ram from pvh memmap") for l in r.lines), r.describe()
    assert "ram 0x0-0x9fc00" in r.lines, r.describe()
    assert any(re.match(r"^ram 0x100000-0x3ff[0-9a-f]{5}$", l) for l in r.lines), r.describe()
    assert any(re.match(r"^acpi rsdp 0x[0-9a-f]+ from pvh start info$", l)
               for l in r.lines), r.describe()
    assert "ecam 0000:00-ff at 0xb0000000" in r.lines, r.describe()
    assert "no KHO FDT" in r.lines, r.describe()
    assert "mode quick" in r.lines, r.describe()
    # the q35 host bridge and the ICH9 LPC bridge are always there
    assert any(l.startswith("walk 0000:00:00.0 8086:29c0 class 060000") for l in r.lines)
    assert any(l.startswith("walk 0000:00:1f.0 8086:2918 class 060100") for l in r.lines)


def test_x86_mode_from_command_line():
    r = run_x86(append="pcsc.exit=debug pcsc.mode=strict")
    assert_x86_exit(r)
    assert "mode strict" in r.lines, r.describe()


def test_x86_page_fault_is_reported_and_exits():
    # selftest=pf reads 1 TiB + 0x123, which the stub never maps.
    r = run_x86(append="pcsc.exit=debug pcsc.x86.selftest=pf")
    assert not r.timed_out and r.rc == EXIT_EXCEPTION, r.describe()
    m = [l for l in r.lines if l.startswith("exception ")]
    assert len(m) == 1, r.describe()
    assert re.match(r"^exception vector=14 error=0x0 rip=0x1[0-9a-f]{5} "
                    r"\(image\+0x[0-9a-f]+\) cr2=0x10000000123$", m[0]), r.describe()


def test_x86_invalid_opcode_is_reported_and_exits():
    r = run_x86(append="pcsc.exit=debug pcsc.x86.selftest=ud")
    assert not r.timed_out and r.rc == EXIT_EXCEPTION, r.describe()
    assert any(l.startswith("exception vector=6 ") for l in r.lines), r.describe()


@pytest.mark.parametrize("selftest", ["pf", "ud"])
def test_x86_early_exception_keeps_the_lines_asked_for(selftest):
    # pcsc.report=full (x86_cmd): the entry line and the poweroff line
    # around the exception, as before the console was made quiet.
    r = run_x86(append=f"pcsc.exit=debug pcsc.x86.selftest={selftest}")
    assert_x86_exit(r, status=EXIT_EXCEPTION, last="poweroff 3")
    assert r.lines[0].startswith("x86_64 entry pvh image 0x100000-"), r.describe()


def test_x86_without_debug_exit_resets():
    # Not asked to exit: the stub resets (FADT reset register, keyboard
    # controller...); with -no-reboot QEMU then exits 0 by itself, and the
    # debug-exit device was never written.
    r = run_qemu(x86_cmd(append=""), timeout=30)
    assert not r.timed_out, r.describe()
    assert r.rc == 0, r.describe()
    assert r.lines[-1] == "poweroff 0", r.describe()


def spcr_table(port, space=1, iface=0):
    """An ACPI SPCR (revision 2, 80 bytes) naming a 16550 at port."""
    import struct
    t = bytearray(80)
    t[0:4] = b"SPCR"
    struct.pack_into("<IB", t, 4, len(t), 2)
    t[10:16] = b"PCSCTS"
    t[16:24] = b"PCSCSPCR"
    t[36] = iface                                   # 0: full 16550
    struct.pack_into("<BBBBQ", t, 40, space, 8, 0, 1, port)   # GAS
    t[58] = 7                                       # 115200
    t[9] = (-sum(t)) & 0xff
    return bytes(t)


def test_x86_console_follows_acpi_spcr(tmp_path):
    # COM1 goes nowhere, COM2 (0x2f8) is the test's stdout: everything
    # after discovery must arrive there because SPCR says so (and the
    # detail lines held until the command line was read come out there too).
    f = tmp_path / "spcr.aml"
    f.write_bytes(spcr_table(0x2f8))
    r = run_qemu(x86_cmd(serial=("null", "stdio"), extra=["-acpitable", f"file={f}"]),
                 timeout=30)
    assert not r.timed_out and r.rc == EXIT_OK, r.describe()
    assert "console from ACPI SPCR: I/O 0x2f8" in r.lines, r.describe()
    assert "ecam 0000:00-ff at 0xb0000000" in r.lines, r.describe()
    assert r.lines[-1] == "poweroff 0", r.describe()


def test_x86_spcr_mmio_console_is_named_and_com1_kept(tmp_path):
    f = tmp_path / "spcr.aml"
    f.write_bytes(spcr_table(0xfe000000, space=0))
    r = run_qemu(x86_cmd(extra=["-acpitable", f"file={f}"]), timeout=30)
    assert_x86_exit(r)
    assert ("acpi SPCR console type 0 space 0 at 0xfe000000 not used: staying on COM1"
            in r.lines), r.describe()
