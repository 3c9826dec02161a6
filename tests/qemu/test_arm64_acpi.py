# tests/qemu/test_arm64_acpi.py - ACPI arm64: the DTB has no PCI node, only
# /chosen linux,uefi-system-table; ECAM comes from MCFG via the EFI
# configuration table (tables written into guest RAM by the test).
from acpiutil import dtb_as_acpi
from arm64util import arm64_cmd, arm64_dumpdtb, assert_clean_poweroff
from qemurun import run_qemu
from stubout import walk_lines


def test_arm64_acpi_ecam_from_mcfg_walks_the_same_functions(tmp_path):
    devs = ["e1000e,addr=2.0", "virtio-net-pci,addr=3.0"]
    ref = run_qemu(arm64_cmd(devices=devs))
    assert_clean_poweroff(ref)
    dtb = arm64_dumpdtb(tmp_path, devices=devs)
    dtb, blob, at, wins = dtb_as_acpi(tmp_path, dtb)
    r = run_qemu(arm64_cmd(devices=devs + [f"loader,file={blob},addr={at:#x},force-raw=on"],
                           dtb=dtb))
    assert_clean_poweroff(r)
    assert f"acpi: rsdp {at + 0x200:#x} mcfg windows=1" in r.lines, r.describe()
    _, base, seg, bs, be = wins[0]
    assert f"ecam {seg:04x}:{bs:02x}-{be:02x} at {base:#x}" in r.lines, r.describe()
    assert walk_lines(r.lines) == walk_lines(ref.lines) and len(walk_lines(r.lines)) == 3, \
        r.describe()


def test_arm64_acpi_bad_checksum_leaves_nothing_to_walk(tmp_path):
    dtb = arm64_dumpdtb(tmp_path)
    dtb, blob, at, _ = dtb_as_acpi(tmp_path, dtb)
    b = bytearray(open(blob, "rb").read())
    b[0x400 + 20] ^= 0xff                      # MCFG OEM id byte: checksum breaks
    open(blob, "wb").write(bytes(b))
    r = run_qemu(arm64_cmd(devices=[f"loader,file={blob},addr={at:#x},force-raw=on"], dtb=dtb))
    assert_clean_poweroff(r)
    acpi = [l for l in r.lines if l.startswith("acpi: ")]
    assert len(acpi) == 1 and acpi[0].startswith(f"acpi: rsdp {at + 0x200:#x} mcfg windows=0 error: "), \
        r.describe()
    assert "no ECAM window: nothing to walk" in r.lines, r.describe()
    assert walk_lines(r.lines) == [], r.describe()


def test_arm64_no_pci_node_and_no_uefi_says_so(tmp_path):
    import subprocess
    from dtbutil import dtb_ecam_windows
    dtb = arm64_dumpdtb(tmp_path)
    for w in dtb_ecam_windows(dtb):
        subprocess.run(["fdtput", "-r", dtb, w[0]], check=True)
    r = run_qemu(arm64_cmd(dtb=dtb))
    assert_clean_poweroff(r)
    assert "no pci-host-ecam-generic node and no UEFI system table" in r.lines, r.describe()
