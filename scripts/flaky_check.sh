#!/usr/bin/env bash
# Runs a pytest command N times (default 5) and lists every test that failed or errored in any
# run, with the runs it failed in; exits 1 if there was one. `make flaky-check` runs the live
# tests (-m slow) this way.
set -uo pipefail
runs=${N:-5}
logs=$(mktemp -d)
for i in $(seq "$runs"); do
  echo "=== run $i of $runs"
  "$@" -p no:cacheprovider -rfE 2>&1 | tee "$logs/run$i.log" | tail -n 3
done
grep -hE '^(FAILED|ERROR) ' "$logs"/run*.log | sed -E 's/ - .*//' | sort | uniq -c | sort -rn > "$logs/failures"
if [ -s "$logs/failures" ]; then
  echo "=== tests that failed at least once in $runs runs (count, test):"
  cat "$logs/failures"
  echo "logs: $logs"
  exit 1
fi
echo "=== no test failed in $runs runs"
