# tests/qemu/x86util.py - x86_64 QEMU helpers: q35 command lines, boot_params pages, setup_data, exit codes.
# Never writes outside the test's tmp dir and $O/qemu; never accepts QEMU status 0 or 1 as the stub's exit.
"""x86_64 helpers for the QEMU tests (conftest.py keeps the shared ones).

The stub exits through isa-debug-exit (pcsc.exit=debug): arch_poweroff(code)
writes 0x10 + code, QEMU exits with ((0x10 + code) << 1) | 1, so success is
33 and an exception 39; a triple fault would be 0, QEMU's own errors 1.
"""
import os
import struct
import subprocess

from qemurun import DEFAULT_TIMEOUT, need, need_tool, O, run_qemu
from stubout import with_report

X86_STUB = os.path.join(O, "x86_64", "pcsc-stub.elf")
X86_LOAD_ADDR = 0x100000
X86_ENTRY64_OFF = 0x200


def exit_status(code):
    """QEMU's exit status for arch_poweroff(code) with pcsc.exit=debug."""
    return ((0x10 + code) << 1) | 1


EXIT_OK = exit_status(0)
EXIT_EXCEPTION = exit_status(3)

# boot_params (zero page) offsets, Linux Documentation/arch/x86/zero-page.rst
BP_ACPI_RSDP = 0x070
BP_E820_ENTRIES = 0x1e8
BP_CMD_LINE_PTR = 0x228
BP_SETUP_DATA = 0x250
BP_E820_TABLE = 0x2d0
SETUP_KEXEC_KHO = 10        # arch/x86/include/uapi/asm/setup_data.h


