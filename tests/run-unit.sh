#!/bin/sh
# run-unit.sh BIN... - run every cmocka binary, then print one tally line.
# A binary that crashes or exits non-zero without a cmocka summary counts
# as one failure, so nothing can pass by dying early.
passed=0; failed=0
for bin in "$@"; do
	out=$("$bin" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	passed=$((passed + ${p:-0}))
	if [ -n "$f" ]; then failed=$((failed + f))
	elif [ $rc -ne 0 ] || [ -z "$p" ]; then
		echo "run-unit: $bin exited $rc without a clean summary"; failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed"
[ $failed -eq 0 ]
