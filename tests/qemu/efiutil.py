# tests/qemu/efiutil.py - helpers for the EFI app tests: an ESP directory,
# OVMF/AAVMF command lines, and a run with a hard timeout. Writes only under tmp dirs.
"""Run build/efi/pcsc-stub-{x64,aa64}.efi under QEMU firmware.

The app is installed as the removable-media default boot file
(\\EFI\\BOOT\\BOOTX64.EFI / BOOTAA64.EFI) on a FAT directory
(-drive file=fat:rw:DIR). The firmware's boot manager starts it directly:
no UEFI shell, so no startup.nsh 5 s countdown. Its arguments come from
\\pcsc-stub.args (the app reads that file when its LoadOptions name no
command), always with --shutdown so the app powers the VM off through
ResetSystem and QEMU exits by itself. shell_startup() instead writes a
startup.nsh for the shell route (5 s slower: the countdown).

Measured under TCG on this 2-core machine (idle): OVMF q35 reaches the app
and powers off in ~5 s, AAVMF virt in ~7 s, the shell route ~10 s.
TIMEOUT is ~6x that, for a loaded machine; a hang is a failure.
"""
import os
import re
import shutil
import subprocess

from qemurun import need, need_tool, O, run_qemu
from stubout import pcsc_lines

TIMEOUT = 60

EFI_APP = {"x64": os.path.join(O, "efi", "pcsc-stub-x64.efi"),
           "aa64": os.path.join(O, "efi", "pcsc-stub-aa64.efi")}
BOOT_NAME = {"x64": "BOOTX64.EFI", "aa64": "BOOTAA64.EFI"}
FIRMWARE = {"x64": ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
            "aa64": ("/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd")}

# Exit statuses the app prints as "efi exit 0x... NAME" (uefi/efi_app.h).
EFI_ERR = 0x8000000000000000
STATUS = {"success": 0, "usage": EFI_ERR | 2, "not-valid": EFI_ERR | 27, "rejected": EFI_ERR | 10,
          "no-ecam": EFI_ERR | 14, "io": EFI_ERR | 1, "no-memory": EFI_ERR | 9}

ANSI_RE = re.compile(r"\x1b(\[[0-9;?=]*[A-Za-z]|[()][0-9A-Za-z])")


def make_esp(tmp_path, arch, args=None, files=None):
    """A FAT directory with the app as default boot file, \\pcsc-stub.args
    (when args is given: a string) and extra files {name: bytes}."""
    esp = os.path.join(str(tmp_path), f"esp-{arch}")
    boot = os.path.join(esp, "EFI", "BOOT")
    os.makedirs(boot, exist_ok=True)
    shutil.copy(need(EFI_APP[arch]), os.path.join(boot, BOOT_NAME[arch]))
    if args is not None:
        with open(os.path.join(esp, "pcsc-stub.args"), "w") as f:
            f.write(args + "\n")
    for name, data in (files or {}).items():
        with open(os.path.join(esp, name), "wb") as f:
            f.write(data)
    return esp


def shell_startup(tmp_path, arch, command):
    """A FAT directory for the UEFI shell route: the app as \\pcsc-stub.efi
    (no default boot file, so the firmware falls back to its shell) and a
    startup.nsh running `command` from fs0:."""
    esp = os.path.join(str(tmp_path), f"esp-shell-{arch}")
    os.makedirs(esp, exist_ok=True)
    shutil.copy(need(EFI_APP[arch]), os.path.join(esp, "pcsc-stub.efi"))
    with open(os.path.join(esp, "startup.nsh"), "w") as f:
        f.write(f"fs0:\r\n\\pcsc-stub.efi {command}\r\n")
    return esp