def x86_cmd(kernel=None, devices=(), append="pcsc.exit=debug", extra=(), mem="1G",
            machine="q35", serial=("stdio",)):
    """qemu-system-x86_64 -M q35 command line booting the stub (PVH);
    serial: the -serial backends, COM1 first; the command line always
    carries pcsc.report=full (conftest.with_report)."""
    cmd = [need_tool("qemu-system-x86_64"), "-M", machine, "-m", mem,
           "-display", "none", "-no-reboot", "-monitor", "none"]
    for s in serial:
        cmd += ["-serial", s]
    cmd += ["-nic", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", kernel or need(X86_STUB)]
    if append is not None:
        cmd += ["-append", with_report(append)]
    for d in devices:
        cmd += ["-device", d]
    cmd += list(extra)
    return cmd


def run_x86(devices=(), timeout=DEFAULT_TIMEOUT, **kw):
    return run_qemu(x86_cmd(devices=devices, **kw), timeout=timeout)


def assert_x86_exit(r, status=EXIT_OK, last="poweroff 0"):
    """QEMU exited by itself through isa-debug-exit with status, and the
    last pcsc line is last."""
    assert not r.timed_out, "QEMU hung (timeout)\n" + r.describe()
    assert status not in (0, 1)
    assert r.rc == status, r.describe()
    assert r.lines and r.lines[-1] == last, r.describe()


def second_copy(r, addr):
    """The pcsc lines of the stub copy entered at addr through its 64-bit
    entry (selftest chain64: the PVH copy plays kexec), from its entry line."""
    i = [n for n, l in enumerate(r.lines)
         if l.startswith(f"x86_64 entry 64bit image {addr:#x}-")]
    assert len(i) == 1, r.describe()
    return r.lines[i[0]:]


def stub_flat_binary():
    """The stub as a flat binary (what kexec or the bzImage wrapper loads):
    objcopy of the ELF into $O/qemu/pcsc-stub-x86_64.bin."""
    elf = need(X86_STUB)
    outdir = os.path.join(O, "qemu")
    os.makedirs(outdir, exist_ok=True)
    out = os.path.join(outdir, "pcsc-stub-x86_64.bin")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(elf):
        subprocess.run(["objcopy", "-O", "binary", elf, out], check=True)
    return out


def q35_e820(mem_mib=1024):
    """The e820 a kernel booted by SeaBIOS sees on q35 with mem_mib (<= 2 GiB,
    all below the PCI hole): RAM below 640K and from 1 MiB to where SeaBIOS
    keeps its ACPI tables (the last 0x21000 bytes, reserved), the BIOS
    areas reserved. (addr, size, type)."""
    top = mem_mib * 0x100000
    return [(0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2),
            (0x100000, top - 0x21000 - 0x100000, 1), (top - 0x21000, 0x21000, 2),
            (0xb0000000, 0x10000000, 2), (0xfeffc000, 0x4000, 2),
            (0xfffc0000, 0x40000, 2)]


def machine_e820(devices=(), extra=(), mem_mib=1024):
    """The e820 a kernel booted by SeaBIOS sees on this q35 machine: the RAM
    ranges the stub read from QEMU's PVH memmap (its 'ram' lines), the tail
    of low RAM where SeaBIOS keeps its ACPI tables reserved, the BIOS areas,
    ECAM and the flash reserved. SeaBIOS's table area grows with the
    devices, so it is measured, never typed in."""
    import re
    r = run_x86(devices=devices, extra=extra, mem=f"{mem_mib}M")
    assert_x86_exit(r)
    ram = [(int(m.group(1), 16), int(m.group(2), 16)) for m in
           (re.match(r"^ram (0x[0-9a-f]+)-(0x[0-9a-f]+)$", l) for l in r.lines) if m]
    mem = mem_mib * 0x100000
    # q35 keeps at most 2 GiB below 4 GiB when the rest does not fit under
    # the PCI hole (QEMU's pc_q35 lowmem rule), the rest starts at 4 GiB.
    low_end = 0x80000000 if mem >= 0xb0000000 else mem
    e = [(0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2), (0xb0000000, 0x10000000, 2),
         (0xfeffc000, 0x4000, 2), (0xfffc0000, 0x40000, 2)]
    for a, end in ram:
        e.append((a, end - a, 1))
        if a == 0x100000 and end < low_end:
            e.append((end, low_end - end, 2))
    return sorted(e)


class BootParams:
    """A boot_params page plus what it points to, laid out from addr:
    page 0 the zero page, page 1 the command line, then setup_data nodes."""

    def __init__(self, addr, e820=None, cmdline="", rsdp=0):
        self.addr = addr
        self.e820 = list(e820 if e820 is not None else q35_e820())
        self.cmdline = cmdline
        self.rsdp = rsdp
        self.setup = []          # (type, payload bytes)
        self.raw_next = None     # force the first setup_data pointer
        self.ramdisk = (0, 0)    # initrd (addr, size) for a next kernel
        self.type_of_loader = 0
        self.init_size = 0       # the wrapper's init_size as kexec copies it (0x260)

    def add_setup(self, typ, payload):
        self.setup.append((typ, bytes(payload)))

    def add_kho(self, fdt_addr, fdt_size, scratch_addr=0, scratch_size=0):
        self.add_setup(SETUP_KEXEC_KHO, struct.pack("<4Q", fdt_addr, fdt_size,
                                                    scratch_addr, scratch_size))

    def image(self):
        b = bytearray(0x2000)
        struct.pack_into("<Q", b, BP_ACPI_RSDP, self.rsdp)
        b[BP_E820_ENTRIES] = len(self.e820)
        for i, (a, s, t) in enumerate(self.e820):
            struct.pack_into("<QQI", b, BP_E820_TABLE + 20 * i, a, s, t)
        cl = self.cmdline.encode() + b"\0"
        assert len(cl) <= 0x1000
        b[0x1000:0x1000 + len(cl)] = cl
        struct.pack_into("<I", b, BP_CMD_LINE_PTR, self.addr + 0x1000)
        b[0x210] = self.type_of_loader
        struct.pack_into("<I", b, 0x260, self.init_size)
        struct.pack_into("<II", b, 0x218, *self.ramdisk)
        off = 0x2000
        nodes = []
        for typ, payload in self.setup:
            nodes.append((off, typ, payload))
            off += (16 + len(payload) + 15) & ~15
        b += bytearray(off - len(b))
        for i, (o, typ, payload) in enumerate(nodes):
            nxt = self.addr + nodes[i + 1][0] if i + 1 < len(nodes) else 0
            struct.pack_into("<QII", b, o, nxt, typ, len(payload))
            b[o + 16:o + 16 + len(payload)] = payload
        first = self.addr + nodes[0][0] if nodes else 0
        if self.raw_next is not None:
            first = self.raw_next
        struct.pack_into("<Q", b, BP_SETUP_DATA, first)
        return bytes(b)

    def write(self, tmp_path, name="bootparams.bin"):
        out = os.path.join(str(tmp_path), name)
        with open(out, "wb") as f:
            f.write(self.image())
        return out

    def loader(self, tmp_path, name="bootparams.bin"):
        return f"loader,file={self.write(tmp_path, name)},addr={self.addr:#x},force-raw=on"


PAYLOAD_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "x86payload")


