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


def run_qemu(cmd, timeout=DEFAULT_TIMEOUT, stdin=None, cwd=None):
    """Run cmd (a QEMU command line) with a hard timeout. QEMU's stdout is
    the serial console. On timeout the whole process group is killed and
    rc is None."""
    t0 = time.monotonic()
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


def arm64_cmd(kernel=None, devices=(), dtb=None, extra=(), mem="1G", machine="virt"):
    """qemu-system-aarch64 -M virt -cpu max command line for kernel (the
    stub by default) with extra -device arguments (strings)."""
    cmd = [need_tool("qemu-system-aarch64"), "-M", machine, "-cpu", "max",
           "-m", mem, "-nographic", "-no-reboot", "-monitor", "none",
           "-serial", "stdio", "-kernel", kernel or need(ARM64_STUB)]
    if dtb:
        cmd += ["-dtb", dtb]
    for d in devices:
        cmd += ["-device", d]
    cmd += list(extra)
    return cmd


def arm64_dumpdtb(tmp_path, devices=(), mem="1G", machine="virt", name="virt.dtb"):
    """The DTB QEMU would give this machine (-machine dumpdtb=...)."""
    out = os.path.join(str(tmp_path), name)
    cmd = arm64_cmd(devices=devices, mem=mem,
                    machine=f"{machine},dumpdtb={out}")
    r = run_qemu(cmd, timeout=30)
    assert os.path.exists(out), r.describe()
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
