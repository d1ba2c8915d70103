#!/usr/bin/env bash
# Runs every benchmark and prints every ratio / goal figure at the end.
#
#   CILIUMPP_BENCH_MODE=quick|full bash bench/run-all.sh BUILD_DIR
#
# quick (make test, ctest bench_quick): proves each benchmark still runs and
# prints numbers, in well under two minutes. full (make bench): the
# bench-protocol.md method. Results: one JSON file per benchmark plus
# summary.json in $CILIUMPP_BENCH_OUT (a directory; default BUILD_DIR/bench).
# Exits non-zero only when a benchmark failed to run, never on a performance
# threshold.
set -uo pipefail
BUILD_DIR=$(realpath "${1:?usage: run-all.sh BUILD_DIR}")
HERE=$(dirname "$(realpath "$0")")
export CILIUMPP_BENCH_MODE=${CILIUMPP_BENCH_MODE:-quick}
export CILIUMPP_BENCH_OUT=${CILIUMPP_BENCH_OUT:-$BUILD_DIR/bench}
mkdir -p "$CILIUMPP_BENCH_OUT"
OUT=$(realpath "$CILIUMPP_BENCH_OUT")
[ "$(id -u)" -eq 0 ] || { echo "run-all.sh: benchmarks need root (network namespaces, BPF)" >&2; exit 1; }

BENCHES=(pod-datapath cni-latency bpf-prog policy-compute identity-alloc ipcache-propagation masq overlay services nodeport-xdp lb-program hubble-parser bgp-advertise bgp-lb-latency)
declare -A RC
start=$(date +%s)
for b in "${BENCHES[@]}"; do
  echo "=== $b ($CILIUMPP_BENCH_MODE) ==="
  rm -f "$OUT/$b.json"
  bash "$HERE/$b.sh" "$BUILD_DIR"
  RC[$b]=$?
  [ "${RC[$b]}" -eq 0 ] && [ -s "$OUT/$b.json" ] || { [ "${RC[$b]}" -ne 0 ] || RC[$b]=1; echo "=== $b FAILED (exit ${RC[$b]})"; }
done
elapsed=$(($(date +%s) - start))

