#!/usr/bin/env bash
# Prints, after ctest's summary, the lines of each failed test that say what
# failed (check FAILs, gtest failures, errors), so the last lines of a CI log
# name the cause and not only the test.
#   ctest-failures.sh BUILD_DIR
T="${1:?usage: $0 BUILD_DIR}/Testing/Temporary"
[ -s "$T/LastTestsFailed.log" ] || exit 0
echo "=== what failed ==="
while IFS=: read -r _ name; do
  awk -v t="$name" '
    $0 ~ "^[0-9]+/[0-9]+ Test: " t "$" { on = 1; next }
    on && /^[0-9]+\/[0-9]+ Test: / { on = 0 }
    on && (/FAIL|Failure|\[  FAILED  \]|[Ee]rror|ERROR|Timeout/) { print "  " t ": " $0 }
  ' "$T/LastTest.log" | tail -8
done <"$T/LastTestsFailed.log"
