# tests/qemu/acpiutil.py - aCPI tables an arm64 server's firmware would leave (EFI systab -> RSDP -> XSDT -> MCFG)
import os
import subprocess

from dtbutil import dtb_ecam_windows


def _acpi_sum_fix(b, at):
    """Set byte at so that the 8-bit sum of b is 0."""
    b[at] = 0
    b[at] = (-sum(b)) & 0xff
    return b


def _sdt(sig, body, revision=1):
    import struct
    b = bytearray(struct.pack("<4sIBB6s8sI4sI", sig, 36 + len(body), revision, 0,
                              b"PCSCTS", b"PCSCTEST", 1, b"PCSC", 1)) + body
    return _acpi_sum_fix(b, 9)


def efi_acpi_blob(base, windows):
    """What UEFI leaves an ACPI arm64 kernel, at physical base (4 KiB
    aligned): an EFI system table whose configuration table has the ACPI
    2.0 GUID -> RSDP -> XSDT -> MCFG with windows [(base, seg, bus_start,
    bus_end)]. Returns (bytes, systab address)."""
    import struct
    st_at, ct_at, rsdp_at, xsdt_at, mcfg_at = (base, base + 0x100, base + 0x200,
                                              base + 0x300, base + 0x400)
    st = bytearray(120)
    struct.pack_into("<QIII", st, 0, 0x5453595320494249, 0x20046, 120, 0)
    struct.pack_into("<QQ", st, 104, 1, ct_at)
    acpi20 = bytes([0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
                    0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81])
    ct = acpi20 + struct.pack("<Q", rsdp_at)
    rsdp = bytearray(struct.pack("<8sB6sBIIQB3s", b"RSD PTR ", 0, b"PCSCTS", 2, 0, 36,
                                 xsdt_at, 0, b"\0\0\0"))
    rsdp[8] = (-sum(rsdp[:20])) & 0xff
    rsdp[32] = (-sum(rsdp)) & 0xff
    xsdt = _sdt(b"XSDT", struct.pack("<Q", mcfg_at))
    mcfg = _sdt(b"MCFG", bytes(8) + b"".join(
        struct.pack("<QHBBI", b, seg, s, e, 0) for b, seg, s, e in windows))
    blob = bytearray(0x400 + len(mcfg))
    for at, part in ((st_at, st), (ct_at, ct), (rsdp_at, rsdp), (xsdt_at, xsdt),
                     (mcfg_at, mcfg)):
        blob[at - base:at - base + len(part)] = part
    return bytes(blob), st_at


def dtb_as_acpi(tmp_path, dtb, blob_at=0x7e000000):
    """Turn a QEMU virt DTB into what an ACPI arm64 kernel hands over: no
    PCI node, /chosen linux,uefi-system-table -> tables (built from the
    removed nodes' windows) placed at blob_at. Returns (dtb, blob file,
    blob_at, windows)."""
    wins = dtb_ecam_windows(dtb)
    assert wins, "no ECAM node to convert"
    blob, systab = efi_acpi_blob(blob_at, [w[1:] for w in wins])
    bf = os.path.join(str(tmp_path), "acpi.bin")
    with open(bf, "wb") as f:
        f.write(blob)
    for w in wins:
        subprocess.run(["fdtput", "-r", dtb, w[0]], check=True)
    subprocess.run(["fdtput", "-t", "x", dtb, "/chosen", "linux,uefi-system-table",
                    hex(systab >> 32), hex(systab & 0xffffffff)], check=True)
    return dtb, bf, blob_at, wins
