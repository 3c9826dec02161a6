# tests/qemu/qemurun.py - run QEMU with a hard timeout and capture its serial console; guest RAM snapshots
"""Every boot goes through run_qemu(), which kills QEMU at a hard timeout (a
hang is a failure, never a pass) and returns the serial output. Tests then
assert on the "pcsc: ..." lines (SPEC 3.3), parsed by stubout.py.
"""
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field

import pytest

from stubout import pcsc_lines


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


def only(*names):
    """The arch params of a test that exists on the arches named alone; one
    the run's $ARCHES leaves out is skipped with that reason."""
    return [a if a in arches() else
            pytest.param(a, marks=pytest.mark.skip(reason=f"{a} not in $ARCHES"))
            for a in ("arm64", "x86_64") if a in names]


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
