#!/bin/sh
# bench.sh - `make check` stage proving `make bench QUICK=1` still works: runs it, then
# asserts the exact config-read counts only (never a time or an instruction count).
# Ends with "bench: N passed, M failed".
O=${O:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
nok() { failed=$((failed + 1)); echo "not ok - $1"; [ -n "$2" ] && printf '%s\n' "$2" | sed 's/^/#   /' | head -n 20; }

out=$(QUICK=1 bench/run.sh "$O" 2>&1); rc=$?
if [ "$rc" -eq 0 ]; then ok "make bench QUICK=1 runs"; else nok "make bench QUICK=1 (exit $rc)" "$out"; fi
case "$out" in *"config reads (exact"*"instructions (callgrind"*"image sizes"*) ok "table printed" ;;
*) nok "table printed" "$out" ;; esac
json=$O/bench/bench.json
if [ -s "$json" ] && [ -s "$O/bench/bench.csv" ]; then ok "bench.csv and bench.json written"
else nok "bench.csv and bench.json written"; fi

# Exact reads per n: walk (the only reads quick makes), quick verify's own
# (none), strict's own (re-reads of every cached dword of each VALID entry),
# the re-probe (every cached dword). Derived by hand in bench/README.md.
# n funcs walk quick quick_verify strict_verify reprobe; reprobe = 14 dwords per
# VF + 15 per other entry (57 VFs + 7 = 903 at n = 64; 1,017 + 7 = 14,343 at 1,024).
while read -r n funcs walk quick qv sv re; do
	got=$(python3 -c "
import json, sys
r = [r for r in json.load(open('$json'))['rows'] if r['n'] == $n]
r = r[0] if r else {}
print(*(r.get(k, '-') for k in ('funcs', 'walk', 'quick', 'quick_verify', 'strict_verify', 'reprobe')))
" 2>&1)
	want="$funcs $walk $quick $qv $sv $re"
	if [ "$got" = "$want" ]; then ok "n=$n reads: $want"
	else nok "n=$n reads (funcs walk quick quick_verify strict_verify reprobe)" "want $want
got  $got"; fi
done <<TABLE
64 68 142 142 0 903 903
1024 1028 142 142 0 14343 14343
TABLE

echo "bench: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
