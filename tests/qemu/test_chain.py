# tests/qemu/test_chain.py - the stub hands over to a next kernel on both arches (arm64: the wrapped Image per
# booting.rst at EL1/EL2; x86_64: a bzImage placed per its setup header, entered at +0x200 with rsi =
# boot_params), after a verified cache and after an exception. One module parametrised by arch (issue 14).
# Never accepts a hang as a pass, never edits the build.
"""Chaining into the next kernel, one module parametrised by arch.

An adapter per arch (Arm64Chain, X86Chain) names what differs: how the
stub is wrapped with a next kernel (include/pcsc/wrap.h) and booted, what
entering the next kernel looks like (arm64: 'jump to' then the test
payload's 'next: entered' line; x86: the fake bzImage's 'next: entry64'
report), how an exception is provoked before the jump. The `chain` param
is an adapter: "arm64" (virt, EL1), "arm64-el2" (virt,virtualization=on)
and "x86_64" (q35); each is skipped when $ARCHES leaves its arch out.
Tests one arch has alone (arm64: the stub re-reading its own handover,
VHE; x86: where a bzImage goes or why it is refused) take that chain alone.
"""
import os
import re
import struct
import subprocess

import pytest

from kexecutil import pcsctool_wrap
from qemurun import only, run_qemu
from stubout import summary, walk_lines
from topology import default_topology, topology_backends
from x86util import (BootParams, NEXT_EXIT, X86Machine, assert_x86_exit, exit_status,
                     fake_next_kernel, run_x86, second_copy, wrap_stub)

SZ_2M = 2 << 20


def reported(lines, pattern, r):
    """The address (group 1) of the one line of lines matching pattern."""
    m = [x for x in (re.match(pattern, l) for l in lines) if x]
    assert len(m) == 1, f"{pattern}: {len(m)} lines\n" + r.describe()
    return int(m[0].group(1), 16)


# -- arm64: the wrapped Image, the test payload as the next kernel ----------

ARM64_ENTERED = re.compile(r"^next: entered EL(\d) x0=(0x[0-9a-f]+) dtb=ok x1-x3=0 "
                           r"mmu=off dcache=off$", re.M)


def assert_jumped(r, el):
    """The stub jumped once, at EL el, and the next kernel was entered per
    booting.rst (x0 = the DTB, x1-x3 = 0, MMU and D-cache off); nothing of
    the stub after the jump. Returns the 'jump to' match."""
    assert not r.timed_out and r.rc == 0, r.describe()
    jump = [l for l in r.lines if l.startswith("jump to ")]
    assert len(jump) == 1, r.describe()
    m = re.match(r"^jump to (0x[0-9a-f]+) EL(\d) dtb (0x[0-9a-f]+)$", jump[0])
    assert m and m.group(2) == str(el), r.describe()
    e = ARM64_ENTERED.search(r.out)
    assert e, r.describe()
    assert e.group(1) == str(el) and e.group(2) == m.group(3), r.describe()
    # nothing of the stub after the jump, and it did not power off itself
    assert r.lines[-1] == jump[0], r.describe()
    return m


