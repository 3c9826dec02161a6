# tests/qemu/conftest.py - helpers shared by the arm64 and x86 QEMU tests:
# boot with a hard timeout, capture serial, parse "pcsc:" lines. Never writes outside tmp dirs.
"""Shared QEMU helpers.

Every boot goes through run_qemu(), which kills QEMU at a hard timeout (a
hang is a failure, never a pass) and returns the serial output. Tests then
assert on the "pcsc: ..." lines (SPEC 3.3), parsed by pcsc_lines(),
walk_lines() and report_lines().
"""
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
O = os.path.abspath(os.path.join(TOP, os.environ.get("O", "build")))
DEFAULT_TIMEOUT = 60


@dataclass
class QemuResult:
    """What one QEMU run produced."""
    cmd: list
    rc: int                 # QEMU's exit status, None when killed at timeout
    out: str                # serial output (stdout), CR stripped
    err: str                # QEMU's own stderr
    seconds: float
    timed_out: bool
    lines: list = field(default_factory=list)   # "pcsc:" lines, prefix removed
    ram: dict = field(default_factory=dict)     # run_qemu ram_probe: (addr, size) -> bytes

    def describe(self):
        tail = "\n".join(self.out.splitlines()[-40:])
        return (f"cmd: {' '.join(self.cmd)}\nrc={self.rc} timed_out={self.timed_out} "
                f"{self.seconds:.1f}s\n--- serial (tail) ---\n{tail}\n--- stderr ---\n"
                f"{self.err[-2000:]}")


def pcsc_lines(text):
    """Every line starting with 'pcsc: ', without the prefix, in order."""
    out = []
    for line in text.replace("\r", "").splitlines():
        if line.startswith("pcsc: "):
            out.append(line[len("pcsc: "):].rstrip())
    return out


WALK_RE = re.compile(r"^walk ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) "
                     r"([0-9a-f]{4}):([0-9a-f]{4}) class ([0-9a-f]{6}|------) (\S+)$")


def walk_lines(lines):
    """The 'walk SBDF VID:DID class CCCCCC KIND' lines as tuples
    (sbdf, vendor, device, class, kind); class is None for VFs."""
    out = []
    for line in lines:
        m = WALK_RE.match(line)
        if m:
            cls = None if m.group(4) == "------" else m.group(4)
            out.append((m.group(1), m.group(2), m.group(3), cls, m.group(5)))
    return out


VERDICT_RE = re.compile(r"^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (\S+) "
                        r"(VALID|STALE|GONE|BAD|NEW)\b")


def report_lines(lines):
    """Verdict lines 'SBDF VID:DID VERDICT ...' as (sbdf, verdict) tuples."""
    return [(m.group(1), m.group(3)) for m in map(VERDICT_RE.match, lines) if m]


def summary(lines):
    """The 'summary k=v ...' line as a dict of ints (None if absent)."""
    for line in lines:
        if line.startswith("summary "):
            d = {}
            for kv in line.split()[1:]:
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    try:
                        d[k] = int(v, 0)
                    except ValueError:
                        d[k] = v
            return d
    return None


