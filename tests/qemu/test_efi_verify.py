# tests/qemu/test_efi_verify.py - `pcsc-stub.efi verify` under OVMF/AAVMF: a cache made
# from the same machine's walk (pcsctool gen + pack, with injected faults) is judged
# line by line, and the blob it writes back verifies with pcsctool. Never writes outside tmp dirs.
"""verify in the EFI app.

Each test boots the machine twice: once `lspci` (the machine describes
itself: walk lines -> conftest.walk_to_topo -> pcsctool gen), once `verify`.
Measured under TCG with the default topology and 1 GiB: ~16 s + ~28 s on
q35/OVMF (vvfat write-back of out.img included), ~10 s + ~12 s on
virt/AAVMF; each boot is bounded at 120 s.
"""
import os
import subprocess

import pytest

from cacheutil import PCSCTOOL, pcsctool_gen
from qemurun import need
from stubout import report_lines, summary, walk_lines
from topology import default_topology, topology_backends, walk_to_topo
from efiutil import assert_exit, esp_get, run_efi

TIMEOUT = 120
# (ECAM base the firmware's MCFG gives, RAM for 1 GiB) per arch; pcsctool
# gen puts the cache at RAM + 512 MiB, which both firmwares leave free.
MACHINE = {"x64": (0xb0000000, (0, 0x40000000)),
           "aa64": (0x4010000000, (0x40000000, 0x40000000))}


class EfiMachine:
    def __init__(self, tmp_path, arch):
        self.tmp, self.arch = tmp_path, arch
        self.devs, self.extra = default_topology(8), topology_backends()
        r = self.run("lspci", "walk")
        assert_exit(r, "success")
        self.walk = walk_lines(r.lines)
        assert self.walk, r.describe()
        self.topo_text = walk_to_topo(self.walk, MACHINE[arch][0])
        self.topo = os.path.join(str(tmp_path), "machine.topo")
        with open(self.topo, "w") as f:
            f.write(self.topo_text)

    def run(self, args, name, files=None):
        """Boot with args; the ESP is a FAT image (vvfat loses writes)."""
        d = os.path.join(str(self.tmp), name)
        os.makedirs(d, exist_ok=True)
        return run_efi(d, self.arch, args=args, devices=self.devs, extra=self.extra,
                       files=files, mem="1G", timeout=TIMEOUT, image=True)

    def get(self, r, name):
        return esp_get(r.esp, name, os.path.join(str(self.tmp), name))

    def cache(self, faults=(), name="cache"):
        """pcsctool gen + pack: (image bytes, base, kho_fdt)."""
        m = pcsctool_gen(self.tmp, self.topo_text, faults=faults, ram=MACHINE[self.arch][1],
                         name=name)
        img = os.path.join(str(self.tmp), name + ".img")
        p = subprocess.run([need(PCSCTOOL), "pack", m["dir"], "--out", img],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        base = min(a for _, a in m["blobs"])
        with open(img, "rb") as f:
            return f.read(), base, m["kho_fdt"][0]

    def pcsctool_verify(self, image, base, kho):
        ram = MACHINE[self.arch][1]
        return subprocess.run([need(PCSCTOOL), "verify", "--topology", self.topo,
                               "--image", image, "--base", hex(base), "--kho-fdt", hex(kho),
                               "--ram", f"{ram[0]:#x}:{ram[1]:#x}"],
                              capture_output=True, text=True)


def endpoints(walk):
    return [w[0] for w in walk if w[4] != "bridge"]


@pytest.mark.parametrize("arch", ["x64", "aa64"])
def test_verify_clean_cache_all_valid_and_blob_written(tmp_path, arch):
    m = EfiMachine(tmp_path, arch)
    img, base, kho = m.cache()
    r = m.run("verify cache.img --out out.img", "verify", files={"cache.img": img})
    assert_exit(r, "success")
    assert f"efi cache cache.img base {base:#x} size {len(img):#x} kho-fdt {kho:#x}" in r.lines
    assert "efi cache placed at its own address" in r.lines, r.describe()
    eps = endpoints(m.walk)
    assert report_lines(r.lines) == [(s, "VALID") for s in eps], r.describe()
    s = summary(r.lines)
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == (len(eps), 0, 0, 0, 0)
    assert s["handover"] == "ok" and s["entries"] == len(eps), r.describe()
    # The written blob is the verified cache: pcsctool agrees (exit 0)
    # and the sha256 it prints is the one the app printed.
    out = m.get(r, "out.img")
    assert os.path.getsize(out) == len(img)
    p = m.pcsctool_verify(out, base, kho)
    assert p.returncode == 0, p.stdout + p.stderr
    sha = [l for l in r.lines if l.startswith("sha256 ")]
    assert sha and sha[0] in p.stdout, (sha, p.stdout)


@pytest.mark.parametrize("arch", ["x64", "aa64"])
def test_verify_injected_faults_exact_verdicts(tmp_path, arch):
    m = EfiMachine(tmp_path, arch)
    eps = endpoints(m.walk)
    # 01:00.0 (e1000e) is in both machines' walks; pick others by position.
    stale, dropped = "01:00.0", eps[-1][5:]
    img, base, kho = m.cache(faults=[f"stale={stale}", "gone=0e:00.0", f"drop={dropped}"])
    r = m.run("verify cache.img --out out.img", "verify", files={"cache.img": img})
    assert_exit(r, "not-valid")
    want = []
    for s in eps:
        if s == "0000:" + stale:
            want.append((s, "STALE"))
        elif s == "0000:" + dropped:
            want.append((s, "NEW"))
        else:
            want.append((s, "VALID"))
    want.append(("0000:0e:00.0", "GONE"))
    want.sort()
    assert sorted(report_lines(r.lines)) == want, r.describe()
    s = summary(r.lines)
    assert (s["valid"], s["stale"], s["gone"], s["bad"], s["new"]) == \
        (len(eps) - 2, 1, 1, 0, 1), r.describe()
    assert s["removed"] == 2, r.describe()
    # The blob written back has the STALE and GONE nodes removed: it now
    # verifies clean (NEW functions are allowed).
    p = m.pcsctool_verify(m.get(r, "out.img"), base, kho)
    assert p.returncode == 0, p.stdout + p.stderr


def test_verify_strict_and_usage(tmp_path):
    m = EfiMachine(tmp_path, "x64")
    img, _, _ = m.cache()
    r = m.run("verify cache.img --strict", "strict", files={"cache.img": img})
    assert_exit(r, "success")
    assert summary(r.lines)["mode"] == "strict", r.describe()
    r = m.run("verify", "usage")
    assert_exit(r, "usage")
    r = m.run("verify missing.img", "missing")
    assert_exit(r, "io")


def test_verify_corrupt_cache_is_rejected(tmp_path):
    m = EfiMachine(tmp_path, "x64")
    # The app finds base and KHO root by the two FDTs' compatibles; with
    # the pcsc FDT's smashed, the layout must be given explicitly.
    img, base, kho = m.cache(faults=["corrupt=pcsc-compat"])
    r = m.run(f"verify cache.img --base {base:#x} --kho-fdt {kho:#x}", "verify",
              files={"cache.img": img})
    assert_exit(r, "rejected")
    assert not report_lines(r.lines), r.describe()
    assert any(l.startswith("cache rejected: ") for l in r.lines), r.describe()