class Arm64Chain:
    """QEMU virt (machine) entered at EL el: the stub wrapped with the test
    payload (arm64util.next_payload), which reports its entry state."""
    arch = "arm64"
    vector = 4                          # synchronous exception, current EL

    def __init__(self, machine, el):
        self.machine, self.el = machine, el

    def next_kernel(self, tmp_path):
        from arm64util import arm64_machine_facts, next_payload
        return next_payload(tmp_path, arm64_machine_facts(tmp_path, machine=self.machine))

    def wrapped(self, tmp_path):
        from arm64util import ARM64_STUB, wrap_arm64
        return wrap_arm64(ARM64_STUB, self.next_kernel(tmp_path),
                          os.path.join(str(tmp_path), "wrapped.bin"))

    def entered(self, r):
        """The next kernel entered per booting.rst; its address."""
        return int(assert_jumped(r, self.el).group(1), 16)

    def boot_wrapped(self, tmp_path):
        """-kernel the wrapped Image: (result, the image's base, where its
        embedded Image is). The embedded Image runs in place."""
        from arm64util import arm64_cmd
        r = run_qemu(arm64_cmd(kernel=self.wrapped(tmp_path), machine=self.machine))
        assert r.lines, r.describe()
        base = reported(r.lines[:1], r"^arm64 entry EL\d image (0x[0-9a-f]+)-", r)
        at = reported(r.lines, r"^next kernel at (0x[0-9a-f]+) \(text_offset 0x0\)$", r)
        return r, base, at

    def machine_with_next(self, tmp_path, devices, **kw):
        """Arm64Machine whose stub is the wrapped Image (kw: set_e2h)."""
        from arm64util import Arm64Machine
        return Arm64Machine(tmp_path, devices, extra=topology_backends(),
                            stub=self.wrapped(tmp_path), machine=self.machine, **kw)

    def old_kernel_said(self, live):
        """What the old-kernel payload says of default_topology(vfs=4)."""
        return "payload: bridges=7 last_bus=7 pfs=1 vfs=4 -> stub"

    def boot_into_an_exception(self, tmp_path, monkeypatch):
        """Dead ECAM window: the walk's first config read takes an external
        abort; no cache."""
        from arm64util import arm64_cmd, arm64_dumpdtb
        img = self.wrapped(tmp_path)
        dtb = arm64_dumpdtb(tmp_path, name="dead.dtb")
        out = subprocess.run(["fdtget", "-l", dtb, "/"], capture_output=True, text=True).stdout
        pcie = "/" + [n for n in out.split() if n.startswith("pcie@")][0]
        subprocess.run(["fdtput", "-t", "x", dtb, pcie, "reg", "0x70", "0x0", "0x0",
                        "0x10000000"], check=True)
        return run_qemu(arm64_cmd(kernel=img, dtb=dtb, machine=self.machine))

    def after_exception(self, r, i):
        """The abort was the dead window's first read."""
        assert " far=0x7000000000 " in r.lines[i], r.describe()

    def wrap_inputs(self, tmp_path):
        """(stub, next kernel, the tests' own wrap of them: wrap_arm64)."""
        from arm64util import ARM64_STUB, wrap_arm64
        nxt = self.next_kernel(tmp_path)
        ours = wrap_arm64(ARM64_STUB, nxt, os.path.join(str(tmp_path), "ours.bin"))
        return ARM64_STUB, nxt, ours

    def assert_layout(self, b):
        """The Image header reserves the next kernel (image_size) and the
        PCSCNEXT descriptor at 0x40 points at it; (offset, size) of it."""
        size, = struct.unpack_from("<Q", b, 0x10)
        magic, off, ln, flags = struct.unpack_from("<8sQQQ", b, 0x40)
        assert magic == b"PCSCNEXT" and off % SZ_2M == 0 and flags == 0
        assert off + ln == len(b) and size >= len(b) and b[off + 0x38:off + 0x3c] == b"ARM\x64"
        return off, ln

    def refusals(self, tmp_path, stub, nxt, ours):
        """(stub, next, what pcsctool says) it must refuse with status 65."""
        junk = tmp_path / "junk.bin"
        junk.write_bytes(bytes(4096))
        return [(ours, nxt, "already wraps a next kernel"),
                (nxt, nxt, "not a pcsc-stub arm64 Image"),
                (stub, junk, "not a little-endian arm64 Image")]


# -- x86_64: a fake bzImage (x86util.fake_next_kernel) placed and entered ---

BP = 0x1000000
NEXT = 0x2000000
KHO = (0x3000000, 0x1000, 0x4000000, 0x100000)
WRAPPED_AT = 0x4000000
X86_JUMP = re.compile(r"^next kernel protocol 2\.15 at (0x[0-9a-f]+) init_size 0x400000: "
                      r"jump (0x[0-9a-f]+) rsi=(0x[0-9a-f]+)$")


def told_of_next(kernel):
    """Boot options and loader telling the PVH stub of a bzImage at NEXT."""
    return dict(loaders=[(kernel, NEXT)],
                append=f"pcsc.exit=debug pcsc.x86.next={NEXT:#x},{os.path.getsize(kernel):#x}")


def boot_next(tmp_path, kernel, bp=None, append="pcsc.exit=debug", next_addr=NEXT):
    bp = bp or BootParams(BP, cmdline="console=ttyS0 next-kernel-args")
    size = os.path.getsize(kernel)
    return run_x86(devices=[bp.loader(tmp_path),
                            f"loader,file={kernel},addr={next_addr:#x},force-raw=on"],
                   append=f"{append} pcsc.boot_params={bp.addr:#x} "
                          f"pcsc.x86.next={next_addr:#x},{size:#x}")