def x86_payload(tmp_path, ecam, numvfs=None):
    """The test-only x86 old kernel (a PVH ELF at 16 MiB): enables every
    SR-IOV PF's VFs (numvfs, None = TotalVFs) through ECAM at ecam, copies
    the stub (flat binary) to 1 MiB and enters its PVH entry."""
    stub = stub_flat_binary()
    srcs = [os.path.join(PAYLOAD_DIR, n) for n in ("start.S", "payload.c")]
    objs = []
    defs = [f"-DECAM_BASE={ecam:#x}u", f'-DSTUB_BIN="{stub}"']
    if numvfs is not None:
        defs.append(f"-DNUMVFS={numvfs}u")
    for s in srcs:
        o = os.path.join(str(tmp_path), os.path.basename(s) + ".o")
        subprocess.run(["gcc", "-m32", "-O2", "-ffreestanding", "-fno-builtin", "-nostdlib",
                        "-fno-pic", "-fno-pie", "-fno-stack-protector", "-Wall", "-Wextra",
                        "-Werror", "-c", s, "-o", o] + defs, check=True)
        objs.append(o)
    out = os.path.join(str(tmp_path), "x86payload.elf")
    subprocess.run(["ld", "-m", "elf_i386", "-T", os.path.join(PAYLOAD_DIR, "payload.lds"),
                    "--build-id=none", "--no-warn-rwx-segments", "-o", out] + objs, check=True)
    return out


