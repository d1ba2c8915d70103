#!/usr/bin/env bash
# Time from pod creation on node A to its ipcache entry on node B (p50/p99):
# a 2-node lab in etcd mode (one etcd member, one operator). For each pod the
# clock starts before `cilium-lab pod add` on node1 (CNI ADD, identity
# allocation through etcd, CiliumEndpoint written) and stops when node2's
# pinned ipcache holds a /32 for an address of node1's PodCIDR that it did
# not hold before. Polling reads the pinned map directly (cilium-dbg), every
# few milliseconds, so the resolution is a few ms.
set -euo pipefail
BUILD_DIR=$(realpath "${1:?usage: ipcache-propagation.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=ipcache-propagation
source "$(dirname "$(realpath "$0")")/lib.sh"
OUT=${CILIUMPP_BENCH_OUT:-$BUILD_DIR/bench}
mkdir -p "$OUT"
command -v etcd >/dev/null || bn_die "etcd not found (apt-get install etcd-server)"
PODS=5
[ "$BN_MODE" = full ] && PODS=60

LAB="bnp$$"
lab() { "$BIN/cilium-lab" -n "$LAB" "$@"; }
lab_down() { "$BIN/cilium-lab" -n "$LAB" down >/dev/null 2>&1 || true; }
trap 'lab_down; bn_cleanup' EXIT

lab up --nodes 2 --bin-dir "$BIN" --timeout 120 >/dev/null || bn_die "cilium-lab up failed"
ST=$(lab status --json)
CIDR1=$(jq -r '.nodes[0].pod_cidrs[0]' <<<"$ST")
PREFIX1=${CIDR1%.*}.  # node1's /24, e.g. 10.233.64.
SOCK2=$(jq -r '.nodes[1].socket' <<<"$ST")
pod_entries() {  # the /32 entries of node1's pods in node2's ipcache
  nsenter --net="/run/netns/cpp-$LAB-node2" "$BIN/cilium-dbg" -H "$SOCK2" bpf ipcache list |
    jq -r --arg p "$PREFIX1" '.[] | select((.prefix | startswith($p)) and (.prefix | endswith("/32"))) | .prefix' | sort
}

samples=()
for i in $(seq 1 "$PODS"); do
  before=$(pod_entries)
  t0=$(date +%s%N)
  lab pod add node1 "p$i" --labels "app=prop$i" >/dev/null &
  add_pid=$!
  deadline=$((SECONDS + 60))
  while :; do
    now=$(pod_entries)
    if [ "$(comm -13 <(echo "$before") <(echo "$now") | grep -c .)" -ge 1 ]; then
      t1=$(date +%s%N)
      break
    fi
    [ $SECONDS -lt $deadline ] || bn_die "pod p$i never reached node2's ipcache"
  done
  wait "$add_pid" || bn_die "pod add p$i failed"
  samples+=($(((t1 - t0) / 1000)))
done

printf '%s\n' "${samples[@]}" | jq -s --argjson pods "$PODS" --arg mode "$BN_MODE" '
  sort as $s | ($s | length) as $n |
  {benchmark: "ipcache-propagation", mode: $mode, pods: $pods, unit: "ms",
   p50_ms: ($s[($n * 0.5 | floor)] / 1000), p99_ms: ($s[(($n * 0.99 | ceil) - 1)] / 1000),
   max_ms: ($s[-1] / 1000), samples_us: .}' >"$OUT/ipcache-propagation.json"
jq -r '"ipcache-propagation: pod created on node1 -> ipcache entry on node2: p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms (n=\(.pods))"' "$OUT/ipcache-propagation.json"
