#!/bin/sh
# The test runner behind `make check`.
#
# Runs each test given on the command line (a program or a script) with a
# time limit.  A test reports each check it makes on a line of its own:
#   PASS: name
#   FAIL: name: why
#   SKIP: name: what is missing
# A test that exits non-zero without reporting a FAIL counts as one failure
# (a crash must not pass unnoticed); exit status 77 with no lines is a skip.
# The last line is "N passed, N failed, N skipped"; the exit status is
# non-zero when anything failed.  A script may raise its own time limit
# with a line "# timeout: SECONDS" among its first five.
set -u

timeout_s=${TEST_TIMEOUT:-900}
passed=0
failed=0
skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$@"; do
	name=${t#./}
	echo "== $name"
	limit=$timeout_s
	if [ "$(head -c 2 "$t" 2>/dev/null)" = "#!" ]; then
		l=$(sed -n '1,5s/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
		[ -n "$l" ] && limit=$l
	fi
	timeout -k 10 "$limit" "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	grep -E '^(PASS|FAIL|SKIP): ' "$log"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		if [ "$rc" -eq 77 ] && [ "$p" -eq 0 ]; then
			[ "$s" -eq 0 ] && { echo "SKIP: $name"; s=1; }
		else
			if [ "$rc" -eq 124 ]; then why="timed out after ${limit}s"
			else why="exited with status $rc"; fi
			echo "FAIL: $name: $why"
			f=1
		fi
	fi
	if [ "$f" -gt 0 ]; then
		echo "-- output of $name (last 40 lines):"
		tail -n 40 "$log" | sed 's/^/   | /'
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
