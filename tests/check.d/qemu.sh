#!/bin/sh
# tests/check.d/qemu.sh - the QEMU stage of make check for $ARCHES; ends with
# "qemu: N passed, M failed" taken from pytest's own tally. Never builds.
top=$(cd "$(dirname "$0")/../.." && pwd)
log=$(mktemp)
"$top/tests/qemu/run.sh" 2>&1 | tee "$log"
tally=$(grep -E '^=*.*[0-9]+ (passed|failed|error)' "$log" | tail -n 1)
rm -f "$log"
num() { echo "$tally" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
p=$(num passed); f=$(num failed); e=$(num error)
# No pytest tally at all (pytest missing, collection crash): one failure.
[ -n "$tally" ] || f=1
echo "qemu: $p passed, $((f + e)) failed"
[ $((f + e)) -eq 0 ]
