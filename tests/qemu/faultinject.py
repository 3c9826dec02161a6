# tests/qemu/faultinject.py - change a stub boot from outside, through QEMU's gdbstub (ramcheck.GDB): stop once at an
# address, write registers or RAM there (a fault the stub itself has no hook for), run on. Never edits the build.
"""Fault injection for QEMU tests that prove a path no selftest may reach.

run_stopped_once(cmd, addr, packets) runs the QEMU command line cmd (one
-serial) started stopped (-S) with a gdbstub on a unix socket, breaks the
first time the guest executes addr, sends each of packets there (gdb
remote protocol writes, each answered "OK": 'P' one register, 'M' guest
memory), removes the breakpoint, detaches and lets QEMU end as it would. Its gdbstub is
this helper's, so such a boot is not RAM-checked (ramcheck.checked_run).

run_snapshots_injected(cmd, tmp_path, ram, until, addr, packets) is
ramcheck.run_snapshots with the same injection: guest RAM dumped where the
guest stopped at addr ('before', just ahead of the fault) and once the
serial output shows until ('after', the next kernel entered), so a test
reads what the stub left behind after its exception path and checks that
nothing else changed (ramcheck.assert_ram_intact).
"""
import os
import signal
import subprocess
import tempfile
import time

import ramcheck
from qemurun import DEFAULT_TIMEOUT, QemuResult
from stubout import pcsc_lines

# GDB's register numbers for i386:x86-64 (QEMU target/i386/gdbstub.c) and
# aarch64 (x0..x30, sp, pc: target/arm/gdbstub64.c).
X86_RDI, X86_RIP = 5, 16
ARM64_X0, ARM64_PC = 0, 32


def le_hex(v, size=8):
    """v as the gdb remote protocol sends a register: target byte order."""
    return v.to_bytes(size, "little").hex()


def stop_at(g, addr, pc_reg, bp_len=1):
    """Run the guest behind gdbstub g until it first executes addr (a
    breakpoint of length bp_len: 4 on arm64), removed again; checked
    against register pc_reg."""
    assert g.cmd(f"Z0,{addr:x},{bp_len}") == "OK", "gdbstub refused the breakpoint"
    stop = g.cmd("vCont;c")
    assert stop.startswith(("T", "S")), f"never reached {addr:#x}: {stop}"
    assert g.cmd(f"z0,{addr:x},{bp_len}") == "OK"
    # QEMU before 8.2 answers p/P (one register) only to a
    # client that has read the target description, as gdb does.
    assert g.cmd("qXfer:features:read:target.xml:0,ffb")[:1] in ("m", "l")
    pc = g.cmd(f"p{pc_reg:x}")
    assert pc == le_hex(addr), f"stopped at {pc} (register {pc_reg}), not {addr:#x}"


def inject(g, packets):
    for pkt in packets:
        assert g.cmd(pkt) == "OK", f"gdbstub refused {pkt}"


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
                stop_at(g, addr, pc_reg)
                inject(g, packets)
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
        text = ramcheck.read_serial(serial)
    r = QemuResult(cmd=c, rc=rc, out=text, err=err.decode("utf-8", "replace"),
                   seconds=time.monotonic() - t0, timed_out=timed_out)
    r.lines = pcsc_lines(text)
    return r


def run_snapshots_injected(cmd, tmp_path, ram, until, addr, packets, pc_reg=X86_RIP, bp_len=1,
                           timeout=30, give_up=("pcsc: poweroff ",)):
    """ramcheck.run_snapshots (same arguments, same result dict: serial,
    reached, before, after, cmd, seconds) with a fault injected: QEMU
    started stopped, the 'before' dumps of ram taken the first time the
    guest executes addr (checked against pc_reg; bp_len 4 on arm64), then
    packets sent there, then the guest run until the serial output shows
    the line `until` and dumped again ('after'). A guest that ends first,
    or shows a give_up text, has reached=False and no 'after' dumps."""
    d = str(tmp_path)
    tag = f"inj-{os.getpid()}-{time.monotonic_ns()}"
    sock, gsock = os.path.join(d, f"qmp-{tag}.sock"), os.path.join(d, f"gdb-{tag}.sock")
    serial = os.path.join(d, f"serial-{tag}.txt")
    c = list(cmd)
    c[c.index("-serial") + 1] = f"file:{serial}"
    # the x86 next kernel would end QEMU through isa-debug-exit before the
    # 'after' dumps; without the device it halts (as in run_snapshots)
    c = ramcheck._drop(c, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
    c += ["-qmp", f"unix:{sock},server=on,wait=off", "-S",
          "-chardev", f"socket,path={gsock},server=on,wait=off,id=gdb0", "-gdb", "chardev:gdb0"]
    out = {"serial": "", "reached": False, "before": [], "after": [], "cmd": c}
    t0 = time.monotonic()
    p = subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    q = g = None
    try:
        while not (os.path.exists(sock) and os.path.exists(gsock)):
            if p.poll() is not None or time.monotonic() - t0 > 10:
                raise AssertionError("QEMU did not start: " + " ".join(c) + "\n"
                                     + p.stderr.read().decode(errors="replace"))
            time.sleep(0.02)
        q = ramcheck.QMP(sock, timeout=timeout)
        g = ramcheck.GDB(gsock, timeout=timeout)
        stop_at(g, addr, pc_reg, bp_len)
        ramcheck.dump_ram(q, ram, d, f"before-{tag}", out["before"])
        inject(g, packets)
        g.detach()
        g.close()
        g = None
        ramcheck.run_to_line(out, p, q, serial, until, give_up, t0, timeout, ram, d, tag)
    finally:
        ramcheck.end_qemu(p, g, q)
    out["serial"] = ramcheck.read_serial(serial)
    out["seconds"] = time.monotonic() - t0
    return out
