# tests/qemu/test_x86_memory.py - memory integrity across the x86 stub: after it ran and entered the next kernel,
# every blob the old kernel left is byte-identical except the pcsc FDT (patched in place). Never edits the build.
import json
import os
import select
import socket
import subprocess
import time

from topology import default_topology, pick_faults, topology_backends
from x86util import X86Machine, fake_next_kernel

NEXT = 0x2000000


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


def test_x86_blobs_unchanged_but_the_pcsc_fdt(tmp_path):
    m = X86Machine(tmp_path, default_topology(vfs=4), extra=topology_backends(),
                   old_kernel=False)
    live = m.walk()
    f = pick_faults(live)
    cache = m.gen(live, name="mem", faults=[f"stale={f['stale']}:device", f"gone={f['gone']}"])
    k = fake_next_kernel(tmp_path)
    # Boot like X86Machine.boot, but without isa-debug-exit (the fake
    # kernel's exit write is ignored, it halts) and with a QMP socket.
    from x86util import BootParams, x86_cmd
    bp = BootParams(m.BP_ADDR, e820=m.e820)
    bp.add_kho(cache["kho_fdt"][0], cache["kho_fdt"][1], *cache["kho_scratch"])
    dev = [f"loader,file={p},addr={a:#x},force-raw=on" for p, a in cache["blobs"]]
    dev += [f"loader,file={k},addr={NEXT:#x},force-raw=on", bp.loader(tmp_path)] + m.devices
    sock = str(tmp_path / "qmp.sock")
    cmd = x86_cmd(devices=dev, extra=m.extra + ["-qmp", f"unix:{sock},server=on,wait=off"],
                  append=f"pcsc.boot_params={m.BP_ADDR:#x} "
                         f"pcsc.x86.next={NEXT:#x},{os.path.getsize(k):#x}")
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
    assert "pcsc: summary " in text and " handover=ok" in text, text
    changed = []
    for path, dst in dumps:
        if open(path, "rb").read() != open(dst, "rb").read():
            changed.append(os.path.basename(path))
    # Only the pcsc FDT is written (nodes removed, hand-over properties
    # added, all inside its own pages); pcsc_data blocks, the preserved map
    # and the KHO root are untouched.
    assert changed == ["pcsc.dtb"], (changed, text[-3000:])