def next_lines(r):
    return [l for l in r.out.splitlines() if l.startswith("next: ")]


class X86MachineWithNext(X86Machine):
    """X86Machine every boot of which is told of the fake next kernel."""

    def __init__(self, tmp_path, devices, **kw):
        super().__init__(tmp_path, devices, extra=topology_backends(), **kw)
        self.next = fake_next_kernel(tmp_path)

    def boot(self, cache=None, **kw):
        return super().boot(cache=cache, **told_of_next(self.next), **kw)


class X86Chain:
    """q35 through PVH: the stub places the fake bzImage and enters its
    64-bit entry with rsi = the boot_params the test placed. One adapter a
    test: boot_into_an_exception keeps the cache after_exception checks."""
    arch = "x86_64"
    vector = 14                         # #PF
    BAD = 0x10000000123                 # where boot_into_an_exception points p

    def entered(self, r):
        """The last stub line is the jump, the fake kernel reports that
        entry state and finishes; the next kernel's address."""
        assert not r.timed_out and r.rc == NEXT_EXIT, r.describe()
        m = X86_JUMP.match(r.lines[-1])
        assert m, r.describe()
        at, jump, rsi = (int(g, 16) for g in m.groups())
        bp = int(re.search(r"pcsc\.boot_params=(0x[0-9a-f]+)", " ".join(r.cmd)).group(1), 16)
        assert jump == at + 0x200 and rsi == bp, r.describe()
        nl = next_lines(r)
        assert nl and nl[0] == (f"next: entry64 at {jump:#x} rsi {bp:#x} "
                                "cs 0x10 ds 0x18 ss 0x18 if 0x0"), r.describe()
        assert nl[-1] == "next: done", r.describe()
        return at

    def boot_wrapped(self, tmp_path):
        """kexec's view: one image (stub + embedded bzImage) entered at
        +0x200 with rsi = boot_params, the PVH copy playing kexec (selftest
        chain64). (result, the image's base, the first 2 MiB slot after
        its embedded bzImage)."""
        k = fake_next_kernel(tmp_path)
        wrapped = wrap_stub(tmp_path, k)
        bp = BootParams(BP, cmdline="console=ttyS0 pcsc.exit=debug pcsc.report=full")
        bp.add_kho(*KHO)
        r = run_x86(devices=[bp.loader(tmp_path),
                             f"loader,file={wrapped},addr={WRAPPED_AT:#x},force-raw=on"],
                    append=f"pcsc.exit=debug pcsc.boot_params={BP:#x} "
                           f"pcsc.x86.selftest=chain64@{WRAPPED_AT:#x}")
        assert not r.timed_out and r.rc == NEXT_EXIT, r.describe()
        second = second_copy(r, WRAPPED_AT)
        assert second[0].startswith(f"x86_64 entry 64bit image {WRAPPED_AT:#x}-"), r.describe()
        src = [re.match(r"^next kernel bzImage at (0x[0-9a-f]+) size", l) for l in second]
        src = int(next(x for x in src if x).group(1), 16)
        # No root at the KHO address (magic 0): the stub unplugs it, the
        # next kernel finds the node retyped SETUP_NONE (docs/security.md).
        assert "next: setup_data type 0x0 len 0x20" in next_lines(r), r.describe()
        return r, WRAPPED_AT, (src + os.path.getsize(k) + SZ_2M - 1) & ~(SZ_2M - 1)

    def machine_with_next(self, tmp_path, devices, **kw):
        return X86MachineWithNext(tmp_path, devices, **kw)

    def old_kernel_said(self, live):
        """What the old-kernel payload says of default_topology(vfs=4)."""
        pf = [s for s, _, _, _, k in live if k == "pf"]
        assert len(pf) == 1, live
        return f"payload: {pf[0][5:]} numvfs 0004"

    def boot_into_an_exception(self, tmp_path, monkeypatch):
        """A fault after the session, before the jump, from outside (no hook
        in the jump path): QEMU's gdbstub stops the guest as
        arch_boot_next(p) is entered and points p (rdi) at 1 TiB + 0x123,
        which the stub never maps, so the jump code's first read through p
        page-faults. The boot has a cache."""
        import x86util
        from faultinject import X86_RDI, le_hex, run_stopped_once
        from x86paging import elf_symbols
        from x86util import X86_STUB
        m = X86MachineWithNext(tmp_path, default_topology(vfs=2), old_kernel=False)
        first = m.boot()
        self.entered(first)
        self.cache = m.gen(walk_lines(first.lines), name="exc")
        jump = elf_symbols(X86_STUB, {"arch_boot_next"})["arch_boot_next"]  # PVH: linked = loaded
        # X86Machine.boot's own command line, run by the injector instead
        monkeypatch.setattr(x86util, "run_qemu", lambda cmd, timeout, ram_probe=():
                            run_stopped_once(cmd, jump, [f"P{X86_RDI:x}={le_hex(self.BAD)}"],
                                             timeout=timeout))
        return m.boot(cache=self.cache)

    def after_exception(self, r, i):
        """The fault read through p; it came after the session; the stub
        detached the pcsc subtree it may not have finished judging, then
        jumped with the KHO FDT still handed over."""
        cr2 = int(re.search(r" cr2=(0x[0-9a-f]+)$", r.lines[i]).group(1), 16)
        assert self.BAD <= cr2 < self.BAD + 0x1000, r.describe()
        assert any(l.startswith("done in ") for l in r.lines[:i]), r.describe()
        assert r.lines[i + 1] == "detached the pcsc subtree from the KHO FDT", r.describe()
        assert r.lines[i + 2].startswith("next kernel protocol 2.15 at "), r.describe()
        kho = self.cache["kho_fdt"][0]
        assert f"next: setup_data type 0xa len 0x20 kho fdt {kho:#x} magic 0xd00dfeed" \
            in next_lines(r), r.describe()

    def wrap_inputs(self, tmp_path):
        """(stub ELF, fake bzImage, the tests' own wrap: x86util.bzimage_wrap)."""
        from x86util import X86_STUB, bzimage_wrap
        k = fake_next_kernel(tmp_path)
        return X86_STUB, k, bzimage_wrap(tmp_path, k)

    def assert_layout(self, b):
        """A bzImage ("HdrS") whose protected-mode part (at 0x400, after the
        boot sector and one setup sector) is the stub with its image
        descriptor at +0x100 pointing at the embedded bzImage; (offset,
        size) of it."""
        assert b[0x202:0x206] == b"HdrS" and b[0x400 + 0x100:0x400 + 0x108] == b"PCSCX86H"
        off, ln = struct.unpack_from("<QQ", b, 0x400 + 0x100 + 16)
        return 0x400 + off, ln

    def refusals(self, tmp_path, stub, nxt, ours):
        """(stub, next, what pcsctool says) it must refuse with status 65."""
        k32 = fake_next_kernel(tmp_path, xloadflags=0, name="k32")
        return [(stub, stub, "not a 64-bit bzImage"), (stub, k32, ""),
                (nxt, nxt, "not the x86_64 pcsc-stub ELF")]


