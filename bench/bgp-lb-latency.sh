#!/usr/bin/env bash
# Time from a Service gaining a LoadBalancer IP to the route in FRR's RIB
# (p50/p99), through the real agent path: a 1-node lab (etcd mode, one
# operator doing LB IPAM) with enable-bgp-control-plane, a
# CiliumBGPPeeringPolicy peering node1 with FRR (zebra + bgpd -n) in the
# lab's world namespace and advertising the LoadBalancer IPs of services
# labelled bench=lb.
#
# Per sample: a LoadBalancer service with spec.loadBalancerIP (the i-th
# address of the pool) is created with `cilium-lab apply`; an `etcdctl
# watch` on the service's key, each line stamped on arrival, says when it was
# created and when the operator wrote the IP into status.loadBalancer.ingress
# (the moment it "gains" the IP); cpp-bgp-frr-wait, started before the apply,
# polls bgpd over its vty socket every 2 ms until the /32 is in its RIB
# (a query costs bgpd ~0.1 ms; the poll interval is reported).
# latency = route seen - status written. Then the service is deleted and the
# withdrawal timed the same way (DELETE event -> route gone). One warm-up
# sample is not counted.
#
# Reference, same FRR, same poll interval, interleaved in blocks of 10:
# cpp-bgp-apply-latency runs the speaker alone (make_speaker(), in a namespace
# of its own on the lab's underlay) and times apply() with one more /32 ->
# route in FRR's RIB; agent minus reference (and agent/reference) says what
# the agent path (store watch -> desired state -> speaker) adds. The
# reference is about one poll interval, so its ratio is coarse. (The agent lets a burst of changes
# settle for 100 ms before it reconciles: src/agent/bgp_subsystem.cpp.)
set -euo pipefail
BUILD_DIR=$(realpath "${1:?usage: bgp-lb-latency.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=bgp-lb-latency
source "$(dirname "$(realpath "$0")")/lib.sh"
bn_require_bins cilium-lab cilium-agent cilium-cni cilium-dbg cilium-operator-generic cpp-bgp-frr-wait \
  cpp-bgp-apply-latency
for t in etcd etcdctl /usr/lib/frr/zebra /usr/lib/frr/bgpd; do
  command -v "$t" >/dev/null || bn_die "$t not installed (scripts/install-deps.sh: etcd-server etcd-client frr)"
done
OUT=$(bn_out_dir)

SAMPLES=10
[ "$BN_MODE" = full ] && SAMPLES=100
SAMPLES=${CILIUMPP_BENCH_SAMPLES:-$SAMPLES}
[ "$SAMPLES" -ge 1 ] && [ "$SAMPLES" -le 240 ] || bn_die "CILIUMPP_BENCH_SAMPLES must be 1..240, not $SAMPLES"
BLOCK=10
POLL_MS=2  # the reference's own latency is about a millisecond: coarser polls would be all it shows

TMP=$(mktemp -d /tmp/cpp-bench-bgp-lb-latency.XXXXXX)
bn_path "$TMP"
chmod 755 "$TMP"  # zebra and bgpd run as the frr user

LAB="bnl$$"
lab() { "$BIN/cilium-lab" -n "$LAB" "$@"; }
# Our daemons in the lab's namespaces go first, then the lab, then the rest;
# the exit status survives.
lab_cleanup() {
  local rc=$? p
  set +e
  for p in "${BN_PIDS[@]}"; do bn_stop_pid "$p"; done
  "$BIN/cilium-lab" -n "$LAB" down >/dev/null 2>&1
  (exit "$rc")
  bn_cleanup
}
trap lab_cleanup EXIT

bn_log "lab $LAB: 1 node with enable-bgp-control-plane"
lab up --nodes 1 --bin-dir "$BIN" --timeout 120 --set enable-bgp-control-plane=true >/dev/null ||
  bn_die "cilium-lab up failed"
ST=$(lab status --json)
WORLD_NS=$(jq -r .world.netns <<<"$ST")
WORLD4=$(jq -r .world.ipv4 <<<"$ST")
N1_4=$(jq -r '.nodes[0].ipv4' <<<"$ST")
ETCD_NS=$(jq -r '.etcd[0].netns' <<<"$ST")
ETCD_EP=$(jq -r '.etcd_endpoints[0]' <<<"$ST")
REF_NS=cpp-$BN_TAG-bgpref REF4=192.0.2.240

# ------------------------------------------------------------------ FRR ---
R=$TMP/frr
mkdir -p "$R"
echo "hostname world" >"$R/zebra.conf"
cat >"$R/bgpd.conf" <<CONF
hostname world
log file $R/frr.log
router bgp 64512
 bgp router-id $WORLD4
 no bgp ebgp-requires-policy
 neighbor $N1_4 remote-as 65001
 neighbor $N1_4 timers connect 1
 neighbor $REF4 remote-as 65100
 neighbor $REF4 timers connect 1
 ! the agent's speaker wants both families (else Unsupported Capability)
 address-family ipv6 unicast
  neighbor $N1_4 activate
 exit-address-family
CONF
chown -R frr:frr "$R"
bn_bg "$WORLD_NS" "$TMP/zebra.log" /usr/lib/frr/zebra -f "$R/zebra.conf" -i "$R/zebra.pid" -z "$R/zserv.api" \
  --vty_socket "$R"
wait_for 30 test -S "$R/zserv.api" || bn_die "zebra did not start: $(tail -5 "$TMP/zebra.log")"
bn_bg "$WORLD_NS" "$TMP/bgpd.log" /usr/lib/frr/bgpd -n -f "$R/bgpd.conf" -i "$R/bgpd.pid" -z "$R/zserv.api" \
  --vty_socket "$R"
wait_for 30 test -S "$R/bgpd.vty" || bn_die "bgpd did not start: $(tail -5 "$TMP/bgpd.log")"
frr_wait() { "$BIN/cpp-bgp-frr-wait" "$R/bgpd.vty" --interval-ms "$POLL_MS" "$@"; }

# The reference speaker's namespace, on the lab's underlay bridge.
bn_netns "$REF_NS"
ip -n "cpp-$LAB-underlay" link add "r$BN_TAG" type veth peer name eth0 netns "$REF_NS"
ip -n "cpp-$LAB-underlay" link set "r$BN_TAG" master br0 up
ip -n "$REF_NS" addr add "$REF4/24" dev eth0
ip -n "$REF_NS" link set eth0 up

# ------------------------------------------------- policy, pool, watch ---
cat >"$TMP/policy.yaml" <<YAML
apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata:
  name: bench
spec:
  nodeSelector:
    matchLabels: {kubernetes.io/os: linux}
  virtualRouters:
  - localASN: 65001
    exportPodCIDR: false
    serviceSelector:
      matchLabels: {bench: lb}
    serviceAdvertisements: [LoadBalancerIP]
    neighbors:
    - peerAddress: $WORLD4/32
      peerASN: 64512
      connectRetryTimeSeconds: 1
      holdTimeSeconds: 9
      keepAliveTimeSeconds: 3
---
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata:
  name: bench
spec:
  blocks:
  - cidr: 203.0.113.0/24
YAML
lab apply -f "$TMP/policy.yaml" >/dev/null
diagnose() {
  lab status >&2 || true
  in_ns "cpp-$LAB-node1" "$BIN/cilium-dbg" -H "$(jq -r '.nodes[0].socket' <<<"$ST")" bgp peers >&2 || true
  tail -5 "$(jq -r '.nodes[0].log' <<<"$ST")" >&2 || true
  echo "--- bgpd" >&2
  tail -5 "$R/frr.log" >&2 || true
}
agent_alive() { lab status --json | jq -e '.nodes[0].agent.alive' >/dev/null; }
frr_wait --timeout-s 60 received "$N1_4" ipv4 0 >/dev/null || {
  diagnose
  agent_alive || bn_die "node1's cilium-agent died after the peering policy was applied (see dmesg)"
  bn_die "node1 never peered with FRR"
}

# Every line of the watch stamped on arrival (microseconds, wall clock). The
# watch starts from the store's next revision, so an etcdctl slow to connect
# still replays the warm-up sample's events (late, but those are not counted).
SVC_KEY=cilium/resources/Service/default/lbbench
REV=$(in_ns "$ETCD_NS" etcdctl --endpoints "$ETCD_EP" get -w json "$SVC_KEY" | jq -e '.header.revision') ||
  bn_die "cannot read the store's revision from etcd"
mkfifo "$TMP/watch.fifo"
nsenter --net="/run/netns/$ETCD_NS" etcdctl --endpoints "$ETCD_EP" watch --rev "$((REV + 1))" "$SVC_KEY" \
  >"$TMP/watch.fifo" 2>"$TMP/watch.err" &
bn_pid $!
while IFS= read -r line; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$line"; done <"$TMP/watch.fifo" >"$TMP/watch.log" &
bn_pid $!

# watch_line AFTER_US PATTERN: stamp of the first watch line after AFTER_US
# containing PATTERN (fixed string); watch_us waits for it.
watch_line() {
  awk -v t="$1" -v p="$2" '$1 >= t && index($0, p) { print $1; found = 1; exit } END { exit !found }' \
    "$TMP/watch.log"
}
watch_us() {
  wait_for 30 watch_line "$1" "$2" || bn_die "no watch event '$2' (etcdctl: $(tail -2 "$TMP/watch.err"))"
  watch_line "$1" "$2"
}

# ---------------------------------------------------------------- runs ---
AGENT=$TMP/agent.jsonl REF=$TMP/ref.jsonl
: >"$AGENT"
: >"$REF"
# sample I: one service create/delete; appends to AGENT unless I is 0 (warm-up).
sample() {
  local i=$1 ip=203.0.113.$(($1 + 10)) w t_apply t_created t_status t_delete
  cat >"$TMP/svc.yaml" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: lbbench
  labels: {bench: lb}
spec:
  type: LoadBalancer
  loadBalancerIP: $ip
  selector: {app: none}
  ports:
  - {name: http, port: 80, targetPort: 8080}
YAML
  "$BIN/cpp-bgp-frr-wait" "$R/bgpd.vty" --interval-ms "$POLL_MS" --timeout-s 60 has "$ip/32" >"$TMP/has.json" &
  w=$!
  t_apply=$(date +%s%6N)
  lab apply -f "$TMP/svc.yaml" >/dev/null
  wait "$w" || bn_die "sample $i: $ip/32 never reached FRR"
  t_created=$(watch_us "$t_apply" '"name":"lbbench"')
  t_status=$(watch_us "$t_apply" "\"ingress\":[{\"ip\":\"$ip\"")
  "$BIN/cpp-bgp-frr-wait" "$R/bgpd.vty" --interval-ms "$POLL_MS" --timeout-s 60 lacks "$ip/32" >"$TMP/lacks.json" &
  w=$!
  t_delete=$(date +%s%6N)
  lab delete -f "$TMP/svc.yaml" >/dev/null
  wait "$w" || bn_die "sample $i: $ip/32 was never withdrawn from FRR"
  t_delete=$(watch_us "$t_delete" DELETE)
  [ "$i" -gt 0 ] || return 0
  jq -nc --argjson has "$(cat "$TMP/has.json")" --argjson lacks "$(cat "$TMP/lacks.json")" \
    --argjson created "$t_created" --argjson status "$t_status" --argjson deleted "$t_delete" --arg ip "$ip" '
    {ip: $ip, status_to_route_ms: (($has.done_ns / 1000 - $status) / 1000),
     create_to_route_ms: (($has.done_ns / 1000 - $created) / 1000),
     create_to_status_ms: (($status - $created) / 1000),
     delete_to_withdrawn_ms: (($lacks.done_ns / 1000 - $deleted) / 1000),
     poll_interval_ms: $has.poll_interval_ms}' >>"$AGENT"
  bn_log "$(jq -r '"agent sample \(.ip): status -> FRR \(.status_to_route_ms) ms (created -> status \(.create_to_status_ms) ms), delete -> withdrawn \(.delete_to_withdrawn_ms) ms"' <<<"$(tail -1 "$AGENT")")"
}
reference() {
  in_ns "$REF_NS" "$BIN/cpp-bgp-apply-latency" "$R/bgpd.vty" "$REF4" 65100 "$WORLD4" 64512 "$1" "$POLL_MS" \
    >>"$REF" 2>>"$TMP/ref.log" || bn_die "cpp-bgp-apply-latency failed: $(tail -3 "$TMP/ref.log")"
  bn_log "$(jq -r '"reference: apply -> FRR \(.announce_ms | map(. * 10 | round / 10)) ms"' <<<"$(tail -1 "$REF")")"
}

bn_log "$SAMPLES samples (agent and reference interleaved in blocks of $BLOCK), polls every $POLL_MS ms"
sample 0
done_n=0
while [ "$done_n" -lt "$SAMPLES" ]; do
  n=$((SAMPLES - done_n < BLOCK ? SAMPLES - done_n : BLOCK))
  for i in $(seq $((done_n + 1)) $((done_n + n))); do sample "$i"; done
  reference "$n"
  done_n=$((done_n + n))
done

jq -n --arg mode "$BN_MODE" --argjson poll "$POLL_MS" --slurpfile agent "$AGENT" --slurpfile ref "$REF" "$BN_JQ_STATS"'
  def summary: sort as $s | {n: length, p50_ms: ($s | pct(50)), p99_ms: ($s | pct(99)), max_ms: ($s | max),
    mean_ms: ($s | mean), samples_ms: .};
  def r3: (. * 1000 | round) / 1000;
  ([$agent[].status_to_route_ms] | summary) as $a | ([$ref[].announce_ms[]] | summary) as $r |
  {benchmark: "bgp-lb-latency", mode: $mode, poll_ms: $poll,
   poll_interval_ms: ([$agent[].poll_interval_ms] + [$ref[].poll_interval_ms] | median | r3),
   agent: $a,
   agent_create_to_route: ([$agent[].create_to_route_ms] | summary),
   agent_create_to_status: ([$agent[].create_to_status_ms] | summary),
   agent_delete_to_withdrawn: ([$agent[].delete_to_withdrawn_ms] | summary),
   reference: $r,
   reference_withdraw: ([$ref[].withdraw_ms[]] | summary),
   agent_adds_p50_ms: ($a.p50_ms - $r.p50_ms | r3),
   p50_ratio: (if $r.p50_ms > 0 then $a.p50_ms / $r.p50_ms | r3 else null end),
   p99_ratio: (if $r.p99_ms > 0 then $a.p99_ms / $r.p99_ms | r3 else null end),
   agent_samples: $agent}' >"$OUT/bgp-lb-latency.json"
jq -r '"bgp-lb-latency: Service gains LB IP -> route in FRR p50 \(.agent.p50_ms) ms, p99 \(.agent.p99_ms) ms (n=\(.agent.n)); speaker apply() -> FRR p50 \(.reference.p50_ms) ms, p99 \(.reference.p99_ms) ms; the agent path adds \(.agent_adds_p50_ms) ms at p50, agent/reference \(.p50_ratio) (polls every \(.poll_interval_ms) ms: the reference is near that resolution)"' \
  "$OUT/bgp-lb-latency.json"
