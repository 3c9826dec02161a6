# tests/qemu/hostile.py - the hostile-input case table of test_hostile.py (both arches),
# FDT/KHO byte patchers and the expected report of each case. Never patches anything outside a test's tmp dir.
"""Hostile caches (issue 8 point 1).

Each Case builds a fixture from a clean `pcsctool gen` cache of the
machine's own walk: `faults` are pcsctool fault specs (docs/pcsctool.md),
`patch(fx)` then changes bytes of the generated blobs (or adds blobs).
`expect` says what the stub must print, exactly:

* `reject=WHY`: `cache rejected: WHY`, then `detached the pcsc subtree
  from the KHO FDT` when `detached` (the KHO root was usable), or `KHO
  root unreadable: unplugged` when `unplugged` (nothing of the root could
  be read: the stub takes it out of the handover), no verdict line,
  summary handover=detached, unplugged (or none).
* `nocache=WHY`: `no cache: WHY`, summary handover=none.
* `entries={role: line}`: every saved entry VALID except the roles named
  (role = a BDF picked from the live walk, see Fixture.roles), whose line
  is the verdict text after `SBDF vvvv:dddd `; plus `extra` lines.

In every case the test then asserts that the next kernel (the test payload
wrapped with the stub) was entered and that guest RAM outside the ranges
the stub may write is unchanged (ramcheck.py); an unplugged case also that
the next kernel is handed no KHO root (arm64: no /chosen linux,kho-fdt or
linux,kho-scratch in the DTB; x86: the SETUP_KEXEC_KHO entry retyped 0).

`root_in` puts the KHO root's page in real RAM the stub does not map:
"nomap" a /reserved-memory no-map child on arm64, an e820 reserved (2)
range on x86; "memreserve" a /memreserve/ entry on arm64, an e820 ACPI
(3) range on x86. `Fixture.more_kho` lists KHO roots announced after the
first (x86: more SETUP_KEXEC_KHO entries). `Fixture.setup_data` (x86) lays
the whole setup_data list out instead: where each node lies (RAM, an e820
reserved page, nowhere) and where it links (test_hostile.SD).
`Fixture.dtb_patches` (arm64) edit the DTB once /chosen names the root:
a linux,kho-fdt the stub cannot parse (chosen_kho_fdt_cells), /chosen
renamed /chosen@0 (chosen_renamed).
"""
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field

from ramcheck import KHO_UNPLUGGED

PAGE = 4096
FDT_MAGIC = 0xd00dfeed
HDR = {"magic": 0, "totalsize": 4, "off_dt_struct": 8, "off_dt_strings": 12,
       "off_mem_rsvmap": 16, "version": 20, "last_comp_version": 24,
       "size_dt_strings": 32, "size_dt_struct": 36}


def page_align(n):
    return (n + PAGE - 1) // PAGE * PAGE


# ------------------------------------------------------------ FDT bytes ----
def fdt_walk(b):
    """The structure block of FDT bytes b, in order (a small reader: test
    fixtures only): (path, None, None, None) as a node begins and (path,
    name offset, data offset, length) for each property, path being the
    tuple of node names from the root ("") down; NOPs are skipped."""
    off, path = struct.unpack_from(">I", b, 8)[0], []
    while True:
        tok = struct.unpack_from(">I", b, off)[0]
        off += 4
        if tok == 1:
            end = b.index(b"\0", off)
            path.append(b[off:end].decode(errors="replace"))
            off = (end + 1 + 3) & ~3
            yield tuple(path), None, None, None
        elif tok == 2:
            path.pop()
        elif tok == 3:
            ln, no = struct.unpack_from(">II", b, off)
            off += 8
            yield tuple(path), no, off, ln
            off = (off + ln + 3) & ~3
        elif tok == 4:
            continue
        elif tok == 9:
            return
        else:
            raise ValueError(f"FDT token {tok:#x} at {off - 4:#x}")


def fdt_props(blob):
    """{(node path, prop name): (data offset, length)} of an FDT."""
    b = bytes(blob)
    stroff = struct.unpack_from(">I", b, 12)[0]
    out = {}
    for path, no, off, ln in fdt_walk(b):
        if no is not None:
            name = b[stroff + no:b.index(b"\0", stroff + no)].decode()
            out[("/" + "/".join(p for p in path if p), name)] = (off, ln)
    return out


def fdt_build(nodes, compatible):
    """A v17 FDT: root with compatible, then one child per (name, {prop:
    bytes}) of nodes. Written here so a 100,000-node blob takes no dtc run."""
    strings, stroff = bytearray(), {}

    def s(name):
        if name not in stroff:
            stroff[name] = len(strings)
            strings.extend(name.encode() + b"\0")
        return stroff[name]

    def pad(b):
        b.extend(b"\0" * (-len(b) % 4))

    st = bytearray()

    def prop(name, val):
        st.extend(struct.pack(">III", 3, len(val), s(name)))
        st.extend(val)
        pad(st)

    st.extend(struct.pack(">I", 1) + b"\0\0\0\0")
    prop("compatible", compatible.encode() + b"\0")
    for name, props in nodes:
        st.extend(struct.pack(">I", 1) + name.encode() + b"\0")
        pad(st)
        for k, v in props.items():
            prop(k, v)
        st.extend(struct.pack(">I", 2))
    st.extend(struct.pack(">II", 2, 9))
    hdr_size, rsv = 40, 16
    off_rsv = (hdr_size + 7) & ~7
    off_st = off_rsv + rsv
    off_str = off_st + len(st)
    total = off_str + len(strings)
    hdr = struct.pack(">10I", FDT_MAGIC, total, off_st, off_str, off_rsv, 17, 16, 0,
                      len(strings), len(st))
    return hdr + bytes(off_rsv - hdr_size) + bytes(rsv) + bytes(st) + bytes(strings)


