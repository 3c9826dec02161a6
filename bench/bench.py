#!/usr/bin/env python3
# bench/bench.py - `make bench`: runs build/host/pcsc-bench (reads, callgrind phases, native
# baseline), the QEMU trace counts and size(1), then prints one table. It never asserts times.
"""Driver of `make bench` (bench/README.md says what each figure means).

Usage: bench.py O [--quick]
Writes O/bench/bench.csv and O/bench/bench.json and prints the table.
"""
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NS_FULL = [64, 1024, 4096, 16384, 65536]
NS_QUICK = [64, 1024]
CG_RFC_MAX = 1024          # the quadratic baseline under callgrind up to here
CG_RFC_MAX_QUICK = 512     # QUICK (< 1 minute): 1,024 comes from the fit
NATIVE_RFC_MAX = 16384     # and natively (wall time) up to here; beyond: fit only
PHASES = ["index", "verify", "walk"]
FIT_EXTRA = [256]          # baseline-only callgrind points for the fit
FIT_EXTRA_QUICK = [256, 512]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def kv(line):
    return {k: (float(v) if "." in v else int(v))
            for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}


def bench_bin(o):
    return os.path.join(o, "host", "pcsc-bench")


def run_reads(o, n):
    out = subprocess.run([bench_bin(o), "reads", str(n)], check=True,
                         capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.startswith("reads ")][0]
    return kv(line)


def callgrind_inclusive(outf):
    """Inclusive instructions of every function callgrind_annotate lists in
    OUTF (a function listed more than once, from different files or
    contexts, counts its largest figure)."""
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", outf],
                         check=True, capture_output=True, text=True).stdout
    inc = {}
    for line in ann.splitlines():
        m = re.match(r"^\s*([0-9,]+) .*:(\w+) \[", line)
        if m:
            inc[m.group(2)] = max(inc.get(m.group(2), 0), int(m.group(1).replace(",", "")))
    return inc


def callgrind(o, n, phases, workdir, kho=None):
    """Inclusive instructions of each bench_phase_<name>, one valgrind run
    (kho: the old kernel's KHO layout, PCSC_BENCH_KHO; None = kho-v1/512)."""
    outf = os.path.join(workdir, f"callgrind.{n}{'.' + kho if kho else ''}.out")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={outf}",
           "--collect-atstart=no"]
    cmd += [f"--toggle-collect=bench_phase_{p}" for p in phases]
    cmd += [bench_bin(o), "phase", str(n), ",".join(phases)]
    t0 = time.monotonic()
    env = dict(os.environ, PCSC_BENCH_KHO=kho) if kho else None
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    inc = callgrind_inclusive(outf)
    res = {p: inc[f"bench_phase_{p}"] for p in phases if f"bench_phase_{p}" in inc}
    missing = [p for p in phases if p not in res]
    if missing:
        raise SystemExit(f"bench: callgrind gave no count for {missing} at n={n}")
    log(f"callgrind n={n} {','.join(phases)}: {time.monotonic() - t0:.1f}s")
    return res


# Stages of the whole session, as callgrind names them (inclusive counts).
STAGES = [("locate", ["kho_open", "kho_scratch_read", "kho_map_read", "pcsc_fdt_check"]),
          ("index", ["pcsc_index_build"]),
          ("entry checks", ["verify_check_entries"]),
          ("walk", ["pci_walk_window", "pci_walk_finish"]),
          ("judge", ["verify_judge"]),
          ("handover", ["handover_patch"]),
          ("report", ["report_entries", "report_summary"])]
UART_BPS = 11520            # a 115200-baud 8N1 console: bytes per second
CPU_HZ = 3e9                # the headline's "instructions at 3 GHz, one per cycle"


def session_cost(o, n, workdir, report=None):
    """The whole quick session (pcsc_session_run) under callgrind: total and
    per stage instructions, console bytes and SHA-256 blocks. Valgrind has
    no SHA instructions, so this is the portable SHA-256 path."""
    outf = os.path.join(workdir, f"callgrind.session.{n}.{report or 'summary'}.out")
    env = dict(os.environ, PCSC_BENCH_SHA="portable")
    if report:
        env["PCSC_BENCH_REPORT"] = report
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={outf}",
           "--collect-atstart=no", "--toggle-collect=bench_phase_session",
           bench_bin(o), "phase", str(n), "session"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    cons = kv([l for l in out.splitlines() if l.startswith("console ")][0])
    inc = callgrind_inclusive(outf)
    res = {"total": inc["bench_phase_session"], "bytes": cons["bytes"],
           "lines": cons["lines"], "blocks": cons["blocks"],
           "sha_portable": inc.get("sha256_blocks_portable", 0)}
    res["stages"] = {name: sum(inc.get(f, 0) for f in fns) for name, fns in STAGES}
    return res