# -- the params ---------------------------------------------------------------

# name: (adapter, its arguments); a test gets a fresh adapter
CHAINS = {"arm64": (Arm64Chain, "virt", 1), "arm64-el2": (Arm64Chain, "virt,virtualization=on", 2),
          "x86_64": (X86Chain,)}


@pytest.fixture
def chain(request):
    adapter, *args = CHAINS[request.param]
    return adapter(*args)


def chains(*names):
    """The chains named as the `chain` param, each marked as only() marks
    its arch (skipped when $ARCHES leaves it out)."""
    params = []
    for n in names:
        p = only(CHAINS[n][0].arch)[0]
        params.append(pytest.param(n, marks=() if isinstance(p, str) else p.marks, id=n))
    return pytest.mark.parametrize("chain", params, indirect=True)


BOTH = chains("arm64", "x86_64")
EVERY_ENTRY = chains("arm64", "arm64-el2", "x86_64")


# -- both arches ------------------------------------------------------------

@BOTH
def test_pcsctool_wrap_matches_the_documented_layout(chain, tmp_path):
    # pcsctool's image is byte for byte the one the tests' own description
    # (wrap_arm64 / bzimage_wrap) builds, with the next kernel embedded
    # unchanged where the header says; inputs of the wrong kind are refused.
    stub, nxt, ours = chain.wrap_inputs(tmp_path)
    r = pcsctool_wrap(chain.arch, stub, nxt, tmp_path / "tool.img")
    assert r.returncode == 0, r.stdout + r.stderr
    a = (tmp_path / "tool.img").read_bytes()
    assert a == open(ours, "rb").read()
    off, ln = chain.assert_layout(a)
    assert a[off:off + ln] == open(nxt, "rb").read()
    for s, n, why in chain.refusals(tmp_path, stub, nxt, ours):
        bad = pcsctool_wrap(chain.arch, s, n, tmp_path / "x")
        assert bad.returncode == 65 and why in bad.stderr, (s, n, bad.stderr)


