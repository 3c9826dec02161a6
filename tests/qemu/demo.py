# tests/qemu/demo.py - `make demo`: boot the arm64 stub on the default QEMU
# topology with a cache holding one stale, one gone and one bad entry, and
# show the serial console. Never asserts; tests/qemu/ has the assertions.
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from arm64util import arm64_machine_facts, ARM64_STUB, Arm64Machine, next_payload, wrap_arm64
from linuxguest import debian_arm64, linux_initramfs
from topology import default_topology, pick_faults, topology_backends


def next_kernel(tmp):
    """Debian's arm64 kernel + busybox initramfs (fetched once), or with
    PCSC_DEMO_NEXT=payload (or no network) the project's test payload."""
    if os.environ.get("PCSC_DEMO_NEXT") != "payload":
        try:
            image, busybox = debian_arm64()
            return image, ["-initrd", linux_initramfs(tmp, busybox)], "Debian arm64 kernel"
        except Exception as e:  # noqa: BLE001 - fall back, say why
            print(f"   (Debian kernel unavailable: {e}; using the test payload)")
    facts = arm64_machine_facts(tmp)
    return next_payload(tmp, facts), [], "test payload"


# What the stub reads (README "Kernel releases it speaks"): said first, so a
# newcomer knows which old kernels this demo stands for.
RELEASES = ("   KHO formats read: kho-v1 (Linux 6.16 - 7.0; 512-byte bitmaps, or 4096 with "
            "pcsc.kho_bitmap=4096 for 6.17.9+, or a LUO subtree: 6.19+), kho-v2, kho-v3 (7.1), "
            "kho-v4 (7.2-rc); any other KHO root: the cache is detached, the boot goes on")


def main():
    print("== pcsc-stub demo: a kexec live update's step between two kernels")
    print(RELEASES)
    tmp = tempfile.mkdtemp(prefix="pcsc-demo-")
    nxt, nxt_extra, nxt_name = next_kernel(tmp)
    wrapped = wrap_arm64(ARM64_STUB, nxt, os.path.join(tmp, "stub+next.Image"))
    # The same machine twice: the plain stub first (its walk is the
    # fixture's source), then the stub wrapped with the next kernel.
    os.makedirs(os.path.join(tmp, "walk"))
    os.makedirs(os.path.join(tmp, "boot"))
    w = Arm64Machine(os.path.join(tmp, "walk"), default_topology(vfs=8),
                     extra=topology_backends())
    m = Arm64Machine(os.path.join(tmp, "boot"), default_topology(vfs=8),
                     extra=topology_backends() + nxt_extra, stub=wrapped)
    live = w.walk()
    print(f"   {len(live)} live functions")
    f = pick_faults(live)
    faults = [f"stale={f['stale']}:device", f"gone={f['gone']}", f"badda={f['bad']}:align"]
    print("== 2. pcsctool gen from that walk, injected: " + " ".join(faults))
    cache = w.gen(live, faults=faults, name="demo-cache")
    print(f"   KHO FDT at {cache['kho_fdt'][0]:#x}; blobs placed with -device loader")
    print(f"== 3. boot: old kernel payload -> pcsc-stub -> {nxt_name} (serial console follows)")
    r = m.boot(cache=cache, append="console=ttyAMA0 panic=-1", timeout=110)
    lines = r.out.splitlines()
    # The stub's report in full, then the next kernel's first lines and
    # what its initramfs saw on the PCI bus.
    jump = next((i for i, l in enumerate(lines) if l.startswith("pcsc: jump to")), len(lines))
    shown = lines[:jump + 1] + lines[jump + 1:jump + 13]
    rest = [l for l in lines[jump + 13:] if l.startswith("linux-pci:")]
    sys.stdout.write("\n".join(shown) + "\n")
    if rest:
        print("   [...]")
        sys.stdout.write("\n".join(rest) + "\n")
    print(f"== QEMU exit status {r.rc} after {r.seconds:.1f} s"
          + (" (TIMEOUT)" if r.timed_out else ""))
    print(f"   (files kept in {tmp})")
    return 0 if (r.rc == 0 and not r.timed_out) else 1


if __name__ == "__main__":
    sys.exit(main())
