# tests/qemu/test_x86_kexec.py - issue 9 on x86_64: Debian's cloud kernel captures its config space, kexecs the wrapped
# stub + the same kernel, the stub verifies the capture (all VALID; a device_del'd device GONE), Debian boots again.
import pytest

from linuxguest import linux_pci_list
from stubout import report_lines, summary
from topology import topology_backends
from kexecutil import debian_kernel, first_initramfs, kernel_config, run_chain, show_entries, wrap
from x86util import x86_cmd

CMDLINE = "console=ttyS0 panic=-1 rdinit=/init pcsc.report=full"
# q35 RAM starts at 0; the capture goes at RAM + 512 MiB, clear of the chain.
CAPTURE = "--base 0 --ram-size 0x40000000"

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
    kernel, config, busybox = debian_kernel("x86_64")
    return kernel, kernel_config(config), busybox


def test_x86_debian_kernel_config(debian):
    # kexec_file_load exists here (signature checked only when forced or
    # under lockdown), PCIe native hotplug is built in.
    _, cfg, _ = debian
    assert cfg.get("CONFIG_KEXEC") == "y"
    assert cfg.get("CONFIG_KEXEC_FILE") == "y"
    assert cfg.get("CONFIG_KEXEC_SIG_FORCE") is None
    assert cfg.get("CONFIG_HOTPLUG_PCI_PCIE") == "y"
    assert cfg.get("CONFIG_FIRMWARE_MEMMAP") == "y"


def chain(tmp_path, debian, unplug=None, **kw):
    kernel, _, busybox = debian
    image = wrap("x86_64", kernel, str(tmp_path / "chain.bzImage"))
    initrd = first_initramfs(tmp_path, "x86_64", busybox, image, CMDLINE,
                             capture_args=CAPTURE, **kw)
    cmd = x86_cmd(kernel=kernel, devices=TOPOLOGY, append=CMDLINE,
                  extra=topology_backends() + ["-initrd", initrd])
    return run_chain(cmd, tmp_path, unplug=unplug)


def check_second_boot(c):
    lines = c.lines
    assert any(l.startswith("x86_64 entry 64bit image ") for l in lines), c.describe()
    assert any(l.startswith("next kernel protocol ") for l in lines), c.describe()
    assert "linux-pci: done" in c.out, c.describe()
    assert c.rc == 0, c.describe()


def test_x86_kexec_chain_all_valid(tmp_path, debian):
    c = chain(tmp_path, debian)
    out, lines = c.out, c.lines
    assert "pcsc-kexec: kexec_file_load ok" in out, c.describe()
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
    seen = [sb for sb, _, _ in linux_pci_list(out)]
    assert set(captured) <= set(seen), c.describe()
    print(f"x86 chain: ready after {c.ready_at:.1f}s, total {c.seconds:.1f}s")


def test_x86_kexec_chain_device_del_gone(tmp_path, debian):
    # Executed with Debian's own `kexec -e` (docs/kexec.md's command).
    c = chain(tmp_path, debian, unplug="hp0", try_file=False, kexec_e=True)
    out, lines = c.out, c.lines
    captured = show_entries(out)
    e1000e = [l.split()[2] for l in out.splitlines()
              if l.startswith("kexec-test: show 0") and " 8086:10d3 " in l]
    assert len(e1000e) == 1, c.describe()
    assert "pcsc-kexec: reboot(" not in out, c.describe()
    rep = dict(report_lines(lines))
    assert rep.pop(e1000e[0]) == "GONE", c.describe()
    assert any(l.startswith(f"{e1000e[0]} 8086:10d3 GONE absent") for l in lines), c.describe()
    assert rep == {s: "VALID" for s in captured if s != e1000e[0]}, c.describe()
    s = summary(lines)
    assert s["gone"] == 1 and s["valid"] == len(captured) - 1, c.describe()
    check_second_boot(c)
    assert e1000e[0] not in [sb for sb, _, _ in linux_pci_list(out)], c.describe()
    print(f"x86 chain with device_del: total {c.seconds:.1f}s")


def test_x86_kexec_file_load_chain_without_cache(tmp_path, debian):
    # kexec_file_load(2) alone: the kernel builds boot_params, with no
    # SETUP_KEXEC_KHO (6.1 has no KHO), so the stub finds no cache, lists
    # the live functions and still boots Debian.
    c = chain(tmp_path, debian, try_file=False, file_only=True)
    out, lines = c.out, c.lines
    assert "pcsc-kexec: kexec_file_load ok" in out, c.describe()
    assert "no KHO FDT" in lines, c.describe()
    walk = [l.split()[1] for l in lines if l.startswith("walk 0000:")]
    assert set(show_entries(out)) <= set(walk), c.describe()
    check_second_boot(c)
    assert [sb for sb, _, _ in linux_pci_list(out)] == walk, c.describe()
    print(f"x86 kexec_file_load chain: total {c.seconds:.1f}s")


def test_x86_pcsc_kexec_refuses_bad_layouts(tmp_path, debian):
    # On the host (x86_64, no syscall reached): a capture laid out where the
    # image goes is refused with both ranges named; a file that is not a
    # bzImage is refused before any segment.
    import os
    import subprocess
    from qemurun import need, O
    from kexecutil import kexec_tools
    kernel, _, _ = debian
    loader, _ = kexec_tools("x86_64")
    image = wrap("x86_64", kernel, str(tmp_path / "chain.bzImage"))
    cap = str(tmp_path / "cap")
    r = subprocess.run([need(os.path.join(O, "host", "pcsctool")), "gen",
                        "tests/fixtures/topo/default.topo", "--out", cap, "--base", "0",
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