def cpu_sha_per_block(o):
    """Instructions a block of the CPU's SHA-256 path, single-stepped (None
    when this machine has no SHA instructions or refuses ptrace)."""
    out = subprocess.run([bench_bin(o), "sha-steps", "64"], capture_output=True,
                         text=True).stdout
    m = re.search(r"per_block=([0-9.]+)", out)
    return float(m.group(1)) if m else None


def plot(res, path):
    """Instructions per entry against n: the session (portable and CPU
    SHA-256) and the RFC's by-name lookup. gnuplot; skipped without it."""
    if not shutil.which("gnuplot"):
        log("gnuplot not installed: no plot")
        return None
    dat = path + ".dat"
    with open(dat, "w") as f:
        for r in res["rows"]:
            f.write(f"{r['n']} {r['sess_portable'] / r['n']:.1f} "
                    f"{(r['sess_cpu'] or r['sess_portable']) / r['n']:.1f} "
                    f"{r['ins_rfc'] / r['n']:.1f}\n")
    script = f"""set terminal pngcairo size 800,500 noenhanced
set output '{path}'
set logscale xy
set xlabel 'cache entries (n)'
set ylabel 'instructions per entry'
set title 'pcsc-stub quick session vs the RFC by-name lookup ({res["machine"]["date"]})'
set key top left
set grid
plot '{dat}' using 1:4 with linespoints title 'RFC lookup (restore only)', \
     '{dat}' using 1:2 with linespoints title 'stub session, portable SHA-256', \
     '{dat}' using 1:3 with linespoints title 'stub session, CPU SHA-256'
"""
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode:
        script = script.replace("pngcairo", "png")
        r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode:
        log(f"gnuplot failed: {r.stderr.strip()}")
        return None
    return path


def native_seconds(o, n, phase):
    out = subprocess.run([bench_bin(o), "phase", str(n), phase], check=True,
                         capture_output=True, text=True).stdout
    return kv(out)["seconds"]


def siblings(n):
    return n * (n - 1) // 2


def fit_baseline(points):
    """instr = a * siblings(n) + b * n from the callgrind points (least
    squares over two unknowns; exact with two points)."""
    sxx = sxy = syy = sx = sy = 0.0
    for n, ins in points:
        x, y = siblings(n), n
        sxx += x * x; sxy += x * y; syy += y * y
        sx += x * ins; sy += y * ins
    det = sxx * syy - sxy * sxy
    a = (sx * syy - sy * sxy) / det
    b = (sy * sxx - sx * sxy) / det
    return a, b


def image_parts(map_path):
    """Bytes of allocated sections (text, rodata, data) the link map gives
    each input: Debian's libfdt.a, newlib's libc.a, our C (lib/, arch/,
    stub/: one link-time-optimised unit, so the map cannot tell them
    apart) and our assembly (.S objects). The rest of size(1)'s text is
    the linker's own (relocations, dynamic section, GOT)."""
    parts = {"libfdt": 0, "newlib": 0, "our C (LTO)": 0, "our asm": 0}
    sec = None
    in_map = False
    for line in open(map_path):
        if line.startswith("Linker script and memory map"):
            in_map = True
            continue
        if not in_map:
            continue
        m = re.match(r"^ (\.\S+)\s*$", line)
        if m:
            sec = m.group(1)
            continue
        m = re.match(r"^ (\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", line)
        if not m:
            sec = None
            continue
        name = m.group(1) or sec
        sec = None
        if not name or not name.startswith((".text", ".rodata", ".data", ".head")):
            continue
        src, n = m.group(4), int(m.group(3), 16)
        if "libfdt.a(" in src:
            parts["libfdt"] += n
        elif "libc.a(" in src:
            parts["newlib"] += n
        elif "ltrans" in src or "libpcsc.a(" in src:
            parts["our C (LTO)"] += n
        elif src.endswith(".o"):
            parts["our asm"] += n
    return parts


