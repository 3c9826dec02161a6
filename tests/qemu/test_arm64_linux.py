# tests/qemu/test_arm64_linux.py - Debian's arm64 kernel wrapped with the stub
# boots to a busybox initramfs; its PCI list equals the stub's walk.
# Needs network once (apt-get download); never installs anything.
import os

from arm64util import ARM64_STUB, Arm64Machine, assert_clean_poweroff, wrap_arm64
from linuxguest import debian_arm64, linux_initramfs, linux_pci_list
from stubout import walk_lines
from topology import default_topology, topology_backends

LINUX_TIMEOUT = 110


def test_arm64_debian_kernel_after_stub_sees_what_the_stub_walked(tmp_path):
    image, busybox = debian_arm64()
    wrapped = wrap_arm64(ARM64_STUB, image, os.path.join(str(tmp_path), "stub+linux.Image"))
    initrd = linux_initramfs(tmp_path, busybox)
    # VFs off: Linux enables none by itself, so both sides see the same tree.
    m = Arm64Machine(tmp_path, default_topology(vfs=8), numvfs=0, stub=wrapped,
                     extra=topology_backends() + ["-initrd", initrd])
    r = m.boot(append="console=ttyAMA0 panic=-1 quiet", timeout=LINUX_TIMEOUT)
    assert not r.timed_out and r.rc == 0, r.describe()
    assert [l for l in r.lines if l.startswith("jump to ")], r.describe()
    assert "linux-pci: done" in r.out, r.describe()
    linux = sorted(linux_pci_list(r.out))
    stub = sorted((s, v, d) for s, v, d, _, _ in walk_lines(r.lines))
    assert linux and linux == stub, f"linux={linux}\nstub={stub}\n" + r.describe()