def fat_image(esp, size_mb=32):
    """A real FAT image holding the ESP directory's files (mtools).

    QEMU's vvfat (fat:rw:DIR) loses writes: a 176 KiB file written by the
    app came back with everything past 124 KiB zeroed. Tests that read a
    file the app wrote use an image instead and copy files out with
    esp_get()."""
    img = esp.rstrip("/") + ".img"
    subprocess.run([need_tool("mkfs.vfat"), "-C", "-n", "PCSCESP", img, str(size_mb * 1024)],
                   check=True, capture_output=True)
    for root, dirs, files in os.walk(esp):
        rel = os.path.relpath(root, esp)
        for d in dirs:
            subprocess.run([need_tool("mmd"), "-i", img, "::" + os.path.join(rel, d).replace("./", "")],
                           check=True, capture_output=True)
        for f in files:
            dst = "::" + (f if rel == "." else os.path.join(rel, f))
            subprocess.run([need_tool("mcopy"), "-i", img, os.path.join(root, f), dst],
                           check=True, capture_output=True)
    return img


def esp_get(img, name, dest):
    """Copy \name out of a FAT image to dest; returns dest."""
    subprocess.run([need_tool("mcopy"), "-n", "-i", img, "::" + name, dest],
                   check=True, capture_output=True)
    return dest


def efi_cmd(tmp_path, arch, esp, devices=(), extra=(), mem=None):
    """QEMU command line: firmware in pflash (a private copy of the VARS
    store), the ESP (a directory through vvfat, or a .img FAT image),
    serial on stdio."""
    code, vars_src = FIRMWARE[arch]
    need(code)
    vars_copy = os.path.join(str(tmp_path), f"vars-{arch}.fd")
    shutil.copy(need(vars_src), vars_copy)
    src = esp if esp.endswith(".img") else f"fat:rw:{esp}"
    if arch == "x64":
        cmd = [need_tool("qemu-system-x86_64"), "-M", "q35", "-m", mem or "512M"]
        disk = ["-drive", f"file={src},format=raw"]
    else:
        cmd = [need_tool("qemu-system-aarch64"), "-M", "virt", "-cpu", "max",
               "-m", mem or "1G"]
        disk = ["-drive", f"file={src},format=raw,if=virtio"]
    cmd += ["-nographic", "-no-reboot", "-monitor", "none", "-serial", "stdio",
            "-net", "none",
            "-drive", f"if=pflash,format=raw,readonly=on,file={code}",
            "-drive", f"if=pflash,format=raw,file={vars_copy}"] + disk
    for d in devices:
        cmd += ["-device", d]
    return cmd + list(extra)


def run_efi(tmp_path, arch, args=None, devices=(), files=None, esp=None,
            timeout=TIMEOUT, image=False, **kw):
    """Boot the app with `args` (from \\pcsc-stub.args, --shutdown added)
    and return the QemuResult, its "pcsc:" lines parsed after removing the
    firmware's terminal escape sequences. image=True: the ESP is a FAT
    image (r.esp is its path; read files back with esp_get)."""
    if esp is None:
        esp = make_esp(tmp_path, arch, args=(args + " --shutdown") if args is not None
                       else None, files=files)
        if image:
            esp = fat_image(esp)
    r = run_qemu(efi_cmd(tmp_path, arch, esp, devices=devices, **kw), timeout=timeout)
    r.out = ANSI_RE.sub("", r.out)
    r.lines = pcsc_lines(r.out)
    r.esp = esp
    return r


def exit_status(r):
    """(status, name) from the app's last "efi exit 0x... NAME" line, or None."""
    for line in reversed(r.lines):
        m = re.match(r"^efi exit 0x([0-9a-f]+) (\S+)$", line)
        if m:
            return int(m.group(1), 16), m.group(2)
    return None


def assert_exit(r, name):
    """The app ended with status `name` and QEMU powered off by itself."""
    assert not r.timed_out, "QEMU hung (timeout)\n" + r.describe()
    assert exit_status(r) == (STATUS[name], name), r.describe()
    assert r.rc == 0, r.describe()