def c_by_source(elf, nm="nm"):
    """Our functions and named data by the directory of the source line
    DWARF gives them (nm -l): lib, arch, stub, and inline functions of
    include/ where LTO kept a copy. A lib/ function LTO inlined into
    stub_main counts as stub; string literals have no symbol and count
    nowhere here."""
    out = subprocess.run([nm, "-S", "-l", "--defined-only", elf], capture_output=True,
                         text=True).stdout
    parts = {"lib": 0, "arch": 0, "stub": 0, "include": 0}
    for line in out.splitlines():
        f = line.split("\t")
        head = f[0].split()
        if len(f) < 2 or len(head) != 4 or head[2] not in "tTrRdD":
            continue
        top = os.path.relpath(f[1].rsplit(":", 1)[0], TOP).split(os.sep)[0]
        if top in parts:
            parts[top] += int(head[1], 16)
    return parts


def sizes(o):
    rows = []
    for path in ["arm64/pcsc-stub.elf", "arm64/pcsc-stub.bin", "x86_64/pcsc-stub.elf",
                 "efi/pcsc-stub-x64.efi", "efi/pcsc-stub-aa64.efi"]:
        p = os.path.join(o, path)
        if not os.path.exists(p):
            continue
        row = {"image": path, "file_bytes": os.path.getsize(p)}
        tool = "aarch64-linux-gnu-size" if "aa64" in path else "size"
        if path.endswith(".bin"):
            row.update(text=None, data=None, bss=None,
                       note="raw Image: text+data of pcsc-stub.elf, bss not in the file")
        else:
            r = subprocess.run([tool, p], capture_output=True, text=True)
            lines = r.stdout.strip().splitlines()
            if r.returncode == 0 and len(lines) >= 2:
                t, d, b = lines[1].split()[:3]
                row.update(text=int(t), data=int(d), bss=int(b))
            if os.path.exists(p + ".map"):
                row["parts"] = image_parts(p + ".map")
                row["c_by_source"] = c_by_source(p, "aarch64-linux-gnu-nm" if "arm64" in path
                                                 else "nm")
        rows.append(row)
    return rows


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release()}


