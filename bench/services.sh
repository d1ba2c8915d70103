#!/usr/bin/env bash
# Connect rate (CRR) and request latency (RR) to one ClusterIP service while
# 1, 1,000 and 10,000 services are installed: ciliumpp socket LB against
# kube-proxy-style iptables DNAT (bench-protocol.md), IPv4.
#
#   backends: namespace "srv" holding the measured service's two backend
#     addresses (10.244.0.10, 10.244.0.11 on lo) and one cpp-rr server (CPU1).
#   A (iptables): client namespace joined to srv by a veth; its nat table is
#     what kube-proxy writes (PREROUTING/OUTPUT -> KUBE-SERVICES, one
#     KUBE-SVC-* chain per service with statistic-random jumps to a
#     KUBE-SEP-* chain per backend doing KUBE-MARK-MASQ + DNAT,
#     KUBE-POSTROUTING masquerading marked traffic), 2 backends per service,
#     loaded with iptables-restore inside that namespace only. The measured
#     service comes last in KUBE-SERVICES (kube-proxy's order is arbitrary;
#     last is the worst case of the linear match).
#   B (ciliumpp): node namespace running cilium-agent with
#     kube-proxy-replacement and bpf-lb-sock on, socket LB attached to a
#     child cgroup of ours; the client runs in that cgroup. The same services
#     (frontends 10.96.x.y:80, 2 backends each) are written into the agent's
#     pinned cpp_lb_svc / cpp_lb_be maps with cpp-lb-fill (the map layer the
#     agent uses; bench/lb-program.sh times the agent's own path).
#   The client connects to 10.96.255.254:80, which no interface owns: only
#   the translation (DNAT or socket LB) makes it reach a backend.
#
# Sizes grow 1 -> 1,000 -> 10,000 (CILIUMPP_BENCH_SERVICES); at each size
# CRR and RR run in interleaved A/B pairs (sides alternating first), client
# on CPU0, server on CPU1, noisy runs (steal > 1%, user CPU > 10%) left out
# while clean pairs exist. Reported per metric and size: medians, B/A, and
# each side's rate at the largest size relative to the smallest. Sizes run
# one after the other, so that last ratio carries the drift of a shared
# machine; a final METRIC_flat pair set compares ciliumpp with the measured
# service alone (A) against ciliumpp with every service (B), the fillers
# removed and re-added between the two runs of each pair: the drift-free
# flatness.
# Goal (issue 5): ciliumpp flat within 10% from 1 to 10,000 services and at
# least 2x the iptables connect rate at 10,000.
#
# Usage: CILIUMPP_BENCH_MODE=quick|full bash bench/services.sh BUILD_DIR
BUILD_DIR=$(realpath "${1:?usage: services.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=services
source "$(dirname "$(realpath "$0")")/lib.sh"

bn_require_bins cilium-agent cilium-dbg cpp-rr cpp-lb-fill
command -v iptables-restore >/dev/null || bn_die "iptables-restore is not installed (the baseline side needs it)"
[ "$(nproc)" -ge 2 ] || bn_die "needs at least 2 CPUs (client on CPU0, server on CPU1)"
[ -d /sys/fs/cgroup/unified ] || bn_die "no cgroup v2 hierarchy at /sys/fs/cgroup/unified (socket LB attaches there)"

bn_ab_init services 1800 3
BN_VALUE_FMT=%.0f/s
SIZES=${CILIUMPP_BENCH_SERVICES:-1 1000 10000}
RR_PORT=7000
VIP=10.96.255.254
BACKENDS="10.244.0.10 10.244.0.11"
TARGETS=10.244.0.10:$RR_PORT,10.244.0.11:$RR_PORT
LIFETIME=$((3 * 2 * MAX_ATTEMPTS * 2 * (QUIET_WAIT + SECONDS_RUN + WARMUP + 25) + 600))

# kube-proxy's nat table for N services (the measured one last), on stdin of iptables-restore.
ipt_rules() {
  awk -v n="$1" -v vip="$VIP" -v backends="$BACKENDS" -v port=80 -v bport="$RR_PORT" 'BEGIN {
    split(backends, mb, " ")
    print "*nat"
    print ":PREROUTING ACCEPT [0:0]"; print ":INPUT ACCEPT [0:0]"; print ":OUTPUT ACCEPT [0:0]"; print ":POSTROUTING ACCEPT [0:0]"
    print ":KUBE-SERVICES - [0:0]"; print ":KUBE-NODEPORTS - [0:0]"; print ":KUBE-POSTROUTING - [0:0]"; print ":KUBE-MARK-MASQ - [0:0]"
    for (i = 0; i < n; i++) { printf ":KUBE-SVC-%08X - [0:0]\n:KUBE-SEP-%08XA - [0:0]\n:KUBE-SEP-%08XB - [0:0]\n", i, i, i }
    print "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
    print "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"
    print "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING"
    print "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"
    print "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN"
    print "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0"
    print "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully"
    for (i = 0; i < n; i++) {
      # Fillers as cpp-lb-fill writes them: 10.96.0.0 + i, backends 10.128.0.0 + 17 + 2i (+1).
      if (i == n - 1) { ip = vip; ba = mb[1]; bb = mb[2] }
      else { ip = sprintf("10.96.%d.%d", int(i / 256), i % 256); b = 17 + 2 * i
             ba = sprintf("10.128.%d.%d", int(b / 256), b % 256); bb = sprintf("10.128.%d.%d", int((b + 1) / 256), (b + 1) % 256) }
      printf "-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment \"bench/svc-%d cluster IP\" -m tcp --dport %d -j KUBE-SVC-%08X\n", ip, i, port, i
      printf "-A KUBE-SVC-%08X -m comment --comment \"bench/svc-%d -> %s:%d\" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-%08XA\n", i, i, ba, bport, i
      printf "-A KUBE-SVC-%08X -m comment --comment \"bench/svc-%d -> %s:%d\" -j KUBE-SEP-%08XB\n", i, i, bb, bport, i
      for (s = 0; s < 2; s++) {
        be = (s == 0 ? ba : bb); ch = sprintf("KUBE-SEP-%08X%s", i, s == 0 ? "A" : "B")
        printf "-A %s -s %s/32 -m comment --comment \"bench/svc-%d\" -j KUBE-MARK-MASQ\n", ch, be, i
        printf "-A %s -p tcp -m comment --comment \"bench/svc-%d\" -m tcp -j DNAT --to-destination %s:%d\n", ch, i, be, bport
      }
    }
    print "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"
    print "COMMIT"
  }'
}

