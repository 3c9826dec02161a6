# tests/qemu/test_kexec.py - issue 9 on arm64 and x86_64, one module parametrised by arch: Debian's kernel captures its
# config space, kexecs the wrapped stub + the same kernel, the stub verifies the capture (all VALID; a device_del'd
# device GONE), Debian boots again.
"""The real kexec chain (kexecutil.py) on both arches.

An adapter per arch (Debian) names what differs: the console, the wrapped
image, where the capture goes, the machine's command line, what Debian's
config must say, what kexec_file_load(2) answers, how the stub's second
boot shows. Tests one arch has alone (x86_64: kexec_file_load without a
cache, pcsc-kexec's own refusals) run with that arch as the only param
(`on`).
"""
import pytest

from kexecutil import debian_kernel, first_initramfs, kernel_config, run_chain, show_entries, wrap
from linuxguest import linux_pci_list
from qemurun import arches, only
from stubout import report_lines, summary
from topology import topology_backends

# Root ports (one holding the device the GONE test unplugs), an x3130 switch,
# a multi-function device on the root bus: hot-pluggable slots need a port.
TOPOLOGY = [
    "pcie-root-port,id=rp1,chassis=1,slot=1",
    "e1000e,id=hp0,bus=rp1,netdev=n0",
    "pcie-root-port,id=rp2,chassis=2,slot=2",
    "virtio-net-pci,bus=rp2,netdev=n1",
    "pcie-root-port,id=rp3,chassis=3,slot=3",
    "x3130-upstream,id=up0,bus=rp3",
    "xio3130-downstream,id=dn1,bus=up0,chassis=11,slot=0",
    "virtio-blk-pci,bus=dn1,drive=d0",
    "virtio-net-pci,addr=6.0,multifunction=on,netdev=n4",
    "virtio-blk-pci,addr=6.1,drive=d1",
]

ADAPTERS = {
    "arm64": dict(
        name="arm64", console="ttyAMA0", image="chain.Image", capture="",
        # no kexec_file_load on arm64 (hence kexec_load + our purgatory),
        # PCIe native hotplug and the generic ECAM host built in (device_del
        # needs the guest to release the slot; no modules in the initramfs)
        config={"CONFIG_KEXEC": "y", "CONFIG_KEXEC_FILE": None,
                "CONFIG_HOTPLUG_PCI_PCIE": "y", "CONFIG_PCI_HOST_GENERIC": "y",
                "CONFIG_SERIAL_AMBA_PL011_CONSOLE": "y"},
        # kexec_file_load is refused by this kernel: the exact failure, once
        file_load="pcsc-kexec: kexec_file_load: Function not implemented (errno 38)",
        kexec_e=False,                   # Debian's kexec is an x86_64 host binary
        second_boot=("next kernel at ", "jump to ")),
    "x86_64": dict(
        name="x86", console="ttyS0", image="chain.bzImage",
        # q35 RAM starts at 0; the capture goes at RAM + 512 MiB, clear of the chain
        capture="--base 0 --ram-size 0x40000000",
        # kexec_file_load exists here (signature checked only when forced or
        # under lockdown), PCIe native hotplug is built in
        config={"CONFIG_KEXEC": "y", "CONFIG_KEXEC_FILE": "y", "CONFIG_KEXEC_SIG_FORCE": None,
                "CONFIG_HOTPLUG_PCI_PCIE": "y", "CONFIG_FIRMWARE_MEMMAP": "y"},
        file_load="pcsc-kexec: kexec_file_load ok",
        # the GONE chain runs Debian's own `kexec -e` (docs/kexec.md's command)
        kexec_e=True,
        second_boot=("x86_64 entry 64bit image ", "next kernel protocol ")),
}


class Debian:
    """Debian's kernel, config and busybox for one arch, and its chain."""

    def __init__(self, arch):
        self.arch = arch
        self.__dict__.update(ADAPTERS[arch])
        self.cmdline = f"console={self.console} panic=-1 rdinit=/init pcsc.report=full"
        self.kernel, config, self.busybox = debian_kernel(arch)
        self.cfg = kernel_config(config)

    def qemu_cmd(self, initrd):
        """The first kernel's machine: TOPOLOGY, the initramfs, the command line."""
        extra = topology_backends() + ["-initrd", initrd]
        if self.arch == "arm64":
            from arm64util import arm64_cmd
            return arm64_cmd(kernel=self.kernel, devices=TOPOLOGY,
                             extra=extra + ["-append", self.cmdline])
        from x86util import x86_cmd
        return x86_cmd(kernel=self.kernel, devices=TOPOLOGY, append=self.cmdline, extra=extra)

    def chain(self, tmp_path, unplug=None, **kw):
        image = wrap(self.arch, self.kernel, str(tmp_path / self.image))
        initrd = first_initramfs(tmp_path, self.arch, self.busybox, image, self.cmdline,
                                 capture_args=self.capture, **kw)
        return run_chain(self.qemu_cmd(initrd), tmp_path, unplug=unplug)

    def check_second_boot(self, c):
        lines = c.lines
        for first in self.second_boot:
            assert any(l.startswith(first) for l in lines), c.describe()
        assert "linux-pci: done" in c.out, c.describe()
        assert c.rc == 0, c.describe()


