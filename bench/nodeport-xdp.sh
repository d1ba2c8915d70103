#!/usr/bin/env bash
# NodePort forwarding: XDP (bpf-lb-acceleration=native) against tc
# (bpf-lb-acceleration=disabled, bpf_netdev does the translation), IPv4,
# same run (bench-protocol.md).
#
#   underlay: bridge br0 in its own namespace; a "world" namespace on it
#     (192.0.2.100) runs the clients.
#   A (tc):  node namespace 192.0.2.1 with cilium-agent, kube-proxy
#     replacement on, XDP off; one pod made by cilium-cni serving cpp-rr.
#   B (XDP): the same at 192.0.2.2 with bpf-lb-acceleration=native (the
#     agent attaches cil_xdp_entry in driver mode on eth0, a veth).
#   On each node one NodePort service NODE_IP:30080/TCP -> pod:7000 through
#   `cilium-dbg service update --k8s-node-port` (the backend is local: DNAT
#   only, the pod's reply is reverse-translated by bpf_lxc and leaves eth0).
#
# Metrics: CRR (every connection's first packet takes the service lookup and
# creates LB conntrack state) and RR (established flow) from the world
# namespace to each node's NodePort, client on CPU0, server on CPU1,
# interleaved A/B pairs with sides alternating first; noisy runs (steal > 1%,
# user CPU > 10%) left out while clean pairs exist. Reports medians and
# B/A. Writes nodeport-xdp.json; when the datapath cannot run this (no XDP
# program, attach refused), writes {"skipped": "<reason>"} and exits 0.
#
# Usage: CILIUMPP_BENCH_MODE=quick|full bash bench/nodeport-xdp.sh BUILD_DIR
BUILD_DIR=$(realpath "${1:?usage: nodeport-xdp.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=nodeport-xdp
source "$(dirname "$(realpath "$0")")/lib.sh"

OUT=$(bn_out_dir)/nodeport-xdp.json
skip() {
  bn_log "skipped: $1"
  jq -n --arg why "$1" '{benchmark: "nodeport-xdp", skipped: $why}' >"$OUT"
  exit 0
}

bn_require_bins cilium-agent cilium-cni cilium-dbg cpp-rr
[ "$(nproc)" -ge 2 ] || bn_die "needs at least 2 CPUs (client on CPU0, server on CPU1)"
[ -e "$BUILD_DIR/bpf/obj/bpf_xdp.bpf.o" ] || skip "no $BUILD_DIR/bpf/obj/bpf_xdp.bpf.o (bpf/bpf_xdp.c not built)"

bn_ab_init npxdp 900 3
BN_VALUE_FMT=%.0f/s
RR_PORT=7000
NODEPORT=30080
LIFETIME=$((2 * MAX_ATTEMPTS * 2 * (QUIET_WAIT + SECONDS_RUN + WARMUP + 25) + 300))

UL=cpp-$BN_TAG-ul
WL=cpp-$BN_TAG-world
bn_underlay "$UL"
bn_netns "$WL"
bn_underlay_link "$WL" w0 192.0.2.100
bn_pod_sysctls "$WL"

# node SIDE NODE_IP ACCELERATION: node namespace, agent, one pod with a
# cpp-rr server, the NodePort service. Leaves NODE_<SIDE>, SOCK_<SIDE>, IP_<SIDE>.
node() {
  local side=$1 addr=$2 accel=$3 ns=cpp-$BN_TAG-$1-node pod=cpp-$BN_TAG-$1-pod res podip
  bn_agent_setup "$ns" "$BN_TAG-np-$side" kube-proxy-replacement=true bpf-lb-sock=false \
    "bpf-lb-acceleration=$accel" enable-ipv6=false enable-ipv4-masquerade=false
  bn_underlay_link "$ns" "n$side" "$addr"
  ip -n "$ns" route add default via 192.0.2.100
  bn_agent_start
  bn_netns "$pod"
  res=$(bn_cni ADD "$pod" "c-$pod") || bn_die "cilium-cni ADD $pod failed: $res"
  podip=$(jq -r '.ips[] | select(.address | contains(".")) | .address' <<<"$res" | cut -d/ -f1)
  bn_bg "$pod" "$TMP/rr-$side.log" taskset -c 1 "$BIN/cpp-rr" server --port "$RR_PORT" --lifetime "$LIFETIME"
  wait_for 10 port_listening "$pod" "$RR_PORT" || bn_die "cpp-rr server in $pod did not start: $(cat "$TMP/rr-$side.log")"
  in_ns "$ns" "$BIN/cilium-dbg" -H "$AGENT_SOCK" service update --id 1 --frontend "$addr:$NODEPORT" \
    --backends "$podip:$RR_PORT" --protocol TCP --k8s-node-port >/dev/null ||
    bn_die "$side: cilium-dbg service update failed (agent log: $(tail -5 "$AGENT_ROOT/agent.log"))"
  printf -v "NODE_$side" '%s' "$ns"
  printf -v "SOCK_$side" '%s' "$AGENT_SOCK"
  printf -v "IP_$side" '%s' "$addr"
}
bn_log "setting up A (tc: bpf_netdev) and B (XDP native)"
node A 192.0.2.1 disabled
node B 192.0.2.2 native

# B must really run XDP in driver mode, A none.
xdp_mode() { in_ns "$1" ip -j -d link show eth0 | jq -r '.[0].xdp.mode // 0'; }
[ "$(xdp_mode "$NODE_A")" = 0 ] || bn_die "A: an XDP program is attached to eth0"
modeB=$(xdp_mode "$NODE_B")
# ip link: 1 = driver (native), 2 = generic (skb), 3 = offload.
[ "$modeB" = 1 ] || skip "B: no native XDP program on eth0 (xdp mode '$modeB'; agent log: $(grep -i xdp "/run/ciliumpp/bench/$BN_TAG-np-B/agent.log" | tail -2 | tr '\n' ' '))"

for side in A B; do
  ip=IP_$side
  in_ns "$WL" "$BIN/cpp-rr" crr --host "${!ip}" --port "$NODEPORT" --seconds 0.2 >/dev/null ||
    bn_die "$side: the world cannot connect to the NodePort ${!ip}:$NODEPORT"
done

one_run() {  # SIDE METRIC -> rate
  local ip=IP_$1 out
  out=$(in_ns "$WL" taskset -c 0 timeout -k 5 $((SECONDS_RUN + WARMUP + 20)) "$BIN/cpp-rr" "$2" \
    --host "${!ip}" --port "$NODEPORT" --seconds "$SECONDS_RUN" --warmup "$WARMUP") || return 1
  jq -e '.rate' <<<"$out"
}

bn_log "mode $BN_MODE: ${SECONDS_RUN}s runs after ${WARMUP}s warm-up, $PAIRS clean pair(s) per metric wanted"
for metric in ${CILIUMPP_BENCH_METRICS:-crr rr}; do
  case "$metric" in rr | crr) ;; *) bn_die "unknown metric '$metric' (crr, rr)" ;; esac
  bn_ab_pairs "$metric" 2 alternate