class X86Machine:
    """One q35 machine description (devices + backends), booted straight
    into the stub (PVH) or through the old-kernel payload, with an optional
    cache placed by -device loader and announced, as kexec does on x86, by
    a SETUP_KEXEC_KHO setup_data entry in a boot_params page."""

    BP_ADDR = 0x800000      # below the payload (16 MiB), above the stub

    def __init__(self, tmp_path, devices, extra=(), old_kernel=True, numvfs=None):
        import re
        self.tmp = tmp_path
        self.devices = list(devices)
        self.extra = list(extra)
        self.old_kernel = old_kernel
        self.numvfs = numvfs
        r = run_x86(devices=self.devices, extra=self.extra)
        assert_x86_exit(r)
        m = [re.match(r"^ecam 0000:00-ff at (0x[0-9a-f]+)$", l) for l in r.lines]
        self.ecam = int(next(x for x in m if x).group(1), 16)
        self.e820 = machine_e820(self.devices, self.extra)
        self.n = 0
        self.payload = x86_payload(tmp_path, self.ecam, numvfs) if old_kernel else None

    def boot(self, cache=None, append="pcsc.exit=debug", timeout=DEFAULT_TIMEOUT,
             scratch=None, bp_hook=None, loaders=(), cmdline="", ram_probe=()):
        """Boot once; cache = a pcsctool_gen manifest (or None), announced
        with its own scratch array unless scratch = (addr, size) says
        otherwise; loaders = more (file, addr) blobs; cmdline = the next
        kernel's command line; ram_probe: see conftest.run_qemu."""
        self.n += 1
        bp = BootParams(self.BP_ADDR, e820=self.e820, cmdline=cmdline)
        dev = [f"loader,file={f},addr={a:#x},force-raw=on" for f, a in loaders]
        dev += list(self.devices)
        if cache:
            bp.add_kho(cache["kho_fdt"][0], cache["kho_fdt"][1],
                       *(scratch or cache["kho_scratch"]))
            dev += [f"loader,file={f},addr={a:#x},force-raw=on" for f, a in cache["blobs"]]
        if bp_hook:
            bp_hook(bp)
        dev.append(bp.loader(self.tmp, f"bootparams{self.n}.bin"))
        return run_qemu(x86_cmd(devices=dev, extra=self.extra, kernel=self.payload,
                                append=f"{append} pcsc.boot_params={self.BP_ADDR:#x}"),
                        timeout=timeout, ram_probe=ram_probe)

    def walk(self):
        """First boot without a cache: what the stub sees live."""
        from stubout import walk_lines
        r = self.boot()
        assert_x86_exit(r)
        w = walk_lines(r.lines)
        assert w, r.describe()
        return w

    def gen(self, walk, faults=(), name="cache", **kw):
        """pcsctool_gen of walk on this machine (kw: kho, scratch, at)."""
        from cacheutil import pcsctool_gen
        from topology import walk_to_topo
        ram_top = max(a + s for a, s, t in self.e820 if t == 1)
        return pcsctool_gen(self.tmp, walk_to_topo(walk, self.ecam), faults=faults,
                            ram=(0, ram_top), name=name, **kw)


NEXT_EXIT = (0x20 << 1) | 1     # the fake next kernel's isa-debug-exit status


def fake_next_kernel(tmp_path, init_size=0x400000, relocatable=True, xloadflags=0x3,
                     version=0x020f, name="next.bzImage"):
    """A minimal bzImage (setup header + protected-mode part with a 64-bit
    entry at +0x200) whose code reports on COM1 how it was entered, then
    exits QEMU with NEXT_EXIT. Built by the test (test-only code)."""
    srcs = [os.path.join(PAYLOAD_DIR, n) for n in ("nextkernel.S", "nextkernel.c")]
    objs = []
    for src in srcs:
        o = os.path.join(str(tmp_path), os.path.basename(src) + ".o")
        subprocess.run(["gcc", "-O2", "-ffreestanding", "-fno-builtin", "-nostdlib", "-fpie",
                        "-mno-red-zone", "-mgeneral-regs-only", "-fno-stack-protector",
                        "-fno-asynchronous-unwind-tables", "-Wall", "-Wextra", "-Werror",
                        "-c", src, "-o", o], check=True)
        objs.append(o)
    bins = []
    for base in (0, 0x10000):
        elf = os.path.join(str(tmp_path), f"nextkernel-{base:x}.elf")
        subprocess.run(["ld", "-static", "--defsym", f"BASE={base:#x}", "-T",
                        os.path.join(PAYLOAD_DIR, "nextkernel.lds"), "-e", "_start",
                        "--build-id=none", "--no-warn-rwx-segments", "-o", elf] + objs,
                       check=True)
        pm = os.path.join(str(tmp_path), f"nextkernel-{base:x}.bin")
        subprocess.run(["objcopy", "-O", "binary", elf, pm], check=True)
        bins.append(open(pm, "rb").read())
    # Linked at two bases, the same bytes: it runs wherever the stub puts it.
    assert bins[0] == bins[1], "fake next kernel is not position independent"
    body = bins[0]
    setup = bytearray(2 * 512)              # boot sector + setup_sects = 1
    setup[0x1f1] = 1
    struct.pack_into("<H", setup, 0x1fe, 0xaa55)
    setup[0x200] = 0xeb                     # jmp short: header ends at 0x26c
    setup[0x201] = 0x6c - 0x02
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, version)
    setup[0x211] = 0x01                     # LOADED_HIGH
    struct.pack_into("<I", setup, 0x230, 0x200000)      # kernel_alignment
    setup[0x234] = 1 if relocatable else 0
    struct.pack_into("<H", setup, 0x236, xloadflags)
    struct.pack_into("<I", setup, 0x238, 2048)           # cmdline_size
    struct.pack_into("<Q", setup, 0x258, 0x1000000)      # pref_address
    struct.pack_into("<I", setup, 0x260, init_size)
    out = os.path.join(str(tmp_path), name)
    with open(out, "wb") as f:
        f.write(bytes(setup) + body)
    return out


