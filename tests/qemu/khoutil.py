# tests/qemu/khoutil.py - the KHO facts of a pcsctool gen cache, read back in Python: preserved map (chunk list or
# radix tree), scratch array, pcsc entries, the stub's `kho` line, a KHO root's children. Reads files only.
"""KHO readers for the QEMU tests (SPEC 2.2, docs/abi.md).

Written independently of lib/ so a test's expectation is computed from
the bytes pcsctool wrote, never from the code under test: which pages a
kho-v1 map preserves when read with 512- or 4096-byte bitmaps, the radix
tree's node pages, the scratch regions, each entry's `da`.
"""
import os
import re
import struct

import hostile

PAGE = 4096


def blob(cache, name):
    """(bytes, guest-physical address) of the manifest's blob name."""
    for p, a in cache["blobs"]:
        if os.path.basename(p) == name:
            return open(p, "rb").read(), a
    raise KeyError(name)


def merge(ranges):
    """Sorted (start, end) ranges with touching/overlapping ones merged."""
    out = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def preserved(ranges, addr, size):
    """[addr, addr+size) wholly inside one merged range."""
    return any(s <= addr and addr + size <= e for s, e in ranges)


def root_props(cache):
    """{(node, prop): bytes} of the cache's KHO root FDT."""
    b, _ = blob(cache, "kho.dtb")
    return {k: b[o:o + n] for k, (o, n) in hostile.fdt_props(b).items()}


def map_root(cache):
    """The KHO root's preserved-memory-map (native u64)."""
    return struct.unpack("<Q", root_props(cache)[("/", "preserved-memory-map")])[0]


def _bits(bm):
    for i, byte in enumerate(bm):
        for j in range(8):
            if byte >> j & 1:
                yield 8 * i + j


def v1_entries(cache):
    """[(order, phys_start, bitmap address)] of a kho-v1 chunk list, in list
    order ({next u64, order u32, num u32} + {phys_start, bitmap} pages)."""
    b, base = blob(cache, "kho_map.bin")
    out, chunk = [], map_root(cache)
    while chunk:
        nxt, order, num = struct.unpack_from("<QII", b, chunk - base)
        out += [(order,) + struct.unpack_from("<QQ", b, chunk - base + 16 + 16 * i)
                for i in range(num)]
        chunk = nxt
    return out


def read_map(cache, bitmap_bytes=512):
    """The preserved-memory map as a reader that takes kho-v1 bitmaps to be
    bitmap_bytes long sees it: {ranges (merged), folios (bits set), and
    chunks, bitmaps (kho-v1) or nodes, leaves (radix)}."""
    b, base = blob(cache, "kho_map.bin")
    out, folios = [], 0
    if cache["kho"].startswith("v1"):
        chunks, chunk = 0, map_root(cache)
        while chunk:
            chunks += 1
            chunk = struct.unpack_from("<Q", b, chunk - base)[0]
        ents = v1_entries(cache)
        for order, start, bm in ents:
            bits = b[bm - base:bm - base + bitmap_bytes]
            assert len(bits) == bitmap_bytes, "bitmap outside the map blob"
            size = PAGE << order
            for k in _bits(bits):
                out.append((start + k * size, start + (k + 1) * size))
                folios += 1
        return {"ranges": merge(out), "folios": folios, "chunks": chunks, "bitmaps": len(ents)}
    nodes = []

    def walk(p, level, key):
        nodes.append((level, p))
        page = b[p - base:p - base + PAGE]
        if level == 0:
            for bit in _bits(page):
                k = key | bit
                order = 52 - (k.bit_length() - 1)
                pa = (k << (12 + order)) & (1 << 64) - 1
                out.append((pa, pa + (PAGE << order)))
            return
        for i in range(512):
            child = struct.unpack_from("<Q", page, 8 * i)[0]
            if child:
                walk(child, level - 1, key | i << ((level - 1) * 9 + 15))

    walk(map_root(cache), 5, 0)
    return {"ranges": merge(out), "folios": len(out), "nodes": len(nodes),
            "leaves": len([n for n in nodes if n[0] == 0])}


def scratch_regions(cache):
    """The scratch array (kho_scratch.bin, size / 16 entries {addr, size}) as
    merged (start, end) regions, zero-size entries skipped."""
    b, a = blob(cache, "kho_scratch.bin")
    addr, size = cache["kho_scratch"]
    arr = b[addr - a:addr - a + size]
    ents = [struct.unpack_from("<QQ", arr, o) for o in range(0, size, 16)]
    return merge([(s, s + n) for s, n in ents if n])


def entries_da(cache):
    """{SBDF: da} of the pcsc FDT's nodes (well-formed names only)."""
    b, _ = blob(cache, "pcsc.dtb")
    out = {}
    for (node, prop), (o, n) in hostile.fdt_props(b).items():
        m = re.match(r"^/dev_([0-9a-f]{4})_([0-9a-f]{2})_([0-9a-f]{2})_([0-7])$", node)
        if m and prop == "da" and n == 8:
            out["%s:%s:%s.%s" % m.groups()] = struct.unpack_from("<Q", b, o)[0]
    return out


def pcsc_fdt(cache):
    """(address, PAGE_ALIGN(totalsize)) of the cache's pcsc FDT."""
    b, a = blob(cache, "pcsc.dtb")
    return a, (struct.unpack_from(">I", b, 4)[0] + PAGE - 1) // PAGE * PAGE


def expected_reading(cache, bitmap_bytes, funcs, stride):
    """What a session reading the cache's kho-v1 map with bitmap_bytes-long
    bitmaps must print, from the map's bytes: (rejection line or None,
    verdict lines). funcs: (sbdf, vendor, device) of each entry's live
    function. The pcsc FDT not preserved rejects the cache; an entry whose
    stride-byte block is not is BAD."""
    ranges = read_map(cache, bitmap_bytes)["ranges"]
    pfdt, room = pcsc_fdt(cache)
    if not preserved(ranges, pfdt, room):
        return f"cache rejected: pcsc FDT {pfdt:#x}+{room} not preserved", []
    das = entries_da(cache)
    return None, [f"{s} ffff:ffff BAD da not preserved"
                  if not preserved(ranges, das[s], stride) else f"{s} {v}:{d} VALID"
                  for s, v, d in funcs]


def kho_line(r):
    """The stub's 'kho kho-vN k=v ... scratch=N S-E ...' line as a dict:
    compatible, the k=v counts as ints, scratch = [(start, end)]."""
    lines = r.lines if hasattr(r, "lines") else r
    found = [l for l in lines if re.match(r"^kho kho-v\d+ ", l)]
    assert len(found) == 1, lines
    t = found[0].split()
    d = {"compatible": t[1], "scratch": []}
    for w in t[2:]:
        if "=" in w:
            k, v = w.split("=", 1)
            d["nscratch" if k == "scratch" else k] = int(v, 0)
        else:
            s, e = w.split("-")
            d["scratch"].append((int(s, 16), int(e, 16)))
    # at most 4 regions are printed, all of them counted
    assert len(d["scratch"]) == min(d["nscratch"], 4), found
    return d


def fdt_children(b):
    """Names of the root's children in FDT bytes b (NOPed nodes are gone)."""
    return [path[1] for path, no, _, _ in hostile.fdt_walk(bytes(b))
            if no is None and len(path) == 2]


def pcsc_children(b):
    """The root's children Linux's by-name lookup of "pcsc" would find."""
    return [n for n in fdt_children(b) if n == "pcsc" or n.startswith("pcsc@")]
