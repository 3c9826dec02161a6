# tests/qemu/ramcheck.py - guest RAM integrity across the stub: QMP pmemsave before the guest runs and once the
# next kernel has taken over, then the first changed byte outside the ranges the stub may write. Never edits a dump.
"""RAM integrity helpers (issue 8 point 2).

run_snapshots() starts QEMU stopped (-S) with a QMP socket and the serial
console in a file, saves guest RAM, lets the guest run until the serial
output shows a marker (the next kernel's first line), stops it, saves RAM
again and quits. first_change() then finds the first byte that differs
outside the allowed ranges (the pcsc FDT pages, the stub's own image with
its stack and BSS, and whatever else the caller names with a reason), and
assert_ram_intact() fails with that address.

A dump is compared in 1 MiB slices (memcmp speed); only a slice that
differs is narrowed down, by bisection, to its first differing byte.

checked_run() is what conftest.run_qemu uses for every stub boot
(PCSC_RAMCHECK=0 turns it off): QEMU starts stopped with a QMP socket and
a gdbstub; a breakpoint at the stub's first instruction (arm64: the
`-device loader` address of the stub, or RAM + 2 MiB for `-kernel`; x86:
pvh_start32 at 1 MiB, also reached through the test old kernel and
through a bzImage wrapping the stub) takes the 'before' dump, so firmware
and the old-kernel payload are not counted; breakpoints at arch_poweroff
and at the jump (arm64_jump_next, x86_jump64) take the 'after' dump; then
the gdbstub detaches and QEMU ends as it would have (its exit status is
the test's). What the stub may write is found from its own console lines
and the 'before' dump (stub_writable). Not checked: boots where the stub
is not entered at a known address (EFI apps, Debian kernels running kexec
inside the guest, tests with their own Popen), RAM past the first 2 GiB
(DUMP_CAP).
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time


class QMP:
    """One QMP connection (JSON lines over a unix socket)."""

    def __init__(self, path, timeout=30):
        self.s = _connect(path, timeout)
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())                  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise AssertionError(f"QMP closed during {name}")
            rep = json.loads(line)
            if "error" in rep:
                raise AssertionError(f"QMP {name}: {rep['error']}")
            if "return" in rep:
                return rep["return"]

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def _connect(path, timeout):
    """A unix socket connected to path; QEMU creates the file before it
    listens (and may still be starting), so retry for up to 10 s."""
    t0 = time.monotonic()
    while True:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except (ConnectionRefusedError, FileNotFoundError):
            s.close()
            if time.monotonic() - t0 > 10:
                raise
            time.sleep(0.02)


def _drop(cmd, opt, value):
    """cmd without the pair (opt, value)."""
    out, i = [], 0
    while i < len(cmd):
        if cmd[i] == opt and i + 1 < len(cmd) and cmd[i + 1] == value:
            i += 2
            continue
        out.append(cmd[i])
        i += 1
    return out


class GDB:
    """The least of QEMU's gdbstub (GDB remote serial protocol) needed to
    stop the guest at one address: x86 firmware (SeaBIOS and the PVH option
    ROM) runs between QEMU's reset and the stub, so the 'before' dump is
    taken at the stub's first instruction instead."""

    def __init__(self, path, timeout=30):
        self.s = _connect(path, timeout)
        self.buf = b""
        self.cmd("qSupported:multiprocess+;swbreak+;hwbreak+")

    def _packet(self):
        while True:
            i = self.buf.find(b"$")
            j = self.buf.find(b"#", i + 1) if i >= 0 else -1
            if i >= 0 and j >= 0 and len(self.buf) >= j + 3:
                data = self.buf[i + 1:j]
                self.buf = self.buf[j + 3:]
                self.s.sendall(b"+")
                return data.decode()
            chunk = self.s.recv(4096)
            if not chunk:
                raise AssertionError("gdbstub closed")
            self.buf += chunk

    def cmd(self, data, reply=True):
        pkt = data.encode()
        self.s.sendall(b"$" + pkt + b"#%02x" % (sum(pkt) & 0xff))
        return self._packet() if reply else None

    def detach(self):
        """Detach (multiprocess form): the guest runs on. QEMU may close
        the connection as soon as it has read the packet: not an error."""
        try:
            self.cmd("D;1")
        except (OSError, AssertionError):
            pass

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def run_snapshots(cmd, tmp_path, ram, until, timeout=30, give_up=("pcsc: poweroff ",),
                  break_at=None):
    """Run the QEMU command line cmd stopped at reset, dump each (start,
    size) of ram to before-N.bin, run until the serial output contains
    until, dump again to after-N.bin, quit. give_up: serial texts after
    which the marker can no longer come (the stub powered off instead of
    jumping); the run then ends at once, with no 'after' dumps.

    break_at: take the 'before' dumps when the guest first executes that
    address (a gdbstub breakpoint), not at reset.

    Returns dict(serial=text, reached=bool, before=[paths], after=[paths]).
    A QEMU that never shows the marker is killed at timeout (reached=False).
    """
    d = str(tmp_path)
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    sock = os.path.join(d, f"qmp-{tag}.sock")
    serial = os.path.join(d, f"serial-{tag}.txt")
    cmd = list(cmd)
    cmd[cmd.index("-serial") + 1] = f"file:{serial}"
    # isa-debug-exit would let the x86 next kernel end QEMU before the
    # second dump; without it the fake kernel's exit write is ignored and it halts.
    cmd = _drop(cmd, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
    cmd += ["-qmp", f"unix:{sock},server=on,wait=off", "-S"]
    gsock = os.path.join(d, f"gdb-{tag}.sock")
    if break_at is not None:
        cmd += ["-chardev", f"socket,path={gsock},server=on,wait=off,id=gdb0",
                "-gdb", "chardev:gdb0"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    out = {"serial": "", "reached": False, "before": [], "after": [], "cmd": cmd}
    t0 = time.monotonic()
    q = None
    try:
        while not os.path.exists(sock):
            if p.poll() is not None or time.monotonic() - t0 > 10:
                raise AssertionError("QEMU did not start: " + " ".join(cmd) + "\n"
                                     + p.stderr.read().decode(errors="replace"))
            time.sleep(0.02)
        q = QMP(sock, timeout=timeout)
        g = None
        if break_at is not None:
            while not os.path.exists(gsock):
                assert time.monotonic() - t0 < 10, "no gdbstub socket"
                time.sleep(0.02)
            g = GDB(gsock, timeout=timeout)
            assert g.cmd(f"Z0,{break_at:x},1") == "OK", "gdbstub refused the breakpoint"
            stop = g.cmd("vCont;c")
            assert stop.startswith(("T", "S")), f"gdbstub: {stop}"
            assert g.cmd(f"z0,{break_at:x},1") == "OK"
        dump_ram(q, ram, d, f"before-{tag}", out["before"])
        if g:
            g.detach()
            g.close()
        else:
            q.cmd("cont")
        run_to_line(out, p, q, serial, until, give_up, t0, timeout, ram, d, tag)
    finally:
        end_qemu(p, q)
    time.sleep(0)
    out["serial"] = read_serial(serial)
    out["seconds"] = time.monotonic() - t0
    return out


def end_qemu(p, *conns):
    """Close each of conns (QMP, GDB or None), then kill QEMU p's process
    group if it still runs, and reap it."""
    for x in conns:
        if x:
            x.close()
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def read_serial(serial):
    """The serial output file's text ("" when QEMU never wrote it), CRs dropped."""
    return (open(serial, errors="replace").read() if os.path.exists(serial)
            else "").replace("\r", "")


def dump_ram(q, ram, d, prefix, files):
    """pmemsave each (start, size) of ram through QMP q to d/PREFIX-N.bin,
    appending each path to files as it is written."""
    for n, (a, size) in enumerate(ram):
        f = os.path.join(d, f"{prefix}-{n}.bin")
        q.cmd("pmemsave", val=a, size=size, filename=f)
        files.append(f)


def run_to_line(out, p, q, serial, until, give_up, t0, timeout, ram, d, tag):
    """The guest of QEMU p (QMP q) running: wait until the serial file
    shows the whole line holding until (out["reached"]), a give_up text,
    QEMU's exit, or timeout seconds from t0; when reached, stop the guest
    and dump ram to d/after-TAG-N.bin (out["after"]); then quit QEMU and
    wait for it (run_snapshots, faultinject.run_snapshots_injected)."""
    while True:
        text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
        i = text.find(until)
        if i >= 0 and "\n" in text[i:]:          # the whole line is out
            out["reached"] = True
            break
        if any(x in text for x in give_up) or p.poll() is not None:
            break
        if time.monotonic() - t0 > timeout:
            break
        time.sleep(0.02)
    if out["reached"]:
        q.cmd("stop")
        dump_ram(q, ram, d, f"after-{tag}", out["after"])
    try:
        q.cmd("quit")
    except (AssertionError, OSError, ValueError):
        pass
    p.wait(timeout=10)


def _first_diff(x, y):
    """Index of the first differing byte of two equal-length bytes (bisection)."""
    lo, hi = 0, len(x)
    while hi - lo > 64:
        mid = (lo + hi) // 2
        if x[lo:mid] != y[lo:mid]:
            hi = mid
        else:
            lo = mid
    for i in range(lo, hi):
        if x[i] != y[i]:
            return i
    return None


def _holes(start, end, allowed):
    """Sub-ranges of [start, end) outside every allowed (addr, size)."""
    cur = [(start, end)]
    for a, n, _ in allowed:
        nxt = []
        for s, e in cur:
            if a + n <= s or a >= e:
                nxt.append((s, e))
                continue
            if s < a:
                nxt.append((s, a))
            if a + n < e:
                nxt.append((a + n, e))
        cur = nxt
    return cur


def first_change(before, after, base, allowed=()):
    """First guest-physical address whose byte differs between the dumps
    before and after (both starting at base), outside every allowed
    (addr, size, why). Returns (addr, old, new) or None."""
    step = 1 << 20
    with open(before, "rb") as a, open(after, "rb") as b:
        assert os.fstat(a.fileno()).st_size == os.fstat(b.fileno()).st_size, "dump sizes differ"
        off = 0
        while True:
            x, y = a.read(step), b.read(step)
            if not x:
                return None
            if x != y:
                for s, e in _holes(base + off, base + off + len(x), allowed):
                    xs, ys = x[s - base - off:e - base - off], y[s - base - off:e - base - off]
                    if xs != ys:
                        i = _first_diff(xs, ys)
                        return (s + i, xs[i], ys[i])
            off += len(x)


def changed_pages(before, after, base, page=4096):
    """Every page (guest-physical address) that differs: for diagnostics."""
    out = []
    with open(before, "rb") as a, open(after, "rb") as b:
        off = 0
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            if not x:
                return out
            if x != y:
                for i in range(0, len(x), page):
                    if x[i:i + page] != y[i:i + page]:
                        out.append(base + off + i)
            off += len(x)


def assert_ram_intact(snap, ram, allowed, must_change=()):
    """Fail with the first differing address outside allowed (list of
    (addr, size, why)) in any dumped range. must_change: (addr, size, why)
    ranges that must show a difference (proves the dumps are real)."""
    assert snap["after"], "no 'after' dump: the next kernel was never reached"
    for (base, _), bf, af in zip(ram, snap["before"], snap["after"]):
        ch = first_change(bf, af, base, allowed)
        if ch:
            pages = changed_pages(bf, af, base)
            where = [f"{p:#x}" for p in pages if not any(a <= p < a + n for a, n, _ in allowed)]
            raise AssertionError(
                f"RAM changed at {ch[0]:#x} ({ch[1]:#04x} -> {ch[2]:#04x}), outside the "
                f"ranges the stub may write {[(hex(a), hex(n), w) for a, n, w in allowed]}; "
                f"changed pages outside them: {where[:16]}")
    for a, n, why in must_change:
        hit = False
        for (base, size), bf, af in zip(ram, snap["before"], snap["after"]):
            if base <= a < base + size:
                with open(bf, "rb") as x, open(af, "rb") as y:
                    x.seek(a - base)
                    y.seek(a - base)
                    hit = hit or x.read(n) != y.read(n)
        assert hit, f"{why} at {a:#x}+{n:#x} did not change: the dumps are not what they claim"
    for f in snap["before"] + snap["after"]:
        os.unlink(f)


# --------------------------------------------- every QEMU test: checked_run --
# run_qemu (conftest.py) hands a stub boot here: the guest is stopped by
# gdbstub breakpoints at the stub's first instruction ('before') and at its
# last calls, arch_poweroff and the jump to the next kernel ('after'); RAM
# is dumped at both and compared outside what the stub may write.

_SYMS = {}


def _mem_bytes(v):
    v = v.strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if v[-1:] in mult:
        return int(float(v[:-1]) * mult[v[-1]])
    if v.endswith("B") and v[-2:-1] in mult:
        return int(float(v[:-2]) * mult[v[-2]])
    return int(v) << 20


def _arg(cmd, opt):
    return cmd[cmd.index(opt) + 1] if opt in cmd else None


def stub_symbols(arch, O):
    """{name: address} of the stub ELF's entry and exit functions
    (arm64: offsets from the image start; x86_64: absolute)."""
    if arch == "arm64":
        elf, nm = os.path.join(O, "arm64", "pcsc-stub.elf"), "aarch64-linux-gnu-nm"
    else:
        elf, nm = os.path.join(O, "x86_64", "pcsc-stub.elf"), "nm"
    # keyed by the ELF's mtime: a rebuild during a long run moves them
    key = (arch, O, os.path.getmtime(elf) if os.path.exists(elf) else None)
    if key not in _SYMS:
        out = subprocess.run([nm, elf], capture_output=True, text=True).stdout
        syms = {}
        for line in out.splitlines():
            t = line.split()
            if len(t) == 3 and t[2] in ("arch_poweroff", "arm64_jump_next", "x86_jump64",
                                         "pvh_start32", "_head_start"):
                syms[t[2]] = int(t[0], 16)
        _SYMS[key] = syms
    return _SYMS[key]


def _is_arm64_stub(path):
    try:
        with open(path, "rb") as f:
            h = f.read(0x48)
    except OSError:
        return False
    return h[0x38:0x3c] == b"ARM\x64" and h[0x40:0x48] == b"PCSCNEXT"


def _is_x86_stub(path, O):
    """The stub's ELF, the test old kernel (which copies the stub to 1 MiB
    and enters it there), or a bzImage whose protected-mode part is the
    stub (descriptor PCSCX86H at +0x100): its code runs from 1 MiB."""
    if os.path.abspath(path) == os.path.abspath(os.path.join(O, "x86_64", "pcsc-stub.elf")):
        return True
    if os.path.basename(path) == "x86payload.elf":
        return True
    try:
        with open(path, "rb") as f:
            b = f.read(0x10000)
    except OSError:
        return False
    if b[0x202:0x206] != b"HdrS":
        return False
    pm = ((b[0x1f1] or 4) + 1) * 512
    return b[pm + 0x100:pm + 0x108] == b"PCSCX86H"


# At most this much guest RAM is dumped per snapshot (twice per boot, in
# /dev/shm): a 5 GiB guest is checked in its first 2 GiB only.
DUMP_CAP = 2 << 30


def _cap(ram):
    out, left = [], DUMP_CAP
    for a, n in ram:
        if left <= 0:
            break
        out.append((a, min(n, left)))
        left -= min(n, left)
    return out


def plan(cmd, O):
    """How to check this QEMU command line, or None when it is not a stub
    boot this helper knows where to stop (EFI apps, Linux guests running
    kexec, several serial ports...)."""
    if not cmd or cmd.count("-serial") != 1 or _arg(cmd, "-serial") != "stdio":
        return None
    if "-S" in cmd or "-gdb" in cmd or "-s" in cmd or "-qmp" in cmd or "-bios" in cmd:
        return None
    if any(c.startswith(("if=pflash", "file=fat:")) for c in cmd):
        return None
    mem = _mem_bytes(_arg(cmd, "-m") or "128M")
    exe = os.path.basename(cmd[0])
    kernel = _arg(cmd, "-kernel")
    if exe == "qemu-system-aarch64":
        syms = stub_symbols("arm64", O)
        if "arch_poweroff" not in syms or "arm64_jump_next" not in syms:
            return None
        entries = []
        for i, c in enumerate(cmd):
            if c == "-device" and cmd[i + 1].startswith("loader,file="):
                kv = dict(x.split("=", 1) for x in cmd[i + 1].split(",") if "=" in x)
                if _is_arm64_stub(kv.get("file", "")):
                    entries.append(int(kv["addr"], 0))
        if not entries and kernel and _is_arm64_stub(kernel):
            with open(kernel, "rb") as f:
                toff = struct.unpack_from("<Q", f.read(16), 8)[0]
            # QEMU's arm64 Image load: RAM + text_offset, 2 MiB when it is 0
            entries = [0x40000000 + (toff or 0x200000)]
        if not entries:
            return None
        return {"arch": "arm64", "bplen": 4, "entries": entries, "ram": _cap([(0x40000000, mem)]),
                "exits": [syms["arch_poweroff"], syms["arm64_jump_next"]]}
    if exe == "qemu-system-x86_64":
        syms = stub_symbols("x86_64", O)
        if not kernel or not {"arch_poweroff", "x86_jump64", "pvh_start32"} <= set(syms):
            return None
        if not _is_x86_stub(kernel, O):
            return None
        low = mem if mem < 0xb0000000 else 0x80000000
        ram = [(0, 0xa0000), (0x100000, low - 0x100000)]
        if mem > low:
            ram.append((1 << 32, mem - low))
        return {"arch": "x86_64", "entries": [syms["pvh_start32"]], "ram": _cap(ram),
                "exits": [syms["arch_poweroff"], syms["x86_jump64"]],
                "append": _arg(cmd, "-append") or ""}
    return None


def _dump_read(snap_files, ram, addr, n):
    for (base, size), f in zip(ram, snap_files):
        if base <= addr and addr + n <= base + size:
            with open(f, "rb") as fh:
                fh.seek(addr - base)
                return fh.read(n)
    return None


def strict_bitmaps(pcsc_fdt):
    """Strict mode clears bits of each entry's cached bitmap (struct
    pcsc_data: cfg_space[S], cachable[S/8], cached[S/8]) in place: those
    S/8 bytes of every entry, for S = 4096 and 256 (docs/abi.md)."""
    import hostile
    out = []
    for (node, prop), (off, ln) in hostile.fdt_props(pcsc_fdt).items():
        if prop == "da" and ln == 8:
            da = struct.unpack_from("<Q", pcsc_fdt, off)[0]
            for S in (4096, 256):
                out.append((da + S + S // 8, S // 8, f"strict: cached bitmap of {node[1:]}"))
    return out


def _elf_memsz(path):
    """End of the last PT_LOAD (memsz) minus the first one's address: the
    footprint of the stub ELF, BSS and stack included."""
    with open(path, "rb") as f:
        h = f.read(64)
        phoff, = struct.unpack_from("<Q", h, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", h, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    loads = [struct.unpack_from("<IIQQQQQ", ph, i * phentsize) for i in range(phnum)]
    loads = [(l[4], l[6]) for l in loads if l[0] == 1]            # (paddr, memsz)
    return max(a + n for a, n in loads) - min(a for a, _ in loads)


def stub_footprint(p, before, base, O):
    """(addr, size) of the stub copy the check stopped at, from the image
    itself: arm64 the Image header's image_size at base (in the 'before'
    dump), x86 the ELF's PT_LOAD span from 1 MiB (the PVH copy)."""
    if p["arch"] == "arm64":
        hdr = _dump_read(before, p["ram"], base, 64)
        return (base, struct.unpack_from("<Q", hdr, 0x10)[0]) if hdr else None
    return (0x100000, _elf_memsz(os.path.join(O, "x86_64", "pcsc-stub.elf")))


# The stub's lines when it takes the KHO root out of the handover (a cache
# rejected whose root it could not read at all; docs/security.md) and when
# x86 retypes a SETUP_KEXEC_KHO entry after the first: without "pcsc: ".
KHO_UNPLUGGED = "KHO root unreadable: unplugged"
# arm64, at discovery: a /chosen linux,kho-fdt it cannot parse (wrong length
# for the root's cells, cells past 64 bits), NOPed with linux,kho-scratch.
KHO_MALFORMED = "dt chosen linux,kho-fdt malformed: unplugged"
KHO_SECOND_DROPPED = "setup_data second KHO entry dropped: success"
# x86: every line where the stub retypes or relinks a setup_data node (a
# short or second KHO entry dropped, the list cut at a loop, past 64 nodes
# or at a node it cannot read): "setup_data <what>: <strerror>".
SETUP_DATA_EDITS = ("setup_data short KHO entry dropped", "setup_data second KHO entry dropped",
                    "setup_data node unreadable: list cut",
                    "setup_data over 64 nodes or a loop: list cut")
SETUP_NONE, SETUP_KEXEC_KHO = 0, 10
BP_SETUP_DATA = 0x250
DTB_KHO_PROPS = ("linux,kho-fdt", "linux,kho-scratch")


def dtb_chosen(dtb):
    """The path of the node the stub (and Linux) takes for /chosen in the
    DTB bytes dtb: "/chosen", else "/chosen@0" (lib dt_chosen_node), each
    looked up as libfdt's fdt_path_offset does, where a name without a
    unit address also matches the first root child named "chosen@...";
    None when there is neither."""
    import hostile
    kids = [p[1] for p, no, _, _ in hostile.fdt_walk(dtb) if no is None and len(p) == 2]
    for want in ("chosen", "chosen@0"):
        hit = next((k for k in kids if k == want or ("@" not in want and
                                                    k.startswith(want + "@"))), None)
        if hit is not None:
            return "/" + hit
    return None


def dtb_kho_records(dtb):
    """[(start, end, name)]: the byte range in the DTB bytes dtb of every
    linux,kho-fdt and linux,kho-scratch record of its /chosen (dtb_chosen;
    every copy of a name: FDT_PROP token, length, name offset, data padded
    to 4), what the stub's fdt_nop_property turns into FDT_NOP tokens."""
    import hostile
    chosen = dtb_chosen(dtb)
    if chosen is None:
        return []
    stroff = struct.unpack_from(">I", dtb, 12)[0]
    out = []
    for path, no, off, ln in hostile.fdt_walk(dtb):
        if no is None or "/" + "/".join(x for x in path if x) != chosen:
            continue
        name = dtb[stroff + no:dtb.index(b"\0", stroff + no)].decode(errors="replace")
        if name in DTB_KHO_PROPS:
            out.append((off - 12, off + ((ln + 3) & ~3), name))
    return sorted(out, key=lambda r: (DTB_KHO_PROPS.index(r[2]), r[0]))


def dtb_read(read, dtb):
    """The DTB at guest address dtb (read(addr, n) -> bytes or None), its
    totalsize long (at most 2 MiB); None when its header is not there."""
    hdr = read(dtb, 40)
    if not hdr or len(hdr) < 40 or struct.unpack_from(">I", hdr, 0)[0] != 0xd00dfeed:
        return None
    return read(dtb, min(struct.unpack_from(">I", hdr, 4)[0], 2 << 20))


def setup_data_nodes(read, bp):
    """[(address, next, type, len)] of boot_params bp's setup_data list, in
    order (read(addr, n) -> bytes or None; at most 64 nodes, as the stub)."""
    out = []
    h = read(bp + BP_SETUP_DATA, 8)
    node = struct.unpack("<Q", h)[0] if h and len(h) == 8 else 0
    while node and len(out) < 64:
        h = read(node, 16)
        if not h or len(h) < 16:
            break
        nxt, typ, ln = struct.unpack("<QII", h)
        out.append((node, nxt, typ, ln))
        node = nxt
    return out


def unplug_writable(arch, lines, read, dtb=None, bp=None):
    """(addr, size, why) ranges the stub may write to keep a KHO root out of
    the next kernel's hands, from its pcsc lines (prefix stripped) and RAM
    as it found it (read): on KHO_UNPLUGGED or KHO_MALFORMED (arm64
    alone), arm64 the /chosen (dtb_chosen) kho property records of the DTB
    at dtb (NOPed), x86 the type field of boot_params
    bp's first SETUP_KEXEC_KHO node (retyped SETUP_NONE); on
    KHO_SECOND_DROPPED (x86), the type field of every later one; on an
    unplug where the first KHO node is not where the stub may write, or any
    other SETUP_DATA_EDITS line, the header (link and type) of every node,
    as the stub relinks the list around what it cannot retype (exact bytes
    are the hostile tests' to check)."""
    out = []
    unplugged = KHO_UNPLUGGED in lines
    if arch == "arm64" and (unplugged or KHO_MALFORMED in lines) and dtb is not None:
        blob = dtb_read(read, dtb)
        for s, e, name in dtb_kho_records(blob) if blob else ():
            out.append((dtb + s, e - s, f"DTB /chosen {name} (NOPed: KHO unplugged)"))
    if arch in ("x86", "x86_64") and bp is not None:
        kho = [n[0] for n in setup_data_nodes(read, bp) if n[2] == SETUP_KEXEC_KHO]
        if unplugged and kho:
            out.append((kho[0] + 8, 4, "setup_data KHO type (SETUP_NONE: KHO unplugged)"))
        if KHO_SECOND_DROPPED in lines:
            out += [(a + 8, 4, "setup_data later KHO type (SETUP_NONE: dropped)")
                    for a in kho[1:]]
        if unplugged or any(l.startswith(SETUP_DATA_EDITS) for l in lines):
            out += [(n[0], 16, "setup_data node header (retyped or relinked)")
                    for n in setup_data_nodes(read, bp)]
    return out


def stub_writable(p, serial, before, footprint=None):
    """(addr, size, why) ranges the stub may write, from its own console
    lines and the 'before' dump (where the KHO root says the pcsc FDT is).
    footprint: the entered copy's (addr, size) from its image, allowed
    when no entry line names it (a quiet console, or one that lost its
    held lines)."""
    import re
    out = []
    for m in re.finditer(r"^pcsc: (?:arm64|x86_64) entry \S+ image (0x[0-9a-f]+)-(0x[0-9a-f]+)",
                         serial, re.M):
        a, b = int(m.group(1), 16), int(m.group(2), 16)
        out.append((a, b - a, "stub image+BSS+stack"))
    if footprint and not any(a == footprint[0] for a, _, _ in out):
        out.append((footprint[0], footprint[1], "stub image+BSS+stack (no entry line: from the image)"))
    m = re.search(r"^pcsc: kho fdt (0x[0-9a-f]+) size (0x[0-9a-f]+)", serial, re.M)
    if m:
        kho, ksize = int(m.group(1), 16), int(m.group(2), 16)
        if "pcsc: detached the pcsc subtree from the KHO FDT" in serial:
            out.append((kho & ~0xfff, (ksize + (kho & 0xfff) + 0xfff) & ~0xfff,
                        "KHO root FDT (pcsc child NOPed)"))
        try:
            blob = _dump_read(before, p["ram"], kho, min(ksize, 1 << 20))
            import hostile
            props = hostile.fdt_props(blob)
            if ("/pcsc", "blob-size") in props and \
                    "pcsc: detached the pcsc subtree from the KHO FDT" not in serial:
                # kho-v3+: the handover keeps blob-size true in the root
                out.append((kho & ~0xfff, (ksize + (kho & 0xfff) + 0xfff) & ~0xfff,
                            "KHO root FDT (pcsc blob-size updated)"))
            # kho-v1 names the subtree's blob "fdt", kho-v2+ "preserved-data"
            off, ln = props.get(("/pcsc", "fdt")) or props[("/pcsc", "preserved-data")]
            pf = struct.unpack_from("<Q", blob, off)[0] if ln == 8 else None
            hdr = _dump_read(before, p["ram"], pf, 8) if pf is not None else None
            if hdr and struct.unpack_from(">I", hdr, 0)[0] == 0xd00dfeed:
                total = struct.unpack_from(">I", hdr, 4)[0]
                out.append((pf & ~0xfff, ((pf & 0xfff) + total + 0xfff) & ~0xfff,
                            "pcsc FDT pages"))
                if re.search(r"^pcsc: mode strict$", serial, re.M):
                    out += strict_bitmaps(_dump_read(before, p["ram"], pf, min(total, 16 << 20)))
        except (KeyError, ValueError, TypeError, IndexError, struct.error):
            pass        # no usable KHO root: the stub cannot have patched a pcsc FDT
    lines = [l[len("pcsc: "):] for l in serial.splitlines() if l.startswith("pcsc: ")]

    def read(a, n):
        return _dump_read(before, p["ram"], a, n)
    if p["arch"] == "arm64":
        m = re.search(r"^pcsc: arm64 entry \S+ image \S+ dtb (0x[0-9a-f]+)", serial, re.M)
        if m:
            out += unplug_writable("arm64", lines, read, dtb=int(m.group(1), 16))
    if p["arch"] == "x86_64":
        m = re.search(r"pcsc\.boot_params=(0x[0-9a-f]+|\d+)", p.get("append", ""))
        if m:
            bp = int(m.group(1), 0)
            out.append((bp, 0x1000, "boot_params (next kernel header merged)"))
            out += unplug_writable("x86_64", lines, read, bp=bp)
        m = re.search(r"^pcsc: next kernel protocol \S+ at (0x[0-9a-f]+) init_size (0x[0-9a-f]+)",
                      serial, re.M)
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16), "next kernel placed by the stub"))
    return out


def start_stopped(cmd, prefix, tmpdir=None):
    """Start the QEMU command line cmd (one -serial) stopped at reset, its
    serial output, a QMP socket and a gdbstub in a new directory (under
    tmpdir, else /dev/shm when there is one). Returns (Popen, directory,
    QMP socket, gdb socket, serial file); the caller waits for the sockets
    and removes the directory."""
    import tempfile
    d = tempfile.mkdtemp(prefix=prefix, dir=tmpdir or ("/dev/shm" if os.path.isdir("/dev/shm")
                                                       else None))
    sock, gsock, serial = (os.path.join(d, n) for n in ("qmp.sock", "gdb.sock", "serial.txt"))
    c = list(cmd)
    c[c.index("-serial") + 1] = f"file:{serial}"
    c += ["-qmp", f"unix:{sock},server=on,wait=off", "-S",
          "-chardev", f"socket,path={gsock},server=on,wait=off,id=gdb0", "-gdb", "chardev:gdb0"]
    pr = subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, start_new_session=True)
    return pr, d, sock, gsock, serial


def checked_run(cmd, timeout, O, tmpdir=None, probe=()):
    """Run cmd like conftest.run_qemu, checking guest RAM across the stub.
    Returns (rc, timed_out, serial text, stderr text, report) where report
    is None when the stub's entry was never reached (nothing to check) or
    a dict {checked: True, allowed: [...], probe: {(addr, size): bytes}}
    (probe: those ranges of the 'after' dump, None where not dumped);
    raises AssertionError naming the first changed address outside what
    the stub may write."""
    p = plan(cmd, O)
    assert p, "checked_run: not a stub boot"
    t0 = time.monotonic()
    pr, d, sock, gsock, serial = start_stopped(cmd, "ramcheck-", tmpdir)
    report, failure, q, g = None, None, None, None
    before, after = [], []

    def left():
        return max(0.5, timeout - (time.monotonic() - t0))

    try:
        while not (os.path.exists(sock) and os.path.exists(gsock)):
            if pr.poll() is not None or time.monotonic() - t0 > 10:
                break
            time.sleep(0.02)
        if pr.poll() is None:
            q = QMP(sock, timeout=left())
            g = GDB(gsock, timeout=left())
            bk, bl = p.get("bpkind", 0), p.get("bplen", 1)
            for a in p["entries"]:
                g.cmd(f"Z{bk},{a:x},{bl}")
            stop = g.cmd("vCont;c")
            if stop.startswith(("T", "S")):
                base = p["entries"][0]
                if p["arch"] == "arm64":
                    regs = bytes.fromhex(g.cmd("g"))    # x0..x30, sp, pc, cpsr
                    base = struct.unpack_from("<Q", regs, 32 * 8)[0]
                    assert base in p["entries"], f"stopped at {base:#x}"
                for a in p["entries"]:
                    g.cmd(f"z{bk},{a:x},{bl}")
                dump_ram(q, p["ram"], d, "before", before)
                off = base if p["arch"] == "arm64" else 0
                exits = [off + x for x in p["exits"]]
                for a in exits:
                    g.cmd(f"Z{bk},{a:x},{bl}")
                stop = g.cmd("vCont;c")
                if stop.startswith(("T", "S")):
                    dump_ram(q, p["ram"], d, "after", after)
                    for a in exits:
                        g.cmd(f"z{bk},{a:x},{bl}")
            g.detach()
    except Exception as e:     # noqa: BLE001 - the guest ended before a stop, or a
        failure = e            # helper bug: no check; a guest left stopped is a timeout
    finally:
        for x in (g, q):
            if x:
                x.close()
    try:
        try:
            pr.wait(timeout=left())
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(pr.pid, signal.SIGKILL)
            pr.wait()
            timed_out = True
        err = pr.stderr.read().decode("utf-8", "replace")
        text = read_serial(serial)
        if before and after:
            allowed = stub_writable(p, text, before, stub_footprint(p, before, base, O))
            got = {(a, n): _dump_read(after, p["ram"], a, n) for a, n in probe}
            snap = {"before": before, "after": after}
            assert_ram_intact(snap, p["ram"], allowed)
            report = {"checked": True, "allowed": allowed, "probe": got}
        elif before and not timed_out and failure is None:
            report = {"checked": False, "why": "the stub never reached its exit"}
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return (None if timed_out else pr.returncode), timed_out, text, err, report
