# tests/qemu/arm64util.py - arm64 QEMU virt machines: command lines, the old-kernel payload, wrapped Images
import os
import shutil
import subprocess

from cacheutil import pcsctool_gen
from dtbutil import dtb_add_kho, dtb_cells, fdtget, psci_conduit
from qemurun import DEFAULT_TIMEOUT, need, need_tool, O, run_qemu, TOP
from stubout import REPORT_FULL, walk_lines, with_report
from topology import walk_to_topo


ARM64_STUB = os.path.join(O, "arm64", "pcsc-stub.bin")


def arm64_cmd(kernel=None, devices=(), dtb=None, extra=(), mem="1G", machine="virt"):
    """qemu-system-aarch64 -M virt -cpu max command line for kernel (the
    stub by default) with extra -device arguments (strings); /chosen/bootargs
    (-append) always carries pcsc.report=full (with_report)."""
    cmd = [need_tool("qemu-system-aarch64"), "-M", machine, "-cpu", "max",
           "-m", mem, "-display", "none", "-no-reboot", "-monitor", "none",
           "-serial", "stdio", "-nic", "none", "-kernel", kernel or need(ARM64_STUB)]
    if dtb:
        cmd += ["-dtb", dtb]
    for d in devices:
        cmd += ["-device", d]
    extra = list(extra)
    if "-append" in extra:
        i = extra.index("-append") + 1
        extra[i] = with_report(extra[i])
    elif "dumpdtb=" not in machine:
        extra += ["-append", REPORT_FULL]
    cmd += extra
    return cmd


def arm64_dumpdtb(tmp_path, devices=(), mem="1G", machine="virt", name="virt.dtb",
                  extra=()):
    """The DTB QEMU would give this machine (-machine dumpdtb=...)."""
    out = os.path.join(str(tmp_path), name)
    cmd = arm64_cmd(devices=devices, mem=mem, extra=extra,
                    machine=f"{machine},dumpdtb={out}")
    r = run_qemu(cmd, timeout=30)
    assert os.path.exists(out), r.describe()
    # dumpdtb pads the blob to 1 MiB and -dtb then doubles it past the
    # 2 MiB booting.rst allows (Linux halts: "Invalid device tree blob").
    # Repack it to its real size, as a bootloader's DTB would be.
    subprocess.run([need_tool("dtc"), "-q", "-I", "dtb", "-O", "dtb", "-o", out, out],
                   check=True)
    return out


def run_arm64(devices=(), timeout=DEFAULT_TIMEOUT, **kw):
    return run_qemu(arm64_cmd(devices=devices, **kw), timeout=timeout)


def assert_clean_poweroff(r):
    """The stub reached its end: last pcsc line 'poweroff 0', QEMU exited by
    itself with status 0 (PSCI SYSTEM_OFF), no exception reported."""
    assert not r.timed_out, "QEMU hung (timeout)\n" + r.describe()
    assert r.rc == 0, r.describe()
    assert not [l for l in r.lines if l.startswith("exception")], r.describe()
    assert r.lines and r.lines[-1] == "poweroff 0", r.describe()


PAYLOAD_DIR = os.path.join(TOP, "tests", "qemu", "payload")
PAYLOAD_PARAMS_OFF = 0x40
PAYLOAD_MAGIC = b"PCSCTPAY"


def build_payload():
    """Build the old-kernel test payload into $O/qemu/ (test-only code, so it
    is built here rather than by the Makefile). Returns the .bin path."""
    outdir = os.path.join(O, "qemu")
    os.makedirs(outdir, exist_ok=True)
    elf = os.path.join(outdir, "payload.elf")
    bin_ = os.path.join(outdir, "payload.bin")
    srcs = [os.path.join(PAYLOAD_DIR, n) for n in ("start.S", "payload.c")]
    lds = os.path.join(PAYLOAD_DIR, "payload.lds")
    newest = max(os.path.getmtime(p) for p in srcs + [lds, __file__])
    if os.path.exists(bin_) and os.path.getmtime(bin_) >= newest:
        return bin_
    cc = os.environ.get("CROSS_COMPILE", "aarch64-linux-gnu-")
    # Build under unique names, then rename: concurrent test runs share $O.
    final, elf, bin_ = bin_, f"{elf}.{os.getpid()}", f"{bin_}.{os.getpid()}"
    # -mcmodel=tiny and no PIE: every reference is PC-relative, so the
    # payload runs wherever QEMU loads it with no relocation at all.
    subprocess.run([cc + "gcc", "-O2", "-ffreestanding", "-fno-builtin", "-nostdlib",
                    "-mstrict-align", "-mgeneral-regs-only", "-fno-pic", "-fno-pie",
                    "-mcmodel=tiny", "-fno-stack-protector", "-Wall", "-Wextra", "-Werror",
                    "-static", "-no-pie", "-Wl,-T," + lds, "-Wl,--build-id=none",
                    "-Wl,--no-warn-rwx-segments"] + srcs + ["-o", elf], check=True)
    subprocess.run([cc + "objcopy", "-O", "binary", elf, bin_], check=True)
    os.replace(bin_, final)
    os.unlink(elf)
    return final


