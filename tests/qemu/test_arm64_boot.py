# tests/qemu/test_arm64_boot.py - the arm64 stub boots under QEMU virt at EL1
# and EL2, reports what the DTB says, and powers off via PSCI. Never edits the build.
import re

from conftest import assert_clean_poweroff, run_arm64


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