def main():
    o = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    quick = "--quick" in sys.argv[2:] or os.environ.get("QUICK", "") not in ("", "0")
    ns = NS_QUICK if quick else NS_FULL
    cg_rfc_max = CG_RFC_MAX_QUICK if quick else CG_RFC_MAX
    work = os.path.join(o, "bench")
    os.makedirs(work, exist_ok=True)
    t_start = time.monotonic()
    rows = []
    rfc_points = []
    for n in ns:
        r = {"n": n}
        rd = run_reads(o, n)
        r.update({k: rd[k] for k in ("funcs", "walk", "quick", "quick_verify", "strict",
                                     "strict_verify", "reprobe", "reprobe_total",
                                     "arena_formula", "arena_used")})
        phases = PHASES + (["rfc"] if n <= cg_rfc_max else [])
        ins = callgrind(o, n, phases, work)
        r["ins_index"] = ins["index"]
        r["ins_verify"] = ins["verify"]
        r["ins_walk"] = ins["walk"]
        # The whole session as the stub runs it, by stage; its console
        sc = session_cost(o, n, work)
        r["sess_portable"] = sc["total"]
        r["sess_blocks"] = sc["blocks"]
        r["sess_sha_portable"] = sc["sha_portable"]
        r["stages"] = sc["stages"]
        r["console_default"] = sc["bytes"]
        r["console_full"] = session_cost(o, n, work, report="full")["bytes"] \
            if n <= 16384 or not quick else None
        # kho-v4 map: the session's sorted ranges vs a lookup per entry
        dk = callgrind(o, n, ["da_ranges", "da_lookup"], work, kho="v4")
        r["ins_da_ranges"] = dk["da_ranges"]
        r["ins_da_lookup"] = dk["da_lookup"]
        if "rfc" in ins:
            r["ins_rfc"] = ins["rfc"]
            r["rfc_source"] = "callgrind"
            rfc_points.append((n, ins["rfc"]))
        rows.append(r)
    # One more callgrind point of the baseline alone (cheap) so the fit has
    # three points and its residual says how good the extrapolation is.
    for n in FIT_EXTRA_QUICK if quick else FIT_EXTRA:
        rfc_points.append((n, callgrind(o, n, ["rfc"], work)["rfc"]))
    a, b = fit_baseline(rfc_points)
    residual = max(abs(a * siblings(n) + b * n - ins) / ins for n, ins in rfc_points)
    for r in rows:
        n = r["n"]
        if "ins_rfc" not in r:
            r["ins_rfc"] = int(a * siblings(n) + b * n)
            r["rfc_source"] = "fit"
        if n > cg_rfc_max and n <= NATIVE_RFC_MAX and not quick:
            r["rfc_native_s"] = native_seconds(o, n, "rfc")
            r["verify_native_s"] = native_seconds(o, n, "verify")
            log(f"native rfc n={n}: {r['rfc_native_s']:.2f}s")
        r["ratio_rfc_verify"] = r["ins_rfc"] / r["ins_verify"] if r.get("ins_rfc") else None
    per_block = cpu_sha_per_block(o)
    for r in rows:
        r["sess_cpu"] = (r["sess_portable"] - r["sess_sha_portable"]
                         + r["sess_blocks"] * per_block) if per_block else None
        own = (r["sess_cpu"] or r["sess_portable"]) / CPU_HZ + r["console_default"] / UART_BPS
        r["headline"] = {"saved_native_s": r["reprobe_total"] * 1e-6,
                         "saved_vm_s": r["reprobe_total"] * 1e-5, "stub_s": own}
    qemu = []
    if not quick and os.environ.get("PCSC_BENCH_QEMU", "1") != "0":
        try:
            os.environ["O"] = o     # read by tests/qemu/qemurun.py at import
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import qemu_bench
            qemu = qemu_bench.run_all(o, work)
        except Exception as e:  # a missing QEMU/kernel is reported, not hidden
            log(f"QEMU part failed: {e!r}")
            qemu = [{"arch": "arm64", "error": repr(e)}]
    img = sizes(o)

    # memory: used(n) = per_entry * n + fixed, from the smallest and largest n
    lo, hi = rows[0], rows[-1]
    per_entry = (hi["arena_used"] - lo["arena_used"]) / (hi["n"] - lo["n"])
    fixed = lo["arena_used"] - per_entry * lo["n"]

    by_n = {r["n"]: r for r in rows}
    verdicts = {}
    if 4096 in by_n:
        rpe = by_n[4096]["quick"] / 4096
        verdicts["quick_reads_per_entry_4096"] = rpe
        verdicts["reads_holds"] = rpe <= 1.1
    if 1024 in by_n and 65536 in by_n:
        g_ours = (by_n[65536]["ins_verify"] / 65536) / (by_n[1024]["ins_verify"] / 1024)
        g_rfc = (by_n[65536]["ins_rfc"] / 65536) / (by_n[1024]["ins_rfc"] / 1024)
        verdicts["verify_per_entry_growth_1k_to_64k"] = g_ours
        verdicts["rfc_per_entry_growth_1k_to_64k"] = g_rfc
        # 64x more entries: n log n gives 1.6x per entry; quadratic gives 64x
        verdicts["linear_holds"] = g_ours <= 2.0 and g_rfc >= 32
    # issue 13: the walk costs nothing per VF, so the arena stays <= 32 B an
    # entry + 64 KiB whatever the share of VFs: checked at every n, not on
    # the two-point fit, whose slope also carries the physical functions a
    # larger topology adds (44 B each: 32.006 B/entry from 64 to 65,536)
    verdicts["arena_holds"] = all(r["arena_used"] <= 32 * r["n"] + 65536 for r in rows)
    result = {"machine": machine(), "quick": quick, "rows": rows, "cpu_sha_per_block": per_block,
              "memory": {"per_entry": per_entry, "fixed": fixed,
                         "formula": "PCSC_SESSION_ARENA(e,f,r) = 32e + 44f + 32r + 64, "
                                    "f physical functions (a VF costs 0)"},
              "baseline_fit": {"a_per_sibling": a, "b_per_entry": b,
                               "points": rfc_points, "max_rel_residual": residual},
              "qemu": qemu, "sizes": img, "verdicts": verdicts,
              "seconds": time.monotonic() - t_start}
    with open(os.path.join(work, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)
    cols = ["n", "funcs", "walk", "quick", "strict", "reprobe_total", "ins_index",
            "ins_verify", "ins_walk", "ins_da_ranges", "ins_da_lookup", "ins_rfc", "rfc_source", "ratio_rfc_verify",
            "rfc_native_s", "arena_used"]
    with open(os.path.join(work, "bench.csv"), "w") as f:
        f.write(",".join(cols) + "\n")
        for r in rows:
            f.write(",".join("" if r.get(c) is None else
                             (f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]))
                             for c in cols) + "\n")
    result["plot"] = plot(result, os.path.join(work, "bench.png"))
    with open(os.path.join(work, "bench.json"), "w") as f:
        json.dump(result, f, indent=1)
    print_table(result)


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if v < 100 else f"{v:,.0f}"
    return f"{v:,}"