def run_qemu(cmd, timeout=DEFAULT_TIMEOUT, stdin=None, cwd=None, ram_probe=()):
    """Run cmd (a QEMU command line) with a hard timeout. QEMU's stdout is
    the serial console. On timeout the whole process group is killed and
    rc is None. ram_probe: (addr, size) ranges of guest RAM to read as the
    stub left them (the RAM check's dump at its exit) into r.ram[(addr,
    size)]; a stub boot that cannot be probed fails."""
    t0 = time.monotonic()
    # Issue 8: every stub boot is checked for guest RAM integrity
    # (ramcheck.py: dumps at the stub's entry and exit, AssertionError with
    # the first changed address outside what it may write). PCSC_RAMCHECK=0: off.
    if stdin is None and cwd is None and (ram_probe or
                                          os.environ.get("PCSC_RAMCHECK", "1") != "0"):
        import ramcheck
        if ramcheck.plan(cmd, O):
            rc, timed_out, text, err, rep = ramcheck.checked_run(cmd, timeout, O,
                                                                 probe=ram_probe)
            r = QemuResult(cmd=list(cmd), rc=rc, out=text, err=err,
                           seconds=time.monotonic() - t0, timed_out=timed_out)
            r.lines = pcsc_lines(text)
            r.ram = (rep or {}).get("probe", {})
            assert not ram_probe or r.ram, "guest RAM not probed\n" + r.describe()
            return r
    assert not ram_probe, f"ram_probe: not a stub boot ramcheck can stop: {cmd}"
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL if stdin is None else stdin,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=cwd, start_new_session=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc = None
    text = out.decode("utf-8", "replace").replace("\r", "")
    r = QemuResult(cmd=list(cmd), rc=rc, out=text,
                   err=err.decode("utf-8", "replace"),
                   seconds=time.monotonic() - t0, timed_out=timed_out)
    r.lines = pcsc_lines(text)
    return r


def arches():
    """The arches of this run ($ARCHES, as run.sh exports it; both by
    default): the params of modules parametrised by arch (test_kho_*.py)."""
    want = os.environ.get("ARCHES", "arm64 x86_64").split()
    return [a for a in ("arm64", "x86_64") if a in want]


def need(path):
    """Skip nothing: a missing build product is a failure with a reason."""
    if not os.path.exists(path):
        pytest.fail(f"missing {path}: run make first")
    return path


def need_tool(name):
    exe = shutil.which(name)
    if not exe:
        pytest.fail(f"{name} not installed (make deps)")
    return exe


# ------------------------------------------------------------------ arm64 --
ARM64_STUB = os.path.join(O, "arm64", "pcsc-stub.bin")


# The stub is quiet by default (docs/report.md: summary level); the tests
# parse its discovery, walk and per-entry lines, so every boot asks for
# them unless the command line names a level itself.
REPORT_FULL = "pcsc.report=full"


def with_report(cmdline):
    """cmdline plus pcsc.report=full unless it sets pcsc.report= itself."""
    if "pcsc.report=" in cmdline:
        return cmdline
    return f"{REPORT_FULL} {cmdline}".strip()


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


# ------------------------------------------------------- arm64 topologies --
def nvme_sriov(vfs, bus=None, ident="nv0"):
    """-device strings for an nvme PF offering vfs VFs (QEMU wants a subsystem
    and flexible queue/interrupt pools of 2 and 1 per VF)."""
    dev = (f"nvme,serial={ident},subsys={ident}s,sriov_max_vfs={vfs},"
           f"sriov_vq_flexible={2 * vfs},sriov_vi_flexible={vfs},"
           f"max_ioqpairs={2 * vfs + 2},msix_qsize={vfs + 1}")
    if bus:
        dev += f",bus={bus}"
    return [f"nvme-subsys,id={ident}s", dev]


# A topology with everything issue 4 asks for: root ports, an x3130 switch
# with 3 downstream ports, a multi-function device, e1000e, virtio-net/blk
# and an SR-IOV nvme.
def default_topology(vfs=8):
    return ([
        "pcie-root-port,id=rp1,chassis=1,slot=1",
        "e1000e,bus=rp1,netdev=n0",
        "pcie-root-port,id=rp2,chassis=2,slot=2",
    ] + nvme_sriov(vfs, bus="rp2") + [
        "pcie-root-port,id=rp3,chassis=3,slot=3",
        "x3130-upstream,id=up0,bus=rp3",
        "xio3130-downstream,id=dn1,bus=up0,chassis=11,slot=0",
        "xio3130-downstream,id=dn2,bus=up0,chassis=12,slot=1",
        "xio3130-downstream,id=dn3,bus=up0,chassis=13,slot=2",
        "virtio-blk-pci,bus=dn1,drive=d0",
        "virtio-net-pci,bus=dn2,netdev=n1",
        # multi-function: two functions of slot 0 behind dn3
        "virtio-net-pci,bus=dn3,addr=0.0,multifunction=on,netdev=n2",
        "virtio-net-pci,bus=dn3,addr=0.1,netdev=n3",
        # and one on the root bus
        "virtio-net-pci,addr=6.0,multifunction=on,netdev=n4",
        "virtio-blk-pci,addr=6.1,drive=d1",
    ])


