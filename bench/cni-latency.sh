#!/usr/bin/env bash
# cilium-cni latency and agent memory (one node namespace running cilium-agent).
#
#   1. agent RSS (VmRSS) with 0 endpoints
#   2. N pods ADDed one after the other          -> ADD latency p50/p99/max
#   3. agent RSS with N endpoints
#   4. the N pods DELeted one after the other     -> DEL latency
#   5. N new pods ADDed 8 at a time (rolling)      -> ADD latency p50/p99/max
#   6. the N pods DELeted 8 at a time              -> DEL latency
#   7. agent RSS after the churn, back at 0 endpoints
#
# Each ADD is timed from just before the plugin is exec'd to its exit, inside
# the node namespace, with bash's $EPOCHREALTIME (no extra process in the
# timed interval). Each pod has its own network namespace (cpp-bn<pid>-...).
# N = 100 in full mode, 20 in quick mode. Writes cni-latency.json to
# $CILIUMPP_BENCH_OUT (a directory; default BUILD_DIR/bench).
# Goal: ADD p99 < 100 ms.
#
# Usage: CILIUMPP_BENCH_MODE=quick|full bash bench/cni-latency.sh BUILD_DIR
BUILD_DIR=$(realpath "${1:?usage: cni-latency.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=cni-latency
source "$(dirname "$(realpath "$0")")/lib.sh"

bn_require_bins cilium-agent cilium-cni cilium-dbg
if [ "$BN_MODE" = full ]; then N=${CILIUMPP_BENCH_PODS:-100}; else N=${CILIUMPP_BENCH_PODS:-20}; fi
PAR=8
if [ "$BN_MODE" = full ]; then QUIET_WAIT=30; else QUIET_WAIT=2; fi
[ "$N" -ge 1 ] && [ "$N" -le 250 ] || bn_die "pod count $N must be 1..250 (one /24 PodCIDR)"

TMP=$(mktemp -d /tmp/cpp-bench-cni.XXXXXX)
bn_path "$TMP"

bn_log "starting cilium-agent in cpp-$BN_TAG-node"
bn_agent_setup "cpp-$BN_TAG-node" "$BN_TAG-cni"
bn_agent_start

endpoints() { in_ns "$AGENT_NS" "$BIN/cilium-dbg" -H "$AGENT_SOCK" endpoint list --json | jq length; }
# rss LABEL: waits a moment for the agent to settle, then records VmRSS.
RSS_JSONL=$TMP/rss.jsonl
rss() {
  local kb
  sleep 1
  kb=$(bn_vmrss_kb "$AGENT_PID")
  printf '{"key":"%s","value":%s}\n' "$1" "$kb" >>"$RSS_JSONL"
  bn_log "agent VmRSS $1: $kb kB"
}

# The timed loop runs inside the node namespace, as a runtime's exec would.
# Args: CMD PARALLELISM OUTFILE POD...; appends "pod t0 t1 rc" per pod.
WORKER='
cmd=$1 par=$2 out=$3; shift 3
one() {
  local pod=$1 t0 t1 rc=0
  t0=$EPOCHREALTIME
  CNI_COMMAND=$cmd CNI_CONTAINERID=c-$pod CNI_NETNS=/run/netns/$pod CNI_IFNAME=eth0 CNI_PATH=$BIN \
    CNI_ARGS="K8S_POD_NAMESPACE=default;K8S_POD_NAME=$pod" "$BIN/cilium-cni" \
    <<<"$NETCONF" >"$RESDIR/$cmd-$pod.json" 2>>"$CNILOG" || rc=$?
  t1=$EPOCHREALTIME
  echo "$pod $t0 $t1 $rc" >>"$out"
}
running=0
for pod in "$@"; do
  if [ "$running" -ge "$par" ]; then wait -n; running=$((running - 1)); fi
  if [ "$par" -eq 1 ]; then one "$pod"; else one "$pod" & running=$((running + 1)); fi
done
wait
'
mkdir -p "$TMP/res"
# phase NAME CMD PARALLELISM POD...: runs the worker, checks every result.
phase() {
  local name=$1 cmd=$2 par=$3 bad
  shift 3
  # Start on idle CPUs if that happens soon; record how busy other processes kept them.
  bn_wait_quiet "$QUIET_WAIT" || bn_log "$name: CPUs still busy with other processes after ${QUIET_WAIT}s; measuring anyway"
  local c0 c1 user
  c0=$(bn_cpu_sample)
  local t0=$EPOCHREALTIME
  in_ns "$AGENT_NS" env BIN="$BIN" NETCONF="$AGENT_NETCONF" RESDIR="$TMP/res" CNILOG="$AGENT_ROOT/cni.log" \
    bash -c "$WORKER" worker "$cmd" "$par" "$TMP/$name.txt" "$@"
  local t1=$EPOCHREALTIME
  c1=$(bn_cpu_sample)
  user=$(bn_user_pct "$c0" "$c1")
  [ "$(wc -l <"$TMP/$name.txt")" -eq $# ] || bn_die "$name: expected $# results, got $(wc -l <"$TMP/$name.txt")"
  bad=$(awk '$4 != 0 { print $1 " (exit " $4 ")" }' "$TMP/$name.txt" | head -5 | paste -sd, -)
  [ -z "$bad" ] || bn_die "$name: cilium-cni $cmd failed for: $bad; last errors: $(head -c 600 "$TMP/res/$cmd-$(awk '$4 != 0 { print $1; exit }' "$TMP/$name.txt").json")"
  if [ "$cmd" = ADD ]; then
    local p
    for p in "$@"; do
      jq -e '.ips | length >= 1' "$TMP/res/ADD-$p.json" >/dev/null || bn_die "$name: ADD $p returned no address: $(cat "$TMP/res/ADD-$p.json")"
    done
  fi
  awk -v n="$name" '{ printf "{\"phase\":\"%s\",\"pod\":\"%s\",\"ms\":%.3f}\n", n, $1, ($3 - $2) * 1000 }' \
    "$TMP/$name.txt" >>"$TMP/samples.jsonl"
  awk -v a="$t0" -v b="$t1" -v n="$#" -v name="$name" -v u="$user" \
    'BEGIN { printf "{\"phase\":\"%s\",\"wall_s\":%.3f,\"per_s\":%.1f,\"user_cpu_pct\":%s}\n", name, b - a, n / (b - a), u }' >>"$TMP/phases.jsonl"
  bn_log "$name: $# x cilium-cni $cmd (parallelism $par) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s (user CPU $user%, ours included)"
}

SEQ=()
PARP=()
for i in $(seq -w 1 "$N"); do SEQ+=("cpp-$BN_TAG-s$i"); PARP+=("cpp-$BN_TAG-p$i"); done
bn_netns_many "${SEQ[@]}" "${PARP[@]}"
: >"$TMP/samples.jsonl"
: >"$TMP/phases.jsonl"
: >"$RSS_JSONL"

rss idle_0_endpoints
phase add_sequential ADD 1 "${SEQ[@]}"
[ "$(endpoints)" -eq "$N" ] || bn_die "agent lists $(endpoints) endpoints, expected $N"
rss "with_${N}_endpoints"
phase del_sequential DEL 1 "${SEQ[@]}"
[ "$(endpoints)" -eq 0 ] || bn_die "agent still lists $(endpoints) endpoints after DEL"
phase add_parallel8 ADD "$PAR" "${PARP[@]}"
[ "$(endpoints)" -eq "$N" ] || bn_die "agent lists $(endpoints) endpoints after parallel ADD, expected $N"
# Parallel ADDs must not hand out one address twice.
dups=$(for p in "${PARP[@]}"; do jq -r '.ips[].address' "$TMP/res/ADD-$p.json"; done | sort | uniq -d)
[ -z "$dups" ] || bn_die "parallel ADDs returned duplicate addresses: $dups"
rss "with_${N}_endpoints_after_parallel"
phase del_parallel8 DEL "$PAR" "${PARP[@]}"
[ "$(endpoints)" -eq 0 ] || bn_die "agent still lists $(endpoints) endpoints after parallel DEL"
rss after_churn_0_endpoints

# ---------------------------------------------------------------- report
OUT_DIR=$(bn_out_dir)
OUT=$OUT_DIR/cni-latency.json
rss_json=$(jq -sc from_entries "$RSS_JSONL")
jq -n --arg mode "$BN_MODE" --argjson n "$N" --argjson par "$PAR" --argjson rss "$rss_json" \
  --slurpfile samples "$TMP/samples.jsonl" --slurpfile phases "$TMP/phases.jsonl" "$BN_JQ_STATS"'
  def r3: (. * 1000 | round) / 1000;
  {
    benchmark: "cni-latency", mode: $mode, pods: $n, parallelism: $par, goal_add_p99_ms: 100,
    phases: ([$phases[] | .phase] | map(. as $p |
      { key: $p, value: ([$samples[] | select(.phase == $p) | .ms] as $v |
        { n: ($v | length), p50_ms: ($v | pct(50) | r3), p99_ms: ($v | pct(99) | r3),
          max_ms: ($v | max | r3), mean_ms: ($v | mean | r3),
          wall_s: ([$phases[] | select(.phase == $p)][0].wall_s),
          per_s: ([$phases[] | select(.phase == $p)][0].per_s),
          user_cpu_pct: ([$phases[] | select(.phase == $p)][0].user_cpu_pct) }) }) | from_entries),
    agent_vmrss_kb: $rss,
    samples: $samples
  }' >"$OUT"

echo
echo "cilium-cni latency ($BN_MODE mode: $N pods per phase; parallel = $PAR at a time)"
jq -r '
  (["phase", "n", "p50 ms", "p99 ms", "max ms", "mean ms", "pods/s", "user CPU %"] | @tsv),
  (.phases | to_entries[] | [.key, .value.n, .value.p50_ms, .value.p99_ms, .value.max_ms, .value.mean_ms, .value.per_s, .value.user_cpu_pct] | @tsv)
' "$OUT" | column -t -s $'\t'
echo
jq -r '.agent_vmrss_kb | to_entries[] | "agent VmRSS \(.key): \(.value) kB (\((.value / 1024 * 10 | round) / 10) MiB)"' "$OUT"
jq -r '"goal: ADD p99 < 100 ms: sequential \(.phases.add_sequential.p99_ms) ms, 8 parallel \(.phases.add_parallel8.p99_ms) ms"' "$OUT"
echo "results in $OUT"
