#!/usr/bin/env bash
# Same-node pod -> pod datapath benchmark (bench-protocol.md).
#
#   A (baseline): two pod namespaces joined to a node namespace by plain veth
#     pairs; the node routes between them with /32 routes (no BPF, no bridge).
#   B (ciliumpp): a node namespace running cilium-agent; two pods created by
#     executing cilium-cni exactly as a runtime does.
#
# Metrics (IPv4, pod 1 -> pod 2): TCP stream (iperf3 -J), RR and CRR (cpp-rr).
# Client pinned to CPU0, servers to CPU1; runs interleaved A B A B ...; a run
# whose /proc/stat steal exceeds 1% is repeated (bounded). Prints a table with
# median and spread per side and the ratio B/A; writes pod-datapath.json to
# $CILIUMPP_BENCH_OUT (a directory; default BUILD_DIR/bench).
#
# Usage: CILIUMPP_BENCH_MODE=quick|full bash bench/pod-datapath.sh BUILD_DIR
#   quick: 1 s runs, 1 pair per metric.  full: 1 s warm-up + 5 s runs,
#   CILIUMPP_BENCH_PAIRS (default 10) interleaved pairs per metric.
#   CILIUMPP_BENCH_METRICS (default "stream rr crr") selects metrics.
BUILD_DIR=$(realpath "${1:?usage: pod-datapath.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=pod-datapath
source "$(dirname "$(realpath "$0")")/lib.sh"

bn_require_bins cilium-agent cilium-cni cilium-dbg cpp-rr
command -v iperf3 >/dev/null || bn_die "iperf3 is not installed"
[ "$(nproc)" -ge 2 ] || bn_die "needs at least 2 CPUs (client on CPU0, servers on CPU1)"

bn_ab_init pd 1200 5
RR_PORT=7000
IPERF_PORT=5201
LIFETIME=$((3 * MAX_ATTEMPTS * (QUIET_WAIT + 2 * (SECONDS_RUN + WARMUP + 25)) + 300))  # servers' upper bound (s)

# ------------------------------------------------------------- B: ciliumpp
NB=cpp-$BN_TAG-b-node
PB1=cpp-$BN_TAG-b-p1
PB2=cpp-$BN_TAG-b-p2
bn_log "setting up B (ciliumpp): node $NB, pods $PB1 $PB2"
bn_agent_setup "$NB" "$BN_TAG-pd"
bn_agent_start
bn_netns "$PB1"
bn_netns "$PB2"
RB1=$(bn_cni ADD "$PB1" "c-$PB1") || bn_die "cilium-cni ADD $PB1 failed: $RB1 (log: $(tail -5 "$AGENT_ROOT/cni.log"))"
RB2=$(bn_cni ADD "$PB2" "c-$PB2") || bn_die "cilium-cni ADD $PB2 failed: $RB2"
IP_B2=$(jq -r '.ips[] | select(.address | contains(".")) | .address' <<<"$RB2" | cut -d/ -f1)
[ -n "$IP_B2" ] || bn_die "no IPv4 address in the CNI result: $RB2"
MTU=$(ip -n "$PB1" -o link show eth0 | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
bn_log "B: pod 2 is $IP_B2, pod MTU $MTU"

# ------------------------------------------------------------- A: baseline
NA=cpp-$BN_TAG-a-node
PA1=cpp-$BN_TAG-a-p1
PA2=cpp-$BN_TAG-a-p2
bn_log "setting up A (baseline, kernel routing): node $NA, pods $PA1 $PA2, MTU $MTU"
bn_netns "$NA"
bn_netns "$PA1"
bn_netns "$PA2"
in_ns "$NA" sysctl -qw net.ipv4.ip_forward=1
GW=10.233.64.1
for i in 1 2; do
  pod=$([ $i = 1 ] && echo "$PA1" || echo "$PA2")
  ip -n "$NA" link add "veth$i" mtu "$MTU" type veth peer name eth0 mtu "$MTU" netns "$pod"
  ip -n "$NA" addr add "$GW/32" dev "veth$i"
  ip -n "$NA" link set "veth$i" up
  ip -n "$pod" addr add "10.233.64.1$i/32" dev eth0
  ip -n "$pod" link set eth0 up
  ip -n "$pod" route add "$GW/32" dev eth0 scope link
  ip -n "$pod" route add default via "$GW" dev eth0
  ip -n "$NA" route add "10.233.64.1$i/32" dev "veth$i"
done
IP_A2=10.233.64.12

for p in "$PA1" "$PA2" "$PB1" "$PB2"; do bn_pod_sysctls "$p"; done

# ---------------------------------------------------------------- servers
start_servers() {  # POD_NS
  # timeout bounds iperf3's life even if this script is killed; it passes our TERM on.
  bn_bg "$1" "$TMP/iperf3-$1.log" taskset -c 1 timeout -k 5 "$LIFETIME" iperf3 -s -p "$IPERF_PORT"
  bn_bg "$1" "$TMP/rr-$1.log" taskset -c 1 "$BIN/cpp-rr" server --port "$RR_PORT" --lifetime "$LIFETIME"
  wait_for 10 port_listening "$1" "$IPERF_PORT" || bn_die "iperf3 server in $1 did not start: $(cat "$TMP/iperf3-$1.log")"
  wait_for 10 port_listening "$1" "$RR_PORT" || bn_die "cpp-rr server in $1 did not start: $(cat "$TMP/rr-$1.log")"
}
start_servers "$PA2"
start_servers "$PB2"

for side in A B; do
  src=$([ $side = A ] && echo "$PA1" || echo "$PB1")
  dst=$([ $side = A ] && echo "$IP_A2" || echo "$IP_B2")
  in_ns "$src" ping -c1 -W2 "$dst" >/dev/null || bn_die "$side: pod 1 cannot reach pod 2 ($dst)"
done

# one_run SIDE METRIC -> prints the value (Gbit/s or transactions/s)
one_run() {
  local side=$1 metric=$2 src dst out bound=$((SECONDS_RUN + WARMUP + 20))
  src=$([ "$side" = A ] && echo "$PA1" || echo "$PB1")
  dst=$([ "$side" = A ] && echo "$IP_A2" || echo "$IP_B2")
  case "$metric" in
    stream)
      out=$(in_ns "$src" taskset -c 0 timeout -k 5 "$bound" iperf3 -c "$dst" -p "$IPERF_PORT" \
        -t "$SECONDS_RUN" -O "$WARMUP" -J) || { bn_log "iperf3 $side failed: $(jq -r '.error // empty' <<<"$out" 2>/dev/null)"; return 1; }
      jq -e '.end.sum_received.bits_per_second / 1e9' <<<"$out" ;;
    rr | crr)
      out=$(in_ns "$src" taskset -c 0 timeout -k 5 "$bound" "$BIN/cpp-rr" "$metric" --host "$dst" \
        --port "$RR_PORT" --seconds "$SECONDS_RUN" --warmup "$WARMUP") || { bn_log "cpp-rr $metric $side failed"; return 1; }
      jq -e '.rate' <<<"$out" ;;
  esac
}

