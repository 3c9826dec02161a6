# tests/qemu/cacheutil.py - preserved caches for the tests: pcsctool gen and its manifest
import os
import subprocess

from qemurun import need, O


PCSCTOOL = os.path.join(O, "host", "pcsctool")


def read_manifest(d):
    m = {"blobs": []}
    for line in open(os.path.join(d, "manifest")):
        t = line.split()
        if not t or t[0].startswith("#"):
            continue
        if t[0] == "blob":
            m["blobs"].append((os.path.join(d, t[1]), int(t[2], 0)))
        elif t[0] == "kho-fdt":
            m["kho_fdt"] = (int(t[1], 0), int(t[2], 0))
        elif t[0] == "kho-scratch":     # the scratch ARRAY (kho_scratch.bin), not a region
            m["kho_scratch"] = (int(t[1], 0), int(t[2], 0))
        elif t[0] == "kho":             # the layout written: v1-512 ... v4
            m["kho"] = t[1]
        elif t[0] == "ram":
            m["ram"] = (int(t[1], 0), int(t[2], 0))
    return m


def pcsctool_gen(tmp_path, topo_text, faults=(), ram=(0x40000000, 0x40000000),
                 name="cache", at=None, kho=None, scratch=()):
    """Run pcsctool gen on topo_text with fault specs, KHO layout kho
    (v1-512 ... v4, None = pcsctool's default) and scratch regions
    [(start, size)] (none = pcsctool's default region); returns the manifest
    (blobs to place with -device loader, kho_fdt and kho_scratch address and
    size, the kho layout)."""
    topo = os.path.join(str(tmp_path), name + ".topo")
    with open(topo, "w") as f:
        f.write(topo_text)
    out = os.path.join(str(tmp_path), name)
    cmd = [need(PCSCTOOL), "gen", topo, "--out", out, "--base", hex(ram[0]),
           "--ram-size", hex(ram[1])]
    if at is not None:
        cmd += ["--at", hex(at)]
    for spec in faults:
        cmd += ["--stale", spec]
    if kho:
        cmd += ["--kho", kho]
    for a, n in scratch:
        cmd += ["--scratch", f"{a:#x}:{n:#x}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}\n{r.stderr}"
    m = read_manifest(out)
    m["dir"] = out
    assert "kho_scratch" in m and m.get("kho") == (kho or "v1-512"), m
    return m


def blob_addr(cache, name):
    """Guest-physical address of the manifest's blob name (e.g. pcsc_data.bin)."""
    return next(a for p, a in cache["blobs"] if os.path.basename(p) == name)