@chains("x86_64")
def test_wrap_carries_the_next_kernels_5level_flag(chain, tmp_path):
    # A 5-level old kernel's kexec_file_load refuses a bzImage without
    # XLF_5LEVEL (0x20, bzImage64_probe): both wraps take it from the next
    # kernel, and set it only when the next kernel has it.
    from x86util import X86_STUB, bzimage_wrap, fake_next_kernel
    for flags in (0x3, 0x23):
        k = fake_next_kernel(tmp_path, xloadflags=flags, name=f"k{flags:x}.bzImage")
        r = pcsctool_wrap("x86_64", X86_STUB, k, tmp_path / f"tool{flags:x}.img")
        assert r.returncode == 0, r.stdout + r.stderr
        a = (tmp_path / f"tool{flags:x}.img").read_bytes()
        assert struct.unpack_from("<H", a, 0x236)[0] == flags
        assert a == open(bzimage_wrap(tmp_path, k, name=f"w{flags:x}.bzImage"), "rb").read()


@EVERY_ENTRY
def test_wrapped_next_kernel_entered_per_boot_protocol(chain, tmp_path):
    # The embedded next kernel starts on a 2 MiB boundary after the wrapped
    # image: arm64 runs it in place, x86 moves it to the first slot after.
    r, base, slot = chain.boot_wrapped(tmp_path)
    at = chain.entered(r)
    assert at == slot and at % SZ_2M == 0 and at > base, r.describe()


@EVERY_ENTRY
def test_cache_verified_then_next_kernel(chain, tmp_path):
    # The old kernel enabled the VFs and left a cache of the live walk: all
    # of it VALID, handed over, and the next kernel entered both times.
    m = chain.machine_with_next(tmp_path, default_topology(vfs=4))
    first = m.boot()
    chain.entered(first)
    live = [l for l in first.lines if l.startswith("walk 0000")]
    walk = walk_lines(first.lines)
    r = m.boot(cache=m.gen(walk, name="chain"))
    chain.entered(r)
    s = summary(r.lines)
    assert (s["valid"], s["handover"]) == (len([l for l in live if not l.endswith("bridge")]),
                                           "ok"), r.describe()
    assert chain.old_kernel_said(walk) in r.out, r.describe()


@BOTH
def test_exception_still_reaches_the_next_kernel(chain, tmp_path, monkeypatch):
    # The vector reports the fault, and the next kernel is still entered
    # per the protocol.
    r = chain.boot_into_an_exception(tmp_path, monkeypatch)
    exc = [i for i, l in enumerate(r.lines) if l.startswith(f"exception vector={chain.vector} ")]
    assert len(exc) == 1, r.describe()
    chain.entered(r)
    chain.after_exception(r, exc[0])


# -- arm64 alone ------------------------------------------------------------

@chains("arm64")
def test_handover_reread_by_the_next_kernel(chain, tmp_path):
    # The next kernel is a second copy of the stub: it re-reads the
    # handed-over pcsc FDT from memory the first one cleaned to PoC before
    # jumping with caches off, re-verifies it and recomputes the SHA-256.
    from arm64util import ARM64_STUB, Arm64Machine, wrap_arm64
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


@chains("arm64-el2")
def test_vhe_el2_entry(chain, tmp_path):
    # Entered at EL2 with HCR_EL2.E2H = 1 (VHE; some CPUs cannot clear it):
    # TCR_EL2 then has the EL1 layout. The high ECAM window (above 4 GiB)
    # only works if the physical address size landed in the right field.
    m = chain.machine_with_next(tmp_path, default_topology(vfs=4), set_e2h=True)
    r = m.boot()
    assert "payload: bridges=7 last_bus=7 pfs=1 vfs=4 e2h=1 -> stub" in r.out, r.describe()
    chain.entered(r)
    assert "ecam 0000:00-ff at 0x4010000000" in r.lines, r.describe()
    assert len(walk_lines(r.lines)) == 20, r.describe()


# -- x86_64 alone: where a bzImage goes, and when it is refused -------------

