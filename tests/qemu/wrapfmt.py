# tests/qemu/wrapfmt.py - the wrapped-image format as include/pcsc/wrap.h defines it, read from
# the header itself so the tests never restate a number or a magic (issue 14).
import os
import re

_HDR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include", "pcsc",
                    "wrap.h")


def _load():
    vals = {}
    for m in re.finditer(r"^#define\s+(PCSC_\w+)\s+(0x[0-9a-fA-F]+|\d+|\"[^\"]*\")",
                         open(_HDR).read(), re.M):
        v = m.group(2)
        vals[m.group(1)] = v[1:-1].encode() if v.startswith('"') else int(v, 0)
    return vals


W = _load()
ARM64_MAGIC_OFF = W["PCSC_ARM64_HDR_MAGIC"]
ARM64_IMAGE_SIZE_OFF = W["PCSC_ARM64_HDR_IMAGE_SIZE"]
ARM64_NEXT_DESC_OFF = W["PCSC_ARM64_NEXT_DESC_OFF"]
ARM64_NEXT_MAGIC = W["PCSC_ARM64_NEXT_MAGIC"]
ARM64_NEXT_ALIGN = W["PCSC_ARM64_NEXT_ALIGN"]
X86_HDR_OFF = W["PCSC_X86_HDR_OFF"]
X86_HDR_MAGIC = W["PCSC_X86_HDR_MAGIC"]
X86_LOAD_ADDR = W["PCSC_X86_LOAD_ADDR"]
X86_ENTRY64_OFF = W["PCSC_X86_ENTRY64_OFF"]
