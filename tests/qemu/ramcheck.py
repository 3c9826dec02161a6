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
"""
import json
import os
import signal
import socket
import subprocess
import time


class QMP:
    """One QMP connection (JSON lines over a unix socket)."""

    def __init__(self, path, timeout=30):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        self.s.connect(path)
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
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

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
            stop = g.cmd("c")
            assert stop.startswith(("T", "S")), f"gdbstub: {stop}"
            assert g.cmd(f"z0,{break_at:x},1") == "OK"
        for n, (a, size) in enumerate(ram):
            f = os.path.join(d, f"before-{tag}-{n}.bin")
            q.cmd("pmemsave", val=a, size=size, filename=f)
            out["before"].append(f)
        if g:
            g.cmd("D")                 # detach: the guest runs on
            g.close()
        else:
            q.cmd("cont")
        text = ""
        while True:
            text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
            i = text.find(until)
            if i >= 0 and "\n" in text[i:]:          # the whole line is out
                out["reached"] = True
                break
            if any(g in text for g in give_up) or p.poll() is not None:
                break
            if time.monotonic() - t0 > timeout:
                break
            time.sleep(0.02)
        if out["reached"]:
            q.cmd("stop")
            for n, (a, size) in enumerate(ram):
                f = os.path.join(d, f"after-{tag}-{n}.bin")
                q.cmd("pmemsave", val=a, size=size, filename=f)
                out["after"].append(f)
        try:
            q.cmd("quit")
        except (AssertionError, OSError, ValueError):
            pass
        p.wait(timeout=10)
    finally:
        if q:
            q.close()
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    time.sleep(0)
    out["serial"] = (open(serial, errors="replace").read() if os.path.exists(serial)
                     else "").replace("\r", "")
    out["seconds"] = time.monotonic() - t0
    return out


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