# -------------------------------------------------------------- fixture ----
class Fixture:
    """One generated cache in its own directory, with the facts a patch
    needs: blob paths and addresses, RAM, the machine's owned ranges."""

    def __init__(self, man, arch, facts, saved):
        self.dir = man["dir"]
        self.man = man
        self.arch = arch
        self.facts = facts           # ram, ecam, stub, owned, mmio
        self.saved = saved           # [(sbdf, vendor, device)] the old kernel saved
        self.blobs = {os.path.basename(p): [p, a] for p, a in man["blobs"]}
        self.kho = list(man["kho_fdt"])      # address, size announced to the stub
        self.scratch = list(man["kho_scratch"])   # the scratch array announced with it
        self.pcsc_pages = (self.addr("pcsc.dtb"), page_align(self.size("pcsc.dtb")))
        self.root_in = None          # Case.root_in: the root's page in RAM the stub leaves out
        self.more_kho = []           # [(fdt, size, scratch, scratch size)] announced after it
        self.setup_data = None       # x86: [test_hostile.SD] the setup_data list (None: KHO
        #                              entry, then more_kho, packed after boot_params)
        self.dtb_patches = []        # arm64: [callable(dtb path)] run on the DTB after the
        #                              KHO properties are added to /chosen (test_hostile)

    def path(self, name):
        return self.blobs[name][0]

    def addr(self, name):
        return self.blobs[name][1]

    def size(self, name):
        return os.path.getsize(self.path(name))

    def read(self, name):
        return bytearray(open(self.path(name), "rb").read())

    def write(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(bytes(data))

    def add_blob(self, name, addr, data):
        p = os.path.join(self.dir, name)
        with open(p, "wb") as f:
            f.write(bytes(data))
        self.blobs[name] = [p, addr]

    def loaders(self):
        return [(p, a) for p, a in self.blobs.values()]

    # byte patches
    def hdr(self, name, fieldname, value):
        b = self.read(name)
        struct.pack_into(">I", b, HDR[fieldname], value)
        self.write(name, b)

    def prop_u64(self, name, node, prop, value):
        """Overwrite the native (little-endian) u64 property node/prop."""
        b = self.read(name)
        off, ln = fdt_props(b)[(node, prop)]
        assert ln == 8, (node, prop, ln)
        struct.pack_into("<Q", b, off, value & 0xffffffffffffffff)
        self.write(name, b)

    def prop_get_u64(self, name, node, prop):
        b = self.read(name)
        off, ln = fdt_props(b)[(node, prop)]
        return struct.unpack_from("<Q", b, off)[0]

    def fdtput(self, name, *args):
        subprocess.run(["fdtput", self.path(name)] + list(args), check=True)

    def map_u64(self, off, value):
        b = self.read("kho_map.bin")
        struct.pack_into("<Q", b, off, value & 0xffffffffffffffff)
        self.write("kho_map.bin", b)

    def map_u32(self, off, value):
        b = self.read("kho_map.bin")
        struct.pack_into("<I", b, off, value)
        self.write("kho_map.bin", b)

    def role(self, r):
        return self.facts["roles"][r]

    def node(self, r):
        seg, rest = self.role(r).split(":", 1)
        bus, df = rest.split(":")
        d, f = df.split(".")
        return f"/dev_{seg}_{bus}_{d}_{f}"


@dataclass
class Case:
    name: str
    faults: list = field(default_factory=list)
    patch: object = None
    reject: str = None           # whole cache rejected: the text after "cache rejected: "
    #                              (a callable of fx, or a compiled pattern it must fullmatch)
    detached: bool = True        # the pcsc child NOPed in the KHO root (else handover=none)
    unplugged: bool = False      # (with detached=False) the KHO root taken out of the handover
    root_in: str = None          # the root's page declared not RAM: "nomap", "memreserve"
    notes: list = field(default_factory=list)     # exact lines printed before the cache's own
    #                              (discovery: every "setup_data <what>: <strerror>",
    #                              arm64 every "dt chosen..." line)
    nocache: str = None          # "no cache: ..."
    entries: dict = field(default_factory=dict)   # role -> verdict text (after the IDs)
    extra: list = field(default_factory=list)     # more exact lines (callables of fx ok)
    counts: tuple = None         # (valid, stale, gone, bad, new) when entries is used
    removed: int = None
    why: str = ""
    kho: str = None              # pcsctool gen --kho layout (None: v1-512)

    def reject_text(self, fx):
        if isinstance(self.reject, re.Pattern):
            return re.compile("cache rejected: " + self.reject.pattern)
        return "cache rejected: " + (self.reject(fx) if callable(self.reject) else self.reject)


def C(name, **kw):
    return Case(name, **kw)


# ------------------------------------------------------------- patches ----
def kho_version_1(fx):
    fx.hdr("kho.dtb", "version", 1)


def kho_totalsize_huge(fx):
    fx.hdr("kho.dtb", "totalsize", 0x7ffffff0)


def kho_announced_small(fx):
    fx.kho[1] = 0x40           # the loader says 64 bytes; totalsize says 192


def kho_strings_past_end(fx):
    b = fx.read("kho.dtb")
    total = struct.unpack_from(">I", b, 4)[0]
    struct.pack_into(">I", b, 12, total + 0x100)
    fx.write("kho.dtb", b)


def kho_struct_past_end(fx):
    b = fx.read("kho.dtb")
    total = struct.unpack_from(">I", b, 4)[0]
    struct.pack_into(">I", b, 8, total - 4)
    fx.write("kho.dtb", b)


def kho_no_pcsc_fdt(fx):
    fx.fdtput("kho.dtb", "-d", "/pcsc", "fdt")


def kho_pcsc_fdt_4_bytes(fx):
    fx.fdtput("kho.dtb", "-t", "x", "/pcsc", "fdt", hex(fx.addr("pcsc.dtb")))


def kho_no_pcsc_node(fx):
    fx.fdtput("kho.dtb", "-r", "/pcsc")


def kho_kho_fdt_unaligned(fx):
    fx.kho[0] += 4


def kho_fdt_past_ram(fx):
    fx.kho[0] = fx.facts["ram"][0] + fx.facts["ram"][1] + 0x100000


def chosen_kho_fdt_cells(cells):
    """Patch (arm64): /chosen linux,kho-fdt rewritten as the 32-bit cells
    cells(fx) (the root has #address-cells 2, #size-cells 2: 4 cells)."""
    def patch(fx):
        def edit(dtb):
            subprocess.run(["fdtput", "-t", "x", dtb, "/chosen", "linux,kho-fdt"]
                           + [hex(c) for c in cells(fx)], check=True)
        fx.dtb_patches.append(edit)
    return patch


def chosen_renamed(name):
    """Patch (arm64): the DTB's /chosen node renamed (a dtc round trip),
    its properties, the KHO ones included, kept."""
    def patch(fx):
        def edit(dtb):
            from qemurun import need_tool
            dts = subprocess.run([need_tool("dtc"), "-q", "-I", "dtb", "-O", "dts", dtb],
                                 capture_output=True, text=True, check=True).stdout
            assert dts.count("\n\tchosen {\n") == 1, "the machine's DTB has one /chosen"
            dts = dts.replace("\n\tchosen {\n", f"\n\t{name} {{\n")
            subprocess.run([need_tool("dtc"), "-q", "-I", "dts", "-O", "dtb", "-o", dtb, "-"],
                           input=dts, text=True, check=True)
        fx.dtb_patches.append(edit)
    return patch


def kho_fdt_not_in_ram(fx):
    """The stub's reject text for a root whose header is not in its RAM."""
    return f"KHO FDT at {fx.kho[0]:#x} not in RAM"


def pcsc_fdt_to(where):
    def patch(fx):
        fx.prop_u64("kho.dtb", "/pcsc", "fdt", where(fx))
    return patch


def pcsc_hdr(fieldname, value):
    def patch(fx):
        b = fx.read("pcsc.dtb")
        v = value(b) if callable(value) else value
        struct.pack_into(">I", b, HDR[fieldname], v)
        fx.write("pcsc.dtb", b)
    return patch


def map_second_chunk_loops_to_first(fx):
    """chunk 1 -> chunk 2 -> chunk 1: a loop two chunks long."""
    b = fx.read("kho_map.bin")
    first = fx.addr("kho_map.bin")
    nxt = struct.unpack_from("<Q", b, 0)[0]
    assert nxt == first + PAGE, "pcsctool map layout changed: chunk 2 follows chunk 1"
    struct.pack_into("<Q", b, PAGE, first)
    fx.write("kho_map.bin", b)


def pcsc_100k_nodes(fx):
    """A pcsc FDT of 100,000 well-formed entries (6.1 times the stub's 16,384
    slots), preserved in its own pages by a map entry of its own."""
    n = 100000
    nodes = [(f"dev_{(i >> 16):04x}_{(i >> 8) & 0xff:02x}_{(i >> 3) & 0x1f:02x}_{i & 7:x}",
              {"da": struct.pack("<Q", 0)}) for i in range(n)]
    blob = fdt_build(nodes, "pcsc-v1")
    at = fx.facts["big_at"]
    fx.add_blob("pcsc100k.dtb", at, blob + bytes(page_align(len(blob)) - len(blob)))
    fx.pcsc_pages = (at, page_align(len(blob)))
    fx.prop_u64("kho.dtb", "/pcsc", "fdt", at)
    # Second map chunk's first entry: order 0 bitmaps of 4,096 pages each,
    # enough of them to cover the blob; the bitmaps go on the chunk's page.
    b = fx.read("kho_map.bin")
    first = fx.addr("kho_map.bin")
    c2 = PAGE
    assert struct.unpack_from("<Q", b, 0)[0] == first + c2
    pages = page_align(len(blob)) // PAGE
    span = 4096
    nb = (pages + span - 1) // span + 1
    struct.pack_into("<QII", b, c2, 0, 0, nb)
    bm_off = 0x800                 # bitmaps at chunk + 0x800, 512 bytes each
    assert bm_off + 512 * nb <= PAGE and 16 + 16 * nb <= bm_off
    base_pfn = at // PAGE // span * span
    for i in range(nb):
        bits = bytearray(512)
        for p in range(span):
            pfn = base_pfn + i * span + p
            if at // PAGE <= pfn < at // PAGE + pages:
                bits[p // 8] |= 1 << (p % 8)
        struct.pack_into("<QQ", b, c2 + 16 + 16 * i, (base_pfn + i * span) * PAGE,
                         first + c2 + bm_off + 512 * i)
        b[c2 + bm_off + 512 * i:c2 + bm_off + 512 * (i + 1)] = bits
    fx.write("kho_map.bin", b)


# --- kho-v2+ radix tree (a `--kho v4` fixture): the root is the first page
# of kho_map.bin; tables hold 512 native u64 physical addresses (0 = empty)
def radix_path(fx):
    """[(level, node address, slot, child)] from the root (level 5) down to
    level 1, following each table's first used slot: the first path the
    stub's depth-first reader takes."""
    b, base = fx.read("kho_map.bin"), fx.addr("kho_map.bin")
    node = fx.prop_get_u64("kho.dtb", "/", "preserved-memory-map")
    assert node == base, "pcsctool radix layout changed: the root is the map's first page"
    out = []
    for level in range(5, 0, -1):
        slots = struct.unpack_from("<512Q", b, node - base)
        i = next(k for k, c in enumerate(slots) if c)
        out.append((level, node, i, slots[i]))
        node = slots[i]
    return out


def radix_set(level, slot, value):
    """Patch: the table at `level` on radix_path gets value(fx, path) in
    slot(fx, path) (a slot index; None = its first used one)."""
    def patch(fx):
        path = radix_path(fx)
        lv, node, used, _ = next(p for p in path if p[0] == level)
        b = fx.read("kho_map.bin")
        k = used if slot is None else slot(fx, path)
        struct.pack_into("<Q", b, node - fx.addr("kho_map.bin") + 8 * k, value(fx, path))
        fx.write("kho_map.bin", b)
    return patch


def radix_free_slot(level):
    """The first empty slot (never 0) of the table at level on the path."""
    def slot(fx, path):
        _, node, _, _ = next(p for p in path if p[0] == level)
        b = fx.read("kho_map.bin")
        slots = struct.unpack_from("<512Q", b, node - fx.addr("kho_map.bin"))
        return next(k for k in range(1, 512) if not slots[k])
    return slot


def radix_child(level):
    return lambda fx, path: next(p for p in path if p[0] == level)[3]


# --- kho-v3+ pcsc subtree (a `--kho v4` fixture): `preserved-data` names the
# pcsc FDT, an 8-byte `blob-size` bounds it: at least the FDT's totalsize,
# at most what the map preserves from its address on (lib/session.c)
def pcsc_totalsize(fx):
    return struct.unpack_from(">I", fx.read("pcsc.dtb"), 4)[0]


def preserved_from(fx, addr):
    """Bytes preserved from addr on: the end of the merged map range that
    holds addr, as khoutil reads the map (independently of lib/)."""
    import khoutil
    return next(e - addr for s, e in khoutil.read_map(fx.man)["ranges"] if s <= addr < e)


def blob_size_to(value):
    def patch(fx):
        assert fx.prop_get_u64("kho.dtb", "/pcsc", "blob-size") == pcsc_totalsize(fx)
        fx.prop_u64("kho.dtb", "/pcsc", "blob-size", value(fx))
    return patch


def blob_size_rejected(value):
    """session.c's text for a blob-size that does not fit."""
    return lambda fx: (f"pcsc blob-size {value(fx)}: totalsize {pcsc_totalsize(fx)} "
                       "or preservation does not fit")


def blob_size_one_past_preserved(fx):
    at = fx.addr("pcsc.dtb")
    n = preserved_from(fx, at)
    # the fixture preserves the pcsc FDT's own pages, not the map after them
    assert at + n == fx.pcsc_pages[0] + fx.pcsc_pages[1], (hex(at), hex(n), fx.pcsc_pages)
    return n + 1


def kho_prop_name_past_strings(fx):
    """A first root property whose name offset lies past the strings block:
    the header checks pass, fdt_check_full fails (FDT_ERR_BADOFFSET).
    Linux's by-name lookups skip a property whose name they cannot read, so
    such a root still yields `compatible`, the map and `pcsc` to a kernel
    that checks only the header: the stub must detach it anyway."""
    fx.fdtput("kho.dtb", "-t", "x", "/", "linux,pcsc-test", "0")
    b = fx.read("kho.dtb")
    first = next(x for x in fdt_walk(bytes(b)) if x[1] is not None)
    assert first[0] == ("",) and b[first[2]:first[2] + 4] == bytes(4), first
    struct.pack_into(">I", b, first[2] - 4, struct.unpack_from(">I", b, HDR["size_dt_strings"])[0]
                     + 0x100)
    fx.write("kho.dtb", b)


def kho_compatible(text):
    def patch(fx):
        fx.fdtput("kho.dtb", "-t", "s", "/", "compatible", text)
    return patch


# The exception path (test_hostile_exception_detaches): a root the stub
# cannot read, the fault injected before the session has judged it; how
# the pcsc child must be left: NOPed (libfdt accepts the root) or renamed
# in place to "pcs-" (it does not); or, a root of which nothing can be
# mapped (past RAM, in RAM the stub leaves unmapped, bad magic), the root
# itself unplugged from the handover.
EXCEPTION_CASES = [
    (Case("exc_kho_v9_compatible", kho="v4", patch=kho_compatible("kho-v9")), "nop"),
    (Case("exc_kho_fails_the_full_check", kho="v4", patch=kho_prop_name_past_strings), "rename"),
    (Case("exc_kho_fdt_past_ram", patch=kho_fdt_past_ram), "unplug"),
    (Case("exc_kho_fdt_in_nomap_ram", root_in="nomap"), "unplug"),
    (Case("exc_kho_bad_magic", faults=["corrupt=kho-magic"]), "unplug"),
]


def da_to(role, where):
    def patch(fx):
        fx.prop_u64("pcsc.dtb", fx.node(role), "da", where(fx))
    return patch


def patches(*ps):
    def patch(fx):
        for p in ps:
            p(fx)
    return patch


def bad(reason):
    return "ffff:ffff BAD " + reason


# ---------------------------------------------------------------- table ----
# Roles (Fixture.facts['roles']): 'a' the first saved endpoint that is not
# the host bridge, 'b' the next one, 'z' the last saved one; 'gone' a free
# slot on bus 0. Every expected text below is the report format of
# docs/report.md, verbatim.
CASES = [
    # --- the KHO root FDT -------------------------------------------------
    # A root the stub cannot read at all (bad magic, misaligned, not in the
    # RAM it maps) cannot be edited: the stub unplugs it instead (arm64 the
    # /chosen properties NOPed, x86 the setup_data entry retyped 0)
    C("kho_bad_magic", faults=["corrupt=kho-magic"],
      reject="KHO FDT bad magic 0xdededede", detached=False, unplugged=True),
    # A root the stub cannot fully understand still has its pcsc child
    # detached whenever the blob is mapped (issue 12: fail closed): NOPed
    # when libfdt accepts the root, renamed in place ("pcs-") when not.
    C("kho_unknown_compatible", faults=["corrupt=kho-compat"],
      reject='KHO FDT unknown compatible "kho-v0"'),
    C("kho_bad_version", patch=kho_version_1,
      reject="KHO FDT invalid: FDT_ERR_BADVERSION"),
    # mapped as far as 1 MiB (and RAM) reach, scanned, its magic zeroed
    C("kho_totalsize_huge", patch=kho_totalsize_huge,
      reject="KHO FDT totalsize 2147483632 outside 40..1048576"),
    C("kho_truncated_by_loader", patch=kho_announced_small,
      reject="KHO FDT totalsize 192 above the 64-byte bound"),
    C("kho_strings_offset_past_end", patch=kho_strings_past_end,
      reject="KHO FDT invalid: FDT_ERR_TRUNCATED"),
    C("kho_struct_offset_past_end", patch=kho_struct_past_end,
      reject="KHO FDT invalid: FDT_ERR_TRUNCATED", detached=False),
    C("kho_fdt_unaligned", patch=kho_kho_fdt_unaligned,
      reject=lambda fx: f"KHO FDT at {fx.kho[0]:#x} not 8-byte aligned", detached=False,
      unplugged=True),
    C("kho_fdt_past_ram", patch=kho_fdt_past_ram,
      reject=kho_fdt_not_in_ram, detached=False, unplugged=True),
    # real RAM the stub leaves unmapped, which the next kernel reads anyway
    C("kho_fdt_in_nomap_ram", root_in="nomap",
      reject=kho_fdt_not_in_ram, detached=False, unplugged=True),
    C("kho_fdt_in_memreserve", root_in="memreserve",
      reject=kho_fdt_not_in_ram, detached=False, unplugged=True),
    C("kho_pcsc_node_without_fdt", patch=kho_no_pcsc_fdt,
      reject="KHO pcsc node has no fdt property"),
    C("kho_pcsc_fdt_4_bytes", patch=kho_pcsc_fdt_4_bytes,
      reject="KHO pcsc node fdt is 4 bytes, not 8"),
    C("kho_without_pcsc_subtree", patch=kho_no_pcsc_node,
      nocache="KHO FDT has no pcsc subtree"),
    # --- where the pcsc FDT is --------------------------------------------
    C("pcsc_fdt_past_ram", faults=["corrupt=pcsc-outside"],
      reject=lambda fx: f"pcsc FDT at {fx.prop_get_u64('kho.dtb', '/pcsc', 'fdt'):#x} not in RAM"),
    C("pcsc_fdt_into_the_stub", patch=pcsc_fdt_to(lambda fx: fx.facts["stub"][0]),
      reject=lambda fx: f"pcsc FDT bad magic {fx.facts['stub_magic']:#010x}"),
    C("pcsc_fdt_into_mmio", patch=pcsc_fdt_to(lambda fx: fx.facts["mmio"]),
      reject=lambda fx: f"pcsc FDT at {fx.facts['mmio']:#x} not in RAM"),
    C("pcsc_fdt_unaligned", patch=pcsc_fdt_to(lambda fx: fx.addr("pcsc.dtb") + 0x100),
      reject=lambda fx: f"pcsc FDT at {fx.addr('pcsc.dtb') + 0x100:#x} not page aligned"),
    C("pcsc_fdt_not_preserved", patch=pcsc_fdt_to(lambda fx: fx.addr("kho.dtb")),
      reject='pcsc FDT unknown compatible "kho-v1"'),
    # --- the pcsc FDT's own header ----------------------------------------
    C("pcsc_bad_magic", faults=["corrupt=pcsc-magic"], reject="pcsc FDT bad magic 0xdededede"),
    C("pcsc_unknown_compatible", faults=["corrupt=pcsc-compat"],
      reject='pcsc FDT unknown compatible "pcsc-v0"'),
    C("pcsc_totalsize_past_its_pages", faults=["corrupt=pcsc-totalsize"],
      reject=lambda fx: f"pcsc FDT {fx.addr('pcsc.dtb'):#x}+"
                        f"{page_align(struct.unpack_from('>I', fx.read('pcsc.dtb'), 4)[0])} "
                        f"not preserved"),
    C("pcsc_totalsize_truncated", patch=pcsc_hdr("totalsize", 32),
      reject="pcsc FDT invalid: FDT_ERR_TRUNCATED"),
    C("pcsc_bad_version", patch=pcsc_hdr("version", 1),
      reject="pcsc FDT invalid: FDT_ERR_BADVERSION"),
    C("pcsc_strings_offset_past_end",
      patch=pcsc_hdr("off_dt_strings", lambda b: struct.unpack_from(">I", b, 4)[0] + 8),
      reject="pcsc FDT invalid: FDT_ERR_TRUNCATED"),
    # refused by the index's one bounded pass at its arena cap (what is
    # left of an arena sized for STUB_MAX_ENTRIES = 16,384 and more)
    C("pcsc_100000_nodes", patch=pcsc_100k_nodes,
      reject=re.compile(r"pcsc FDT has more than (1[6-9]\d{3}|[2-9]\d{4}) entries")),
    # --- the preserved-memory map -----------------------------------------
    C("map_chunk_loops_to_itself", faults=["corrupt=map-loop"],
      reject=lambda fx: f"KHO map chunk list loops at {fx.addr('kho_map.bin'):#x}"),
    C("map_two_chunk_loop", patch=map_second_chunk_loops_to_first,
      reject=lambda fx: f"KHO map chunk list loops at {fx.addr('kho_map.bin') + PAGE:#x}"),
    C("map_absurd_order", patch=lambda fx: fx.map_u32(8, 200),
      reject=lambda fx: f"KHO map chunk {fx.addr('kho_map.bin'):#x} order 200 above 30"),
    C("map_too_many_entries", patch=lambda fx: fx.map_u32(12, 1000),
      reject=lambda fx: f"KHO map chunk {fx.addr('kho_map.bin'):#x} has 1000 entries, max 255"),
    C("map_unaligned_bitmap",
      patch=lambda fx: fx.map_u64(24, struct.unpack_from("<Q", fx.read("kho_map.bin"), 24)[0] + 4),
      reject=lambda fx: "KHO map bitmap "
                        f"{struct.unpack_from('<Q', fx.read('kho_map.bin'), 24)[0]:#x} unaligned"),
    C("map_bitmap_past_ram", patch=lambda fx: fx.map_u64(24, fx.facts["past_ram"]),
      reject=lambda fx: f"KHO map bitmap {fx.facts['past_ram']:#x} not in RAM"),
    C("map_start_off_its_bitmap_span",
      patch=patches(lambda fx: fx.map_u32(8, 30), lambda fx: fx.map_u64(16, 0xfffffc0000000000)),
      reject="KHO map start 0xfffffc0000000000 not aligned to its 4096-bit bitmap"),
    # order 30, 4096 bits: one bitmap spans 2^54 bytes; the last such span
    C("map_range_wraps",
      patch=patches(lambda fx: fx.map_u32(8, 30), lambda fx: fx.map_u64(16, 0xffc0000000000000)),
      reject="KHO map start 0xffc0000000000000 order 30 wraps"),
    C("map_chunk_past_ram",
      patch=lambda fx: fx.prop_u64("kho.dtb", "/", "preserved-memory-map", fx.facts["past_ram"]),
      reject=lambda fx: f"KHO map chunk {fx.facts['past_ram']:#x} not in RAM"),
    # --- the kho-v4 radix tree (issue 12): every node once, aligned, in RAM;
    # a node reached twice is named after the whole walk: the lowest page
    # met twice (the root for a loop back to it, else the shared child,
    # which precedes its own subtree in the map)
    C("radix_node_loops_to_the_root", kho="v4",
      patch=radix_set(4, radix_free_slot(4), lambda fx, path: path[0][1]),
      reject=lambda fx: f"KHO radix node {radix_path(fx)[0][1]:#x} reached twice"),
    C("radix_two_slots_share_a_child", kho="v4",
      patch=radix_set(4, radix_free_slot(4), radix_child(4)),
      reject=lambda fx: f"KHO radix node {radix_path(fx)[1][3]:#x} reached twice"),
    C("radix_child_past_ram", kho="v4",
      patch=radix_set(4, None, lambda fx, path: fx.facts["past_ram"]),
      reject=lambda fx: f"KHO radix node {fx.facts['past_ram']:#x} not in RAM"),
    C("radix_child_unaligned", kho="v4",
      patch=radix_set(4, None, lambda fx, path: radix_child(4)(fx, path) + 8),
      reject=lambda fx: f"KHO radix node {radix_path(fx)[1][3]:#x} not page aligned"),
    C("radix_root_past_ram", kho="v4",
      patch=lambda fx: fx.prop_u64("kho.dtb", "/", "preserved-memory-map", fx.facts["past_ram"]),
      reject=lambda fx: f"KHO radix node {fx.facts['past_ram']:#x} not in RAM"),
    C("kho_v4_unknown_compatible", kho="v4", faults=["corrupt=kho-compat"],
      reject='KHO FDT unknown compatible "kho-v0"'),
    # --- the kho-v4 pcsc subtree's properties (issue 12): a property missing
    # or the wrong size, a blob-size that does not bound the pcsc FDT
    C("kho_v4_pcsc_without_preserved_data", kho="v4",
      patch=lambda fx: fx.fdtput("kho.dtb", "-d", "/pcsc", "preserved-data"),
      reject="KHO pcsc node has no preserved-data property"),
    C("kho_v4_preserved_data_4_bytes", kho="v4",
      patch=lambda fx: fx.fdtput("kho.dtb", "-t", "x", "/pcsc", "preserved-data",
                                 hex(fx.addr("pcsc.dtb"))),
      reject="KHO pcsc node preserved-data is 4 bytes, not 8"),
    C("kho_v4_pcsc_without_blob_size", kho="v4",
      patch=lambda fx: fx.fdtput("kho.dtb", "-d", "/pcsc", "blob-size"),
      reject="KHO pcsc node has no blob-size property"),
    C("kho_v4_blob_size_4_bytes", kho="v4",
      patch=lambda fx: fx.fdtput("kho.dtb", "-t", "x", "/pcsc", "blob-size",
                                 hex(pcsc_totalsize(fx))),
      reject="KHO pcsc node blob-size is 4 bytes, not 8"),
    C("kho_v4_blob_size_below_totalsize", kho="v4",
      patch=blob_size_to(lambda fx: pcsc_totalsize(fx) - 1),
      reject=blob_size_rejected(lambda fx: pcsc_totalsize(fx) - 1)),
    C("kho_v4_blob_size_zero", kho="v4", patch=blob_size_to(lambda fx: 0),
      reject=blob_size_rejected(lambda fx: 0)),
    C("kho_v4_blob_size_past_its_preserved_pages", kho="v4",
      patch=blob_size_to(blob_size_one_past_preserved),
      reject=blob_size_rejected(blob_size_one_past_preserved)),
    C("kho_v4_blob_size_wraps", kho="v4", patch=blob_size_to(lambda fx: (1 << 64) - 1),
      reject=blob_size_rejected(lambda fx: (1 << 64) - 1)),
    # a root libfdt's full check refuses (its header is fine): the pcsc
    # child renamed in place, unreachable by name
    C("kho_v4_fails_the_full_check", kho="v4", patch=kho_prop_name_past_strings,
      reject="KHO FDT invalid: FDT_ERR_BADOFFSET"),
    # --- entries ------------------------------------------------------------
    C("da_unaligned", faults=["badda={a}:align"], entries={"a": bad("da unaligned")}),
    C("da_past_ram", faults=["badda={a}:notram"], entries={"a": bad("da outside RAM")}),
    C("da_into_mmio", patch=da_to("a", lambda fx: fx.facts["mmio"]),
      entries={"a": bad("da outside RAM")}),
    C("da_into_the_pcsc_fdt", faults=["badda={a}:meta"],
      entries={"a": bad("da overlaps KHO metadata")}),
    C("da_into_the_kho_fdt", patch=da_to("a", lambda fx: fx.addr("kho.dtb")),
      entries={"a": bad("da overlaps KHO metadata")}),
    C("da_into_the_map", patch=da_to("a", lambda fx: fx.addr("kho_map.bin")),
      entries={"a": bad("da overlaps KHO metadata")}),
    C("da_into_the_stub", patch=da_to("a", lambda fx: fx.facts["stub"][0]),
      entries={"a": bad("da overlaps stub memory")}),
    C("da_into_the_boot_data", patch=da_to("a", lambda fx: fx.facts["bootdata"]),
      entries={"a": bad("da overlaps stub memory")}),
    C("da_not_preserved", faults=["badda={a}:notpreserved"],
      entries={"a": bad("da not preserved")}),
    C("da_overlapping_entries", faults=["badda={b}:overlap"],
      entries={"a": bad("da overlaps another entry"), "b": bad("da overlaps another entry")}),
    C("da_4_bytes", faults=["badda={a}:size"], entries={"a": bad("da size")}),
    C("da_missing", faults=["badda={a}:none"], entries={"a": bad("no da")}),
    C("duplicate_names", faults=["dup={a}"],
      entries={"a": bad("duplicate name"), "a2": bad("duplicate name")}),
    C("malformed_name", faults=["badname={a}:dev_0000_00_0g_0"],
      entries={"a": "NEW"}, extra=['----:--:--.- ffff:ffff BAD malformed name "dev_0000_00_0g_0"']),
    C("stale_gone_and_bad_together", faults=["stale={a}:device", "gone={gone}", "badda={z}:align"],
      entries={"a": "STALE", "gone": "8086:10d3 GONE absent", "z": bad("da unaligned")}),
]


def expand_faults(case, roles):
    return [f.format(**roles) for f in case.faults]


def verdict_lines(lines):
    """Verdict lines verbatim (per-entry report lines), in order."""
    import re
    rx = re.compile(r"^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]|----:--:--\.-) \S+ "
                    r"(VALID|STALE|GONE|BAD|NEW)\b")
    return [l for l in lines if rx.match(l)]


def sbdf_key(s):
    if s.startswith("----"):
        return (1 << 20,)
    seg, bus, df = s.split(":")
    d, f = df.split(".")
    return (int(seg, 16), int(bus, 16), int(d, 16), int(f, 16))


def expected_report(case, fx):
    """(verdict lines, optional lines, summary expectations) of case."""
    notes = [x(fx) if callable(x) else x for x in case.notes]
    if case.reject is not None:
        opt = notes + [case.reject_text(fx)]
        if case.detached:
            opt.append("detached the pcsc subtree from the KHO FDT")
        elif case.unplugged:
            opt.append(KHO_UNPLUGGED)
        handover = "detached" if case.detached else "unplugged" if case.unplugged else "none"
        return [], opt, {"handover": handover,
                         "valid": 0, "stale": 0, "gone": 0, "bad": 0, "new": 0}
    if case.nocache is not None:
        return [], notes + ["no cache: " + case.nocache], {"handover": "none", "entries": 0}
    roles = fx.facts["roles"]
    by_bdf = {roles[r]: t for r, t in case.entries.items() if r != "a2"}
    out = []
    n = {"VALID": 0, "STALE": 0, "GONE": 0, "BAD": 0, "NEW": 0}
    for s, v, d in fx.saved:
        t = by_bdf.get(s)
        if t is None:
            line = f"{s} {v}:{d} VALID"
        elif t == "STALE":
            line = f"{s} {v}:{int(d, 16) ^ 0x5a5a:04x} STALE device (live {v}:{d})"
        elif t == "NEW":
            line = f"{s} {v}:{d} NEW"
        else:
            line = f"{s} {t}"
        out.append(line)
        if "a2" in case.entries and s == roles["a"]:
            out.append(f"{s} {case.entries['a2']}")
    if "gone" in case.entries:
        out.append(f"{roles['gone']} {by_bdf[roles['gone']]}")
    out.sort(key=lambda l: sbdf_key(l.split(" ", 1)[0]))
    out += [x(fx) if callable(x) else x for x in case.extra]
    for l in out:
        n[l.split()[2]] += 1
    entries = len(fx.saved) + (1 if "gone" in case.entries else 0) + (1 if "a2" in case.entries else 0)
    bad_n = n["BAD"]
    summ = {"valid": n["VALID"], "stale": n["STALE"], "gone": n["GONE"], "bad": bad_n,
            "new": n["NEW"], "entries": entries, "handover": "ok",
            "removed": n["STALE"] + n["GONE"] + bad_n}
    return out, notes, summ


def check_report(case, fx, lines):
    """Assert the stub's pcsc lines against the case's expectation; returns
    a list of mismatch texts (empty when all is as expected)."""
    from stubout import summary
    exp_v, exp_opt, exp_s = expected_report(case, fx)
    errs = []
    got_v = verdict_lines(lines)
    if got_v != exp_v:
        errs.append(f"verdict lines\n  got      {got_v}\n  expected {exp_v}")
    opt_prefixes = ("cache rejected: ", "detached the pcsc subtree", "no cache: ",
                    "KHO root unreadable", "setup_data ", "dt chosen")
    got_opt = [l for l in lines if l.startswith(opt_prefixes)]
    same = len(got_opt) == len(exp_opt) and all(
        e.fullmatch(g) if isinstance(e, re.Pattern) else e == g for g, e in zip(got_opt, exp_opt))
    if not same:
        errs.append(f"lines\n  got      {got_opt}\n  expected {exp_opt}")
    s = summary(lines)
    if s is None:
        errs.append("no summary line")
    else:
        for k, v in exp_s.items():
            if s.get(k) != v:
                errs.append(f"summary {k}={s.get(k)} expected {v}")
    return errs


def ram_bytes(snap, ram, addr, n, which="after"):
    """n bytes of guest RAM at addr (at most what the dump holds from
    there) in snap's 'before' or 'after' dump, the latter taken when the
    next kernel had been entered. Call before assert_ram_intact, which
    deletes the dumps."""
    for (base, size), f in zip(ram, snap[which]):
        if base <= addr < base + size:
            with open(f, "rb") as fh:
                fh.seek(addr - base)
                return fh.read(min(n, base + size - addr))
    raise AssertionError(f"{addr:#x} not in the dumped RAM")


def kho_root_in_ram(snap, ram, fx, which="after"):
    """The KHO root's bytes in guest RAM (its totalsize, at most 1 MiB)."""
    hdr = ram_bytes(snap, ram, fx.kho[0], 40, which)
    assert len(hdr) == 40, f"KHO root {fx.kho[0]:#x} not in the dumped RAM"
    return ram_bytes(snap, ram, fx.kho[0], min(struct.unpack_from(">I", hdr, 4)[0], 1 << 20),
                     which)


def pcsc_children_in_ram(snap, ram, fx, which="after"):
    """The KHO root's children named pcsc / pcsc@... in guest RAM (see
    kho_root_in_ram): what the next kernel's by-name lookup would find."""
    import khoutil
    return khoutil.pcsc_children(kho_root_in_ram(snap, ram, fx, which))


def dtb_hide(dtb, addr, size, how):
    """Declare [addr, addr+size) of the DTB file dtb not RAM for the stub
    (docs/security.md: it maps RAM minus these, rounded out to 4 KiB):
    how "nomap" a /reserved-memory child with no-map, "memreserve" a
    /memreserve/ entry (through dtc, as test_arm64_page_tables.make_dtb)."""
    from qemurun import need_tool
    dts = subprocess.run([need_tool("dtc"), "-q", "-I", "dtb", "-O", "dts", dtb],
                         capture_output=True, text=True, check=True).stdout
    if how == "memreserve":
        dts = dts.replace("/dts-v1/;\n", f"/dts-v1/;\n/memreserve/ {addr:#x} {size:#x};\n", 1)
    else:
        assert how == "nomap", how
        assert "reserved-memory" not in dts, "the machine's DTB has /reserved-memory already"
        cells = f"{addr >> 32:#x} {addr & 0xffffffff:#x} {size >> 32:#x} {size & 0xffffffff:#x}"
        dts += ("/ {\n\treserved-memory {\n\t\t#address-cells = <2>;\n"
                "\t\t#size-cells = <2>;\n\t\tranges;\n"
                f"\t\tkho@{addr:x} {{ reg = <{cells}>; no-map; }};\n\t}};\n}};\n")
    subprocess.run([need_tool("dtc"), "-q", "-I", "dts", "-O", "dtb", "-o", dtb, "-"],
                   input=dts, text=True, check=True)


def e820_hide(e820, addr, size, how):
    """e820 with [addr, addr+size) cut out of its RAM entry: how "nomap" as
    reserved (type 2), "memreserve" as ACPI data (type 3); neither is RAM
    to the stub, both are read by a next kernel's early_memremap."""
    typ = {"nomap": 2, "memreserve": 3}[how]
    for i, (a, n, t) in enumerate(e820):
        if t == 1 and a <= addr and addr + size <= a + n:
            parts = [(a, addr - a, 1), (addr, size, typ), (addr + size, a + n - addr - size, 1)]
            return sorted(e820[:i] + [x for x in parts if x[1]] + e820[i + 1:])
    raise AssertionError(f"{addr:#x}+{size:#x} not inside one e820 RAM entry")


def gen_fixture(tmp_path, case, topo_text, ram, at, arch, facts, saved):
    """pcsctool gen + the case's patch, in tmp_path/<case name>."""
    from cacheutil import pcsctool_gen
    d = os.path.join(str(tmp_path), case.name)
    if os.path.exists(d):
        shutil.rmtree(d)
    man = pcsctool_gen(tmp_path, topo_text, faults=expand_faults(case, facts["roles"]),
                       ram=ram, name=case.name, at=at, kho=case.kho)
    fx = Fixture(man, arch, facts, saved)
    fx.root_in = case.root_in
    if case.patch:
        case.patch(fx)
    return fx
