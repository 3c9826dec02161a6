# tests/qemu/test_arm64_chain.py - the stub wrapped with a next kernel (format
# of arch/arm64/next.h): hand-over per booting.rst at EL1 and EL2, after a
# verified cache, and after an exception. Never accepts a hang as a pass.
import os
import re
import subprocess

import pytest

from arm64util import (arm64_cmd, arm64_dumpdtb, arm64_machine_facts, ARM64_STUB, Arm64Machine,
                       next_payload, wrap_arm64)
from qemurun import run_qemu
from stubout import summary
from topology import default_topology, topology_backends

ENTERED = re.compile(r"^next: entered EL(\d) x0=(0x[0-9a-f]+) dtb=ok x1-x3=0 "
                     r"mmu=off dcache=off$", re.M)


def wrapped(tmp_path, machine="virt"):
    facts = arm64_machine_facts(tmp_path, machine=machine)
    nxt = next_payload(tmp_path, facts)
    return wrap_arm64(ARM64_STUB, nxt, os.path.join(str(tmp_path), "wrapped.bin"))


def assert_jumped(r, el):
    assert not r.timed_out and r.rc == 0, r.describe()
    jump = [l for l in r.lines if l.startswith("jump to ")]
    assert len(jump) == 1, r.describe()
    m = re.match(r"^jump to (0x[0-9a-f]+) EL(\d) dtb (0x[0-9a-f]+)$", jump[0])
    assert m and m.group(2) == str(el), r.describe()
    e = ENTERED.search(r.out)
    assert e, r.describe()
    assert e.group(1) == str(el) and e.group(2) == m.group(3), r.describe()
    # nothing of the stub after the jump, and it did not power off itself
    assert r.lines[-1] == jump[0], r.describe()
    return m


@pytest.mark.parametrize("machine,el", [("virt", 1), ("virt,virtualization=on", 2)])
def test_arm64_wrapped_next_kernel_entered_per_booting_rst(tmp_path, machine, el):
    img = wrapped(tmp_path, machine)
    r = run_qemu(arm64_cmd(kernel=img, machine=machine))
    m = assert_jumped(r, el)
    # The embedded Image runs in place: 2 MiB aligned right after the stub.
    base = int(re.search(r"image (0x[0-9a-f]+)-", r.lines[0]).group(1), 16)
    entry = int(m.group(1), 16)
    assert entry % (2 << 20) == 0 and entry > base, r.describe()
    assert f"next kernel at {m.group(1)} (text_offset 0x0)" in r.lines, r.describe()


def test_arm64_wrapped_header_reserves_the_next_kernel(tmp_path):
    import struct
    img = wrapped(tmp_path)
    b = open(img, "rb").read()
    size, = struct.unpack_from("<Q", b, 0x10)
    magic, off, ln, flags = struct.unpack_from("<8sQQQ", b, 0x40)
    assert magic == b"PCSCNEXT" and off % (2 << 20) == 0 and flags == 0
    assert off + ln == len(b) and size >= len(b) and b[off + 0x38:off + 0x3c] == b"ARM\x64"


@pytest.mark.parametrize("machine,el", [("virt", 1), ("virt,virtualization=on", 2)])
def test_arm64_cache_verified_then_next_kernel(tmp_path, machine, el):
    facts = arm64_machine_facts(tmp_path, machine=machine)
    img = wrap_arm64(ARM64_STUB, next_payload(tmp_path, facts),
                     os.path.join(str(tmp_path), "wrapped.bin"))
    m = Arm64Machine(tmp_path, default_topology(vfs=4), extra=topology_backends(), stub=img,
                     machine=machine)
    first = m.boot()
    assert_jumped(first, el)
    live = [l for l in first.lines if l.startswith("walk 0000")]
    from stubout import walk_lines
    cache = m.gen(walk_lines(first.lines), name="chain")
    r = m.boot(cache=cache)
    assert_jumped(r, el)
    s = summary(r.lines)
    assert (s["valid"], s["handover"]) == (len([l for l in live if not l.endswith("bridge")]),
                                           "ok"), r.describe()
    assert "payload: bridges=7 last_bus=7 pfs=1 vfs=4 -> stub" in r.out, r.describe()