def wrap_stub(tmp_path, bzimage, name="wrapped.bin"):
    """Test-side wrap: the stub's flat binary padded to its memory size
    (PT_LOAD memsz, BSS included), the bzImage appended, and the image
    descriptor at +0x100 ({"PCSCX86H", u32 version, u32 flags, u64
    next_offset, u64 next_size}) pointing at it."""
    flat = bytearray(open(stub_flat_binary(), "rb").read())
    ph = subprocess.run(["readelf", "-lW", need(X86_STUB)], capture_output=True,
                        text=True).stdout
    load = [l.split() for l in ph.splitlines() if l.strip().startswith("LOAD")]
    assert len(load) == 1, ph
    memsz = int(load[0][5], 16)
    from wrapfmt import X86_HDR_MAGIC, X86_HDR_OFF
    assert flat[X86_HDR_OFF:X86_HDR_OFF + 8] == X86_HDR_MAGIC
    off = (memsz + 0xfff) & ~0xfff
    kernel = open(bzimage, "rb").read()
    struct.pack_into("<QQ", flat, X86_HDR_OFF + 16, off, len(kernel))
    out = os.path.join(str(tmp_path), name)
    with open(out, "wb") as f:
        f.write(bytes(flat) + bytes(off - len(flat)) + kernel)
    return out


# -------------------------------------------------------- Debian kernel ----
def debian_amd64():
    """Debian's cloud amd64 kernel (the smallest flavour), fetched once with
    apt-get download into $O/qemu/debian-amd64 and unpacked; busybox-static
    is the host's own (make deps installs it). Returns (bzImage, busybox)."""
    import glob
    import re
    from qemurun import need_tool
    d = os.path.join(O, "qemu", "debian-amd64")
    x = os.path.join(d, "x")
    imgs = glob.glob(os.path.join(x, "boot", "vmlinuz-*-cloud-amd64"))
    if not imgs:
        os.makedirs(d, exist_ok=True)
        pol = subprocess.run(["apt-cache", "show", "linux-image-cloud-amd64"],
                             capture_output=True, text=True).stdout
        m = re.search(r"^Depends: (linux-image-[0-9][^ ,]*-cloud-amd64)", pol, re.M)
        assert m, "apt-cache: no linux-image-cloud-amd64 (apt-get update)"
        r = subprocess.run(["apt-get", "download", "-q", m.group(1)], cwd=d,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    if not imgs:
        # Only /boot from the package: the modules are of no use here.
        os.makedirs(x, exist_ok=True)
        for deb in glob.glob(os.path.join(d, "linux-image-*.deb")):
            tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True,
                                 check=True).stdout
            subprocess.run(["tar", "-C", x, "-x", "--wildcards", "./boot/vmlinuz-*"],
                           input=tar, check=True)
        imgs = glob.glob(os.path.join(x, "boot", "vmlinuz-*-cloud-amd64"))
    bb = need_tool("busybox")
    return sorted(imgs)[-1], bb


