#!/usr/bin/env bash
# Pod -> world through masquerading: BPF SNAT against iptables MASQUERADE
# (bench-protocol.md), IPv4.
#
#   underlay: bridge br0 in its own namespace; "world" namespace on it
#     (192.0.2.100) serving cpp-rr on 203.0.113.7, with no route to any pod.
#   A (iptables): node namespace running cilium-agent with
#     enable-ipv4-masquerade=false, plus one nat/POSTROUTING MASQUERADE rule
#     for the PodCIDR inside that node namespace only.
#   B (ciliumpp): the same agent setup with BPF masquerading (bpf_netdev on
#     the node's eth0, the default).
#   Both nodes (192.0.2.1 / 192.0.2.2) have one pod made by cilium-cni; the
#   rest of the datapath (bpf_lxc, bpf_host) is the same on both sides, so
#   the comparison isolates the SNAT mechanism.
#
# Metrics: CRR (connect + 1-byte exchange + close: a new NAT mapping per
# transaction) and RR (one established flow: per-packet translation) with
# cpp-rr. Client pinned to CPU0, server to CPU1; runs interleaved A B A B;
# a run with steal > 1% or user CPU > 10% is noisy (left out while clean
# pairs exist). Prints median / spread per side and the ratio B/A; writes
# masq.json to $CILIUMPP_BENCH_OUT (default BUILD_DIR/bench).
#
# Usage: CILIUMPP_BENCH_MODE=quick|full bash bench/masq.sh BUILD_DIR
#   quick: 1 s runs, 1 pair per metric.  full: 1 s warm-up + 5 s runs,
#   CILIUMPP_BENCH_PAIRS (default 10) clean pairs per metric.
#   CILIUMPP_BENCH_METRICS (default "crr rr") selects metrics.
BUILD_DIR=$(realpath "${1:?usage: masq.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=masq
source "$(dirname "$(realpath "$0")")/lib.sh"

bn_require_bins cilium-agent cilium-cni cilium-dbg cpp-rr
command -v iptables >/dev/null || bn_die "iptables is not installed (the baseline side needs it)"
[ "$(nproc)" -ge 2 ] || bn_die "needs at least 2 CPUs (client on CPU0, server on CPU1)"

bn_ab_init masq 900 1
BN_VALUE_FMT=%.0f/s
RR_PORT=7000
WORLD=203.0.113.7
LIFETIME=$((MAX_ATTEMPTS * 4 * (QUIET_WAIT + 2 * (SECONDS_RUN + WARMUP + 25)) + 300))

# ------------------------------------------------------------ underlay ---
UL=cpp-$BN_TAG-ul
WL=cpp-$BN_TAG-world
bn_underlay "$UL"
bn_netns "$WL"
bn_underlay_link "$WL" w0 192.0.2.100
ip -n "$WL" addr add "$WORLD/32" dev lo

# node SIDE NODE_IP MASQ: a node namespace with its agent and one pod.
# Leaves POD_<SIDE> set.
node() {
  local side=$1 addr=$2 masq=$3 ns=cpp-$BN_TAG-$1-node pod=cpp-$BN_TAG-$1-pod
  bn_agent_setup "$ns" "$BN_TAG-masq-$side" "enable-ipv4-masquerade=$masq" enable-ipv6=false
  bn_underlay_link "$ns" "n$side" "$addr"
  ip -n "$ns" route add default via 192.0.2.100
  bn_agent_start
  bn_netns "$pod"
  local res
  res=$(bn_cni ADD "$pod" "c-$pod") || bn_die "cilium-cni ADD $pod failed: $res"
  bn_pod_sysctls "$pod"
  printf -v "POD_$side" '%s' "$pod"
  printf -v "NODE_$side" '%s' "$ns"
}
bn_log "setting up A (iptables MASQUERADE) and B (BPF masquerading)"
node A 192.0.2.1 false
node B 192.0.2.2 true
in_ns "$NODE_A" iptables -t nat -A POSTROUTING -s 10.233.64.0/24 -o eth0 -j MASQUERADE
in_ns "$NODE_B" "$BIN/cilium-dbg" -H "/run/ciliumpp/bench/$BN_TAG-masq-B/cilium.sock" status --json |
  jq -e '.masquerading | length > 0' >/dev/null || bn_die "B: the agent does not masquerade"
in_ns "$NODE_B" iptables-save | grep -q MASQUERADE && bn_die "B: iptables rules in the BPF node"

bn_bg "$WL" "$TMP/rr.log" taskset -c 1 "$BIN/cpp-rr" server --port "$RR_PORT" --bind "$WORLD" --lifetime "$LIFETIME"
wait_for 10 port_listening "$WL" "$RR_PORT" || bn_die "cpp-rr server did not start: $(cat "$TMP/rr.log")"
for side in A B; do
  pod=POD_$side
  in_ns "${!pod}" ping -c1 -W2 "$WORLD" >/dev/null || bn_die "$side: pod cannot reach the world ($WORLD)"
done

one_run() {  # SIDE METRIC -> rate
  local pod=POD_$1 out
  out=$(in_ns "${!pod}" taskset -c 0 timeout -k 5 $((SECONDS_RUN + WARMUP + 20)) "$BIN/cpp-rr" "$2" \
    --host "$WORLD" --port "$RR_PORT" --seconds "$SECONDS_RUN" --warmup "$WARMUP") || return 1
  jq -e '.rate' <<<"$out"
}

bn_log "mode $BN_MODE: ${SECONDS_RUN}s runs after ${WARMUP}s warm-up, $PAIRS clean pair(s) per metric wanted"
for metric in ${CILIUMPP_BENCH_METRICS:-crr rr}; do
  case "$metric" in rr | crr) ;; *) bn_die "unknown metric '$metric' (crr, rr)" ;; esac
  bn_ab_pairs "$metric" 2 alternate
