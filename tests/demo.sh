#!/bin/sh
# tests/demo.sh O - `make demo`: the arm64 stub under QEMU with a cache that has
# one stale, one gone and one bad entry. Shows, never changes the tree.
O=${1:-build}
export O
top=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$top/tests/qemu/demo.py"
