# bench/qemu_bench.py - QEMU part of `make bench`: config accesses of the stub and of Debian's
# kernel on the same machine, counted by QEMU's own pci_cfg_read/pci_cfg_write trace events.
"""Counts what QEMU itself traces (hw/pci/pci_host.c: pci_cfg_read and
pci_cfg_write, hit by ECAM and 0xCF8 accesses alike). QEMU only traces
accesses that reach a present function: probes of empty slots (all ones)
are invisible for both sides, so the comparison is on present functions.
Wall times are under TCG (emulated), never native figures.
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "tests", "qemu"))
from arm64util import Arm64Machine, arm64_cmd, assert_clean_poweroff  # noqa: E402
from linuxguest import debian_arm64, linux_initramfs, linux_pci_list  # noqa: E402
from qemurun import run_qemu  # noqa: E402
from stubout import summary  # noqa: E402
from topology import default_topology, topology_backends  # noqa: E402

LINUX_TIMEOUT = 150
# Everything on the root bus: QEMU virt booted with -kernel has no firmware to
# number bridges, so a device behind a root port would be seen by Linux (which
# numbers buses itself) but not by the stub. Same functions on both sides.
ARM64_DEVICES = [
    "e1000e,addr=2.0,netdev=n0",
    "virtio-net-pci,addr=3.0,multifunction=on,netdev=n1",
    "virtio-net-pci,addr=3.1,netdev=n2",
    "virtio-blk-pci,addr=4.0,drive=d0",
    "nvme,serial=bench0,addr=5.0",
    "virtio-blk-pci,addr=6.0,drive=d1",
]


def count_trace(path):
    reads = writes = 0
    with open(path, errors="replace") as f:
        for line in f:
            if re.search(r"\bpci_cfg_read\b", line):
                reads += 1
            elif re.search(r"\bpci_cfg_write\b", line):
                writes += 1
    return reads, writes


def trace_args(path):
    return ["-trace", f"enable=pci_cfg_*,file={path}"]


def arm64(o, work):
    tmp = tempfile.mkdtemp(prefix="qemu-arm64-", dir=work)
    back = topology_backends()
    m = Arm64Machine(tmp, ARM64_DEVICES, extra=back, old_kernel=False)
    walk = m.walk()
    cache = m.gen(walk)
    st = os.path.join(tmp, "stub.trace")
    m.extra = back + trace_args(st)
    # The stub's own default console (the harness asks for full otherwise).
    r = m.boot(cache=cache, append="pcsc.report=summary")
    assert_clean_poweroff(r)
    summ = summary(r.lines) or {}
    s_reads, s_writes = count_trace(st)
    serial = len(r.out.encode())

    image, busybox = debian_arm64()
    initrd = linux_initramfs(tmp, busybox)
    lt = os.path.join(tmp, "linux.trace")
    cmd = arm64_cmd(kernel=image, devices=ARM64_DEVICES,
                      extra=back + ["-initrd", initrd, "-append",
                                    "console=ttyAMA0 panic=-1 quiet"] + trace_args(lt))
    lr = run_qemu(cmd, timeout=LINUX_TIMEOUT)
    if lr.timed_out or "linux-pci: done" not in lr.out:
        raise RuntimeError("Debian kernel did not list its PCI devices\n" + lr.describe()[-1500:])
    l_reads, l_writes = count_trace(lt)
    linux_funcs = len(linux_pci_list(lr.out))
    return {"arch": "arm64", "functions": len(walk), "linux_functions": linux_funcs,
            "kernel": os.path.basename(image), "stub_reads": s_reads,
            "stub_writes": s_writes, # the stub's own count (walk + verify) includes probes of empty
            # slots, which QEMU does not trace
            "stub_reads_counted": summ.get("cfg_reads"),
            "linux_reads": l_reads, "linux_writes": l_writes,
            "ratio": (l_reads + l_writes) / max(1, s_reads + s_writes),
            "stub_s": r.seconds, "linux_s": lr.seconds, "stub_serial_bytes": serial,
            "summary": summ}


def pci_events(path):
    """(pci_cfg lines in order, index of the first one after the first
    serial data-register write or None)."""
    ev, first = [], None
    with open(path, errors="replace") as f:
        for line in f:
            if first is None and re.search(r"\bserial_write write addr 0x00\b", line):
                first = len(ev)
            if re.search(r"\bpci_cfg_(read|write)\b", line):
                ev.append(line.strip())
    return ev, first


def rw(events):
    reads = sum(1 for e in events if e.startswith("pci_cfg_read"))
    return reads, len(events) - reads


def x86_trace_args(path):
    ev = path + ".events"
    with open(ev, "w") as f:
        f.write("pci_cfg_read\npci_cfg_write\nserial_write\n")
    return ["-trace", f"events={ev},file={path}"]


def x86_64(o, work):
    import x86util as x
    tmp = tempfile.mkdtemp(prefix="qemu-x86-", dir=work)
    back = topology_backends()
    devices = default_topology(vfs=8)
    m = x.X86Machine(tmp, devices, extra=back, old_kernel=False)
    walk = m.walk()
    cache = m.gen(walk)
    st = os.path.join(tmp, "stub.trace")
    m.extra = back + x86_trace_args(st)
    r = m.boot(cache=cache, append="pcsc.exit=debug pcsc.report=summary")
    x.assert_x86_exit(r)
    summ = summary(r.lines) or {}
    serial = len(r.out.encode())
    # x86: SeaBIOS enumerates (and writes) before any kernel runs. It only
    # touches COM1's control registers; the stub's first access of the data
    # register (its UART set-up) marks where the stub starts.
    s_ev, fw = pci_events(st)
    if fw is None:
        raise RuntimeError("no serial output from the stub in its trace")
    s_reads, s_writes = rw(s_ev[fw:])
    fw_r, fw_w = rw(s_ev[:fw])

    bz, busybox = x.debian_amd64()
    initrd = linux_initramfs(tmp, busybox)
    lt = os.path.join(tmp, "linux.trace")
    cmd = x.x86_cmd(kernel=bz, devices=devices, append="console=ttyS0 panic=-1",
                    extra=back + ["-initrd", initrd] + x86_trace_args(lt))
    lr = run_qemu(cmd, timeout=LINUX_TIMEOUT)
    if lr.timed_out or "linux-pci: done" not in lr.out:
        raise RuntimeError("Debian kernel did not list its PCI devices\n" + lr.describe()[-1500:])
    # The same firmware ran first (identical trace lines): the rest is
    # Linux's, including its early quirks before it prints anything.
    l_ev, _ = pci_events(lt)
    if l_ev[:fw] != s_ev[:fw]:
        raise RuntimeError("firmware part of the Linux trace differs from the stub's")
    l_reads, l_writes = rw(l_ev[fw:])
    return {"arch": "x86_64", "functions": len(walk),
            "linux_functions": len(linux_pci_list(lr.out)),
            "kernel": os.path.basename(bz), "stub_reads": s_reads, "stub_writes": s_writes,
            "stub_reads_counted": summ.get("cfg_reads"),
            "firmware_reads": fw_r, "firmware_writes": fw_w,
            "linux_reads": l_reads, "linux_writes": l_writes,
            "ratio": (l_reads + l_writes) / max(1, s_reads + s_writes),
            "stub_s": r.seconds, "linux_s": lr.seconds, "stub_serial_bytes": serial,
            "summary": summ}


def run_all(o, work):
    """arm64 then x86_64; a failure of one arch is reported, not hidden."""
    os.environ.setdefault("O", o)
    out = []
    for name, fn in (("arm64", arm64), ("x86_64", x86_64)):
        try:
            out.append(fn(o, work))
        except Exception as e:  # noqa: BLE001 - reported in the table
            out.append({"arch": name, "error": f"{type(e).__name__}: {str(e)[:300]}"})
    return out