done

NAT_ENTRIES=$(in_ns "$NODE_B" "$BIN/cilium-dbg" -H "/run/ciliumpp/bench/$BN_TAG-masq-B/cilium.sock" bpf nat list --json | jq length)

OUT=$(bn_out_dir)/masq.json
jq -s --arg mode "$BN_MODE" --argjson seconds "$SECONDS_RUN" --argjson warmup "$WARMUP" --argjson pairs "$PAIRS" \
  --argjson nat "$NAT_ENTRIES" --arg kernel "$(uname -r)" "$BN_JQ_STATS"'
  . as $runs |'"$BN_JQ_AB"'
  {
    benchmark: "masq", mode: $mode, kernel: $kernel,
    settings: { seconds: $seconds, warmup: $warmup, pairs: $pairs, client_cpu: 0, server_cpu: 1,
                A: "iptables MASQUERADE in the node namespace (cilium-agent, BPF masquerading off)",
                B: "ciliumpp BPF masquerading (bpf_netdev on the native device)" },
    nat_entries_after: $nat,
    metrics: ab_metrics([["crr", "connections/s"], ["rr", "transactions/s"]]),
    runs: $runs
  }' "$RUNS" >"$OUT"

echo
echo "pod -> world, IPv4, BPF SNAT (B) vs iptables MASQUERADE (A) ($BN_MODE mode: ${SECONDS_RUN}s runs)"
jq -r '
  def f: if . == null then "-" else (. | floor | tostring) end;
  def pc: ((. * 1000 | round) / 10 | tostring) + "%";
  def r3: if . == null then "-" else ((. * 1000 | round) / 1000 | tostring) end;
  (["metric", "unit", "pairs", "A iptables median", "A cv", "B BPF median", "B cv", "B/A", "paired B/A (min..max)"] | @tsv),
  (.metrics | to_entries[] | .key as $k | .value |
    [$k, .unit, "\(.clean_pairs) clean/\(.pairs_run)", (.A.median | f), (.A.cv | pc), (.B.median | f), (.B.cv | pc),
     (.ratio | r3), "\(.paired_ratio.median | r3) (\(.paired_ratio.min | r3)..\(.paired_ratio.max | r3))"] | @tsv)
' "$OUT" | column -t -s $'\t'
echo "NAT entries on B afterwards: $NAT_ENTRIES; results in $OUT"
