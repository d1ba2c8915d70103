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

if [ "$BN_MODE" = full ]; then
  SECONDS_RUN=${CILIUMPP_BENCH_SECONDS:-5}; WARMUP=1; PAIRS=${CILIUMPP_BENCH_PAIRS:-10}; QUIET_WAIT=30
  TIME_BUDGET=${CILIUMPP_BENCH_TIME_BUDGET:-900}
else
  SECONDS_RUN=${CILIUMPP_BENCH_SECONDS:-1}; WARMUP=0; PAIRS=${CILIUMPP_BENCH_PAIRS:-1}; QUIET_WAIT=2
  TIME_BUDGET=${CILIUMPP_BENCH_TIME_BUDGET:-30}
fi
MAX_ATTEMPTS=$((PAIRS * 2))
STEAL_MAX=1.0
USER_MAX=${CILIUMPP_BENCH_USER_MAX:-10}
RR_PORT=7000
WORLD=203.0.113.7
LIFETIME=$((MAX_ATTEMPTS * 4 * (QUIET_WAIT + 2 * (SECONDS_RUN + WARMUP + 25)) + 300))

TMP=$(mktemp -d /tmp/cpp-bench-masq.XXXXXX)
bn_path "$TMP"
RUNS=$TMP/runs.jsonl
: >"$RUNS"

# ------------------------------------------------------------ underlay ---
UL=cpp-$BN_TAG-ul
WL=cpp-$BN_TAG-world
bn_netns "$UL"
bn_netns "$WL"
ip -n "$UL" link add br0 type bridge
ip -n "$UL" link set br0 up
# link NS TAG ADDR: a veth from NS (eth0) to the bridge.
link() {
  ip -n "$UL" link add "$2" type veth peer name eth0 netns "$1"
  ip -n "$UL" link set "$2" master br0 up
  ip -n "$1" addr add "$3/24" dev eth0
  ip -n "$1" link set eth0 up
}
link "$WL" w0 192.0.2.100
ip -n "$WL" addr add "$WORLD/32" dev lo

# node SIDE NODE_IP MASQ: a node namespace with its agent and one pod.
# Leaves POD_<SIDE> set.
node() {
  local side=$1 addr=$2 masq=$3 ns=cpp-$BN_TAG-$1-node pod=cpp-$BN_TAG-$1-pod
  bn_agent_setup "$ns" "$BN_TAG-masq-$side" "enable-ipv4-masquerade=$masq" enable-ipv6=false
  link "$ns" "n$side" "$addr"
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

measure() {  # SIDE METRIC PAIR; sets NOISY
  local before after steal user value why
  before=$(bn_cpu_sample)
  value=$(one_run "$1" "$2") || bn_die "$2 run on side $1 failed"
  after=$(bn_cpu_sample)
  steal=$(bn_steal_pct "$before" "$after")
  user=$(bn_user_pct "$before" "$after")
  why=$(awk -v s="$steal" -v sm="$STEAL_MAX" -v u="$user" -v um="$USER_MAX" \
    'BEGIN { if (s > sm) print "steal " s "% > " sm "%"; else if (u > um) print "user CPU " u "% > " um "%" }')
  jq -nc --arg side "$1" --arg metric "$2" --argjson pair "$3" --argjson value "$value" \
    --argjson steal "$steal" --argjson user "$user" --arg why "$why" \
    '{side: $side, metric: $metric, pair: $pair, value: $value, steal_pct: $steal, user_cpu_pct: $user,
      noisy: ($why != ""), noise: $why}' >>"$RUNS"
  bn_log "$(printf '%-4s %s pair %d: %.0f/s (steal %s%%, user CPU %s%%)%s' "$2" "$1" "$3" "$value" "$steal" "$user" \
    "${why:+ NOISY: $why}")"
  [ -z "$why" ] || NOISY=1
}

bn_log "mode $BN_MODE: ${SECONDS_RUN}s runs after ${WARMUP}s warm-up, $PAIRS clean pair(s) per metric wanted"
for metric in ${CILIUMPP_BENCH_METRICS:-crr rr}; do
  case "$metric" in rr | crr) ;; *) bn_die "unknown metric '$metric' (crr, rr)" ;; esac
  clean=0
  t0=$(date +%s)
  for pair in $(seq 1 "$MAX_ATTEMPTS"); do
    [ "$clean" -lt "$PAIRS" ] || break
    if [ "$pair" -gt 1 ] && [ $(($(date +%s) - t0)) -ge $((TIME_BUDGET / 2)) ]; then
      bn_log "$metric: time budget spent after $((pair - 1)) pairs, $clean clean"
      break
    fi
    bn_wait_quiet "$QUIET_WAIT" || bn_log "CPUs still busy after ${QUIET_WAIT}s; measuring anyway"
    NOISY=0
    # Alternate which side goes first, so slow drift does not favour one.
    if [ $((pair % 2)) -eq 1 ]; then measure A "$metric" "$pair"; measure B "$metric" "$pair"
    else measure B "$metric" "$pair"; measure A "$metric" "$pair"; fi
    [ "$NOISY" -eq 1 ] || clean=$((clean + 1))
  done
done

NAT_ENTRIES=$(in_ns "$NODE_B" "$BIN/cilium-dbg" -H "/run/ciliumpp/bench/$BN_TAG-masq-B/cilium.sock" bpf nat list --json | jq length)

OUT=$(bn_out_dir)/masq.json
jq -s --arg mode "$BN_MODE" --argjson seconds "$SECONDS_RUN" --argjson warmup "$WARMUP" --argjson pairs "$PAIRS" \
  --argjson nat "$NAT_ENTRIES" --arg kernel "$(uname -r)" "$BN_JQ_STATS"'
  . as $runs |
  def pairs($m): [$runs[] | select(.metric == $m)] | group_by(.pair) |
    map(select(length == 2) | { clean: (map(.noisy) | any | not),
      A: (.[] | select(.side == "A") | .value), B: (.[] | select(.side == "B") | .value) });
  def used($m): pairs($m) as $p | ([$p[] | select(.clean)]) as $c | if ($c | length) > 0 then $c else $p end;
  {
    benchmark: "masq", mode: $mode, kernel: $kernel,
    settings: { seconds: $seconds, warmup: $warmup, pairs: $pairs, client_cpu: 0, server_cpu: 1,
                A: "iptables MASQUERADE in the node namespace (cilium-agent, BPF masquerading off)",
                B: "ciliumpp BPF masquerading (bpf_netdev on the native device)" },
    nat_entries_after: $nat,
    metrics: ([["crr", "connections/s"], ["rr", "transactions/s"]] |
      map(select(.[0] as $m | $runs | any(.metric == $m))) |
      map(. as [$m, $unit] | { key: $m, value: (used($m) as $u |
        ($u | map(.A) | stats) as $a | ($u | map(.B) | stats) as $b |
        ($u | map(select(.A > 0) | .B / .A)) as $r |
        { unit: $unit, pairs_run: (pairs($m) | length), clean_pairs: ([pairs($m)[] | select(.clean)] | length),
          A: $a, B: $b, ratio: (if $a.median > 0 then $b.median / $a.median else null end),
          paired_ratio: { median: ($r | median), min: ($r | min), max: ($r | max) } }) }) | from_entries),
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
