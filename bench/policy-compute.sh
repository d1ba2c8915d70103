#!/usr/bin/env bash
# Policy computation (pure C++, no kernel): 1,000 identities x 500 rules over
# 100 endpoints; one new pod identity incrementally vs a full recompute.
set -euo pipefail
BUILD_DIR=$(realpath "${1:?usage: policy-compute.sh BUILD_DIR}")
OUT=${CILIUMPP_BENCH_OUT:-$BUILD_DIR/bench}
mkdir -p "$OUT"
mode=quick
[ "${CILIUMPP_BENCH_MODE:-quick}" = full ] && mode=full
"$BUILD_DIR/bin/cpp-policy-bench" "$mode" >"$OUT/policy-compute.json"
jq -r '.runs | "policy-compute: initial \(map(.initial_ms) | sort | .[length/2|floor] * 100 | round / 100) ms, heap \(.[0].initial_heap_bytes / 1024 | round) KiB, \(.[0].map_entries) entries"' "$OUT/policy-compute.json"
