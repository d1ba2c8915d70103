#!/usr/bin/env bash
# One node in a cpp- namespace with etcd, cilium-operator-generic and the
# agent (ipam: cluster-pool, identity-allocation-mode: kvstore): the agent
# waits for the operator's PodCIDR, publishes its CiliumNode, allocates pod
# identities in etcd, and comes back with the same PodCIDR after a restart
# while etcd is down.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/../agent/node-fixture.sh"

node_setup
rm -f "$CONFIG/ipv4-range" "$CONFIG/ipv6-range"
# The node's "underlay" address (a veth pair inside the node namespace).
ip -n "$NODE_NAME" link add under0 type veth peer name under1
ip -n "$NODE_NAME" addr add 192.0.2.50/24 dev under0
ip -n "$NODE_NAME" link set under0 up
ip -n "$NODE_NAME" link set under1 up
ETCD_DIR=$ROOT/etcd
mkdir -p "$ETCD_DIR"
printf 'endpoints:\n- http://127.0.0.1:2379\n' >"$ROOT/etcd.config"
printf 'etcd' >"$CONFIG/kvstore"
printf '{"etcd.config": "%s"}' "$ROOT/etcd.config" >"$CONFIG/kvstore-opt"
printf 'kvstore' >"$CONFIG/identity-allocation-mode"
printf 'cluster-pool' >"$CONFIG/ipam"
printf '10.210.0.0/16' >"$CONFIG/cluster-pool-ipv4-cidr"
printf '24' >"$CONFIG/cluster-pool-ipv4-mask-size"
printf 'fd00:210::/104' >"$CONFIG/cluster-pool-ipv6-cidr"
printf '120' >"$CONFIG/cluster-pool-ipv6-mask-size"

etcd_start() {
  bg_in_ns ETCD_PID "$ETCD_DIR/log" "$NODE_NAME" etcd --name s1 --data-dir "$ETCD_DIR/data" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster s1=http://127.0.0.1:2380
  wait_for 30 in_ns "$NODE_NAME" curl -sf http://127.0.0.1:2379/health || { cat "$ETCD_DIR/log"; exit 1; }
}
etcdget() { in_ns "$NODE_NAME" etcdctl --endpoints http://127.0.0.1:2379 get "$@"; }
ciliumnode() { etcdget --print-value-only cilium/resources/CiliumNode/_cluster/node1; }
agent_ready() { in_ns "$NODE_NAME" "$BIN/cilium-dbg" -H "$SOCK" status >/dev/null 2>&1; }
agent_not_ready() { ! agent_ready; }
node_has_address() { ciliumnode | jq -e --arg t "$1" --arg ip "$2" '.spec.addresses[] | select(.type == $t and .ip == $ip)' >/dev/null; }
node1_references_an_identity() { etcdget --prefix --keys-only cilium/state/identities/v1/value/ | grep -q '/node1$'; }
node1_lease() { etcdget --prefix cilium/state/identities/v1/value/ -w json | jq -r '[.kvs[]? | .lease] | first // empty'; }
node1_lease_renewed() { local l; l=$(node1_lease); [ -n "$l" ] && [ "$l" != "$OLD_LEASE" ]; }

etcd_start
bg_in_ns AGENT_PID "$ROOT/agent.log" "$NODE_NAME" "$BIN/cilium-agent" --config-dir "$CONFIG" --node-name node1
check "agent registers its CiliumNode with its InternalIP before it has a PodCIDR" \
  wait_for 30 node_has_address InternalIP 192.0.2.50
check "agent is not ready without an operator" agent_not_ready
check "agent logs that it waits for the operator" wait_for 15 grep -q "waiting for the operator" "$ROOT/agent.log"

bg_in_ns OP_PID "$ROOT/operator.log" "$NODE_NAME" "$BIN/cilium-operator-generic" --config-dir "$CONFIG" --id op1
check "operator /healthz answers on 127.0.0.1:9234" \
  wait_for 30 in_ns "$NODE_NAME" curl -sf http://127.0.0.1:9234/healthz
check "agent becomes ready with the operator's PodCIDR" wait_for 60 agent_ready
status=$(dbg status --json)
check "IPv4 PodCIDR is the pool's first block" test "$(jq -r '.["pod-cidr-ipv4"]' <<<"$status")" = 10.210.0.0/24
check "IPv6 PodCIDR is the pool's first block" test "$(jq -r '.["pod-cidr-ipv6"]' <<<"$status")" = fd00:210::/120
check "CiliumNode carries CiliumInternalIP = router IP" wait_for 20 node_has_address CiliumInternalIP 10.210.0.1
check "cilium_host has the router IP" bash -c "ip -n $NODE_NAME -br addr show cilium_host | grep -q '10.210.0.1/32'"

fix_netns "$(pod_netns a)"
ra=$(cni ADD a)
check "pod address from the assigned PodCIDR" bash -c "[[ $(jq -r '.ips[0].address' <<<"$ra") == 10.210.0.* ]]"
ida=$(dbg endpoint get container-id:c-a | jq .identity)
check "pod identity is a cluster identity" test "$ida" -ge 256
check "its id key is in etcd" test -n "$(etcdget --print-value-only "cilium/state/identities/v1/id/$ida")"
check "node1 references it" node1_references_an_identity

OLD_LEASE=$(node1_lease)
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
kill -KILL "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true
bg_in_ns AGENT_PID "$ROOT/agent2.log" "$NODE_NAME" "$BIN/cilium-agent" --config-dir "$CONFIG" --node-name node1
check "agent restarted while etcd is down comes up" wait_for 90 agent_ready
check "with its old PodCIDR" test "$(dbg status --json | jq -r '.["pod-cidr-ipv4"]')" = 10.210.0.0/24
check "and the pod keeps its identity" test "$(dbg endpoint get container-id:c-a | jq .identity)" = "$ida"

etcd_start
check "the restarted agent re-references its identity under its new lease once etcd is back" \
  wait_for 60 node1_lease_renewed

if [ "$FIX_FAILS" -ne 0 ]; then
  for f in agent.log agent2.log operator.log; do echo "--- $f"; tail -40 "$ROOT/$f"; done
fi
fix_summary
