# tests/qemu/test_boot.py - the stub boots on both arches (arm64 virt at EL1/EL2, x86_64 q35 through PVH),
# reports what its firmware tables say, exits with its own status; exceptions are reported. One module
# parametrised by arch (issue 14): never accepts a hang, a missing poweroff line, or QEMU status 0/1 on x86.
"""Boot and discovery, one module parametrised by arch.

arm64: QEMU virt, -kernel the stub, options in /chosen/bootargs, PSCI
SYSTEM_OFF (QEMU status 0, last line 'poweroff N'). x86_64: q35 through
PVH, options on the command line with pcsc.exit=debug, isa-debug-exit
(QEMU status ((0x10 + N) << 1) | 1, x86util). Tests that exist on one arch
only are parametrised with that arch alone (only()).
"""
import re

import pytest

from arm64util import assert_clean_poweroff, run_arm64
from qemurun import arches, only, run_qemu
from x86util import EXIT_EXCEPTION, EXIT_OK, assert_x86_exit, exit_status, run_x86, x86_cmd



# -- the per-arch adapter: how to boot the stub, how it must end ------------

def boot(arch, opts="", **kw):
    """Boot the stub alone with pcsc.* options opts (arm64: /chosen/bootargs
    after console=ttyAMA0; x86: the PVH command line after pcsc.exit=debug)."""
    if arch == "arm64":
        if opts:
            kw["extra"] = ["-append", f"console=ttyAMA0 {opts}"]
        return run_arm64(**kw)
    return run_x86(append=f"pcsc.exit=debug {opts}".strip(), **kw)


def assert_exit(arch, r, code=0):
    """The stub reached its end and powered off with code (0: done, 3: an
    exception), QEMU exited by itself; its last line is 'poweroff code'."""
    if arch == "arm64":
        if code == 0:
            assert_clean_poweroff(r)
        else:
            assert not r.timed_out and r.rc == 0, r.describe()     # PSCI SYSTEM_OFF
            assert r.lines and r.lines[-1] == f"poweroff {code}", r.describe()
    else:
        assert_x86_exit(r, status=exit_status(code), last=f"poweroff {code}")


ENTRY_RE = {
    "arm64": r"^arm64 entry EL1 image 0x[0-9a-f]+-0x[0-9a-f]+ dtb 0x[0-9a-f]+$",
    "x86_64": r"^x86_64 entry pvh image 0x100000-0x[0-9a-f]+ boot_params 0x0 "
              r"start_info 0x[0-9a-f]+$",
}

# the ECAM window of the default machine: virt's high ECAM above 4 GiB,
# q35's MCFG (published by SeaBIOS from QEMU's tables)
DEFAULT_ECAM = {"arm64": "ecam 0000:00-ff at 0x4010000000",
                "x86_64": "ecam 0000:00-ff at 0xb0000000"}


@pytest.mark.parametrize("arch", arches())
def test_banner_and_clean_exit(arch):
    r = boot(arch)
    assert_exit(arch, r)
    assert re.match(ENTRY_RE[arch], r.lines[0]), r.describe()
    assert r.lines[1] == "pcsc-stub 0.1", r.describe()
    if arch == "x86_64":
        assert EXIT_OK == 33
        assert r.lines[-2] == "no next kernel", r.describe()
        assert r.seconds < 30, r.describe()


@pytest.mark.parametrize("arch", only("arm64"))
def test_el2_entry_uses_el2_regime(arch):
    r = run_arm64(machine="virt,virtualization=on")
    assert_exit(arch, r)
    assert r.lines[0].startswith("arm64 entry EL2 "), r.describe()


@pytest.mark.parametrize("arch", arches())
def test_discovery_default_machine(arch):
    # arm64: virt with 1 GiB at 0x40000000, high ECAM (256 buses) above 4 GiB.
    # x86: q35 with 1 GiB: RAM below 640K and from 1 MiB to the top SeaBIOS/QEMU
    # keep; MCFG names 0xB0000000.
    r = boot(arch)
    assert_exit(arch, r)
    assert DEFAULT_ECAM[arch] in r.lines, r.describe()
    assert "no KHO FDT" in r.lines, r.describe()
    assert "mode quick" in r.lines, r.describe()
    if arch == "arm64":
        assert "ram 0x40000000-0x80000000" in r.lines, r.describe()
    else:
        assert "x86 ram from pvh memmap (9 entries)" in r.lines or any(
            l.startswith("x86 ram from pvh memmap") for l in r.lines), r.describe()
        assert "ram 0x0-0x9fc00" in r.lines, r.describe()
        assert any(re.match(r"^ram 0x100000-0x3ff[0-9a-f]{5}$", l) for l in r.lines), \
            r.describe()
        assert any(re.match(r"^acpi rsdp 0x[0-9a-f]+ from pvh start info$", l)
                   for l in r.lines), r.describe()
        # the q35 host bridge and the ICH9 LPC bridge are always there
        assert any(l.startswith("walk 0000:00:00.0 8086:29c0 class 060000") for l in r.lines)
        assert any(l.startswith("walk 0000:00:1f.0 8086:2918 class 060100") for l in r.lines)


