# tests/qemu/linuxguest.py - a real Linux as the next kernel: Debian's kernel and busybox, the listing initramfs
import os
import re
import shutil
import subprocess

from qemurun import O


DEBIAN_DIR = os.path.join(O, "qemu", "debian")


def debian_arm64():
    """Debian's arm64 kernel Image and busybox-static, fetched once with
    apt-get download (arch arm64) into $O/qemu/debian and unpacked.
    Returns (Image path, busybox path)."""
    import glob
    x = os.path.join(DEBIAN_DIR, "x")
    imgs = glob.glob(os.path.join(x, "boot", "vmlinuz-*-arm64"))
    bb = os.path.join(x, "bin", "busybox")
    if not imgs or not os.path.exists(bb):
        os.makedirs(DEBIAN_DIR, exist_ok=True)
        pol = subprocess.run(["apt-cache", "show", "linux-image-arm64:arm64"],
                             capture_output=True, text=True).stdout
        m = re.search(r"^Depends: (linux-image-[0-9][^ ,]*-arm64)", pol, re.M)
        assert m, "apt-cache: no linux-image-arm64:arm64 (dpkg --add-architecture arm64)"
        r = subprocess.run(["apt-get", "download", "-q", m.group(1) + ":arm64",
                            "busybox-static:arm64"], cwd=DEBIAN_DIR,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        for deb in glob.glob(os.path.join(DEBIAN_DIR, "*.deb")):
            subprocess.run(["dpkg-deb", "-x", deb, x], check=True)
        imgs = glob.glob(os.path.join(x, "boot", "vmlinuz-*-arm64"))
    img = sorted(imgs)[-1]
    with open(img, "rb") as f:
        head = f.read(64)
    if head[:2] == b"\x1f\x8b":          # gzip'd Image: decompress once
        import gzip
        raw = img + ".Image"
        if not os.path.exists(raw):
            with gzip.open(img) as g, open(raw, "wb") as o:
                shutil.copyfileobj(g, o)
        img = raw
    return img, bb


def newc_archive(entries):
    """A gzip'd newc cpio of entries: (path, mode, data bytes or None,
    rdev (major, minor) or None). Written here: no cpio/mknod/root needed."""
    import gzip
    out = bytearray()
    ino = 1
    for path, mode, data, rdev in list(entries) + [("TRAILER!!!", 0, b"", None)]:
        data = data or b""
        name = path.encode() + b"\0"
        maj, mnr = rdev or (0, 0)
        hdr = "070701" + "".join("%08x" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, maj, mnr, len(name), 0))
        out += hdr.encode() + name
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
        ino += 1
    return gzip.compress(bytes(out))


LINUX_INIT = b"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
# kernel messages (tsc calibration, ...) would land inside these lines
echo 1 > /proc/sys/kernel/printk
for d in /sys/bus/pci/devices/*; do
  echo "linux-pci: ${d##*/} $(/bin/busybox cat $d/vendor) $(/bin/busybox cat $d/device)"
done
echo "linux-pci: done"
/bin/busybox poweroff -f
"""


def linux_initramfs(tmp_path, busybox):
    """busybox-static initramfs whose /init lists /sys/bus/pci/devices/*
    ({vendor,device}) as 'linux-pci: SBDF 0xVVVV 0xDDDD' and powers off."""
    out = os.path.join(str(tmp_path), "initramfs.cpio.gz")
    with open(busybox, "rb") as f:
        bb = f.read()
    ents = [("dev", 0o040755, None, None), ("dev/console", 0o020600, None, (5, 1)),
            ("bin", 0o040755, None, None), ("bin/busybox", 0o100755, bb, None),
            ("proc", 0o040755, None, None), ("sys", 0o040755, None, None),
            ("init", 0o100755, LINUX_INIT, None)]
    with open(out, "wb") as f:
        f.write(newc_archive(ents))
    return out


def linux_pci_list(text):
    """'linux-pci:' lines -> [(sbdf, vendor, device)] in the walk's format.
    A kernel message may still be printed into a line after its last
    field; the fields themselves are whole or the line does not count."""
    out = []
    for line in text.replace("\r", "").splitlines():
        m = re.match(r"^linux-pci: ([0-9a-f:.]+) 0x([0-9a-f]{4}) 0x([0-9a-f]{4})(?![0-9a-f])",
                     line.strip())
        if m:
            out.append(m.groups())
    return out