bn_log "mode $BN_MODE: ${SECONDS_RUN}s runs after ${WARMUP}s warm-up, $PAIRS clean interleaved pair(s) per metric wanted (at most $MAX_ATTEMPTS per metric)"
METRICS=${CILIUMPP_BENCH_METRICS:-stream rr crr}
for metric in $METRICS; do
  case "$metric" in stream | rr | crr) ;; *) bn_die "unknown metric '$metric' in CILIUMPP_BENCH_METRICS (stream, rr, crr)" ;; esac
  bn_ab_pairs "$metric" 3 fixed
done

# ---------------------------------------------------------------- report
OUT_DIR=$(bn_out_dir)
OUT=$OUT_DIR/pod-datapath.json
jq -s --arg mode "$BN_MODE" --argjson seconds "$SECONDS_RUN" --argjson warmup "$WARMUP" \
  --argjson pairs "$PAIRS" --argjson mtu "$MTU" --argjson usermax "$USER_MAX" --arg kernel "$(uname -r)" \
  "$BN_JQ_STATS"'
  . as $runs |'"$BN_JQ_AB"'
  {
    benchmark: "pod-datapath", mode: $mode, kernel: $kernel,
    settings: { seconds: $seconds, warmup: $warmup, pairs: $pairs, pod_mtu: $mtu,
                client_cpu: 0, server_cpu: 1, steal_max_pct: 1.0, user_cpu_max_pct: $usermax,
                A: "baseline: veth pairs + kernel /32 routing in a node namespace, no BPF",
                B: "ciliumpp: cilium-agent + cilium-cni pods (routing-mode native)" },
    goal_ratio: 0.95,
    metrics: ab_metrics([["stream", "Gbit/s"], ["rr", "transactions/s"], ["crr", "transactions/s"]]),
    runs: $runs
  }' "$RUNS" >"$OUT"

echo
echo "pod -> pod, same node, IPv4 ($BN_MODE mode: ${SECONDS_RUN}s runs, $PAIRS pair(s), MTU $MTU)"
jq -r '
  def f: if . == null then "-" elif . >= 100 then (. | floor | tostring) else ((. * 100 | round) / 100 | tostring) end;
  def pc: ((. * 1000 | round) / 10 | tostring) + "%";
  def r3: if . == null then "-" else ((. * 1000 | round) / 1000 | tostring) end;
  (["metric", "unit", "pairs", "A baseline median", "A min..max", "A cv", "B ciliumpp median", "B min..max", "B cv",
    "B/A", "paired B/A (min..max)"] | @tsv),
  (.metrics | to_entries[] | .key as $k | .value |
    [$k, .unit, "\(.clean_pairs) clean/\(.pairs_run)", (.A.median | f), "\(.A.min | f)..\(.A.max | f)", (.A.cv | pc),
     (.B.median | f), "\(.B.min | f)..\(.B.max | f)", (.B.cv | pc),
     (.ratio | r3), "\(.paired_ratio.median | r3) (\(.paired_ratio.min | r3)..\(.paired_ratio.max | r3))"] | @tsv)
' "$OUT" | column -t -s $'\t'
jq -r --argjson want "$PAIRS" '.metrics | to_entries[] | select(.value.clean_pairs < $want) |
  "WARNING: \(.key): \(.value.clean_pairs) of \($want) wanted pairs were clean (other processes or steal on the CPUs)\(if .value.clean_pairs == 0 then "; figures use noisy pairs and are unreliable" else "" end)"' "$OUT"
echo "goal: B/A >= 0.95 for every metric (noise: see bench-protocol.md); results in $OUT"