@pytest.fixture(scope="module", params=arches())
def debian(request):
    return Debian(request.param)


def on(*names):
    """A test the arches named have alone: debian parametrised by them."""
    return pytest.mark.parametrize("debian", only(*names), indirect=True)


def test_debian_kernel_config(debian):
    # What the chain relies on, read from Debian's own config (per arch).
    for k, v in debian.config.items():
        assert debian.cfg.get(k) == v, (debian.arch, k, debian.cfg.get(k))


def test_kexec_chain_all_valid(tmp_path, debian):
    c = debian.chain(tmp_path)
    out, lines = c.out, c.lines
    assert debian.file_load in out, c.describe()
    assert "pcsc-kexec: kexec_load ok" in out, c.describe()
    captured = show_entries(out)
    assert len(captured) >= 6, c.describe()
    assert any(l.startswith("kho fdt 0x") for l in lines), c.describe()
    rep = report_lines(lines)
    assert rep == [(s, "VALID") for s in captured], c.describe()
    s = summary(lines)
    assert s and s["valid"] == len(captured) and s["new"] == 0, c.describe()
    assert s["handover"] == "ok", c.describe()
    debian.check_second_boot(c)
    # The second kernel sees what the first saw (and the stub walked).
    seen = [sb for sb, _, _ in linux_pci_list(out)]
    assert set(captured) <= set(seen), c.describe()
    print(f"{debian.name} chain: ready after {c.ready_at:.1f}s, total {c.seconds:.1f}s")


def test_kexec_chain_device_del_gone(tmp_path, debian):
    c = debian.chain(tmp_path, unplug="hp0", try_file=False, kexec_e=debian.kexec_e)
    out, lines = c.out, c.lines
    captured = show_entries(out)
    e1000e = [l.split()[2] for l in out.splitlines()
              if l.startswith("kexec-test: show 0") and " 8086:10d3 " in l]
    assert len(e1000e) == 1, c.describe()
    if debian.kexec_e:
        assert "pcsc-kexec: reboot(" not in out, c.describe()
    rep = dict(report_lines(lines))
    assert rep.pop(e1000e[0]) == "GONE", c.describe()
    assert any(l.startswith(f"{e1000e[0]} 8086:10d3 GONE absent") for l in lines), c.describe()
    assert rep == {s: "VALID" for s in captured if s != e1000e[0]}, c.describe()
    s = summary(lines)
    assert s["gone"] == 1 and s["valid"] == len(captured) - 1, c.describe()
    debian.check_second_boot(c)
    assert e1000e[0] not in [sb for sb, _, _ in linux_pci_list(out)], c.describe()
    print(f"{debian.name} chain with device_del: total {c.seconds:.1f}s")


@on("x86_64")
def test_kexec_file_load_chain_without_cache(tmp_path, debian):
    # kexec_file_load(2) alone: the kernel builds boot_params, with no
    # SETUP_KEXEC_KHO (6.1 has no KHO), so the stub finds no cache, lists
    # the live functions and still boots Debian.
    c = debian.chain(tmp_path, try_file=False, file_only=True)
    out, lines = c.out, c.lines
    assert "pcsc-kexec: kexec_file_load ok" in out, c.describe()
    assert "no KHO FDT" in lines, c.describe()
    walk = [l.split()[1] for l in lines if l.startswith("walk 0000:")]
    assert set(show_entries(out)) <= set(walk), c.describe()
    debian.check_second_boot(c)
    assert [sb for sb, _, _ in linux_pci_list(out)] == walk, c.describe()
    print(f"x86 kexec_file_load chain: total {c.seconds:.1f}s")


@on("x86_64")
def test_pcsc_kexec_refuses_bad_layouts(tmp_path, debian):
    # On the host (x86_64, no syscall reached): a capture laid out where the
    # image goes is refused with both ranges named; a file that is not a
    # bzImage is refused before any segment.
    import os
    import subprocess
    from qemurun import need, O, TOP
    from kexecutil import kexec_tools
    loader, _ = kexec_tools("x86_64")
    image = wrap("x86_64", debian.kernel, str(tmp_path / "chain.bzImage"))
    cap = str(tmp_path / "cap")
    r = subprocess.run([need(os.path.join(O, "host", "pcsctool")), "gen",
                        os.path.join(TOP, "tests/fixtures/topo/default.topo"), "--out", cap, "--base", "0",
                        "--at", "0x1000000"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([loader, "load", image, "--cache", cap], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout
    lines = r.stdout.splitlines()
    assert lines[0] == "pcsc-kexec: segment cache 0x1000000-0x101a000", r.stdout
    assert lines[-2].startswith("pcsc-kexec: image 0x1000000+0x"), r.stdout
    assert lines[-2].endswith(" overlaps segment 0"), r.stdout
    assert lines[-1] == "pcsc-kexec: layout overlap", r.stdout
    r = subprocess.run([loader, "load", cap + "/manifest"], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (1, "pcsc-kexec: image: not a bzImage\n")
    r = subprocess.run([loader, "load"], capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout.startswith("pcsc-kexec: usage: "), r.stdout
