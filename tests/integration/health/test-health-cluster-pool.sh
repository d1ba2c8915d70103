#!/usr/bin/env bash
# Two nodes in cluster-pool IPAM mode (the test plays the operator, writing
# PodCIDRs into each CiliumNode of a shared directory store): each agent
# publishes its health endpoint's addresses in its own CiliumNode
# (spec.health), and the other node probes them with no help from the test.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/health-fixture.sh"

cn_file() { echo "$STORE/CiliumNode/_cluster/$1.json"; }
registered() { jq -e '.spec.addresses | length > 0' "$(cn_file "$1")" >/dev/null 2>&1; }
# give_pod_cidrs NAME CIDR...: what the operator does.
give_pod_cidrs() {
  local name=$1; shift
  local f; f=$(cn_file "$name")
  jq --argjson c "$(printf '%s\n' "$@" | jq -R . | jq -sc .)" '.spec.ipam.podCIDRs = $c' "$f" >"$f.tmp"
  mv "$f.tmp" "$f"
}

underlay_setup
for i in 1 2; do
  node_setup "$i" ipam=cluster-pool cluster-pool-ipv4-cidr=10.233.64.0/18 cluster-pool-ipv4-mask-size=24 \
    cluster-pool-ipv6-cidr=fd00:10:233::/48 cluster-pool-ipv6-mask-size=64
  rm "$ROOT/n$i/config/ipv4-range" "$ROOT/n$i/config/ipv6-range"
  bg_in_ns pid "$ROOT/n$i/agent.log" "$(node_ns "n$i")" "$BIN/cilium-agent" --config-dir "$ROOT/n$i/config" --node-name "n$i"
  AGENT_PIDS[$i]=$pid
done
for i in 1 2; do
  check "n$i registers its CiliumNode" wait_for 60 registered "n$i"
  give_pod_cidrs "n$i" "10.233.$((63 + i)).0/24" "fd00:10:233:$i::/64"
done
for i in 1 2; do
  wait_for 60 in_ns "$(node_ns "n$i")" "$BIN/cilium-dbg" -H "$(sock "$i")" status || {
    echo "agent n$i did not become ready; log:"; cat "$ROOT/n$i/agent.log"; exit 1; }
done

health_ip() { dbg "$1" endpoint list --json | jq -r --arg f "$2" '.[] | select(.identity == 4) | .addressing[$f]'; }
published() {
  jq -e --arg a "$(health_ip "$1" ipv4)" --arg b "$(health_ip "$1" ipv6)" \
    '.spec.health.ipv4 == $a and .spec.health.ipv6 == $b and $a != ""' "$(cn_file "n$1")" >/dev/null
}
check "n1's CiliumNode carries its health endpoint's addresses" wait_for 30 published 1
check "n2's CiliumNode carries its health endpoint's addresses" wait_for 30 published 2

# Every path to the peer (node IPs and health endpoint, v4 and v6) answers ICMP and HTTP.
peer_reachable() {
  local s; s=$(health_status "$1") || return 1
  json_has "$(node_health "$s" "$2")" ".reachable and .\"health-ip\" == \"$(health_ip "${2#n}" ipv4)\" and
    ([.host[\"primary-address\"], .host[\"secondary-addresses\"][],
      .[\"health-endpoint\"][\"primary-address\"], .[\"health-endpoint\"][\"secondary-addresses\"][]] | length == 4)"
}
check "n1 reaches all of n2 (node and health endpoint, v4 and v6)" wait_for 60 peer_reachable 1 n2
check "n2 reaches all of n1 (node and health endpoint, v4 and v6)" wait_for 60 peer_reachable 2 n1
check "cilium-health status on n1: 2/2 reachable" \
  bash -c "nsenter --net=/run/netns/$(node_ns n1) $BIN/cilium-health status --socket $(sock 1) | grep -q 'Cluster health:   2/2 reachable'"
fix_summary
