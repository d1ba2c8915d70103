#!/usr/bin/env bash
# BPF-level figure: ns per packet of cil_from_container for a pod -> pod TCP
# packet (IPv4 and IPv6) via BPF_PROG_TEST_RUN with repeat, next to an empty
# tc program (the fixed cost of the test-run loop). See bench/bpf_bench.cpp.
# Writes bpf-prog.json to $CILIUMPP_BENCH_OUT (a directory; default BUILD_DIR/bench).
#
# Usage: CILIUMPP_BENCH_MODE=quick|full bash bench/bpf-prog.sh BUILD_DIR
BUILD_DIR=$(realpath "${1:?usage: bpf-prog.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=bpf-prog
source "$(dirname "$(realpath "$0")")/lib.sh"

bn_require_bins cpp-bpf-bench
if [ "$BN_MODE" = full ]; then
  args=(--rounds 15 --calls 2000 --pipeline-rate 100000 --pipeline-seconds 20)
else
  args=(--rounds 3 --calls 100 --pipeline-rate 100000 --pipeline-seconds 2)
fi
OUT=$(bn_out_dir)/bpf-prog.json
# Pinned to one CPU, like the datapath benchmark's client.
res=$(taskset -c 0 timeout -k 5 300 "$BIN/cpp-bpf-bench" "${args[@]}") || bn_die "cpp-bpf-bench failed"
jq --arg mode "$BN_MODE" '{benchmark: "bpf-prog", mode: $mode} + .' <<<"$res" >"$OUT"

echo
echo "cil_from_container via BPF_PROG_TEST_RUN ($BN_MODE mode; ns per packet, median of rounds)"
jq -r '
  (["case", "median ns", "min..max ns"] | @tsv),
  (.ns_per_packet | to_entries[] | [.key, .value.median, "\(.value.min)..\(.value.max)"] | @tsv)
' "$OUT" | column -t -s $'\t'
jq -r '"over the empty program: IPv4 \(.over_empty_ns.ipv4) ns, IPv6 \(.over_empty_ns.ipv6) ns per packet"' "$OUT"
jq -r '.event_cost | "event emission (IPv4): monitor-aggregation none \(.none_ns) ns vs medium \(.medium_ns) ns per packet (+\(.extra_ns) ns, ratio \(.ratio)); \(.trace_events_read) trace events read, \(.events_lost) lost"' "$OUT"
jq -r '.pipeline | "end to end: \(.packets) packets at \(.target_rate)/s for \(.seconds) s -> \(.flows) Hubble flows (\(.flows_per_second)/s), \(.events_lost) events lost"' "$OUT"
echo "results in $OUT"
