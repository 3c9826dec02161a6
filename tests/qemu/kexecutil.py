# tests/qemu/kexecutil.py - the real kexec chain (issue 9): Debian kernel -> pcsc-kexec -> wrapped stub -> Debian kernel,
# driven live over the serial console and QMP. Never writes outside the test's tmp dir and $O/{kexec,deps/kernels}.
"""Helpers of tests/qemu/test_kexec.py (both arches).

The first kernel's /init (FIRST_INIT) captures the live config space with
the guest's own static pcsctool, loads the wrapped image with pcsc-kexec
(tests/kexec/pcsc-kexec.c: the capture placed where it was laid out and
announced as a KHO kernel would), prints "kexec-test: ready" and waits for
a line on the console; the test may device_del over QMP first, then sends
"go" and the guest kexecs. Every wait has a deadline: a hang is a failure.
"""
import json
import os
import socket
import subprocess
import threading
import time

from linuxguest import linux_initramfs, newc_archive
from qemurun import need, need_tool, O, TOP
from stubout import pcsc_lines

CHAIN_TIMEOUT = 280          # issue 9: each chain under 5 minutes under TCG


def kexec_tools(arch):
    """tests/kexec/build.sh: (pcsc-kexec, pcsctool), static, for the guest arch."""
    r = subprocess.run([os.path.join(TOP, "tests", "kexec", "build.sh"), arch, O],
                       capture_output=True, text=True, cwd=TOP)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.split()


def debian_kernel(arch):
    """tests/kexec/kernels.sh: (kernel Image/bzImage, config, busybox-static)."""
    r = subprocess.run([os.path.join(TOP, "tests", "kexec", "kernels.sh"), arch, O],
                       capture_output=True, text=True, cwd=TOP)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.split()


def kernel_config(config):
    """CONFIG_* -> value ('y', 'm', or None when 'is not set')."""
    out = {}
    for line in open(config):
        line = line.strip()
        if line.startswith("CONFIG_") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
        elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
            out[line[2:-len(" is not set")]] = None
    return out


def pcsctool_wrap(arch, stub, nxt, out):
    """`pcsctool wrap --arch ARCH STUB NEXT -o OUT`, its CompletedProcess."""
    return subprocess.run([need(os.path.join(O, "host", "pcsctool")), "wrap", "--arch", arch,
                           str(stub), str(nxt), "-o", str(out)], capture_output=True, text=True)


def wrap(arch, kernel, out):
    """pcsctool_wrap of this build's stub for ARCH; OUT, which it must make."""
    stub = need(os.path.join(O, "arm64", "pcsc-stub.bin") if arch == "arm64"
                else os.path.join(O, "x86_64", "pcsc-stub.elf"))
    r = pcsctool_wrap(arch, stub, kernel, out)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


