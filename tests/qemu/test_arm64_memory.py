# tests/qemu/test_arm64_memory.py - guest RAM after the stub equals RAM before,
# except the pcsc FDT pages and the stub's own region (SPEC §6). Never
# accepts a run that did not reach the next kernel.
import os
import struct

from arm64util import (arm64_cmd, arm64_dumpdtb, arm64_machine_facts, ARM64_STUB, next_payload,
                       run_arm64, wrap_arm64)
from cacheutil import pcsctool_gen
from dtbutil import dtb_add_kho
from qemurun import ram_diff_pages, run_qemu_snapshots
from stubout import walk_lines
from topology import walk_to_topo

RAM = (0x40000000, 0x10000000)      # -m 256M


def test_arm64_stub_writes_only_its_region_and_the_pcsc_fdt(tmp_path):
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
