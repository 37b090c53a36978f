#!/usr/bin/env bash
# Runs a pytest command N times (default 5) and lists every test that failed or errored in any
# run, with how many runs it failed in; exits 1 if there was one, or if a run ended without
# its tests' verdict (pytest itself failed). `make flaky-check` runs the live tests (-m slow).
set -uo pipefail
runs=${N:-5}
logs=$(mktemp -d)
broken=0
for i in $(seq "$runs"); do
  echo "=== run $i of $runs"
  "$@" -p no:cacheprovider -rfE > "$logs/run$i.log" 2>&1
  rc=$?
  tail -n 1 "$logs/run$i.log"
  if [ "$rc" -ne 0 ] && ! grep -qE '^(FAILED|ERROR) ' "$logs/run$i.log"; then
    echo "run $i ended without a verdict (exit $rc); see $logs/run$i.log"
    broken=1
  fi
done
grep -hE '^(FAILED|ERROR) ' "$logs"/run*.log | sed -E 's/ - .*//' | sort | uniq -c | sort -rn > "$logs/failures"
if [ -s "$logs/failures" ]; then
  echo "=== tests that failed at least once in $runs runs (count, test):"
  cat "$logs/failures"
  echo "logs: $logs"
  exit 1
fi
[ "$broken" -eq 0 ] || exit 1
echo "=== no test failed in $runs runs"