# ------------------------------------------------------------- backends ---
SRV=cpp-$BN_TAG-srv
CLA=cpp-$BN_TAG-ipt
bn_netns "$SRV"
for b in $BACKENDS; do ip -n "$SRV" addr add "$b/32" dev lo; done
# link CLIENT_NS CLIENT_SUBNET_OCTET SRV_DEV: client eth0 10.245.X.2/24 <-> srv 10.245.X.1/24, default via srv.
link() {
  ip -n "$SRV" link add "$3" type veth peer name eth0 netns "$1"
  ip -n "$SRV" addr add "10.245.$2.1/24" dev "$3"
  ip -n "$SRV" link set "$3" up
  ip -n "$1" addr add "10.245.$2.2/24" dev eth0
  ip -n "$1" link set eth0 up
  ip -n "$1" route add default via "10.245.$2.1"
  bn_pod_sysctls "$1"
}

# ---------------------------------------------------- A: iptables client ---
bn_log "setting up A (kube-proxy-style iptables DNAT, $(iptables-restore --version 2>&1 | head -1))"
bn_netns "$CLA"
link "$CLA" 1 va

# ---------------------------------------------------- B: ciliumpp client ---
CG=/sys/fs/cgroup/unified/ciliumpp/$BN_TAG-svc
bn_cgroup "$CG"
bn_log "setting up B (ciliumpp socket LB, cgroup $CG)"
bn_agent_setup "cpp-$BN_TAG-node" "$BN_TAG-svc" kube-proxy-replacement=true bpf-lb-sock=true "cgroup-root=$CG" \
  bpf-lb-map-max=65536 enable-ipv6=false enable-ipv4-masquerade=false
NODE=$AGENT_NS
link "$NODE" 2 vb
bn_agent_start
PIN=$AGENT_PIN/node1
[ -e "$PIN/cpp_lb_svc" ] || bn_die "the agent made no $PIN/cpp_lb_svc (kube-proxy-replacement not implemented?)"

bn_bg "$SRV" "$TMP/rr.log" taskset -c 1 "$BIN/cpp-rr" server --port "$RR_PORT" --lifetime "$LIFETIME"
wait_for 10 port_listening "$SRV" "$RR_PORT" || bn_die "cpp-rr server did not start: $(cat "$TMP/rr.log")"

# in_cg NS CMD...: CMD in NS's network namespace and in the socket-LB cgroup.
in_cg() {
  local ns=$1
  shift
  bash -c 'echo $$ >"$0/cgroup.procs" && exec nsenter --net="/run/netns/$1" "${@:2}"' "$CG" "$ns" "$@"
}

