#!/usr/bin/env bash
# Cross-node pod -> pod through the VXLAN overlay: ciliumpp against plain
# kernel VXLAN with static routes (bench-protocol.md), IPv4 pods, IPv4
# underlay, pod MTU 1450 on a 1500 underlay on both sides.
#
#   underlay: bridge br0 in its own namespace; every node namespace has an
#     eth0 on it.
#   A (baseline): nodes 192.0.2.11 / 192.0.2.12, each with a kernel VXLAN
#     device (VNI 42, UDP 8472, remote = the other node, nolearning), one
#     pod behind a veth and static routes: local pod /32 via its veth, the
#     other node's pod CIDR via the VXLAN device. No BPF.
#   B (ciliumpp): nodes 192.0.2.1 / 192.0.2.2, each running cilium-agent in
#     tunnel mode (cilium_vxlan external, bpf_lxc/bpf_host/bpf_overlay),
#     sharing one store directory; one pod per node made by cilium-cni. The
#     CiliumNode objects (addresses, PodCIDRs) are written here, as the
#     agents' node registration would; the agents publish the endpoints.
#     Masquerading is off on both agents: it never applies to pod -> pod
#     traffic and its program on eth0 is measured by masq.sh.
#
# Metrics (pod on node 1 -> pod on node 2): TCP stream (iperf3), RR and CRR
# (cpp-rr). Client pinned to CPU0, servers to CPU1; runs interleaved,
# alternating which side goes first; a run with steal > 1% or user CPU >
# 10% is noisy and left out while clean pairs exist. Prints median /
# spread per side and the ratio B/A; writes overlay.json to
# $CILIUMPP_BENCH_OUT (default BUILD_DIR/bench).
#
# Usage: CILIUMPP_BENCH_MODE=quick|full bash bench/overlay.sh BUILD_DIR
#   quick: 1 s runs, 1 pair per metric.  full: 1 s warm-up + 5 s runs,
#   CILIUMPP_BENCH_PAIRS (default 10) clean pairs per metric.
#   CILIUMPP_BENCH_METRICS (default "stream rr crr") selects metrics.
BUILD_DIR=$(realpath "${1:?usage: overlay.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=overlay
source "$(dirname "$(realpath "$0")")/lib.sh"

bn_require_bins cilium-agent cilium-cni cilium-dbg cpp-rr
command -v iperf3 >/dev/null || bn_die "iperf3 is not installed"
[ "$(nproc)" -ge 2 ] || bn_die "needs at least 2 CPUs (client on CPU0, servers on CPU1)"

bn_ab_init ovl 1200 1
RR_PORT=7000
IPERF_PORT=5201
POD_MTU=1450
LIFETIME=$((3 * MAX_ATTEMPTS * (QUIET_WAIT + 2 * (SECONDS_RUN + WARMUP + 25)) + 300))

# ------------------------------------------------------------ underlay ---
bn_underlay "cpp-$BN_TAG-ul"

# ------------------------------------------------------------- B: ciliumpp
STORE=/run/ciliumpp/bench/$BN_TAG-ovl-store
bn_path "$STORE"
mkdir -p "$STORE/CiliumNode/_cluster"

# cilium_node NAME NODE_IP ROUTER_IP CIDR4 CIDR6: the object the agent's node
# registration and the operator would write, put atomically into the store.
cilium_node() {
  local f=$STORE/CiliumNode/_cluster/$1.json
  jq -n --arg name "$1" --arg ip "$2" --arg router "$3" --arg c4 "$4" --arg c6 "$5" \
    '{apiVersion: "cilium.io/v2", kind: "CiliumNode", metadata: {name: $name},
      spec: {addresses: [{type: "InternalIP", ip: $ip}, {type: "CiliumInternalIP", ip: $router}],
             ipam: {podCIDRs: [$c4, $c6]}}}' >"$f.tmp"
  mv "$f.tmp" "$f"
}

