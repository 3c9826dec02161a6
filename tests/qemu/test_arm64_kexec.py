# tests/qemu/test_arm64_kexec.py - issue 9 on arm64: Debian's kernel captures its config space, kexecs the wrapped
# stub + the same kernel, the stub verifies the capture (all VALID; a device_del'd device GONE), Debian boots again.
import pytest

from arm64util import arm64_cmd
from linuxguest import linux_pci_list
from stubout import report_lines, summary
from topology import topology_backends
from kexecutil import debian_kernel, first_initramfs, kernel_config, run_chain, show_entries, wrap

CMDLINE = "console=ttyAMA0 panic=-1 rdinit=/init pcsc.report=full"

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


@pytest.fixture(scope="module")
def debian():
    kernel, config, busybox = debian_kernel("arm64")
    return kernel, kernel_config(config), busybox


def test_arm64_debian_kernel_config(debian):
    # What the chain relies on, read from Debian's own config: no
    # kexec_file_load on arm64 (hence kexec_load + our purgatory), PCIe
    # native hotplug and the generic ECAM host built in (device_del needs
    # the guest to release the slot; no modules in the initramfs).
    _, cfg, _ = debian
    assert cfg.get("CONFIG_KEXEC") == "y"
    assert cfg.get("CONFIG_KEXEC_FILE") is None
    assert cfg.get("CONFIG_HOTPLUG_PCI_PCIE") == "y"
    assert cfg.get("CONFIG_PCI_HOST_GENERIC") == "y"
    assert cfg.get("CONFIG_SERIAL_AMBA_PL011_CONSOLE") == "y"


def chain(tmp_path, debian, unplug=None, **kw):
    kernel, _, busybox = debian
    image = wrap("arm64", kernel, str(tmp_path / "chain.Image"))
    initrd = first_initramfs(tmp_path, "arm64", busybox, image, CMDLINE, **kw)
    cmd = arm64_cmd(kernel=kernel, devices=TOPOLOGY,
                    extra=topology_backends() + ["-initrd", initrd, "-append", CMDLINE])
    return run_chain(cmd, tmp_path, unplug=unplug)


def check_second_boot(c):
    lines = c.lines
    assert any(l.startswith("next kernel at ") for l in lines), c.describe()
    assert any(l.startswith("jump to ") for l in lines), c.describe()
    assert "linux-pci: done" in c.out, c.describe()
    assert c.rc == 0, c.describe()


def test_arm64_kexec_chain_all_valid(tmp_path, debian):
    c = chain(tmp_path, debian)
    out, lines = c.out, c.lines
    # kexec_file_load is refused by this kernel: the exact failure, once.
    assert "pcsc-kexec: kexec_file_load: Function not implemented (errno 38)" in out, c.describe()
    assert "pcsc-kexec: kexec_load ok" in out, c.describe()
    captured = show_entries(out)
    assert len(captured) >= 6, c.describe()
    assert any(l.startswith("kho fdt 0x") for l in lines), c.describe()
    rep = report_lines(lines)
    assert rep == [(s, "VALID") for s in captured], c.describe()
    s = summary(lines)
    assert s and s["valid"] == len(captured) and s["new"] == 0, c.describe()
    assert s["handover"] == "ok", c.describe()
    check_second_boot(c)
    # The second kernel sees what the first saw (and the stub walked).
    seen = [sb for sb, _, _ in linux_pci_list(out)]
    assert set(captured) <= set(seen), c.describe()
    print(f"arm64 chain: ready after {c.ready_at:.1f}s, total {c.seconds:.1f}s")


def test_arm64_kexec_chain_device_del_gone(tmp_path, debian):
    c = chain(tmp_path, debian, unplug="hp0", try_file=False)
    out, lines = c.out, c.lines
    captured = show_entries(out)
    e1000e = [l.split()[2] for l in out.splitlines()
              if l.startswith("kexec-test: show 0") and " 8086:10d3 " in l]
    assert len(e1000e) == 1, c.describe()
    rep = dict(report_lines(lines))
    assert rep.pop(e1000e[0]) == "GONE", c.describe()
    assert any(l.startswith(f"{e1000e[0]} 8086:10d3 GONE absent") for l in lines), c.describe()
    assert rep == {s: "VALID" for s in captured if s != e1000e[0]}, c.describe()
    s = summary(lines)
    assert s["gone"] == 1 and s["valid"] == len(captured) - 1, c.describe()
    check_second_boot(c)
    assert e1000e[0] not in [sb for sb, _, _ in linux_pci_list(out)], c.describe()
    print(f"arm64 chain with device_del: total {c.seconds:.1f}s")