def topology_backends():
    """-netdev/-drive arguments the default topology's devices refer to."""
    out = []
    for i in range(5):
        out += ["-netdev", f"user,id=n{i}"]
    for i in range(2):
        out += ["-drive", f"if=none,id=d{i},file=null-co://,format=raw"]
    return out


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


def fdtget(dtb, node, prop, typ="x"):
    r = subprocess.run([need_tool("fdtget"), "-t", typ, dtb, node, prop],
                       capture_output=True, text=True)
    if r.returncode:
        return None
    return r.stdout.strip()


def dtb_cells(dtb, node, prop):
    v = fdtget(dtb, node, prop)
    return [int(x, 16) for x in v.split()] if v else []


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


# ------------------------------------------------------- cache fixtures ----
PCSCTOOL = os.path.join(O, "host", "pcsctool")


def sbdf_key(s):
    seg, bus, df = s.split(":")
    dev, fn = df.split(".")
    return (int(seg, 16), int(bus, 16), int(dev, 16), int(fn, 16))


def rid(s):
    _, b, d, f = sbdf_key(s)
    return (b << 8) | (d << 3) | f


def walk_to_topo(walk, ecam):
    """A pcsctool topology (docs/topology.md) of what the stub walked: the
    machine describes itself, no BDF is typed in. Every bus becomes its own
    one-bus window at its real ECAM address, so the simulation reaches each
    function without needing the bridges' numbers; bridges stay type 1 (the
    old kernel saves endpoints only); each PF gets an enabled SR-IOV
    capability with the VFs that followed it in the walk."""
    funcs = [f for f in walk if f[4] != "vf"]
    vfs_of = {}
    last_pf = None
    for f in walk:
        if f[4] == "pf":
            last_pf = f[0]
            vfs_of[last_pf] = []
        elif f[4] == "vf":
            assert last_pf is not None, f"VF {f[0]} before any PF"
            vfs_of[last_pf].append(f)
    lines = ["# generated by tests/qemu/conftest.py walk_to_topo from a stub walk"]
    segs_buses = sorted({sbdf_key(f[0])[:2] for f in walk})
    for seg, bus in segs_buses:
        lines.append(f"window {seg:04x} {bus:02x} {bus:02x} {ecam + (bus << 20):x}")
    for f in funcs:
        line = f"{f[0]} {f[1]}:{f[2]}"
        if f[4] == "bridge":
            line += " bridge sec=0 sub=0"
        else:
            line += f" class={f[3]}"
        if f[4] == "pf":
            vfs = vfs_of[f[0]]
            n = len(vfs)
            off = rid(vfs[0][0]) - rid(f[0])
            stride = rid(vfs[1][0]) - rid(vfs[0][0]) if n > 1 else 1
            line += f" sriov={n},{n},{off:#x},{stride:#x},{vfs[0][2]},enabled"
        lines.append(line)
    return "\n".join(lines) + "\n"


def read_manifest(d):
    m = {"blobs": []}
    for line in open(os.path.join(d, "manifest")):
        t = line.split()
        if not t or t[0].startswith("#"):
            continue
        if t[0] == "blob":
            m["blobs"].append((os.path.join(d, t[1]), int(t[2], 0)))
        elif t[0] == "kho-fdt":
            m["kho_fdt"] = (int(t[1], 0), int(t[2], 0))
        elif t[0] == "kho-scratch":     # the scratch ARRAY (kho_scratch.bin), not a region
            m["kho_scratch"] = (int(t[1], 0), int(t[2], 0))
        elif t[0] == "kho":             # the layout written: v1-512 ... v4
            m["kho"] = t[1]
        elif t[0] == "ram":
            m["ram"] = (int(t[1], 0), int(t[2], 0))
    return m


