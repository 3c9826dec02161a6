# tests/qemu/test_memory.py - memory integrity across the stub on both arches (SPEC §6): after it ran with a
# cache and entered a next kernel, every blob the old kernel left is byte-identical except the pcsc FDT
# (patched in place); on arm64 all of guest RAM is compared too. One module parametrised by arch (issue 14).
# Never accepts a run that did not reach the next kernel; never edits the build.
"""Memory integrity, one module parametrised by arch.

Each arch boots the stub with a cache holding a stale entry (so the stub
must rewrite the pcsc FDT) into a next kernel that stops instead of
powering off, then reads guest RAM back:

arm64: the stub wrapped with the test payload as next kernel (parked),
  guest RAM dumped before the first instruction and after 'next:
  entered' (run_qemu_snapshots); every changed page lies in the stub's
  own region or the pcsc FDT.
x86: the fake next kernel (halts; no isa-debug-exit), each cache blob
  read back over QMP after 'next: done'.

Both: of the blobs the old kernel left, only pcsc.dtb changed; pcsc_data
blocks, the preserved map and the KHO root are untouched.
"""
import json
import os
import select
import socket
import struct
import subprocess
import time

import pytest

from qemurun import arches, ram_diff_pages, run_qemu_snapshots

ARM64_RAM = (0x40000000, 0x10000000)      # -m 256M
X86_NEXT = 0x2000000