def test_arm64_exception_still_reaches_the_next_kernel(tmp_path):
    # Dead ECAM window: external abort in the walk. The vector reports,
    # and the wrapped next kernel is still entered per the protocol.
    img = wrapped(tmp_path)
    dtb = arm64_dumpdtb(tmp_path, name="dead.dtb")
    out = subprocess.run(["fdtget", "-l", dtb, "/"], capture_output=True, text=True).stdout
    pcie = "/" + [n for n in out.split() if n.startswith("pcie@")][0]
    subprocess.run(["fdtput", "-t", "x", dtb, pcie, "reg", "0x70", "0x0", "0x0", "0x10000000"],
                   check=True)
    r = run_qemu(arm64_cmd(kernel=img, dtb=dtb))
    assert [l for l in r.lines if l.startswith("exception vector=4 ")], r.describe()
    assert_jumped(r, 1)


def test_arm64_handover_reread_by_the_next_kernel(tmp_path):
    # The next kernel is a second copy of the stub: it re-reads the
    # handed-over pcsc FDT from memory the first one cleaned to PoC before
    # jumping with caches off, re-verifies it and recomputes the SHA-256.
    from stubout import walk_lines
    from topology import pick_faults
    img = wrap_arm64(ARM64_STUB, ARM64_STUB, os.path.join(str(tmp_path), "stub+stub.Image"))
    m = Arm64Machine(tmp_path, default_topology(vfs=4), extra=topology_backends(), stub=img)
    first = m.boot()
    cut = [i for i, l in enumerate(first.lines) if l.startswith("jump to ")][0]
    live = walk_lines(first.lines[:cut])
    f = pick_faults(live)
    r = m.boot(cache=m.gen(live, name="reread",
                           faults=[f"stale={f['stale']}:device", f"gone={f['gone']}",
                                   f"badda={f['bad']}:align"]))
    assert not r.timed_out and r.rc == 0, r.describe()
    cut = [i for i, l in enumerate(r.lines) if l.startswith("jump to ")]
    assert len(cut) == 1, r.describe()
    before, after = r.lines[:cut[0]], r.lines[cut[0] + 1:]
    s1, s2 = summary(before), summary(after)
    kept = s1["valid"]
    assert (s1["stale"], s1["gone"], s1["bad"], s1["removed"]) == (1, 1, 1, 3), r.describe()
    # Second pass: exactly what was kept, all VALID; the two removed live
    # functions are now NEW (no entry), nothing else is judged.
    assert (s2["entries"], s2["valid"], s2["stale"], s2["gone"], s2["bad"], s2["removed"]) == \
        (kept, kept, 0, 0, 0, 0), r.describe()
    new = sorted(l.split()[0] for l in after if l.endswith(" NEW"))
    assert new == sorted([f["stale"], f["bad"]]), r.describe()
    sha1 = [l for l in before if l.startswith("sha256 ")]
    sha2 = [l for l in after if l.startswith("sha256 ")]
    assert len(sha1) == 1 and sha1 == sha2, r.describe()
    assert after[-1] == "poweroff 0", r.describe()


def test_arm64_vhe_el2_entry(tmp_path):
    # Entered at EL2 with HCR_EL2.E2H = 1 (VHE; some CPUs cannot clear it):
    # TCR_EL2 then has the EL1 layout. The high ECAM window (above 4 GiB)
    # only works if the physical address size landed in the right field.
    machine = "virt,virtualization=on"
    facts = arm64_machine_facts(tmp_path, machine=machine)
    img = wrap_arm64(ARM64_STUB, next_payload(tmp_path, facts),
                     os.path.join(str(tmp_path), "wrapped.bin"))
    m = Arm64Machine(tmp_path, default_topology(vfs=4), extra=topology_backends(), stub=img,
                     machine=machine, set_e2h=True)
    r = m.boot()
    assert "payload: bridges=7 last_bus=7 pfs=1 vfs=4 e2h=1 -> stub" in r.out, r.describe()
    assert_jumped(r, 2)
    assert "ecam 0000:00-ff at 0x4010000000" in r.lines, r.describe()
    from stubout import walk_lines
    assert len(walk_lines(r.lines)) == 20, r.describe()
