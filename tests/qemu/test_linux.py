# tests/qemu/test_linux.py - Debian's kernel boots after the stub on both arches (arm64: wrapped with the stub,
# to a busybox initramfs; x86: the cloud bzImage entered through its 64-bit entry with the boot_params the
# stub handed over, also as a wrapped image and through a real kexec); its PCI list equals the stub's walk.
# One module parametrised by arch (issue 14). Needs network once (apt-get download); never edits the build.
"""A real Linux as the next kernel, one module parametrised by arch.

arm64: the stub wrapped with Debian's Image (wrap_arm64), entered by the
  old-kernel payload (VFs off: Linux enables none by itself), no cache.
x86: the stub alone (PVH) with a cache, told where the bzImage is
  (pcsc.x86.next) and handing over boot_params with the initrd.
Both: the initramfs (linuxguest) lists /sys/bus/pci/devices as
'linux-pci:' lines; they equal what the stub walked. Tests that exist on
one arch only are parametrised with that arch alone (only()).
"""
import functools
import os

import pytest

from linuxguest import linux_initramfs, linux_pci_list
from qemurun import arches, only
from topology import default_topology, topology_backends

ARM64_LINUX_TIMEOUT = 110
KERNEL_AT = 0x2000000      # x86: the bzImage, as the wrapped image would carry it
INITRD_AT = 0x10000000     # x86: the initrd



@functools.lru_cache(maxsize=None)
def debian(arch):
    """(kernel, busybox) of Debian for arch, fetched once into $O/qemu."""
    if arch == "arm64":
        from linuxguest import debian_arm64
        return debian_arm64()
    from x86util import debian_amd64
    return debian_amd64()


# -- the per-arch adapter: the stub, then Debian ------------------------------

def arm64_stub_then_debian(tmp_path):
    """(result, the walk to compare with: the stub's own walk lines of that
    boot); asserts arm64's clean end (PSCI off from Linux) and the jump."""
    from arm64util import ARM64_STUB, Arm64Machine, wrap_arm64
    from stubout import walk_lines
    image, busybox = debian("arm64")
    wrapped = wrap_arm64(ARM64_STUB, image, os.path.join(str(tmp_path), "stub+linux.Image"))
    initrd = linux_initramfs(tmp_path, busybox)
    # VFs off: Linux enables none by itself, so both sides see the same tree.
    m = Arm64Machine(tmp_path, default_topology(vfs=8), numvfs=0, stub=wrapped,
                     extra=topology_backends() + ["-initrd", initrd])
    r = m.boot(append="console=ttyAMA0 panic=-1 quiet", timeout=ARM64_LINUX_TIMEOUT)
    assert not r.timed_out and r.rc == 0, r.describe()
    assert [l for l in r.lines if l.startswith("jump to ")], r.describe()
    return r, [(s, v, d) for s, v, d, _, _ in walk_lines(r.lines)]


def x86_boot_linux(m, tmp_path, kernel, busybox, cache=None):
    initrd = linux_initramfs(tmp_path, busybox)
    size = os.path.getsize(kernel)

    def hook(bp):
        bp.ramdisk = (INITRD_AT, os.path.getsize(initrd))
        bp.type_of_loader = 0xff          # "undefined" loader, as boot.rst allows

    return m.boot(cache=cache, timeout=150, bp_hook=hook,
                  cmdline="console=ttyS0 panic=-1 rdinit=/init",
                  loaders=[(kernel, KERNEL_AT), (initrd, INITRD_AT)],
                  append=f"pcsc.exit=debug pcsc.x86.next={KERNEL_AT:#x},{size:#x}")


def x86_stub_then_debian(tmp_path):
    """(result, the walk to compare with: the live walk of a cache-less
    boot); asserts x86's handover and the bzImage protocol it found."""
    from x86util import X86Machine
    kernel, busybox = debian("x86_64")
    m = X86Machine(tmp_path, default_topology(vfs=8), extra=topology_backends(),
                   old_kernel=False)
    live = m.walk()
    cache = m.gen(live, name="linux")
    r = x86_boot_linux(m, tmp_path, kernel, busybox, cache=cache)
    assert not r.timed_out, r.describe()
    summary = [l for l in r.lines if l.startswith("summary ")]
    assert summary and " handover=ok" in summary[0], r.describe()
    assert any(l.startswith("next kernel protocol 2.15 at ") for l in r.lines), r.describe()
    return r, [(s, v, d) for s, v, d, _, _ in live]


@pytest.mark.parametrize("arch", arches())
def test_debian_kernel_after_stub_sees_what_the_stub_walked(arch, tmp_path):
    if arch == "arm64":
        r, walked = arm64_stub_then_debian(tmp_path)
    else:
        r, walked = x86_stub_then_debian(tmp_path)
    assert not r.timed_out, r.describe()
    assert "linux-pci: done" in r.out, r.describe()
    seen = linux_pci_list(r.out)
    assert seen and sorted(seen) == sorted(walked), \
        f"linux={sorted(seen)}\nstub={sorted(walked)}\n" + r.describe()
    if arch == "x86_64":
        assert seen == walked, r.describe()        # in the walk's order too


@pytest.mark.parametrize("arch", only("x86_64"))
def test_wrapped_stub_entered_like_kexec_boots_debian(arch, tmp_path):
    # The whole kexec story on x86: one image (stub + embedded bzImage,
    # wrap_stub) entered at its 64-bit entry with rsi = boot_params (the PVH
    # copy plays kexec), then Debian's kernel entered the same way.
    from x86util import BootParams, run_x86, second_copy, wrap_stub, machine_e820
    kernel, busybox = debian(arch)
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


@pytest.mark.parametrize("arch", only("x86_64"))
def test_kexec_from_debian_into_wrapped_stub_then_debian(arch, tmp_path):
    # The real thing: Debian's kernel (the old kernel) kexecs a bzImage made
    # of the stub and Debian's kernel; kexec's purgatory enters the stub's
    # 64-bit entry with rsi = boot_params; the stub walks, then enters the
    # embedded kernel, whose PCI list equals the stub's walk.
    from kexecutil import kexec_initramfs, wrap
    from x86util import run_x86
    kernel, busybox = debian(arch)
    image = wrap(arch, kernel, os.path.join(str(tmp_path), "pcsctool-wrapped.bzImage"))
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