@chains("x86_64")
def test_fake_kernel_entered_per_boot_protocol(chain, tmp_path):
    bp = BootParams(BP, cmdline="console=ttyS0 next-kernel-args")
    bp.add_kho(*KHO)
    r = boot_next(tmp_path, fake_next_kernel(tmp_path), bp=bp)
    assert not r.timed_out and r.rc == NEXT_EXIT, r.describe()
    assert "next kernel bzImage at 0x2000000 size 0x" in "\n".join(r.lines), r.describe()
    # relocatable, 2 MiB aligned: the first slot after the bzImage
    assert r.lines[-1] == ("next kernel protocol 2.15 at 0x2200000 init_size 0x400000: "
                           "jump 0x2200200 rsi=0x1000000"), r.describe()
    assert next_lines(r) == [
        "next: entry64 at 0x2200200 rsi 0x1000000 cs 0x10 ds 0x18 ss 0x18 if 0x0",
        "next: hdr HdrS version 0x20f loader 0x0 code32_start 0x2200000 init_size 0x400000 "
        "e820_entries 0x8",
        "next: cmdline console=ttyS0 next-kernel-args",
        # no root at the KHO address (magic 0): unplugged, retyped SETUP_NONE
        "next: setup_data type 0x0 len 0x20",
        "next: done"], r.describe()
    assert summary(r.lines)["handover"] == "unplugged", r.describe()


@chains("x86_64")
def test_non_relocatable_kernel_goes_to_pref_address(chain, tmp_path):
    bp = BootParams(0x800000, cmdline="x")
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, relocatable=False), bp=bp)
    assert r.rc == NEXT_EXIT, r.describe()
    assert r.lines[-1].startswith("next kernel protocol 2.15 at 0x1000000 "), r.describe()
    assert next_lines(r)[0].startswith("next: entry64 at 0x1000200 rsi 0x800000 "), r.describe()


@chains("x86_64")
def test_non_relocatable_kernel_refused_over_boot_params(chain, tmp_path):
    # pref_address 0x1000000 is where boot_params are: never overwritten.
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, relocatable=False))
    assert_x86_exit(r, status=exit_status(4), last="poweroff 4")
    assert "next kernel: no room for init_size 0x400000 (overlapping memory)" \
        in r.lines, r.describe()
    assert not next_lines(r), r.describe()


@chains("x86_64")
def test_kernel_without_room_is_refused(chain, tmp_path):
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, init_size=0x40000000))
    assert_x86_exit(r, status=exit_status(4), last="poweroff 4")
    assert any(re.match(r"^next kernel: no room for init_size 0x40000000 ", l)
               for l in r.lines), r.describe()


@chains("x86_64")
def test_32bit_only_or_old_kernel_is_not_entered(chain, tmp_path):
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, xloadflags=0, name="k32"))
    assert_x86_exit(r)
    assert "next kernel at 0x2000000 unusable: no 64-bit entry (XLF_KERNEL_64)" in r.lines
    assert r.lines[-2] == "no next kernel", r.describe()
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, version=0x020b, name="old"))
    assert_x86_exit(r)
    assert "next kernel at 0x2000000 unusable: boot protocol older than 2.12" in r.lines


@chains("x86_64")
def test_next_kernel_stays_inside_the_loaders_reservation(chain, tmp_path):
    # kexec reserved [load, load + our init_size) and nothing more: memory
    # past it may hold the KHO FDTs and preserved pcsc_data. The stub (at
    # 1 MiB here) places the next kernel at the first 2 MiB slot after the
    # embedded image, 0x2200000, needing 0x400000: a reservation ending at
    # 0x2600000 fits, one ending 1 MiB short is refused, never overrun.
    k = fake_next_kernel(tmp_path)
    bp = BootParams(BP, cmdline="x")
    bp.init_size = 0x2600000 - 0x100000
    r = boot_next(tmp_path, k, bp=bp)
    assert r.rc == NEXT_EXIT, r.describe()
    assert r.lines[-1].startswith("next kernel protocol 2.15 at 0x2200000 "), r.describe()
    bp = BootParams(BP, cmdline="x")
    bp.init_size = 0x2500000 - 0x100000
    r = boot_next(tmp_path, k, bp=bp)
    assert_x86_exit(r, status=exit_status(4), last="poweroff 4")
    assert any(re.match(r"^next kernel: no room for init_size 0x400000 ", l)
               for l in r.lines), r.describe()
    assert not next_lines(r), r.describe()
