#!/usr/bin/env bash
# Runs the BGP decode fuzzer for a bounded time: 60 s when
# CILIUMPP_BENCH_MODE=quick (the default), 600 s when full. New inputs go to
# a work corpus in the build tree; the checked-in seeds are only read.
# usage: run_bgp_fuzz.sh FUZZER SEED_DIR WORK_DIR
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
case "${CILIUMPP_BENCH_MODE:-quick}" in
  full) seconds=600 ;;
  *) seconds=60 ;;
esac
mkdir -p "$work/corpus" "$work/artifacts"
log="$work/last-run.log"
rc=0
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" >"$log" 2>&1 || rc=$?
tail -n 25 "$log"
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
echo "bgp_decode_fuzz: ${execs} executions in ${seconds}s, exit ${rc}, corpus $(ls "$work/corpus" | wc -l) files"
if [ "$rc" -ne 0 ]; then
  echo "bgp_decode_fuzz: FAILED; reproducer in $work/artifacts/" >&2
  exit "$rc"
fi
[ "$execs" -gt 0 ] || { echo "bgp_decode_fuzz: no executions recorded" >&2; exit 1; }