# b_node N NODE_IP CIDR4 CIDR6: node namespace, agent, one pod. Leaves
# B_NODE_N, B_POD_N, B_IP_N set.
b_node() {
  local n=$1 ns=cpp-$BN_TAG-b-node$1 pod=cpp-$BN_TAG-b-pod$1 res ip
  bn_agent_setup "$ns" "$BN_TAG-ovl-$n" routing-mode=tunnel "local-store-dir=$STORE" "ipv4-range=$3" \
    "ipv6-range=$4" enable-ipv4-masquerade=false enable-ipv6-masquerade=false
  bn_underlay_link "$ns" "b$n" "$2"
  bn_bg "$ns" "$AGENT_ROOT/agent.log" "$BIN/cilium-agent" --config-dir "$AGENT_ROOT/config" --node-name "node$n"
  AGENT_PID=$BN_BG_PID
  if ! wait_for 60 in_ns "$ns" "$BIN/cilium-dbg" -H "$AGENT_SOCK" status || ! wait_for 10 test -s "$AGENT_CONFLIST"; then
    cat "$AGENT_ROOT/agent.log" >&2
    bn_die "agent on node$n did not become ready"
  fi
  AGENT_NETCONF=$(jq -c '.plugins[0] + {cniVersion: .cniVersion, name: .name}' "$AGENT_CONFLIST")
  cilium_node "node$n" "$2" "$(in_ns "$ns" "$BIN/cilium-dbg" -H "$AGENT_SOCK" status --json | jq -r '."router-ipv4"')" "$3" "$4"
  bn_netns "$pod"
  res=$(bn_cni ADD "$pod" "c-$pod") || bn_die "cilium-cni ADD $pod failed: $res (log: $(tail -5 "$AGENT_ROOT/cni.log"))"
  ip=$(jq -r '.ips[] | select(.address | contains(".")) | .address' <<<"$res" | cut -d/ -f1)
  [ -n "$ip" ] || bn_die "no IPv4 address in the CNI result: $res"
  bn_pod_sysctls "$pod"
  printf -v "B_NODE_$n" '%s' "$ns"
  printf -v "B_POD_$n" '%s' "$pod"
  printf -v "B_IP_$n" '%s' "$ip"
}
bn_log "setting up B (ciliumpp, two agents in tunnel mode)"
b_node 1 192.0.2.1 10.233.64.0/24 fd00:10:233:1::/64
b_node 2 192.0.2.2 10.233.65.0/24 fd00:10:233:2::/64
MTU_B=$(ip -n "$B_POD_1" -o link show eth0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
[ "$MTU_B" = "$POD_MTU" ] || bn_die "B: pod MTU is $MTU_B, expected $POD_MTU"
ip -n "$B_NODE_1" -d link show cilium_vxlan | grep -q "vxlan external" || bn_die "B: cilium_vxlan is not an external VXLAN device"

# ------------------------------------------------------------- A: baseline
# a_node N NODE_IP PEER_IP POD_IP LOCAL_CIDR REMOTE_CIDR
a_node() {
  local n=$1 ns=cpp-$BN_TAG-a-node$1 pod=cpp-$BN_TAG-a-pod$1
  bn_netns "$ns"
  bn_underlay_link "$ns" "a$n" "$2"
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
  ip -n "$ns" link add vx0 type vxlan id 42 dstport 8472 local "$2" remote "$3" dev eth0 nolearning
  ip -n "$ns" addr add "10.99.0.$n/24" dev vx0
  ip -n "$ns" link set vx0 up
  bn_netns "$pod"
  ip -n "$ns" link add veth0 mtu "$POD_MTU" type veth peer name eth0 mtu "$POD_MTU" netns "$pod"
  ip -n "$ns" addr add "${5%.0/24}.1/32" dev veth0
  ip -n "$ns" link set veth0 up
  ip -n "$pod" addr add "$4/32" dev eth0
  ip -n "$pod" link set eth0 up
  ip -n "$pod" route add "${5%.0/24}.1/32" dev eth0 scope link
  ip -n "$pod" route add default via "${5%.0/24}.1" dev eth0
  ip -n "$ns" route add "$4/32" dev veth0
  ip -n "$ns" route add "$6" via "10.99.0.$((3 - n))" dev vx0
  bn_pod_sysctls "$pod"
  printf -v "A_POD_$n" '%s' "$pod"
}
bn_log "setting up A (baseline: kernel VXLAN, static routes, no BPF)"
a_node 1 192.0.2.11 192.0.2.12 10.233.64.11 10.233.64.0/24 10.233.65.0/24
a_node 2 192.0.2.12 192.0.2.11 10.233.65.11 10.233.65.0/24 10.233.64.0/24
A_IP_2=10.233.65.11

# ------------------------------------------------------------- servers ---
for pod in "$A_POD_2" "$B_POD_2"; do
  bn_bg "$pod" "$TMP/iperf3-$pod.log" taskset -c 1 timeout -k 5 "$LIFETIME" iperf3 -s -p "$IPERF_PORT"
  bn_bg "$pod" "$TMP/rr-$pod.log" taskset -c 1 "$BIN/cpp-rr" server --port "$RR_PORT" --lifetime "$LIFETIME"
  wait_for 10 port_listening "$pod" "$IPERF_PORT" || bn_die "iperf3 server in $pod did not start"
  wait_for 10 port_listening "$pod" "$RR_PORT" || bn_die "cpp-rr server in $pod did not start"
done
# B is ready once node 1 has learnt node 2's PodCIDR from the store (polled).
wait_for 30 in_ns "$A_POD_1" ping -c1 -W1 "$A_IP_2" || bn_die "A: pod 1 cannot reach pod 2 ($A_IP_2)"
wait_for 30 in_ns "$B_POD_1" ping -c1 -W1 "$B_IP_2" || bn_die "B: pod 1 cannot reach pod 2 ($B_IP_2) through the overlay"
for side in A B; do
  pod=${side}_POD_1
  dst=${side}_IP_2
  in_ns "${!pod}" ping -c1 -W2 -s 1422 -M do "${!dst}" >/dev/null || bn_die "$side: a full-size (MTU $POD_MTU) packet does not cross"
done
bn_log "B: pod 2 is $B_IP_2; A: pod 2 is $A_IP_2; pod MTU $POD_MTU on both"

one_run() {  # SIDE METRIC -> Gbit/s or transactions/s
  local pod=${1}_POD_1 dst=${1}_IP_2 out bound=$((SECONDS_RUN + WARMUP + 20))
  case "$2" in
    stream)
      out=$(in_ns "${!pod}" taskset -c 0 timeout -k 5 "$bound" iperf3 -c "${!dst}" -p "$IPERF_PORT" \
        -t "$SECONDS_RUN" -O "$WARMUP" -J) || return 1
      jq -e '.end.sum_received.bits_per_second / 1e9' <<<"$out" ;;
    rr | crr)
      out=$(in_ns "${!pod}" taskset -c 0 timeout -k 5 "$bound" "$BIN/cpp-rr" "$2" --host "${!dst}" \
        --port "$RR_PORT" --seconds "$SECONDS_RUN" --warmup "$WARMUP") || return 1
      jq -e '.rate' <<<"$out" ;;
  esac
}

