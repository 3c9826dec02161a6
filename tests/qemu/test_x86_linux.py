# tests/qemu/test_x86_linux.py - Debian's amd64 (cloud) kernel boots after the x86 stub, entered through its
# 64-bit entry with the boot_params the stub handed over; its PCI list equals the stub's walk. Never edits the build.
import os

import pytest

from linuxguest import linux_initramfs, linux_pci_list
from x86util import X86Machine, debian_amd64

KERNEL_AT = 0x2000000      # the bzImage, as the wrapped image would carry it
INITRD_AT = 0x10000000


@pytest.fixture(scope="module")
def linux(tmp_path_factory):
    return debian_amd64()


def boot_linux(m, tmp_path, kernel, busybox, cache=None):
    initrd = linux_initramfs(tmp_path, busybox)
    size = os.path.getsize(kernel)

    def hook(bp):
        bp.ramdisk = (INITRD_AT, os.path.getsize(initrd))
        bp.type_of_loader = 0xff          # "undefined" loader, as boot.rst allows

    return m.boot(cache=cache, timeout=150, bp_hook=hook,
                  cmdline="console=ttyS0 panic=-1 rdinit=/init",
                  loaders=[(kernel, KERNEL_AT), (initrd, INITRD_AT)],
                  append=f"pcsc.exit=debug pcsc.x86.next={KERNEL_AT:#x},{size:#x}")


def test_x86_debian_kernel_after_stub_sees_the_walk(tmp_path, linux):
    from topology import default_topology, topology_backends
    kernel, busybox = linux
    m = X86Machine(tmp_path, default_topology(vfs=8), extra=topology_backends(),
                   old_kernel=False)
    live = m.walk()
    cache = m.gen(live, name="linux")
    r = boot_linux(m, tmp_path, kernel, busybox, cache=cache)
    assert not r.timed_out, r.describe()
    summary = [l for l in r.lines if l.startswith("summary ")]
    assert summary and " handover=ok" in summary[0], r.describe()
    assert any(l.startswith("next kernel protocol 2.15 at ") for l in r.lines), r.describe()
    assert "linux-pci: done" in r.out, r.describe()
    seen = [(s, v, d) for s, v, d in linux_pci_list(r.out)]
    walked = [(s, v, d) for s, v, d, _, _ in live]
    assert seen == walked, r.describe()


def test_x86_wrapped_stub_entered_like_kexec_boots_debian(tmp_path, linux):
    # The whole kexec story on x86: one image (stub + embedded bzImage,
    # wrap_stub) entered at its 64-bit entry with rsi = boot_params (the PVH
    # copy plays kexec), then Debian's kernel entered the same way.
    from x86util import BootParams, run_x86, second_copy, wrap_stub, machine_e820
    kernel, busybox = linux
    wrapped = wrap_stub(tmp_path, kernel)
    at = 0x4000000
    initrd = linux_initramfs(tmp_path, busybox)
    bp = BootParams(0x800000, e820=machine_e820(),
                    cmdline="console=ttyS0 panic=-1 rdinit=/init pcsc.exit=debug "
                            "pcsc.report=full")
    bp.ramdisk = (INITRD_AT, os.path.getsize(initrd))
    bp.type_of_loader = 0xff
    r = run_x86(devices=[bp.loader(tmp_path), f"loader,file={wrapped},addr={at:#x},force-raw=on",
                         f"loader,file={initrd},addr={INITRD_AT:#x},force-raw=on"],
                append=f"pcsc.exit=debug pcsc.boot_params=0x800000 "
                       f"pcsc.x86.selftest=chain64@{at:#x}", timeout=150)
    assert not r.timed_out, r.describe()
    second = second_copy(r, at)
    assert second[0].startswith(f"x86_64 entry 64bit image {at:#x}-"), r.describe()
    assert any(l.startswith("next kernel bzImage at ") for l in second), r.describe()
    assert any(l.startswith("next kernel protocol 2.15 at ") for l in second), r.describe()
    assert "linux-pci: done" in r.out, r.describe()
    walk = [l.split()[1] for l in second if l.startswith("walk 0000:")]
    assert len(walk) >= 5, r.describe()
    assert [s for s, _, _ in linux_pci_list(r.out)] == walk, r.describe()


def test_x86_kexec_from_debian_into_wrapped_stub_then_debian(tmp_path, linux):
    # The real thing: Debian's kernel (the old kernel) kexecs a bzImage made
    # of the stub and Debian's kernel; kexec's purgatory enters the stub's
    # 64-bit entry with rsi = boot_params; the stub walks, then enters the
    # embedded kernel, whose PCI list equals the stub's walk.
    from topology import default_topology, topology_backends
    from x86util import kexec_initramfs, pcsctool_wrap_x86, run_x86
    kernel, busybox = linux
    image = pcsctool_wrap_x86(tmp_path, kernel)
    stage2 = linux_initramfs(tmp_path, busybox)
    initrd = kexec_initramfs(tmp_path, busybox, image, stage2,
                             "console=ttyS0 panic=-1 rdinit=/init pcsc.exit=debug "
                             "pcsc.report=full")
    r = run_x86(devices=default_topology(vfs=8), extra=topology_backends() + ["-initrd", initrd],
                kernel=kernel, append="console=ttyS0 panic=-1 rdinit=/init", timeout=170)
    assert not r.timed_out, r.describe()
    assert "old-kernel: kexec -e" in r.out, r.describe()
    assert r.lines[0].startswith("x86_64 entry 64bit image "), r.describe()
    assert any(l.startswith("next kernel bzImage at ") for l in r.lines), r.describe()
    assert any(l.startswith("next kernel protocol 2.15 at ") for l in r.lines), r.describe()
    walk = [tuple(l.split()[1:3]) for l in r.lines if l.startswith("walk 0000:")]
    assert len(walk) == 20, r.describe()
    assert "linux-pci: done" in r.out, r.describe()
    seen = [(s, f"{v}:{d}") for s, v, d in linux_pci_list(r.out)]
    assert seen == walk, r.describe()