def payload_image(tmp_path, ecam, uart, next_addr, numvfs=0, number_buses=True,
                  name="payload.bin", psci=0, set_e2h=False):
    """A copy of the payload with its parameter block filled in. next_addr
    0 makes it a "next kernel" that reports how it was entered and powers
    off through psci (1 hvc, 2 smc)."""
    import struct
    b = bytearray(open(build_payload(), "rb").read())
    assert b[PAYLOAD_PARAMS_OFF:PAYLOAD_PARAMS_OFF + 8] == PAYLOAD_MAGIC
    vfs = 0xffffffffffffffff if numvfs == "all" else numvfs
    b[PAYLOAD_PARAMS_OFF + 8:PAYLOAD_PARAMS_OFF + 64] = struct.pack(
        "<7Q", ecam, uart, next_addr, vfs, 1 if number_buses else 0, psci,
        1 if set_e2h else 0)
    out = os.path.join(str(tmp_path), name)
    with open(out, "wb") as f:
        f.write(b)
    return out


def arm64_machine_facts(tmp_path, devices=(), mem="1G", machine="virt", extra=()):
    """ECAM base and console UART of this machine, read from its own DTB
    (never typed in): {'dtb', 'ecam', 'uart'}."""
    dtb = arm64_dumpdtb(tmp_path, devices=devices, mem=mem, machine=machine, extra=extra)
    r = subprocess.run([need_tool("fdtget"), "-t", "s", dtb, "/chosen", "stdout-path"],
                       capture_output=True, text=True)
    uart_path = r.stdout.strip().split(":")[0]
    reg = dtb_cells(dtb, uart_path, "reg")
    uart = (reg[0] << 32) | reg[1]
    ecam = None
    out = subprocess.run(["fdtget", "-l", dtb, "/"], capture_output=True, text=True).stdout
    for node in out.split():
        compat = fdtget(dtb, "/" + node, "compatible", "s") or ""
        if "pci-host-ecam-generic" in compat:
            reg = dtb_cells(dtb, "/" + node, "reg")
            ecam = (reg[0] << 32) | reg[1]
            break
    return {"dtb": dtb, "ecam": ecam, "uart": uart}


# 2 MiB aligned, above where QEMU puts the payload (RAM + 2 MiB) and the
# DTB (RAM + 128 MiB) on a 1 GiB virt machine.
ARM64_STUB_ADDR = 0x50000000


def run_arm64_as_old_kernel(tmp_path, devices, numvfs="all", number_buses=True,
                            dtb=None, extra=(), timeout=DEFAULT_TIMEOUT, loaders=()):
    """Boot the payload (numbers bridges, enables VFs) which then enters the
    stub loaded with -device loader, as kexec would. loaders: extra
    (file, addr) blobs to place in guest RAM."""
    facts = arm64_machine_facts(tmp_path, devices=devices, extra=extra)
    pay = payload_image(tmp_path, facts["ecam"], facts["uart"], ARM64_STUB_ADDR,
                        numvfs=numvfs, number_buses=number_buses)
    dev = list(devices) + [f"loader,file={need(ARM64_STUB)},addr={ARM64_STUB_ADDR:#x},force-raw=on"]
    for f, a in loaders:
        dev.append(f"loader,file={f},addr={a:#x},force-raw=on")
    return run_qemu(arm64_cmd(kernel=pay, devices=dev, dtb=dtb, extra=extra), timeout=timeout)


