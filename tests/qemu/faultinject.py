# tests/qemu/faultinject.py - change a stub boot from outside, through QEMU's gdbstub (ramcheck.GDB): stop once at an
# address, write registers or RAM there (a fault the stub itself has no hook for), run on. Never edits the build.
"""Fault injection for QEMU tests that prove a path no selftest may reach.

run_stopped_once(cmd, addr, packets) runs the QEMU command line cmd (one
-serial) started stopped (-S) with a gdbstub on a unix socket, breaks the
first time the guest executes addr, sends each of packets there (gdb
remote protocol writes, each answered "OK": 'P' one register, 'M' guest
memory), removes the breakpoint, detaches and lets QEMU end as it would. Its gdbstub is
this helper's, so such a boot is not RAM-checked (ramcheck.checked_run).
"""
import os
import signal
import subprocess
import tempfile
import time

import ramcheck
from qemurun import DEFAULT_TIMEOUT, QemuResult
from stubout import pcsc_lines

# GDB's register numbers for i386:x86-64 (QEMU target/i386/gdbstub.c).
X86_RDI, X86_RIP = 5, 16


def le_hex(v, size=8):
    """v as the gdb remote protocol sends a register: target byte order."""
    return v.to_bytes(size, "little").hex()


def run_stopped_once(cmd, addr, packets, timeout=DEFAULT_TIMEOUT, pc_reg=X86_RIP):
    """Run cmd, send packets when the guest first reaches addr (checked
    against register pc_reg), run on. Returns a QemuResult; the gdb exchange
    failing (the guest ended before addr, a write refused) is an
    AssertionError."""
    with tempfile.TemporaryDirectory(prefix="faultinject-") as d:
        gsock, serial = os.path.join(d, "gdb.sock"), os.path.join(d, "serial.txt")
        c = list(cmd)
        c[c.index("-serial") + 1] = f"file:{serial}"
        c += ["-S", "-chardev", f"socket,path={gsock},server=on,wait=off,id=gdb0",
              "-gdb", "chardev:gdb0"]
        t0 = time.monotonic()
        p = subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
        try:
            g = ramcheck.GDB(gsock, timeout=timeout)
            try:
                assert g.cmd(f"Z0,{addr:x},1") == "OK", "gdbstub refused the breakpoint"
                stop = g.cmd("vCont;c")
                assert stop.startswith(("T", "S")), f"never reached {addr:#x}: {stop}"
                assert g.cmd(f"z0,{addr:x},1") == "OK"
                # QEMU before 8.2 answers p/P (one register) only to a
                # client that has read the target description, as gdb does.
                assert g.cmd("qXfer:features:read:target.xml:0,ffb")[:1] in ("m", "l")
                pc = g.cmd(f"p{pc_reg:x}")
                assert pc == le_hex(addr), f"stopped at {pc} (register {pc_reg}), not {addr:#x}"
                for pkt in packets:
                    assert g.cmd(pkt) == "OK", f"gdbstub refused {pkt}"
                g.detach()
            finally:
                g.close()
            _, err = p.communicate(timeout=max(1, timeout - (time.monotonic() - t0)))
            rc, timed_out = p.returncode, False
        except subprocess.TimeoutExpired:
            rc, timed_out = None, True
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                _, err = p.communicate()
        text = (open(serial, errors="replace").read() if os.path.exists(serial)
                else "").replace("\r", "")
    r = QemuResult(cmd=c, rc=rc, out=text, err=err.decode("utf-8", "replace"),
                   seconds=time.monotonic() - t0, timed_out=timed_out)
    r.lines = pcsc_lines(text)
    return r
