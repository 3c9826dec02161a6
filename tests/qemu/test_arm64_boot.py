# tests/qemu/test_arm64_boot.py - the arm64 stub boots under QEMU virt at EL1
# and EL2, reports what the DTB says, and powers off via PSCI. Never edits the build.
import re

from arm64util import assert_clean_poweroff, run_arm64


def test_arm64_banner_and_poweroff_el1():
    r = run_arm64()
    assert_clean_poweroff(r)
    assert re.match(r"^arm64 entry EL1 image 0x[0-9a-f]+-0x[0-9a-f]+ dtb 0x[0-9a-f]+$",
                    r.lines[0]), r.describe()
    assert r.lines[1] == "pcsc-stub 0.1", r.describe()


def test_arm64_el2_entry_uses_el2_regime():
    r = run_arm64(machine="virt,virtualization=on")
    assert_clean_poweroff(r)
    assert r.lines[0].startswith("arm64 entry EL2 "), r.describe()


def test_arm64_discovery_from_dtb_default_machine():
    # QEMU virt: 1 GiB at 0x40000000, high ECAM (256 buses) above 4 GiB.
    r = run_arm64()
    assert_clean_poweroff(r)
    assert "ram 0x40000000-0x80000000" in r.lines, r.describe()
    assert "ecam 0000:00-ff at 0x4010000000" in r.lines, r.describe()
    assert "no KHO FDT" in r.lines, r.describe()
    assert "mode quick" in r.lines, r.describe()


def test_arm64_discovery_low_ecam_and_ram_above_4g():
    # highmem=off: the 16-bus low ECAM window at 0x3f000000; 3 GiB of RAM
    # spans 1 GiB blocks that must all be mapped Normal.
    r = run_arm64(machine="virt,highmem=off", mem="3G")
    assert_clean_poweroff(r)
    assert "ram 0x40000000-0x100000000" in r.lines, r.describe()
    assert "ecam 0000:00-0f at 0x3f000000" in r.lines, r.describe()


def test_arm64_bootargs_select_mode():
    r = run_arm64(extra=["-append", "console=ttyAMA0 pcsc.mode=strict"])
    assert_clean_poweroff(r)
    assert "mode strict" in r.lines, r.describe()


def _pcie_node(dtb):
    import subprocess
    out = subprocess.run(["fdtget", "-l", dtb, "/"], capture_output=True, text=True).stdout
    return "/" + [n for n in out.split() if n.startswith("pcie@")][0]


def test_arm64_exception_is_reported_and_the_stub_still_finishes(tmp_path):
    # An ECAM window where nothing decodes: the first config read takes a
    # synchronous external abort. The vector reports ESR/ELR/FAR, then (no
    # next kernel) powers off with status 3.
    import subprocess
    from arm64util import arm64_dumpdtb
    dtb = arm64_dumpdtb(tmp_path)
    subprocess.run(["fdtput", "-t", "x", dtb, _pcie_node(dtb), "reg",
                    "0x70", "0x0", "0x0", "0x10000000"], check=True)
    r = run_arm64(dtb=dtb)
    assert not r.timed_out and r.rc == 0, r.describe()
    assert "ecam 0000:00-ff at 0x7000000000" in r.lines, r.describe()
    exc = [l for l in r.lines if l.startswith("exception ")]
    assert len(exc) == 1, r.describe()
    # Data abort from the current EL (EC 0x25), faulting address = window base.
    m = re.match(r"^exception vector=4 esr=0x(9[67][0-9a-f]{6}) elr=0x[0-9a-f]+ "
                 r"\(image\+0x[0-9a-f]+\) far=0x7000000000 lr=0x[0-9a-f]+$", exc[0])
    assert m, r.describe()
    assert r.lines[-1] == "poweroff 3", r.describe()


def test_arm64_image_header_per_booting_rst():
    import struct
    from arm64util import ARM64_STUB
    hdr = open(ARM64_STUB, "rb").read(64)
    code0, code1, text_offset, image_size, flags, r2, r3, r4, magic, r5 = \
        struct.unpack("<IIQQQQQQII", hdr)
    assert code0 >> 26 == 0b000101, "code0 must be a branch"
    assert text_offset == 0
    assert flags == 0xa                                 # LE, 4K, anywhere
    assert magic == 0x644d5241                          # "ARM\x64"
    import os
    assert image_size % 4096 == 0 and image_size > os.path.getsize(ARM64_STUB)
