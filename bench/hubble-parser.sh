#!/usr/bin/env bash
# Hubble flow core (pure C++, no kernel): events/s through EventParser alone
# and into a FlowRing, and memory per stored flow (cpp-hubble-parser-bench).
set -euo pipefail
BUILD_DIR=$(realpath "${1:?usage: hubble-parser.sh BUILD_DIR}")
OUT=${CILIUMPP_BENCH_OUT:-$BUILD_DIR/bench}
mkdir -p "$OUT"
mode=quick
[ "${CILIUMPP_BENCH_MODE:-quick}" = full ] && mode=full
"$BUILD_DIR/bin/cpp-hubble-parser-bench" "$mode" >"$OUT/hubble-parser.json"
jq -r '"hubble-parser: parse \(.parse_events_per_s.median | round) events/s, parse+ring \(.parse_push_events_per_s.median | round) events/s, \(.memory.rss_bytes_per_flow | round) bytes RSS per stored flow"' "$OUT/hubble-parser.json"