@pytest.mark.parametrize("arch", only("arm64"))
def test_discovery_low_ecam_and_ram_above_4g(arch):
    # highmem=off: the 16-bus low ECAM window at 0x3f000000; 3 GiB of RAM
    # spans 1 GiB blocks that must all be mapped Normal.
    r = run_arm64(machine="virt,highmem=off", mem="3G")
    assert_exit(arch, r)
    assert "ram 0x40000000-0x100000000" in r.lines, r.describe()
    assert "ecam 0000:00-0f at 0x3f000000" in r.lines, r.describe()


@pytest.mark.parametrize("arch", arches())
def test_command_line_selects_mode(arch):
    r = boot(arch, "pcsc.mode=strict")
    assert_exit(arch, r)
    assert "mode strict" in r.lines, r.describe()


def _pcie_node(dtb):
    import subprocess
    out = subprocess.run(["fdtget", "-l", dtb, "/"], capture_output=True, text=True).stdout
    return "/" + [n for n in out.split() if n.startswith("pcie@")][0]


def boot_into_an_exception(arch, tmp_path):
    """Boot the stub so that it takes one exception, the arch's own way.
    arm64: an ECAM window where nothing decodes, the first config read takes
    a synchronous external abort. x86: pcsc.x86.selftest=pf reads
    1 TiB + 0x123, which the stub never maps."""
    if arch == "arm64":
        import subprocess
        from arm64util import arm64_dumpdtb
        dtb = arm64_dumpdtb(tmp_path)
        subprocess.run(["fdtput", "-t", "x", dtb, _pcie_node(dtb), "reg",
                        "0x70", "0x0", "0x0", "0x10000000"], check=True)
        r = run_arm64(dtb=dtb)
        assert "ecam 0000:00-ff at 0x7000000000" in r.lines, r.describe()
        return r
    return boot(arch, "pcsc.x86.selftest=pf")


EXCEPTION_RE = {
    # Data abort from the current EL (EC 0x25), faulting address = window base.
    "arm64": r"^exception vector=4 esr=0x(9[67][0-9a-f]{6}) elr=0x[0-9a-f]+ "
             r"\(image\+0x[0-9a-f]+\) far=0x7000000000 lr=0x[0-9a-f]+$",
    # #PF on a read of a not-present page
    "x86_64": r"^exception vector=14 error=0x0 rip=0x1[0-9a-f]{5} "
              r"\(image\+0x[0-9a-f]+\) cr2=0x10000000123$",
}


@pytest.mark.parametrize("arch", arches())
def test_exception_is_reported_and_the_stub_still_finishes(arch, tmp_path):
    # The vector reports the fault's registers, then (no next kernel) the
    # stub powers off with status 3: arm64 'poweroff 3' through PSCI, x86
    # through isa-debug-exit (EXIT_EXCEPTION).
    r = boot_into_an_exception(arch, tmp_path)
    assert not r.timed_out, r.describe()
    if arch == "x86_64":
        assert r.rc == EXIT_EXCEPTION, r.describe()
    assert_exit(arch, r, code=3)
    exc = [l for l in r.lines if l.startswith("exception ")]
    assert len(exc) == 1, r.describe()
    assert re.match(EXCEPTION_RE[arch], exc[0]), r.describe()


@pytest.mark.parametrize("arch", only("arm64"))
def test_image_header_per_booting_rst(arch):
    import os
    import struct
    from arm64util import ARM64_STUB
    hdr = open(ARM64_STUB, "rb").read(64)
    code0, code1, text_offset, image_size, flags, r2, r3, r4, magic, r5 = \
        struct.unpack("<IIQQQQQQII", hdr)
    assert code0 >> 26 == 0b000101, "code0 must be a branch"
    assert text_offset == 0
    assert flags == 0xa                                 # LE, 4K, anywhere
    assert magic == 0x644d5241                          # "ARM\x64"
    assert image_size % 4096 == 0 and image_size > os.path.getsize(ARM64_STUB)


@pytest.mark.parametrize("arch", only("x86_64"))
def test_invalid_opcode_is_reported_and_exits(arch):
    r = boot(arch, "pcsc.x86.selftest=ud")
    assert not r.timed_out and r.rc == EXIT_EXCEPTION, r.describe()
    assert any(l.startswith("exception vector=6 ") for l in r.lines), r.describe()


@pytest.mark.parametrize("arch", only("x86_64"))
@pytest.mark.parametrize("selftest", ["pf", "ud"])
def test_early_exception_keeps_the_lines_asked_for(arch, selftest):
    # pcsc.report=full (x86_cmd): the entry line and the poweroff line
    # around the exception, as before the console was made quiet.
    r = boot(arch, f"pcsc.x86.selftest={selftest}")
    assert_x86_exit(r, status=EXIT_EXCEPTION, last="poweroff 3")
    assert r.lines[0].startswith("x86_64 entry pvh image 0x100000-"), r.describe()


@pytest.mark.parametrize("arch", only("x86_64"))
def test_without_debug_exit_resets(arch):
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


@pytest.mark.parametrize("arch", only("x86_64"))
def test_console_follows_acpi_spcr(arch, tmp_path):
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


@pytest.mark.parametrize("arch", only("x86_64"))
def test_spcr_mmio_console_is_named_and_com1_kept(arch, tmp_path):
    f = tmp_path / "spcr.aml"
    f.write_bytes(spcr_table(0xfe000000, space=0))
    r = run_qemu(x86_cmd(extra=["-acpitable", f"file={f}"]), timeout=30)
    assert_exit(arch, r)
    assert ("acpi SPCR console type 0 space 0 at 0xfe000000 not used: staying on COM1"
            in r.lines), r.describe()
