#!/bin/sh
# fuzz.sh - `make check` stage: run the libFuzzer harness (tests/fuzz/fuzz.mk) for
# FUZZ_SECONDS (default 60) and report one tally line; a crash or a build failure is a failure.
O=${O:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
if make --no-print-directory -f tests/fuzz/fuzz.mk O="$O" FUZZ_SECONDS="$FUZZ_SECONDS" run; then
	echo "fuzz: 1 passed, 0 failed"
else
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
