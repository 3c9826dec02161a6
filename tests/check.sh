#!/bin/sh
# check.sh O ARCHES - every test stage of `make check`, then one tally line.
# Each stage script ends with "<stage>: N passed, M failed"; a stage that
# dies without that line counts as one failure. Stages run even after a
# failure so one red stage does not hide another.
O=${1:-build}
ARCHES=${2:-"arm64 x86_64"}
export O ARCHES
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
passed=0; failed=0; red=""

stage() {
	name=$1; shift
	echo "=== $name"
	log=$(mktemp)
	"$@" 2>&1 | tee "$log"
	line=$(grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	rm -f "$log"
	if [ -z "$line" ]; then
		failed=$((failed + 1)); red="$red $name"; return
	fi
	p=$(echo "$line" | sed 's/.*: \([0-9]*\) passed.*/\1/')
	f=$(echo "$line" | sed 's/.*passed, \([0-9]*\) failed/\1/')
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" -eq 0 ] || red="$red $name"
}

stage unit tests/run-unit.sh $(ls "$O"/host-san/tests/test_* 2>/dev/null | grep -v '\.d$')
for s in tests/check.d/*.sh; do
	[ -x "$s" ] || continue
	stage "$(basename "$s" .sh)" "$s"
done

[ -n "$red" ] && echo "check: red stages:$red"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