FIRST_INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
echo "kexec-test: first kernel up"
/bin/pcsctool capture --sysfs /sys --out /tmp/cap {capture_args} || echo "kexec-test: capture failed"
/bin/pcsctool show /tmp/cap | /bin/busybox sed 's/^show: /totals: /; s/^/kexec-test: show /'
{file_load}
{load} || {{ echo "kexec-test: load failed"; /bin/busybox poweroff -f; }}
echo "kexec-test: ready"
read -r go
echo "kexec-test: got $go"
{exec_cmd}
echo "kexec-test: kexec failed"
/bin/busybox poweroff -f
"""


def host_kexec_entries():
    """Debian's kexec (kexec-tools, the host's: x86_64 only) and the shared
    objects ldd names, as newc entries under their own paths."""
    import re
    kexec = need_tool("kexec")
    ents, dirs = [("sbin", 0o040755, None, None),
                  ("sbin/kexec", 0o100755, open(kexec, "rb").read(), None)], set()
    libs = re.findall(r"(/\S+\.so[.\d]*) \(", subprocess.run(
        ["ldd", kexec], capture_output=True, text=True).stdout)
    assert libs, "ldd found no libraries for " + kexec
    for lib in libs:
        parts = lib.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                ents.append((d, 0o040755, None, None))
        with open(os.path.realpath(lib), "rb") as fh:
            ents.append((lib.strip("/"), 0o100755, fh.read(), None))
    return ents


def kexec_initramfs(tmp_path, busybox, image, stage2_initrd, append):
    """The old kernel's initramfs for Debian's own kexec (host_kexec_entries):
    busybox, the image to kexec and the next kernel's initramfs. /init loads
    the image with kexec_file_load (kexec -s; kexec_load as a fallback) and
    executes it."""
    init = f"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
echo "old-kernel: kexec_file_load"
/sbin/kexec -s -l /image --initrd=/next.cpio.gz --append="{append}" || {{
  echo "old-kernel: kexec_load"
  /sbin/kexec -l /image --initrd=/next.cpio.gz --append="{append}"
}}
echo "old-kernel: kexec -e"
/sbin/kexec -e
echo "old-kernel: kexec failed"
/bin/busybox poweroff -f
""".encode()
    with open(busybox, "rb") as fb, open(image, "rb") as fi, open(stage2_initrd, "rb") as fs:
        ents = [("dev", 0o040755, None, None), ("dev/console", 0o020600, None, (5, 1)),
                ("bin", 0o040755, None, None), ("proc", 0o040755, None, None),
                ("sys", 0o040755, None, None),
                ("bin/busybox", 0o100755, fb.read(), None)] + host_kexec_entries() + [
                ("image", 0o100644, fi.read(), None),
                ("next.cpio.gz", 0o100644, fs.read(), None),
                ("init", 0o100755, init, None)]
    out = os.path.join(str(tmp_path), "kexec.cpio.gz")
    with open(out, "wb") as f:
        f.write(newc_archive(ents))
    return out


def first_initramfs(tmp_path, arch, busybox, image, append, capture_args="", try_file=True,
                    file_only=False, kexec_e=False):
    """The first kernel's initramfs: busybox-static, static pcsctool and
    pcsc-kexec, the wrapped image, the next kernel's initramfs (conftest's
    linux_initramfs: lists /sys/bus/pci, prints 'linux-pci: done', powers
    off) and FIRST_INIT. try_file: first try kexec_file_load(2) on the same
    image and print its result (the route the brief names; see kexec.md).
    file_only: load with kexec_file_load(2) alone (no cache reaches the stub).
    kexec_e: execute with Debian's `kexec -e` (x86_64 host binary) instead
    of `pcsc-kexec exec`, as docs/kexec.md tells users."""
    loader, pcsctool = kexec_tools(arch)
    stage2 = linux_initramfs(tmp_path, busybox)
    file_load = ""
    if try_file:
        file_load = (f'/bin/pcsc-kexec file /image --initrd /next.cpio.gz --append "{append}" '
                     '|| echo "kexec-test: kexec_file_load unusable, kexec_load instead"')
    load = f'/bin/pcsc-kexec load /image --initrd /next.cpio.gz --append "{append}" --cache /tmp/cap'
    if file_only:
        file_load = ""
        load = f'/bin/pcsc-kexec file /image --initrd /next.cpio.gz --append "{append}"'
    exec_cmd = "/sbin/kexec -e" if kexec_e else "/bin/pcsc-kexec exec"
    init = FIRST_INIT.format(capture_args=capture_args, append=append,
                             file_load=file_load, load=load, exec_cmd=exec_cmd).encode()

    def f(p):
        with open(p, "rb") as fh:
            return fh.read()
    ents = [("dev", 0o040755, None, None), ("dev/console", 0o020600, None, (5, 1)),
            ("bin", 0o040755, None, None), ("proc", 0o040755, None, None),
            ("sys", 0o040755, None, None), ("tmp", 0o041777, None, None),
            ("bin/busybox", 0o100755, f(busybox), None),
            ("bin/pcsctool", 0o100755, f(pcsctool), None),
            ("bin/pcsc-kexec", 0o100755, f(loader), None),
            ("image", 0o100644, f(image), None),
            ("next.cpio.gz", 0o100644, f(stage2), None),
            ("init", 0o100755, init, None)]
    if kexec_e:
        ents += host_kexec_entries()
    out = os.path.join(str(tmp_path), "first.cpio.gz")
    with open(out, "wb") as fh:
        fh.write(newc_archive(ents))
    return out