echo
echo "=== summary ($CILIUMPP_BENCH_MODE mode, ${elapsed}s) ==="
failed=0
for b in "${BENCHES[@]}"; do
  if [ "${RC[$b]}" -ne 0 ]; then
    echo "$b: FAILED TO RUN (exit ${RC[$b]})"
    failed=1
    continue
  fi
  f=$OUT/$b.json
  case "$b" in
    pod-datapath)
      jq -r '.metrics | to_entries[] |
        def r3: if . == null then "n/a" else (. * 1000 | round) / 1000 end;
        "pod-datapath \(.key): ciliumpp/baseline = \(.value.ratio | r3) (goal >= 0.95; paired \(.value.paired_ratio.median | r3), range \(.value.paired_ratio.min | r3)..\(.value.paired_ratio.max | r3); medians \(.value.B.median * 100 | round / 100) vs \(.value.A.median * 100 | round / 100) \(.value.unit); \(.value.clean_pairs) clean of \(.value.pairs_run) pairs; cv \(.value.B.cv * 100 | round)%/\(.value.A.cv * 100 | round)%)"' "$f"
      jq -r '.metrics | to_entries[] | select(.value.clean_pairs == 0) |
        "pod-datapath: WARNING \(.key): no clean pair (other processes or steal on the CPUs), figures are unreliable"' "$f"
      ;;
    cni-latency)
      jq -r '.phases | to_entries[] |
        "cni-latency \(.key): p50 \(.value.p50_ms) ms, p99 \(.value.p99_ms) ms, max \(.value.max_ms) ms (n=\(.value.n))\(if (.key | startswith("add")) then "; goal p99 < 100 ms" else "" end)"' "$f"
      jq -r '.agent_vmrss_kb | to_entries[] | "cni-latency agent VmRSS \(.key): \(.value) kB"' "$f"
      ;;
    policy-compute)
      jq -r 'def med: sort | .[length/2|floor] * 1000 | round / 1000;
        "policy-compute \(.identities) identities x \(.rules) rules, \(.endpoints) endpoints: all in \(.runs | map(.initial_ms) | med) ms (\(.runs[0].initial_heap_bytes / 1024 | round) KiB heap, \(.runs[0].map_entries) map entries); one new pod \(.runs | map(.new_pod_ms) | med) ms (\(.runs[0].new_pod_changes) changes) vs full recompute \(.runs | map(.full_recompute_ms) | med) ms"' "$f"
      ;;
    identity-alloc)
      jq -r '"identity-alloc through etcd: new ids \(.new_ids_per_s.median | round) ids/s, existing ids from a 2nd node \(.existing_ids_per_s.median | round) ids/s, two nodes creating at once \(.two_nodes_new_ids_per_s.median | round) ids/s (\(.ids_per_run) ids per run, \(.new_ids_per_s.runs | length) runs)"' "$f"
      ;;
    ipcache-propagation)
      jq -r '"ipcache-propagation pod created on node A -> ipcache entry on node B: p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms (n=\(.pods))"' "$f"
      ;;
    masq)
      jq -r '.metrics | to_entries[] |
        def r3: if . == null then "n/a" else (. * 1000 | round) / 1000 end;
        "masq pod->world \(.key): BPF SNAT/iptables MASQUERADE = \(.value.ratio | r3) (paired \(.value.paired_ratio.median | r3), range \(.value.paired_ratio.min | r3)..\(.value.paired_ratio.max | r3); medians \(.value.B.median | round) vs \(.value.A.median | round) \(.value.unit); \(.value.clean_pairs) clean of \(.value.pairs_run) pairs)"' "$f"
      ;;
    overlay)
      jq -r '.metrics | to_entries[] |
        def r3: if . == null then "n/a" else (. * 1000 | round) / 1000 end;
        "overlay cross-node \(.key): ciliumpp/kernel VXLAN = \(.value.ratio | r3) (paired \(.value.paired_ratio.median | r3), range \(.value.paired_ratio.min | r3)..\(.value.paired_ratio.max | r3); medians \(.value.B.median * 100 | round / 100) vs \(.value.A.median * 100 | round / 100) \(.value.unit); \(.value.clean_pairs) clean of \(.value.pairs_run) pairs)"' "$f"
      ;;
    services)
      jq -r '.metrics | to_entries[] |
        def r3: if . == null then "n/a" else (. * 1000 | round) / 1000 end;
        if (.key | endswith("_flat")) then
          "services \(.key | sub("_flat"; "")) flatness: ciliumpp with every service / with one = \(.value.paired_ratio.median | r3) paired (goal: within 0.9..1.1; medians \(.value.B.median | round) vs \(.value.A.median | round) \(.value.unit); \(.value.clean_pairs) clean of \(.value.pairs_run) pairs)"
        else
          "services \(.key | sub("_"; " at ")) services: socket LB/iptables = \(.value.ratio | r3) (paired \(.value.paired_ratio.median | r3); medians \(.value.B.median | round) vs \(.value.A.median | round) \(.value.unit); \(.value.clean_pairs) clean of \(.value.pairs_run) pairs)"
        end' "$f"
      jq -r '.scaling | to_entries[] |
        def r3: if . == null then "n/a" else (. * 1000 | round) / 1000 end;
        "services \(.key) largest/smallest service count (sequential, includes drift): ciliumpp \(.value.B_last_over_first | r3), iptables \(.value.A_last_over_first | r3); ciliumpp/iptables at the largest \(.value.B_over_A_at_last | r3) (goal >= 2 for crr)"' "$f"
      ;;
    nodeport-xdp)
      jq -r 'if .skipped then "nodeport-xdp: skipped: \(.skipped)" else (.metrics | to_entries[] |
        def r3: if . == null then "n/a" else (. * 1000 | round) / 1000 end;
        "nodeport-xdp \(.key): XDP/tc = \(.value.ratio | r3) (paired \(.value.paired_ratio.median | r3); medians \(.value.B.median | round) vs \(.value.A.median | round) \(.value.unit); \(.value.clean_pairs) clean of \(.value.pairs_run) pairs)") end' "$f"
      ;;
    lb-program)
      jq -r '"lb-program \(.services) services x \(.backends_per_service) backends: agent API \(.api.services) services in \(.api.put_s * 100 | round / 100) s (\(.api.per_service_ms * 100 | round / 100) ms/service, last batch \(.api.put_batches[-1].ms_per_service * 100 | round / 100) ms/service); map layer \(.map_layer.seconds * 1000 | round) ms; LB map memlock \(.memory.memlock_full_bytes / 1048576 | round) MiB (preallocated for bpf-lb-map-max \(.bpf_lb_map_max)), \(.memory.entry_bytes_per_service | round) bytes/service of entries"' "$f"
      ;;
    bgp-advertise)
      jq -r '.families | to_entries[] | def r3: if . == null then "n/a" else (. * 1000 | round) / 1000 end;
        "bgp-advertise \(.key) \($p.prefixes) prefixes to FRR, ours/gobgpd: time Established -> all received \(.value.transfer_ms.ratio | r3) (medians \(.value.transfer_ms.B.median * 10 | round / 10) vs \(.value.transfer_ms.A.median * 10 | round / 10) ms, poll \($p.poll_interval_ms * 10 | round / 10) ms), sender VmHWM \(.value.vmhwm_kb.ratio | r3) (\(.value.vmhwm_kb.B.median) vs \(.value.vmhwm_kb.A.median) kB; \($p.rounds) rounds)"' --argjson p "$(jq '{prefixes, rounds, poll_interval_ms}' "$f")" "$f"
      ;;
    bgp-lb-latency)
      jq -r 'def r1: . * 10 | round / 10;
        "bgp-lb-latency Service gains a LoadBalancer IP -> route in FRR: p50 \(.agent.p50_ms | r1) ms, p99 \(.agent.p99_ms | r1) ms (n=\(.agent.n)); reference speaker apply() -> FRR: p50 \(.reference.p50_ms | r1) ms, p99 \(.reference.p99_ms | r1) ms; the agent path adds \(.agent_adds_p50_ms | r1) ms at p50, agent/reference \(.p50_ratio) (polls every \(.poll_interval_ms) ms)"' "$f"
      ;;
    hubble-parser)
      jq -r '"hubble-parser (\(.endpoints) endpoints, hash-map enricher): EventParser alone \(.parse_events_per_s.median / 1000 | round) k events/s (goal >= 1000 k), parse + FlowRing push \(.parse_push_events_per_s.median / 1000 | round) k events/s; memory per stored flow \(.memory.rss_bytes_per_flow | round) bytes RSS, \(.memory.heap_bytes_per_flow | round) bytes heap (\(.memory.flows) flows in a ring of \(.memory.capacity))"' "$f"
      ;;
    bpf-prog)
      jq -r '"bpf-prog cil_from_container pod->pod TCP: IPv4 \(.ns_per_packet.lxc_ipv4_tcp_to_local_pod.median) ns, IPv6 \(.ns_per_packet.lxc_ipv6_tcp_to_local_pod.median) ns per packet (empty tc program \(.ns_per_packet.empty_tc_prog.median) ns)"' "$f"
      jq -r '.event_cost | "bpf-prog event emission: trace every packet (monitor-aggregation none) \(.none_ns) ns vs medium \(.medium_ns) ns per packet, ratio \(.ratio) (\(.events_lost) events lost)"' "$f"
      ;;
  esac
done
files=()
for b in "${BENCHES[@]}"; do [ "${RC[$b]}" -ne 0 ] || files+=("$OUT/$b.json"); done
jq -n --arg mode "$CILIUMPP_BENCH_MODE" --argjson elapsed "$elapsed" \
  '{mode: $mode, elapsed_s: $elapsed, results: [inputs]}' "${files[@]}" >"$OUT/summary.json" </dev/null || failed=1
echo "results in $OUT"
exit "$failed"