def pcsctool_gen(tmp_path, topo_text, faults=(), ram=(0x40000000, 0x40000000),
                 name="cache", at=None, kho=None, scratch=()):
    """Run pcsctool gen on topo_text with fault specs, KHO layout kho
    (v1-512 ... v4, None = pcsctool's default) and scratch regions
    [(start, size)] (none = pcsctool's default region); returns the manifest
    (blobs to place with -device loader, kho_fdt and kho_scratch address and
    size, the kho layout)."""
    topo = os.path.join(str(tmp_path), name + ".topo")
    with open(topo, "w") as f:
        f.write(topo_text)
    out = os.path.join(str(tmp_path), name)
    cmd = [need(PCSCTOOL), "gen", topo, "--out", out, "--base", hex(ram[0]),
           "--ram-size", hex(ram[1])]
    if at is not None:
        cmd += ["--at", hex(at)]
    for spec in faults:
        cmd += ["--stale", spec]
    if kho:
        cmd += ["--kho", kho]
    for a, n in scratch:
        cmd += ["--scratch", f"{a:#x}:{n:#x}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}\n{r.stderr}"
    m = read_manifest(out)
    m["dir"] = out
    assert "kho_scratch" in m and m.get("kho") == (kho or "v1-512"), m
    return m


def blob_addr(cache, name):
    """Guest-physical address of the manifest's blob name (e.g. pcsc_data.bin)."""
    return next(a for p, a in cache["blobs"] if os.path.basename(p) == name)


def dtb_add_kho(dtb, kho_fdt, kho_size, scratch=None):
    """Add /chosen linux,kho-fdt (and linux,kho-scratch) as the old kernel's
    kexec_file_load does: big-endian address and size cells (2 + 2 on virt)."""
    ac = int(fdtget(dtb, "/", "#address-cells", "u") or 2)
    sc = int(fdtget(dtb, "/", "#size-cells", "u") or 1)

    def cells(v, n):
        return [hex((v >> (32 * (n - 1 - i))) & 0xffffffff) for i in range(n)]

    subprocess.run([need_tool("fdtput"), "-t", "x", dtb, "/chosen", "linux,kho-fdt"]
                   + cells(kho_fdt, ac) + cells(kho_size, sc), check=True)
    if scratch:
        subprocess.run(["fdtput", "-t", "x", dtb, "/chosen", "linux,kho-scratch"]
                       + cells(scratch[0], ac) + cells(scratch[1], sc), check=True)
    return dtb


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


def pick_faults(walk):
    """BDFs for fault injection, chosen from the live walk (never typed in):
    stale = the first endpoint behind a bridge (else any endpoint), bad =
    the last endpoint, gone = the first free slot on the first endpoint's
    bus. Returns {'stale', 'bad', 'gone'} as SSSS:BB:DD.F strings."""
    eps = [f[0] for f in walk if f[4] in ("ep", "pf")]
    assert len(eps) >= 2, "need two endpoints for fault injection"
    behind = [s for s in eps if sbdf_key(s)[1] != 0]
    stale = (behind or eps)[0]
    bad = [s for s in eps if s != stale][-1]
    present = {f[0] for f in walk}
    seg, bus = sbdf_key(stale)[:2]
    gone = next(f"{seg:04x}:{bus:02x}:{d:02x}.0" for d in range(31, 0, -1)
                if f"{seg:04x}:{bus:02x}:{d:02x}.0" not in present)
    return {"stale": stale, "bad": bad, "gone": gone}


# ------------------------------------------------------------- chaining ----
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


def psci_conduit(dtb):
    m = fdtget(dtb, "/psci", "method", "s")
    return {"hvc": 1, "smc": 2}.get(m, 0)


def next_payload(tmp_path, facts, name="next.bin"):
    """The test payload as a next kernel: reports its entry state, powers off."""
    return payload_image(tmp_path, facts["ecam"], facts["uart"], 0, name=name,
                         psci=psci_conduit(facts["dtb"]))


# -------------------------------------------------------- Debian kernel ----
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


# ------------------------------------------------- ACPI arm64 (no PCI in DT) --
def _acpi_sum_fix(b, at):
    """Set byte at so that the 8-bit sum of b is 0."""
    b[at] = 0
    b[at] = (-sum(b)) & 0xff
    return b


def _sdt(sig, body, revision=1):
    import struct
    b = bytearray(struct.pack("<4sIBB6s8sI4sI", sig, 36 + len(body), revision, 0,
                              b"PCSCTS", b"PCSCTEST", 1, b"PCSC", 1)) + body
    return _acpi_sum_fix(b, 9)


def efi_acpi_blob(base, windows):
    """What UEFI leaves an ACPI arm64 kernel, at physical base (4 KiB
    aligned): an EFI system table whose configuration table has the ACPI
    2.0 GUID -> RSDP -> XSDT -> MCFG with windows [(base, seg, bus_start,
    bus_end)]. Returns (bytes, systab address)."""
    import struct
    st_at, ct_at, rsdp_at, xsdt_at, mcfg_at = (base, base + 0x100, base + 0x200,
                                              base + 0x300, base + 0x400)
    st = bytearray(120)
    struct.pack_into("<QIII", st, 0, 0x5453595320494249, 0x20046, 120, 0)
    struct.pack_into("<QQ", st, 104, 1, ct_at)
    acpi20 = bytes([0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11,
                    0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81])
    ct = acpi20 + struct.pack("<Q", rsdp_at)
    rsdp = bytearray(struct.pack("<8sB6sBIIQB3s", b"RSD PTR ", 0, b"PCSCTS", 2, 0, 36,
                                 xsdt_at, 0, b"\0\0\0"))
    rsdp[8] = (-sum(rsdp[:20])) & 0xff
    rsdp[32] = (-sum(rsdp)) & 0xff
    xsdt = _sdt(b"XSDT", struct.pack("<Q", mcfg_at))
    mcfg = _sdt(b"MCFG", bytes(8) + b"".join(
        struct.pack("<QHBBI", b, seg, s, e, 0) for b, seg, s, e in windows))
    blob = bytearray(0x400 + len(mcfg))
    for at, part in ((st_at, st), (ct_at, ct), (rsdp_at, rsdp), (xsdt_at, xsdt),
                     (mcfg_at, mcfg)):
        blob[at - base:at - base + len(part)] = part
    return bytes(blob), st_at


def dtb_ecam_windows(dtb):
    """[(node, base, seg, bus_start, bus_end)] of the DTB's ECAM nodes."""
    out = []
    nodes = subprocess.run(["fdtget", "-l", dtb, "/"], capture_output=True, text=True).stdout
    for n in nodes.split():
        if "pci-host-ecam-generic" in (fdtget(dtb, "/" + n, "compatible", "s") or ""):
            reg = dtb_cells(dtb, "/" + n, "reg")
            br = dtb_cells(dtb, "/" + n, "bus-range") or [0, 255]
            dom = dtb_cells(dtb, "/" + n, "linux,pci-domain") or [0]
            out.append(("/" + n, (reg[0] << 32) | reg[1], dom[0], br[0], br[1]))
    return out


def dtb_as_acpi(tmp_path, dtb, blob_at=0x7e000000):
    """Turn a QEMU virt DTB into what an ACPI arm64 kernel hands over: no
    PCI node, /chosen linux,uefi-system-table -> tables (built from the
    removed nodes' windows) placed at blob_at. Returns (dtb, blob file,
    blob_at, windows)."""
    wins = dtb_ecam_windows(dtb)
    assert wins, "no ECAM node to convert"
    blob, systab = efi_acpi_blob(blob_at, [w[1:] for w in wins])
    bf = os.path.join(str(tmp_path), "acpi.bin")
    with open(bf, "wb") as f:
        f.write(blob)
    for w in wins:
        subprocess.run(["fdtput", "-r", dtb, w[0]], check=True)
    subprocess.run(["fdtput", "-t", "x", dtb, "/chosen", "linux,uefi-system-table",
                    hex(systab >> 32), hex(systab & 0xffffffff)], check=True)
    return dtb, bf, blob_at, wins


# ----------------------------------------------------- guest RAM snapshots --
def run_qemu_snapshots(cmd, tmp_path, ram, until, timeout=DEFAULT_TIMEOUT):
    """Start QEMU stopped (-S), save guest RAM [ram[0], +ram[1]) to
    'before', run until the serial output contains `until`, save it again
    to 'after', quit. Returns (QemuResult-like serial text, before, after)."""
    import socket
    d = str(tmp_path)
    sock, serial = os.path.join(d, "mon.sock"), os.path.join(d, "serial.txt")
    before, after = os.path.join(d, "ram-before.bin"), os.path.join(d, "ram-after.bin")
    cmd = [c for c in cmd]
    i = cmd.index("-serial")
    cmd[i + 1] = f"file:{serial}"
    i = cmd.index("-monitor")
    cmd[i + 1] = f"unix:{sock},server=on,wait=off"
    p = subprocess.Popen(cmd + ["-S"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    t0 = time.monotonic()
    try:
        while not os.path.exists(sock):
            assert time.monotonic() - t0 < 10 and p.poll() is None, "QEMU did not start"
            time.sleep(0.05)
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.settimeout(timeout)

        def hmp(line):
            buf = b""
            if line:
                s.sendall(line.encode() + b"\n")
            while not buf.endswith(b"(qemu) "):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return buf

        hmp(None)
        hmp(f"pmemsave {ram[0]:#x} {ram[1]:#x} \"{before}\"")
        hmp("cont")
        while True:
            text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
            if until in text:
                break
            assert time.monotonic() - t0 < timeout, "timeout waiting for: " + until + "\n" + text
            time.sleep(0.1)
        hmp("stop")
        hmp(f"pmemsave {ram[0]:#x} {ram[1]:#x} \"{after}\"")
        s.sendall(b"quit\n")
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    return open(serial, errors="replace").read().replace("\r", ""), before, after


def ram_diff_pages(before, after, base, page=4096):
    """Physical addresses of the pages that differ between two dumps."""
    out = []
    with open(before, "rb") as a, open(after, "rb") as b:
        off = 0
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            if not x and not y:
                break
            if x != y:
                for i in range(0, max(len(x), len(y)), page):
                    if x[i:i + page] != y[i:i + page]:
                        out.append(base + off + i)
            off += 1 << 20
    return out


# ---- shared by the per-arch cache tests (test_*_cache.py) ----
def verdicts(r):
    """Every verdict line, verbatim (without the 'pcsc: ' prefix)."""
    keep = {s for s, _ in report_lines(r.lines)}
    return [l for l in r.lines if l.split(" ", 1)[0] in keep and not l.startswith("walk")]


def saved(live):
    """What the old kernel saved: every type 0 function (VFs included)."""
    return [f for f in live if f[4] in ("ep", "pf", "vf")]


def summary_of(r):
    s = summary(r.lines)
    assert s is not None, r.describe()
    return s


def walk_reads(machine):
    """cfg reads of the cache-less walk of this machine (a boot without cache)."""
    r = machine.boot()
    line = [l for l in r.lines if l.startswith("walk functions=")][0]
    return int(dict(kv.split("=") for kv in line.split()[1:])["cfg_reads"])