# install N: N services on both sides (the measured one included).
FILLED=0
install() {
  local n=$1 t0 t1 out
  t0=$(date +%s.%N)
  ipt_rules "$n" | in_ns "$CLA" iptables-restore || bn_die "iptables-restore of $n services failed"
  t1=$(date +%s.%N)
  out=$("$BIN/cpp-lb-fill" --pin-dir "$PIN" --services $((n - 1)) --first "$FILLED" \
    --target "$TARGETS") || bn_die "cpp-lb-fill of $n services failed"
  FILLED=$((n - 1))
  local rules
  rules=$(in_ns "$CLA" iptables-save -t nat | grep -c '^-A')
  bn_log "$n services: iptables-restore $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s ($rules nat rules); cpp-lb-fill $(jq -r '"\(.services) services, \(.entries) entries in \(.seconds * 1000 | round) ms"' <<<"$out")"
  jq -nc --argjson n "$n" --argjson rules "$rules" --arg ipt_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    --argjson fill "$out" '{services: $n, iptables_rules: $rules, iptables_restore_s: ($ipt_s | tonumber), lb_fill: $fill}' >>"$TMP/installs.jsonl"
}
: >"$TMP/installs.jsonl"

# fillers present|absent: the ciliumpp side's filler services in or out of
# the maps (the measured service stays). State in a file: one_run runs in a
# subshell.
echo present >"$TMP/fillers"
fillers() {
  [ "$(cat "$TMP/fillers")" != "$1" ] || return 0
  "$BIN/cpp-lb-fill" --pin-dir "$PIN" --services "$FILLED" $([ "$1" = absent ] && echo --delete) >/dev/null ||
    bn_die "cpp-lb-fill: making the fillers $1 failed"
  echo "$1" >"$TMP/fillers"
}

# one_run SIDE METRIC_SIZE -> rate. METRIC_flat: both sides are ciliumpp,
# A with the measured service alone, B with every filler as well.
one_run() {
  local metric=${2%_*} size=${2##*_} out bound=$((SECONDS_RUN + WARMUP + 20))
  local cmd=(taskset -c 0 timeout -k 5 "$bound" "$BIN/cpp-rr" "$metric" --host "$VIP" --port 80
    --seconds "$SECONDS_RUN" --warmup "$WARMUP")
  if [ "$size" = flat ]; then
    fillers "$([ "$1" = A ] && echo absent || echo present)"
    out=$(in_cg "$NODE" "${cmd[@]}") || return 1
  elif [ "$1" = A ]; then
    out=$(in_ns "$CLA" "${cmd[@]}") || return 1
  else
    out=$(in_cg "$NODE" "${cmd[@]}") || return 1
  fi
  jq -e '.rate' <<<"$out"
}

bn_log "mode $BN_MODE: ${SECONDS_RUN}s runs after ${WARMUP}s warm-up, $PAIRS clean pair(s) per metric and size wanted"
n_metrics=2  # the flatness pairs
for _ in $SIZES; do n_metrics=$((n_metrics + 2)); done
for size in $SIZES; do
  [ "$size" -ge 1 ] && [ "$size" -gt "$FILLED" ] || bn_die "CILIUMPP_BENCH_SERVICES must grow from 1 up, not '$SIZES'"
  install "$size"
  # Both sides reach a backend through their translation before anything is measured.
  in_ns "$CLA" "$BIN/cpp-rr" crr --host "$VIP" --port 80 --seconds 0.2 >/dev/null ||
    bn_die "A: no connection to $VIP:80 through the iptables rules"
  in_cg "$NODE" "$BIN/cpp-rr" crr --host "$VIP" --port 80 --seconds 0.2 >/dev/null ||
    bn_die "B: no connection to $VIP:80 through socket LB (agent log: $(tail -5 "$AGENT_ROOT/agent.log"))"
  for metric in ${CILIUMPP_BENCH_METRICS:-crr rr}; do
    case "$metric" in rr | crr) ;; *) bn_die "unknown metric '$metric' (crr, rr)" ;; esac
    bn_ab_pairs "${metric}_$size" "$n_metrics" alternate
  done
done

# Flatness without drift between sizes: ciliumpp alone, the largest size
# against the measured service alone, fillers toggled between the runs of
# each pair (cpp-lb-fill takes tens of ms for 10,000 services).
if [ "$FILLED" -gt 0 ]; then
  for metric in ${CILIUMPP_BENCH_METRICS:-crr rr}; do bn_ab_pairs "${metric}_flat" "$n_metrics" alternate; done
  fillers present
