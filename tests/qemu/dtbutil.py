# tests/qemu/dtbutil.py - read and edit DTBs with Debian's fdtget/fdtput: cells, ECAM nodes, KHO properties
import subprocess

from qemurun import need_tool


def fdtget(dtb, node, prop, typ="x"):
    r = subprocess.run([need_tool("fdtget"), "-t", typ, dtb, node, prop],
                       capture_output=True, text=True)
    if r.returncode:
        return None
    return r.stdout.strip()


def dtb_cells(dtb, node, prop):
    v = fdtget(dtb, node, prop)
    return [int(x, 16) for x in v.split()] if v else []


def dtb_add_kho(dtb, kho_fdt, kho_size, scratch=None):
    """Add /chosen linux,kho-fdt (and linux,kho-scratch) as the old kernel's
    kexec_file_load does: big-endian address and size cells (2 + 2 on virt)."""
    ac = int(fdtget(dtb, "/", "#address-cells", "u") or 2)
    sc = int(fdtget(dtb, "/", "#size-cells", "u") or 1)

    def cells(v, n):
        return [hex((v >> (32 * (n - 1 - i))) & 0xffffffff) for i in range(n)]

    subprocess.run([need_tool("fdtput"), "-t", "x", dtb, "/chosen", "linux,kho-fdt"]
                   + cells(kho_fdt, ac) + cells(kho_size, sc), check=True)
    if scratch:
        subprocess.run(["fdtput", "-t", "x", dtb, "/chosen", "linux,kho-scratch"]
                       + cells(scratch[0], ac) + cells(scratch[1], sc), check=True)
    return dtb


def psci_conduit(dtb):
    m = fdtget(dtb, "/psci", "method", "s")
    return {"hvc": 1, "smc": 2}.get(m, 0)


def dtb_ecam_windows(dtb):
    """[(node, base, seg, bus_start, bus_end)] of the DTB's ECAM nodes."""
    out = []
    nodes = subprocess.run(["fdtget", "-l", dtb, "/"], capture_output=True, text=True).stdout
    for n in nodes.split():
        if "pci-host-ecam-generic" in (fdtget(dtb, "/" + n, "compatible", "s") or ""):
            reg = dtb_cells(dtb, "/" + n, "reg")
            br = dtb_cells(dtb, "/" + n, "bus-range") or [0, 255]
            dom = dtb_cells(dtb, "/" + n, "linux,pci-domain") or [0]
            out.append(("/" + n, (reg[0] << 32) | reg[1], dom[0], br[0], br[1]))
    return out
