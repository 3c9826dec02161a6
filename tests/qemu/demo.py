# tests/qemu/demo.py - `make demo`: boot the arm64 stub on the default QEMU
# topology with a cache holding one stale, one gone and one bad entry, and
# show the serial console. Never asserts; tests/qemu/ has the assertions.
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import (Arm64Machine, default_topology, pick_faults,  # noqa: E402
                      topology_backends)


def main():
    tmp = tempfile.mkdtemp(prefix="pcsc-demo-")
    m = Arm64Machine(tmp, default_topology(vfs=8), extra=topology_backends())
    print("== 1. the old kernel numbers the bridges, enables 8 VFs; the stub walks (no cache)")
    live = m.walk()
    print(f"   {len(live)} live functions")
    f = pick_faults(live)
    faults = [f"stale={f['stale']}:device", f"gone={f['gone']}", f"badda={f['bad']}:align"]
    print("== 2. pcsctool gen from that walk, injected: " + " ".join(faults))
    cache = m.gen(live, faults=faults, name="demo-cache")
    print(f"   KHO FDT at {cache['kho_fdt'][0]:#x}; blobs placed with -device loader")
    print("== 3. boot: old kernel payload -> pcsc-stub (serial console follows)")
    r = m.boot(cache=cache)
    sys.stdout.write(r.out)
    print(f"== QEMU exit status {r.rc} after {r.seconds:.1f} s"
          + (" (TIMEOUT)" if r.timed_out else ""))
    print(f"   (files kept in {tmp})")
    return 0 if (r.rc == 0 and not r.timed_out) else 1


if __name__ == "__main__":
    sys.exit(main())