done

jq -s --arg mode "$BN_MODE" --argjson seconds "$SECONDS_RUN" --argjson warmup "$WARMUP" --argjson pairs "$PAIRS" \
  --arg kernel "$(uname -r)" "$BN_JQ_STATS"'
  . as $runs |'"$BN_JQ_AB"'
  {
    benchmark: "nodeport-xdp", mode: $mode, kernel: $kernel,
    settings: { seconds: $seconds, warmup: $warmup, pairs: $pairs, client_cpu: 0, server_cpu: 1,
                A: "NodePort translated by bpf_netdev at tc ingress (bpf-lb-acceleration=disabled)",
                B: "NodePort translated by cil_xdp_entry in native XDP (bpf-lb-acceleration=native)",
                path: "world namespace -> node eth0 (veth) -> local pod backend" },
    metrics: ab_metrics([["crr", "connections/s"], ["rr", "transactions/s"]]),
    runs: $runs
  }' "$RUNS" >"$OUT"

echo
echo "world -> NodePort -> local pod, IPv4: XDP (B) vs tc (A) ($BN_MODE mode: ${SECONDS_RUN}s runs)"
jq -r '
  def f: if . == null then "-" else (. | floor | tostring) end;
  def pc: ((. * 1000 | round) / 10 | tostring) + "%";
  def r3: if . == null then "-" else ((. * 1000 | round) / 1000 | tostring) end;
  (["metric", "unit", "pairs", "A tc median", "A cv", "B XDP median", "B cv", "B/A", "paired B/A (min..max)"] | @tsv),
  (.metrics | to_entries[] | .key as $k | .value |
    [$k, .unit, "\(.clean_pairs) clean/\(.pairs_run)", (.A.median | f), (.A.cv | pc), (.B.median | f), (.B.cv | pc),
     (.ratio | r3), "\(.paired_ratio.median | r3) (\(.paired_ratio.min | r3)..\(.paired_ratio.max | r3))"] | @tsv)
' "$OUT" | column -t -s $'\t'
echo "results in $OUT"