def print_table(res):
    m = res["machine"]
    print(f"pcsc-stub bench  {m['date']}  nproc={m['nproc']}  {m['cpu']}"
          + ("  (QUICK)" if res["quick"] else ""))
    print("config reads (exact, simulated topology: 4 SR-IOV PFs per segment + bridges + endpoints)")
    print(f"{'entries':>8} {'funcs':>7} {'walk':>6} {'quick':>6} {'q/entry':>7} "
          f"{'strict':>8} {'reprobe':>8} {'reprobe/quick':>13}")
    for r in res["rows"]:
        print(f"{r['n']:>8,} {r['funcs']:>7,} {r['walk']:>6,} {r['quick']:>6,} "
              f"{r['quick'] / r['n']:>7.3f} {r['strict']:>8,} {r['reprobe_total']:>8,} "
              f"{r['reprobe_total'] / r['quick']:>13.1f}")
    print("instructions (callgrind; rfc = the RFC's per-name lookup; fit = extrapolated "
          "from the callgrind points, native = measured wall time)")
    print(f"{'entries':>8} {'index':>12} {'verify':>12} {'ver/entry':>9} {'walk':>11} "
          f"{'rfc':>16} {'rfc/entry':>10} {'rfc/verify':>10} {'rfc native':>10}")
    for r in res["rows"]:
        src = "" if r.get("rfc_source") == "callgrind" else " (" + r.get("rfc_source", "?") + ")"
        nat = f"{r['rfc_native_s']:.2f}s" if r.get("rfc_native_s") else "-"
        print(f"{r['n']:>8,} {r['ins_index']:>12,} {r['ins_verify']:>12,} "
              f"{r['ins_verify'] / r['n']:>9,.0f} {r['ins_walk']:>11,} "
              f"{fmt(r.get('ins_rfc')) + src:>16} {r['ins_rfc'] / r['n']:>10,.0f} "
              f"{r['ratio_rfc_verify']:>10,.1f} {nat:>10}")
    fit = res["baseline_fit"]
    print(f"rfc fit: {fit['a_per_sibling']:.1f} instructions per sibling stepped over + "
          f"{fit['b_per_entry']:.0f} per lookup, from callgrind at n = "
          f"{', '.join(str(n) for n, _ in fit['points'])} (max residual "
          f"{100 * fit['max_rel_residual']:.2f}%)")
    pb = res.get("cpu_sha_per_block")
    print("the whole quick session (pcsc_session_run: locate, index, entry checks, walk, judge, "
          "handover, report), instructions per entry; 'cpu' = portable SHA-256 compression "
          f"replaced by {pb:.0f} instructions a block, single-stepped on this CPU's SHA "
          "instructions" if pb else "the whole quick session, instructions per entry "
          "(no CPU SHA-256 path on this machine)")
    names = [n for n, _ in STAGES]
    print(f"{'entries':>8} " + " ".join(f"{n[:9]:>9}" for n in names)
          + f" {'total':>9} {'cpu':>7} {'blocks':>7}")
    for r in res["rows"]:
        print(f"{r['n']:>8,} " + " ".join(f"{r['stages'][n] / r['n']:>9,.0f}" for n in names)
              + f" {r['sess_portable'] / r['n']:>9,.0f} "
              + (f"{r['sess_cpu'] / r['n']:>7,.0f}" if r.get("sess_cpu") else f"{'-':>7}")
              + f" {r['sess_blocks'] / r['n']:>7.2f}")
    print(f"console between kernels (bytes; {UART_BPS:,} B/s at 115200 baud)")
    print(f"{'entries':>8} {'default':>8} {'per entry':>9} {'uart':>8} {'full':>9} {'uart':>8}")
    for r in res["rows"]:
        full = r.get("console_full")
        print(f"{r['n']:>8,} {r['console_default']:>8,} {r['console_default'] / r['n']:>9.3f} "
              f"{1000 * r['console_default'] / UART_BPS:>6.1f}ms "
              + (f"{full:>9,} {full / UART_BPS:>7.2f}s" if full else f"{'-':>9} {'-':>8}"))
    print("headline: what the cache saves (re-probe reads x 1 us native, x 10 us in a VM) "
          "against the stub's own cost (its instructions at 3e9/s + its console at 11.5 KB/s)")
    print(f"{'entries':>8} {'saves native':>12} {'saves VM':>10} {'stub costs':>10} "
          f"{'native/stub':>11} {'VM/stub':>8}")
    for r in res["rows"]:
        h = r["headline"]
        print(f"{r['n']:>8,} {1000 * h['saved_native_s']:>10.1f}ms {1000 * h['saved_vm_s']:>8.1f}ms "
              f"{1000 * h['stub_s']:>8.2f}ms {h['saved_native_s'] / h['stub_s']:>11.1f} "
              f"{h['saved_vm_s'] / h['stub_s']:>8.1f}")
    if res.get("plot"):
        print(f"plot: {res['plot']}")
    print("preserved check of every entry's block, kho-v4 radix map (instructions, incl. "
          "kho_open): ranges = map read once + binary search; lookup = tree walk per block")
    print(f"{'entries':>8} {'ranges':>12} {'rng/entry':>9} {'lookup':>12} {'lkp/entry':>9}")
    for r in res["rows"]:
        print(f"{r['n']:>8,} {r['ins_da_ranges']:>12,} {r['ins_da_ranges'] / r['n']:>9,.0f} "
              f"{r['ins_da_lookup']:>12,} {r['ins_da_lookup'] / r['n']:>9,.0f}")
    mem = res["memory"]
    print(f"verify working memory (session arena, touched): {mem['per_entry']:.1f} B/entry "
          f"+ {mem['fixed']:,.0f} B fixed; {mem['formula']}")
    big = res["rows"][-1]
    print(f"  at n={big['n']:,}: {big['arena_used']:,} B used, bound 32n + 64 KiB = "
          f"{32 * big['n'] + 65536:,} B")
    for q in res["qemu"]:
        if "error" in q:
            print(f"qemu {q['arch']}: not measured: {q['error']}")
            continue
        print(f"qemu {q['arch']} ({q['functions']} functions): stub reads={q['stub_reads']} "
              f"writes={q['stub_writes']}  linux reads={q['linux_reads']} "
              f"writes={q['linux_writes']}  linux/stub accesses="
              f"{q['ratio']:.1f}x  emulated (TCG) wall: stub {q['stub_s']:.2f}s "
              f"linux {q['linux_s']:.1f}s"
              + (f"  stub serial {q['stub_serial_bytes']} bytes "
                 f"({1000 * q['stub_serial_bytes'] / UART_BPS:.1f} ms at 115200 baud)"
                 if "stub_serial_bytes" in q else "")
              + (f"  (firmware before both, excluded: {q['firmware_reads']} reads "
                 f"{q['firmware_writes']} writes)" if "firmware_reads" in q else ""))
    print("image sizes (size(1): text data bss; file bytes)")
    for s in res["sizes"]:
        print(f"  {s['image']:<26} {fmt(s.get('text')):>8} {fmt(s.get('data')):>8} "
              f"{fmt(s.get('bss')):>10}   file {s['file_bytes']:,}")
        if s.get("parts"):
            print("  " + " " * 26 + " of which " + ", ".join(
                f"{k} {v:,}" for k, v in s["parts"].items())
                  + "  (Debian's libfdt.a has no function sections: linked per object)")
        if s.get("c_by_source"):
            print("  " + " " * 26 + " our C's symbols by source: " + ", ".join(
                f"{k} {v:,}" for k, v in s["c_by_source"].items()) + "  (where LTO placed them; strings not included)")
    for k, v in res["verdicts"].items():
        print(f"  {k}: {v if not isinstance(v, float) else round(v, 3)}")
    print(f"bench: done in {res['seconds']:.0f}s; {os.path.join('build', 'bench')}/bench.csv, bench.json")


if __name__ == "__main__":
    main()