def qmp(sock_path, cmds, timeout=20):
    """Run QMP commands on a fresh connection; returns their replies."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(sock_path)
    f = s.makefile("rw")
    json.loads(f.readline())                       # greeting
    out = []
    for c in [{"execute": "qmp_capabilities"}] + cmds:
        f.write(json.dumps(c) + "\n")
        f.flush()
        while True:
            rep = json.loads(f.readline())
            if "return" in rep or "error" in rep:
                out.append(rep)
                break
    s.close()
    return out[1:]


# -- the per-arch adapter: run into a stopped next kernel, read RAM back ----

def run_arm64_into_parked_next(tmp_path):
    """(serial text, cache, {blob path: bytes after}); asserts arm64's own
    whole-RAM rule on the way."""
    from arm64util import (arm64_cmd, arm64_dumpdtb, arm64_machine_facts, ARM64_STUB,
                           next_payload, run_arm64, wrap_arm64)
    from cacheutil import pcsctool_gen
    from dtbutil import dtb_add_kho
    from stubout import walk_lines
    from topology import walk_to_topo
    RAM = ARM64_RAM
    devs = ["e1000e,addr=2.0", "virtio-net-pci,addr=3.0,multifunction=on",
            "virtio-blk-pci,addr=3.1,drive=d0"]
    extra = ["-drive", "if=none,id=d0,file=null-co://,format=raw"]
    live = walk_lines(run_arm64(devices=devs, extra=extra, mem="256M").lines)
    assert len(live) == 4
    facts = arm64_machine_facts(tmp_path, devices=devs, extra=extra)
    nxt = next_payload(tmp_path, facts)          # psci set: but we stop it first
    # A next kernel that parks instead of powering off, so RAM can be read.
    b = bytearray(open(nxt, "rb").read())
    struct.pack_into("<Q", b, 0x40 + 48, 0)
    open(nxt, "wb").write(bytes(b))
    img = wrap_arm64(ARM64_STUB, nxt, os.path.join(str(tmp_path), "w.Image"))
    size = struct.unpack_from("<Q", open(img, "rb").read(64), 0x10)[0]
    f = live[1][0]          # one stale entry: the stub must rewrite the pcsc FDT
    cache = pcsctool_gen(tmp_path, walk_to_topo(live, facts["ecam"]),
                         faults=[f"stale={f}:device"], ram=RAM, at=RAM[0] + 0xc000000)
    dtb = arm64_dumpdtb(tmp_path, devices=devs, extra=extra, mem="256M", name="m.dtb")
    dtb_add_kho(dtb, *cache["kho_fdt"], cache["kho_scratch"])
    cmd = arm64_cmd(kernel=img, dtb=dtb, mem="256M", extra=extra, devices=devs + [
        f"loader,file={p},addr={a:#x},force-raw=on" for p, a in cache["blobs"]])
    serial, before, after = run_qemu_snapshots(cmd, tmp_path, RAM, "next: entered")
    assert "pcsc: summary valid=3 stale=1 gone=0 bad=0 " in serial, serial
    base = int(serial.split("pcsc: arm64 entry EL1 image ")[1].split("-")[0], 16)
    pcsc = [(a, os.path.getsize(p)) for p, a in cache["blobs"] if p.endswith("pcsc.dtb")][0]
    allowed = [(base, size), pcsc]
    diff = ram_diff_pages(before, after, RAM[0])
    outside = [hex(p) for p in diff if not any(a <= p < a + n for a, n in allowed)]
    assert diff, "nothing changed at all: the dumps are not what they claim"
    assert any(pcsc[0] <= p < pcsc[0] + pcsc[1] for p in diff), "pcsc FDT not patched"
    assert outside == [], f"stub wrote outside its region and the pcsc FDT: {outside}"
    ram = open(after, "rb").read()
    blobs = {p: ram[a - RAM[0]:a - RAM[0] + os.path.getsize(p)] for p, a in cache["blobs"]}
    return serial, cache, blobs


def run_x86_into_halted_next(tmp_path):
    """(serial text, cache, {blob path: bytes after})."""
    from topology import default_topology, pick_faults, topology_backends
    from x86util import BootParams, X86Machine, fake_next_kernel, x86_cmd
    m = X86Machine(tmp_path, default_topology(vfs=4), extra=topology_backends(),
                   old_kernel=False)
    live = m.walk()
    f = pick_faults(live)
    cache = m.gen(live, name="mem", faults=[f"stale={f['stale']}:device", f"gone={f['gone']}"])
    k = fake_next_kernel(tmp_path)
    # Boot like X86Machine.boot, but without isa-debug-exit (the fake
    # kernel's exit write is ignored, it halts) and with a QMP socket.
    bp = BootParams(m.BP_ADDR, e820=m.e820)
    bp.add_kho(cache["kho_fdt"][0], cache["kho_fdt"][1], *cache["kho_scratch"])
    dev = [f"loader,file={p},addr={a:#x},force-raw=on" for p, a in cache["blobs"]]
    dev += [f"loader,file={k},addr={X86_NEXT:#x},force-raw=on", bp.loader(tmp_path)] + m.devices
    sock = str(tmp_path / "qmp.sock")
    cmd = x86_cmd(devices=dev, extra=m.extra + ["-qmp", f"unix:{sock},server=on,wait=off"],
                  append=f"pcsc.boot_params={m.BP_ADDR:#x} "
                         f"pcsc.x86.next={X86_NEXT:#x},{os.path.getsize(k):#x}")
    i = cmd.index("isa-debug-exit,iobase=0xf4,iosize=0x04")
    del cmd[i - 1:i + 1]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = b""
    try:
        t0 = time.monotonic()
        while b"next: done" not in out:
            assert time.monotonic() - t0 < 60, out.decode(errors="replace")
            r, _, _ = select.select([p.stdout], [], [], 1)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                assert chunk, out.decode(errors="replace")
                out += chunk
        dumps = []
        for n, (path, addr) in enumerate(cache["blobs"]):
            dst = str(tmp_path / f"after{n}.bin")
            dumps.append((path, dst))
            rep = qmp(sock, [{"execute": "pmemsave", "arguments": {
                "val": addr, "size": os.path.getsize(path), "filename": dst}}])
            assert "return" in rep[0], rep
        qmp(sock, [{"execute": "quit"}])
    finally:
        p.kill()
        p.wait()
    text = out.decode(errors="replace")
    return text, cache, {path: open(dst, "rb").read() for path, dst in dumps}


@pytest.mark.parametrize("arch", arches())
def test_stub_writes_only_its_region_and_the_pcsc_fdt(arch, tmp_path):
    if arch == "arm64":
        text, cache, after = run_arm64_into_parked_next(tmp_path)
    else:
        text, cache, after = run_x86_into_halted_next(tmp_path)
    assert "pcsc: summary " in text and " handover=ok" in text, text
    changed = [os.path.basename(path) for path, _ in cache["blobs"]
               if open(path, "rb").read() != after[path]]
    # Only the pcsc FDT is written (nodes removed, handover properties
    # added, all inside its own pages); pcsc_data blocks, the preserved map
    # and the KHO root are untouched.
    assert changed == ["pcsc.dtb"], (changed, text[-3000:])
