# tests/qemu/stubout.py - parse what the stub prints (docs/report.md): 'pcsc:' lines, walk, verdicts, summary
import re


def pcsc_lines(text):
    """Every line starting with 'pcsc: ', without the prefix, in order."""
    out = []
    for line in text.replace("\r", "").splitlines():
        if line.startswith("pcsc: "):
            out.append(line[len("pcsc: "):].rstrip())
    return out


WALK_RE = re.compile(r"^walk ([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) "
                     r"([0-9a-f]{4}):([0-9a-f]{4}) class ([0-9a-f]{6}|------) (\S+)$")


def walk_lines(lines):
    """The 'walk SBDF VID:DID class CCCCCC KIND' lines as tuples
    (sbdf, vendor, device, class, kind); class is None for VFs."""
    out = []
    for line in lines:
        m = WALK_RE.match(line)
        if m:
            cls = None if m.group(4) == "------" else m.group(4)
            out.append((m.group(1), m.group(2), m.group(3), cls, m.group(5)))
    return out


VERDICT_RE = re.compile(r"^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (\S+) "
                        r"(VALID|STALE|GONE|BAD|NEW)\b")


def report_lines(lines):
    """Verdict lines 'SBDF VID:DID VERDICT ...' as (sbdf, verdict) tuples."""
    return [(m.group(1), m.group(3)) for m in map(VERDICT_RE.match, lines) if m]


def summary(lines):
    """The 'summary k=v ...' line as a dict of ints (None if absent)."""
    for line in lines:
        if line.startswith("summary "):
            d = {}
            for kv in line.split()[1:]:
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    try:
                        d[k] = int(v, 0)
                    except ValueError:
                        d[k] = v
            return d
    return None


# The stub is quiet by default (docs/report.md: summary level); the tests
# parse its discovery, walk and per-entry lines, so every boot asks for
# them unless the command line names a level itself.
REPORT_FULL = "pcsc.report=full"


def with_report(cmdline):
    """cmdline plus pcsc.report=full unless it sets pcsc.report= itself."""
    if "pcsc.report=" in cmdline:
        return cmdline
    return f"{REPORT_FULL} {cmdline}".strip()


def verdicts(r):
    """Every verdict line, verbatim (without the 'pcsc: ' prefix)."""
    keep = {s for s, _ in report_lines(r.lines)}
    return [l for l in r.lines if l.split(" ", 1)[0] in keep and not l.startswith("walk")]


def summary_of(r):
    s = summary(r.lines)
    assert s is not None, r.describe()
    return s