def bzimage_wrap(tmp_path, next_bzimage, name="wrapped.bzImage"):
    """stub + next kernel as one bzImage that kexec_file_load's bzImage64
    loader accepts: a 2-sector setup part (boot_flag 0xAA55, "HdrS" 2.15,
    LOADED_HIGH, relocatable, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
    (| the next kernel's XLF_5LEVEL),
    init_size covering the stub, the embedded bzImage and the next
    kernel's own init_size), then wrap_stub's image as the protected-mode
    part, whose 64-bit entry is the stub's entry64 at +0x200."""
    pm = open(wrap_stub(tmp_path, next_bzimage, name=name + ".pm"), "rb").read()
    nxt = open(next_bzimage, "rb").read()
    next_init = struct.unpack_from("<I", nxt, 0x260)[0]
    align = 0x200000
    # Slack for the next kernel's own alignment: the stub places it on that
    # boundary, inside this reservation only.
    nalign = struct.unpack_from("<I", nxt, 0x230)[0]
    if nalign < align or nalign & (nalign - 1):
        nalign = align
    init_size = ((len(pm) + align - 1) & ~(align - 1)) + next_init + nalign
    setup = bytearray(2 * 512)
    setup[0x1f1] = 1                                   # setup_sects
    struct.pack_into("<I", setup, 0x1f4, (len(pm) + 15) // 16)   # syssize
    struct.pack_into("<H", setup, 0x1fe, 0xaa55)
    setup[0x200] = 0xeb
    setup[0x201] = 0x6c - 0x02                         # header ends at 0x26c
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x020f)
    setup[0x211] = 0x01                                # LOADED_HIGH
    struct.pack_into("<I", setup, 0x230, align)        # kernel_alignment
    setup[0x234] = 1                                   # relocatable_kernel
    setup[0x235] = 21                                  # min_alignment: 2 MiB
    # XLF_KERNEL_64 | ABOVE_4G, and XLF_5LEVEL (0x20) when the next kernel
    # has it: a 5-level old kernel's kexec_file_load refuses an image
    # without it (arch/x86/kernel/kexec-bzimage64.c, bzImage64_probe).
    struct.pack_into("<H", setup, 0x236, 0x0003 | (nxt[0x236] & 0x20))
    struct.pack_into("<I", setup, 0x238, 2047)         # cmdline_size
    struct.pack_into("<Q", setup, 0x258, 0x1000000)    # pref_address
    struct.pack_into("<I", setup, 0x260, init_size)
    out = os.path.join(str(tmp_path), name)
    with open(out, "wb") as f:
        f.write(bytes(setup) + pm)
    return out


# The walk the x86 stub (and the EFI app on OVMF) prints for q35 with
# conftest.default_topology(): SeaBIOS numbers the bridges, VFs stay off.
Q35_DEFAULT_WALK = """\
walk 0000:00:00.0 8086:29c0 class 060000 ep
walk 0000:00:01.0 1234:1111 class 030000 ep
walk 0000:00:02.0 1b36:000c class 060400 bridge
walk 0000:00:03.0 1b36:000c class 060400 bridge
walk 0000:00:04.0 1b36:000c class 060400 bridge
walk 0000:00:06.0 1af4:1000 class 020000 ep
walk 0000:00:06.1 1af4:1001 class 010000 ep
walk 0000:00:1f.0 8086:2918 class 060100 ep
walk 0000:00:1f.2 8086:2922 class 010601 ep
walk 0000:00:1f.3 8086:2930 class 0c0500 ep
walk 0000:01:00.0 8086:10d3 class 020000 ep
walk 0000:02:00.0 1b36:0010 class 010802 ep
walk 0000:03:00.0 104c:8232 class 060400 bridge
walk 0000:04:00.0 104c:8233 class 060400 bridge
walk 0000:04:01.0 104c:8233 class 060400 bridge
walk 0000:04:02.0 104c:8233 class 060400 bridge
walk 0000:05:00.0 1af4:1042 class 010000 ep
walk 0000:06:00.0 1af4:1041 class 020000 ep
walk 0000:07:00.0 1af4:1041 class 020000 ep
walk 0000:07:00.1 1af4:1041 class 020000 ep""".splitlines()
