#!/bin/sh
# bench/run.sh O - `make bench` (QUICK=1: n = 64 and 1,024 only, no QEMU): builds the
# host driver, then bench/bench.py prints the table. It never fails on a time.
O=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
${MAKE:-make} --no-print-directory -j2 O="$O" "$O/host/pcsc-bench" || exit 1
# Debian's python3 has pytest (the QEMU harness imports it); a pyenv shim may not.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
for t in valgrind callgrind_annotate "$py"; do
	command -v $t >/dev/null || { echo "bench: $t not installed (make deps)" >&2; exit 1; }
done
if [ -n "$QUICK" ] && [ "$QUICK" != 0 ]; then
	exec "$py" bench/bench.py "$O" --quick
fi
exec "$py" bench/bench.py "$O"