bn_log "mode $BN_MODE: ${SECONDS_RUN}s runs after ${WARMUP}s warm-up, $PAIRS clean pair(s) per metric wanted"
for metric in ${CILIUMPP_BENCH_METRICS:-stream rr crr}; do
  case "$metric" in stream | rr | crr) ;; *) bn_die "unknown metric '$metric' (stream, rr, crr)" ;; esac
  bn_ab_pairs "$metric" 3 alternate
done

OUT=$(bn_out_dir)/overlay.json
jq -s --arg mode "$BN_MODE" --argjson seconds "$SECONDS_RUN" --argjson warmup "$WARMUP" --argjson pairs "$PAIRS" \
  --argjson mtu "$POD_MTU" --arg kernel "$(uname -r)" "$BN_JQ_STATS"'
  . as $runs |'"$BN_JQ_AB"'
  {
    benchmark: "overlay", mode: $mode, kernel: $kernel,
    settings: { seconds: $seconds, warmup: $warmup, pairs: $pairs, pod_mtu: $mtu, client_cpu: 0, server_cpu: 1,
                A: "baseline: kernel VXLAN (VNI 42, UDP 8472) + static routes between two node namespaces, no BPF",
                B: "ciliumpp: two cilium-agents in tunnel mode (cilium_vxlan external, identity in the VNI)" },
    metrics: ab_metrics([["stream", "Gbit/s"], ["rr", "transactions/s"], ["crr", "transactions/s"]]),
    runs: $runs
  }' "$RUNS" >"$OUT"

echo
echo "pod -> pod across nodes, IPv4 over VXLAN ($BN_MODE mode: ${SECONDS_RUN}s runs, MTU $POD_MTU)"
jq -r '
  def f: if . == null then "-" elif . >= 100 then (. | floor | tostring) else ((. * 100 | round) / 100 | tostring) end;
  def pc: ((. * 1000 | round) / 10 | tostring) + "%";
  def r3: if . == null then "-" else ((. * 1000 | round) / 1000 | tostring) end;
  (["metric", "unit", "pairs", "A kernel VXLAN median", "A cv", "B ciliumpp median", "B cv", "B/A", "paired B/A (min..max)"] | @tsv),
  (.metrics | to_entries[] | .key as $k | .value |
    [$k, .unit, "\(.clean_pairs) clean/\(.pairs_run)", (.A.median | f), (.A.cv | pc), (.B.median | f), (.B.cv | pc),
     (.ratio | r3), "\(.paired_ratio.median | r3) (\(.paired_ratio.min | r3)..\(.paired_ratio.max | r3))"] | @tsv)
' "$OUT" | column -t -s $'\t'
echo "results in $OUT"
