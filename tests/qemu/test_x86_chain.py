# tests/qemu/test_x86_chain.py - the x86 hand-over: the stub places a next kernel (bzImage) per its setup header,
# merges the header into boot_params and enters its 64-bit entry with rsi = boot_params. Never edits the build.
import os
import re

from x86util import (BootParams, NEXT_EXIT, assert_x86_exit, exit_status, fake_next_kernel,
                     run_x86, second_copy, wrap_stub)

BP = 0x1000000
NEXT = 0x2000000
KHO = (0x3000000, 0x1000, 0x4000000, 0x100000)


def boot_next(tmp_path, kernel, bp=None, append="pcsc.exit=debug", next_addr=NEXT):
    bp = bp or BootParams(BP, cmdline="console=ttyS0 next-kernel-args")
    size = os.path.getsize(kernel)
    return run_x86(devices=[bp.loader(tmp_path),
                            f"loader,file={kernel},addr={next_addr:#x},force-raw=on"],
                   append=f"{append} pcsc.boot_params={bp.addr:#x} "
                          f"pcsc.x86.next={next_addr:#x},{size:#x}")


def next_lines(r):
    return [l for l in r.out.splitlines() if l.startswith("next: ")]


def test_x86_fake_kernel_entered_per_boot_protocol(tmp_path):
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
        "next: setup_data type 0xa len 0x20 kho fdt 0x3000000 magic 0x0",
        "next: done"], r.describe()


def test_x86_non_relocatable_kernel_goes_to_pref_address(tmp_path):
    bp = BootParams(0x800000, cmdline="x")
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, relocatable=False), bp=bp)
    assert r.rc == NEXT_EXIT, r.describe()
    assert r.lines[-1].startswith("next kernel protocol 2.15 at 0x1000000 "), r.describe()
    assert next_lines(r)[0].startswith("next: entry64 at 0x1000200 rsi 0x800000 "), r.describe()


def test_x86_non_relocatable_kernel_refused_over_boot_params(tmp_path):
    # pref_address 0x1000000 is where boot_params are: never overwritten.
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, relocatable=False))
    assert_x86_exit(r, status=exit_status(4), last="poweroff 4")
    assert "next kernel: no room for init_size 0x400000 (overlapping memory)" \
        in r.lines, r.describe()
    assert not next_lines(r), r.describe()


def test_x86_kernel_without_room_is_refused(tmp_path):
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, init_size=0x40000000))
    assert_x86_exit(r, status=exit_status(4), last="poweroff 4")
    assert any(re.match(r"^next kernel: no room for init_size 0x40000000 ", l)
               for l in r.lines), r.describe()


def test_x86_32bit_only_or_old_kernel_is_not_entered(tmp_path):
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, xloadflags=0, name="k32"))
    assert_x86_exit(r)
    assert "next kernel at 0x2000000 unusable: no 64-bit entry (XLF_KERNEL_64)" in r.lines
    assert r.lines[-2] == "no next kernel", r.describe()
    r = boot_next(tmp_path, fake_next_kernel(tmp_path, version=0x020b, name="old"))
    assert_x86_exit(r)
    assert "next kernel at 0x2000000 unusable: boot protocol older than 2.12" in r.lines


def test_x86_wrapped_image_entered_through_64bit_entry(tmp_path):
    # kexec's view: one image (stub + embedded bzImage) entered at +0x200
    # with rsi = boot_params. The PVH copy plays kexec (selftest chain64).
    wrapped = wrap_stub(tmp_path, fake_next_kernel(tmp_path))
    at = 0x4000000
    bp = BootParams(BP, cmdline="console=ttyS0 pcsc.exit=debug pcsc.report=full")
    bp.add_kho(*KHO)
    r = run_x86(devices=[bp.loader(tmp_path), f"loader,file={wrapped},addr={at:#x},force-raw=on"],
                append=f"pcsc.exit=debug pcsc.boot_params={BP:#x} "
                       f"pcsc.x86.selftest=chain64@{at:#x}")
    assert not r.timed_out and r.rc == NEXT_EXIT, r.describe()
    second = second_copy(r, at)
    assert second[0].startswith(f"x86_64 entry 64bit image {at:#x}-"), r.describe()
    m = [re.match(r"^next kernel bzImage at (0x[0-9a-f]+) size", l) for l in second]
    src = int(next(x for x in m if x).group(1), 16)
    dest = (src + os.path.getsize(fake_next_kernel(tmp_path, name="again")) + 0x1fffff) & ~0x1fffff
    assert second[-1] == (f"next kernel protocol 2.15 at {dest:#x} init_size 0x400000: "
                          f"jump {dest + 0x200:#x} rsi={BP:#x}"), r.describe()
    assert next_lines(r)[0].startswith(f"next: entry64 at {dest + 0x200:#x} rsi {BP:#x} "
                                       "cs 0x10 ds 0x18 ss 0x18 if 0x0"), r.describe()
    assert "next: setup_data type 0xa len 0x20 kho fdt 0x3000000 magic 0x0" in next_lines(r)