class Arm64Machine:
    """One QEMU arm64 machine description (devices + backends), booted either
    straight into the stub or through the old-kernel payload."""

    def __init__(self, tmp_path, devices, extra=(), old_kernel=True, numvfs="all",
                 stub=None, machine="virt", set_e2h=False):
        self.tmp = tmp_path
        self.stub = stub or ARM64_STUB
        self.machine = machine
        self.set_e2h = set_e2h
        self.devices = list(devices)
        self.extra = list(extra)
        self.old_kernel = old_kernel
        self.numvfs = numvfs
        self.facts = arm64_machine_facts(tmp_path, devices=self.devices, extra=self.extra,
                                         machine=machine)
        self.n = 0

    def boot(self, cache=None, scratch=None, timeout=DEFAULT_TIMEOUT, append=None,
             ram_probe=()):
        """Boot once; cache = a pcsctool_gen manifest (or None), announced
        with its own scratch array unless scratch = (addr, size) says
        otherwise; append = /chosen/bootargs; ram_probe: see run_qemu."""
        self.n += 1
        dtb = os.path.join(str(self.tmp), f"boot{self.n}.dtb")
        shutil.copy(self.facts["dtb"], dtb)
        loaders = []
        if cache:
            dtb_add_kho(dtb, cache["kho_fdt"][0], cache["kho_fdt"][1],
                        scratch or cache["kho_scratch"])
            loaders = cache["blobs"]
        extra = list(self.extra)
        if append:
            extra += ["-append", append]
        if self.old_kernel:
            pay = payload_image(self.tmp, self.facts["ecam"], self.facts["uart"],
                                ARM64_STUB_ADDR, numvfs=self.numvfs, set_e2h=self.set_e2h)
            dev = self.devices + [f"loader,file={need(self.stub)},"
                                  f"addr={ARM64_STUB_ADDR:#x},force-raw=on"]
            kernel = pay
        else:
            dev = list(self.devices)
            kernel = self.stub
        dev += [f"loader,file={f},addr={a:#x},force-raw=on" for f, a in loaders]
        return run_qemu(arm64_cmd(kernel=kernel, devices=dev, dtb=dtb, extra=extra,
                                  machine=self.machine), timeout=timeout, ram_probe=ram_probe)

    def walk(self):
        """First boot without a cache: what the stub sees live."""
        r = self.boot()
        assert_clean_poweroff(r)
        w = walk_lines(r.lines)
        assert w, r.describe()
        return w

    def gen(self, walk, faults=(), name="cache", **kw):
        """pcsctool_gen of walk on this machine (kw: kho, scratch, at)."""
        return pcsctool_gen(self.tmp, walk_to_topo(walk, self.facts["ecam"]),
                            faults=faults, name=name, **kw)


SZ_2M = 2 << 20


def wrap_arm64(stub, nxt, out):
    """stub + next Image -> one arm64 Image, in the format of
    include/pcsc/wrap.h (what `pcsctool wrap --arch arm64` writes)."""
    import struct
    from wrapfmt import (ARM64_IMAGE_SIZE_OFF, ARM64_MAGIC_OFF, ARM64_NEXT_ALIGN,
                         ARM64_NEXT_DESC_OFF, ARM64_NEXT_MAGIC)
    s = bytearray(open(stub, "rb").read())
    n = open(nxt, "rb").read()
    mo, do = ARM64_MAGIC_OFF, ARM64_NEXT_DESC_OFF
    assert s[mo:mo + 4] == b"ARM\x64" and n[mo:mo + 4] == b"ARM\x64"
    assert s[do:do + 8] == ARM64_NEXT_MAGIC
    image_size = struct.unpack_from("<Q", s, ARM64_IMAGE_SIZE_OFF)[0]
    off = (image_size + ARM64_NEXT_ALIGN - 1) // ARM64_NEXT_ALIGN * ARM64_NEXT_ALIGN
    toff, isize = struct.unpack_from("<QQ", n, 8)
    struct.pack_into("<Q", s, ARM64_IMAGE_SIZE_OFF, off + toff + max(len(n), isize))
    struct.pack_into("<QQQ", s, do + 8, off, len(n), 0)
    with open(out, "wb") as f:
        f.write(bytes(s) + bytes(off - len(s)) + n)
    return out


def next_payload(tmp_path, facts, name="next.bin"):
    """The test payload as a next kernel: reports its entry state, powers off."""
    return payload_image(tmp_path, facts["ecam"], facts["uart"], 0, name=name,
                         psci=psci_conduit(facts["dtb"]))


def walk_reads(machine):
    """cfg reads of the cache-less walk of this machine (a boot without cache)."""
    r = machine.boot()
    line = [l for l in r.lines if l.startswith("walk functions=")][0]
    return int(dict(kv.split("=") for kv in line.split()[1:])["cfg_reads"])