class Chain:
    """One QEMU run, serial console on stdin/stdout, QMP on a unix socket."""

    def __init__(self, cmd, tmp_path, timeout=CHAIN_TIMEOUT):
        self.qmp_path = os.path.join(str(tmp_path), "qmp.sock")
        self.cmd = list(cmd) + ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        self.deadline = time.monotonic() + timeout
        self.t0 = time.monotonic()
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.qmp = None
        self.events = []

    def _read(self):
        while True:
            b = self.p.stdout.read1(4096)
            if not b:
                return
            with self.lock:
                self.buf += b

    @property
    def out(self):
        with self.lock:
            return self.buf.decode("utf-8", "replace").replace("\r", "")

    def wait_for(self, text):
        """Block until text is on the console; False at the deadline or
        when QEMU exited without printing it."""
        while time.monotonic() < self.deadline:
            if text in self.out:
                return True
            if self.p.poll() is not None:
                self.reader.join(2)
                return text in self.out
            time.sleep(0.2)
        return False

    def send(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def _qmp_connect(self):
        if self.qmp:
            return
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(max(1.0, self.deadline - time.monotonic()))
        s.connect(self.qmp_path)
        self.qmp = s.makefile("rw")
        json.loads(self.qmp.readline())                  # greeting
        self.qmp_cmd("qmp_capabilities")

    def qmp_cmd(self, name, **args):
        self._qmp_connect()
        self.qmp.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.qmp.flush()
        while True:
            m = json.loads(self.qmp.readline())
            if "event" in m:
                self.events.append(m)
                continue
            return m

    def wait_event(self, event, **data):
        """Wait for a QMP event whose data includes data (e.g. device=ID)."""
        self._qmp_connect()
        while time.monotonic() < self.deadline:
            for e in self.events:
                if e.get("event") == event and all(e.get("data", {}).get(k) == v
                                                   for k, v in data.items()):
                    return e
            self.qmp_cmd("query-status")       # pumps pending events
            time.sleep(0.5)
        return None

    def finish(self):
        """Wait for QEMU to exit by itself (the second kernel powers off) until
        the deadline, else kill it. Returns (rc or None, seconds)."""
        try:
            rc = self.p.wait(timeout=max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, 9)
            self.p.wait()
            rc = None
        self.reader.join(5)
        self.err = self.p.stderr.read().decode("utf-8", "replace")
        self.seconds = time.monotonic() - self.t0
        return rc

    def kill(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, 9)
            self.p.wait()

    @property
    def lines(self):
        return pcsc_lines(self.out)

    def describe(self):
        tail = "\n".join(self.out.splitlines()[-60:])
        return (f"cmd: {' '.join(self.cmd)}\n--- serial (tail) ---\n{tail}\n"
                f"--- stderr ---\n{getattr(self, 'err', '')[-2000:]}")


def show_entries(out):
    """'kexec-test: show SBDF VVVV:DDDD ...' lines of the first kernel -> [SBDF]."""
    ents = []
    for line in out.splitlines():
        if line.startswith("kexec-test: show 0"):
            ents.append(line.split()[2])
    return ents


def run_chain(cmd, tmp_path, unplug=None):
    """Boot, wait for the loaded chain, optionally device_del the device id
    unplug (waiting for QEMU's DEVICE_DELETED: the guest released it), then
    let the guest kexec and wait for the second kernel to power off."""
    c = Chain(cmd, tmp_path)
    try:
        ok = c.wait_for("kexec-test: ready")
        assert ok, "first kernel never loaded the chain\n" + c.describe()
        c.ready_at = time.monotonic() - c.t0
        if unplug:
            r = c.qmp_cmd("device_del", id=unplug)
            assert "error" not in r, r
            e = c.wait_event("DEVICE_DELETED", device=unplug)
            assert e, "guest never released " + unplug + "\n" + c.describe()
        c.send("go")
        c.rc = c.finish()
    finally:
        c.kill()
    return c