def test_x86_exception_detaches_the_cache_and_still_jumps(tmp_path, monkeypatch):
    # A fault after the session, before the jump: the stub reports it,
    # detaches the pcsc subtree it may not have finished judging, and still
    # enters the next kernel. The fault comes from outside (no hook in the
    # jump path): QEMU's gdbstub stops the guest as arch_boot_next(p) is
    # entered and points p (rdi) at 1 TiB + 0x123, which the stub never
    # maps, so the jump code's first read through p page-faults.
    import x86util
    from faultinject import X86_RDI, le_hex, run_stopped_once
    from topology import default_topology, topology_backends
    from x86paging import elf_symbols
    from x86util import X86_STUB, X86Machine
    bad = 0x10000000123
    m = X86Machine(tmp_path, default_topology(vfs=2), extra=topology_backends(),
                   old_kernel=False)
    live = m.walk()
    cache = m.gen(live, name="exc")
    k = fake_next_kernel(tmp_path)
    jump = elf_symbols(X86_STUB, {"arch_boot_next"})["arch_boot_next"]   # PVH: linked = loaded
    # X86Machine.boot's own command line, run by the injector instead
    monkeypatch.setattr(x86util, "run_qemu", lambda cmd, timeout, ram_probe=(): run_stopped_once(
        cmd, jump, [f"P{X86_RDI:x}={le_hex(bad)}"], timeout=timeout))
    r = m.boot(cache=cache, loaders=[(k, NEXT)],
               append=f"pcsc.exit=debug pcsc.x86.next={NEXT:#x},{os.path.getsize(k):#x}")
    assert not r.timed_out and r.rc == NEXT_EXIT, r.describe()
    i = [n for n, l in enumerate(r.lines) if l.startswith("exception vector=14 ")]
    assert len(i) == 1, r.describe()
    cr2 = int(re.search(r" cr2=(0x[0-9a-f]+)$", r.lines[i[0]]).group(1), 16)
    assert bad <= cr2 < bad + 0x1000, r.describe()
    assert any(l.startswith("done in ") for l in r.lines[:i[0]]), r.describe()
    assert r.lines[i[0] + 1] == "detached the pcsc subtree from the KHO FDT", r.describe()
    assert r.lines[i[0] + 2].startswith("next kernel protocol 2.15 at "), r.describe()
    assert next_lines(r)[-1] == "next: done", r.describe()
    kho = cache["kho_fdt"][0]
    assert f"next: setup_data type 0xa len 0x20 kho fdt {kho:#x} magic 0xd00dfeed" \
        in next_lines(r), r.describe()


def test_x86_pcsctool_wrap_matches_the_documented_layout(tmp_path):
    # pcsctool's bzImage is byte for byte the one the tests' own
    # description (x86util.bzimage_wrap) builds, and it refuses inputs that
    # are not a stub ELF / a 64-bit bzImage.
    import subprocess
    from qemurun import O
    from x86util import X86_STUB, bzimage_wrap, pcsctool_wrap_x86
    k = fake_next_kernel(tmp_path)
    a = open(pcsctool_wrap_x86(tmp_path, k), "rb").read()
    b = open(bzimage_wrap(tmp_path, k), "rb").read()
    assert a == b
    assert a[0x202:0x206] == b"HdrS" and a[0x400 + 0x100:0x400 + 0x108] == b"PCSCX86H"
    tool = os.path.join(O, "host", "pcsctool")
    bad = subprocess.run([tool, "wrap", "--arch", "x86_64", X86_STUB, X86_STUB, "-o",
                          str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode == 65 and "not a 64-bit bzImage" in bad.stderr, bad.stderr
    k32 = fake_next_kernel(tmp_path, xloadflags=0, name="k32")
    bad = subprocess.run([tool, "wrap", "--arch", "x86_64", X86_STUB, k32, "-o",
                          str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode == 65, bad.stderr
    bad = subprocess.run([tool, "wrap", "--arch", "x86_64", k, k, "-o", str(tmp_path / "x")],
                         capture_output=True, text=True)
    assert bad.returncode == 65 and "not the x86_64 pcsc-stub ELF" in bad.stderr, bad.stderr


def test_x86_next_kernel_stays_inside_the_loaders_reservation(tmp_path):
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