fi

# ---------------------------------------------------------------- report ---
OUT=$(bn_out_dir)/services.json
units=$(for s in $SIZES flat; do for m in ${CILIUMPP_BENCH_METRICS:-crr rr}; do
  printf '["%s_%s", "%s"]\n' "$m" "$s" "$([ "$m" = crr ] && echo connections/s || echo transactions/s)"; done; done | jq -sc .)
first=$(awk '{ print $1 }' <<<"$SIZES")
last=$(awk '{ print $NF }' <<<"$SIZES")
jq -s --arg mode "$BN_MODE" --argjson seconds "$SECONDS_RUN" --argjson warmup "$WARMUP" --argjson pairs "$PAIRS" \
  --argjson units "$units" --arg first "$first" --arg last "$last" --arg kernel "$(uname -r)" \
  --arg ipt "$(iptables-restore --version 2>&1 | head -1)" --slurpfile installs "$TMP/installs.jsonl" "$BN_JQ_STATS"'
  . as $runs |'"$BN_JQ_AB"'
  ab_metrics($units) as $m |
  {
    benchmark: "services", mode: $mode, kernel: $kernel,
    settings: { seconds: $seconds, warmup: $warmup, pairs: $pairs, client_cpu: 0, server_cpu: 1,
                backends_per_service: 2, frontend: "10.96.255.254:80/TCP (last in KUBE-SERVICES)",
                A: "kube-proxy-style iptables DNAT in the client namespace (\($ipt))",
                B: "ciliumpp socket LB (bpf_sock in the client cgroup), services in cpp_lb_svc/cpp_lb_be" },
    goal: "B flat within 10% from \($first) to \($last) services; B >= 2x A (crr) at \($last)",
    flat_note: "METRIC_flat: A = ciliumpp with the measured service only, B = ciliumpp with all \($last) services (fillers toggled between runs); B/A is the drift-free flatness",
    installs: $installs,
    metrics: $m,
    scaling: ([$units[][0] | split("_")[0]] | unique | map(. as $k |
      { key: $k, value: {
          A_last_over_first: (if $m["\($k)_\($first)"] and $m["\($k)_\($last)"] then $m["\($k)_\($last)"].A.median / $m["\($k)_\($first)"].A.median else null end),
          B_last_over_first: (if $m["\($k)_\($first)"] and $m["\($k)_\($last)"] then $m["\($k)_\($last)"].B.median / $m["\($k)_\($first)"].B.median else null end),
          B_over_A_at_last: ($m["\($k)_\($last)"].ratio // null),
          B_flat_paired: ($m["\($k)_flat"].paired_ratio.median // null),
          B_flat_medians: ($m["\($k)_flat"].ratio // null) } }) | from_entries),
    runs: $runs
  }' "$RUNS" >"$OUT"

echo
echo "one ClusterIP service among N, IPv4: ciliumpp socket LB (B) vs iptables DNAT (A) ($BN_MODE mode: ${SECONDS_RUN}s runs)"
jq -r '
  def f: if . == null then "-" else (. | floor | tostring) end;
  def pc: ((. * 1000 | round) / 10 | tostring) + "%";
  def r3: if . == null then "-" else ((. * 1000 | round) / 1000 | tostring) end;
  (["metric_services (flat: A = ciliumpp 1 service)", "unit", "pairs", "A iptables median", "A cv", "B ciliumpp median", "B cv", "B/A", "paired B/A (min..max)"] | @tsv),
  (.metrics | to_entries[] | .key as $k | .value |
    [$k, .unit, "\(.clean_pairs) clean/\(.pairs_run)", (.A.median | f), (.A.cv | pc), (.B.median | f), (.B.cv | pc),
     (.ratio | r3), "\(.paired_ratio.median | r3) (\(.paired_ratio.min | r3)..\(.paired_ratio.max | r3))"] | @tsv)
' "$OUT" | column -t -s $'\t'
jq -r --arg first "$first" --arg last "$last" '.scaling | to_entries[] |
  def r3: if . == null then "-" else ((. * 1000 | round) / 1000 | tostring) end;
  "\(.key): \($last)/\($first) services: ciliumpp \(.value.B_last_over_first | r3) (paired, fillers toggled: \(.value.B_flat_paired | r3)), iptables \(.value.A_last_over_first | r3); ciliumpp/iptables at \($last): \(.value.B_over_A_at_last | r3)"' "$OUT"
echo "results in $OUT"
