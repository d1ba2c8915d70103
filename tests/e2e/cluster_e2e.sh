#!/usr/bin/env bash
# Issue 4 acceptance: a 3-node lab on a 3-member etcd with two operators.
#  - the connectivity test passes (IPv4 and IPv6, cross-node, pod->world through
#    BPF masquerading, world->pod, cross-node policy by identity);
#  - PodCIDRs come from the operator's cluster pool, never overlapping;
#  - identities are cluster-wide (same labels, same id on every node);
#  - SIGKILL of the etcd leader: new pods still get IPs and identities,
#    policies still apply;
#  - SIGKILL of the operator leader: the second operator takes over;
#  - agent restart (SIGKILL) keeps cross-node traffic flowing;
#  - a pod recreated with a new IP is still allowed/denied by labels across nodes;
#  - removing a node removes its routes, ipcache and tunnel entries everywhere.
# Usage: cluster_e2e.sh BIN_DIR
BIN="$(cd "${1:?usage: $0 BIN_DIR}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
LAB="cl$$"
source "$HERE/lib.sh"

for b in cilium-lab cilium-agent cilium-cni cilium-dbg cilium-operator-generic; do
  [ -x "$BIN/$b" ] || { echo "ERROR: $BIN/$b not built"; trap - EXIT; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "ERROR: needs root"; trap - EXIT; exit 77; }
command -v etcd >/dev/null || { echo "ERROR: etcd not installed"; trap - EXIT; exit 77; }

dbg() {  # dbg NODE ARGS...: cilium-dbg against a node's agent and pins
  local node=$1
  shift
  local sock
  sock="$(jq -r --arg n "$node" '.nodes[] | select(.name==$n) | .socket' <<<"$ST")"
  nsenter --net="/run/netns/cpp-${LAB}-${node}" "$BIN/cilium-dbg" -H "$sock" "$@"
}
etcdctl_lab() { lab exec underlay -- env ETCDCTL_API=3 etcdctl --endpoints "$ENDPOINTS" "$@"; }
refresh() { ST="$(lab status --json)"; }

log "up: 3 nodes, 3 etcd members, 2 operators"
lab up --nodes 3 --etcd-members 3 --operators 2 --bin-dir "$BIN" --timeout 120
refresh
ENDPOINTS="$(jq -r '.etcd_endpoints | join(",")' <<<"$ST")"
check "3 etcd members running" [ "$(jq '[.etcd[] | select(.alive)] | length' <<<"$ST")" = 3 ]
check "2 operators running" [ "$(jq '[.operators[] | select(.alive)] | length' <<<"$ST")" = 2 ]
CIDRS4="$(jq -r '[.nodes[].pod_cidrs[0]] | join(" ")' <<<"$ST")"
echo "node PodCIDRs: $CIDRS4 / $(jq -r '[.nodes[].pod_cidrs[1]] | join(" ")' <<<"$ST")"
check "every node got an IPv4 PodCIDR from the pool" \
  [ "$(jq '[.nodes[].pod_cidrs[0] | select(startswith("10.233."))] | length' <<<"$ST")" = 3 ]
check "every node got an IPv6 PodCIDR from the pool" \
  [ "$(jq '[.nodes[].pod_cidrs[1] | select(startswith("fd00:10:233:"))] | length' <<<"$ST")" = 3 ]
check "PodCIDRs do not overlap" [ "$(tr ' ' '\n' <<<"$CIDRS4" | sort -u | wc -l)" = 3 ]
check "CiliumNode objects in etcd" \
  [ "$(etcdctl_lab get --prefix --keys-only cilium/resources/CiliumNode/ | grep -c .)" = 3 ]

status_has() { dbg "$1" status | grep -q "$2"; }
for n in node1 node2 node3; do
  check "$n: cilium-dbg status shows etcd 3/3 connected" wait_for 60 status_has "$n" "KVStore: *Ok   etcd: 3/3 connected"
  check "$n: cilium-dbg status shows BPF masquerading" status_has "$n" "Masquerading: *BPF   \[eth0 "
  check "$n: cilium-dbg status shows cluster health 3/3" wait_for 60 status_has "$n" "Cluster health: *3/3 reachable"
done

log "connectivity test (IPv4 and IPv6, cross-node, world, echo-ingress policy)"
set +e
CT="$(lab connectivity test --json)"
CT_RC=$?
set -e
jq -r '.results[] | select(.result != "pass") | "  FAILED \(.name): \(.detail)"' <<<"$CT" || true
check "connectivity test exit code 0" [ "$CT_RC" = 0 ]
check "connectivity test: no failures" [ "$(jq '.failed' <<<"$CT")" = 0 ]
for pat in 'pod-to-pod/cross-node/tcp/ipv4' 'pod-to-pod/cross-node/tcp/ipv6' 'pod-to-world/masquerade/tcp/ipv4' \
  'pod-to-world/masquerade/tcp/ipv6' 'world-to-pod/other-node/tcp/ipv4' 'echo-ingress/pod-to-pod/cross-node/tcp/ipv4' \
  'echo-ingress/pod-to-pod-deny/cross-node/tcp/ipv6' 'echo-ingress/world-to-pod-deny/other-node/tcp/ipv4'; do
  check "connectivity scenario $pat ran and passed" \
    [ "$(jq --arg p "$pat" '[.results[] | select((.name | contains($p)) and .result == "pass")] | length' <<<"$CT")" -ge 1 ]
done

log "identities are cluster-wide"
lab pod add node1 same1 --labels app=same,tier=x >/dev/null
lab pod add node3 same3 --labels app=same,tier=x >/dev/null
refresh
id_of() {  # id_of NODE POD
  local cid
  cid="$(jq -r --arg p "$2" '.pods[] | select(.name==$p) | .container_id' <<<"$ST")"
  dbg "$1" endpoint list --json | jq -r --arg c "$cid" '.[] | select(.["container-id"]==$c) | .identity'
}
ID1="$(id_of node1 same1)"
ID3="$(id_of node3 same3)"
echo "identity of app=same on node1: $ID1, on node3: $ID3"
same_cluster_id() { [ -n "$ID1" ] && [ "$ID1" = "$ID3" ] && [ "$ID1" -ge 256 ]; }
check "same labels, same identity on two nodes" same_cluster_id
check "identity stored in etcd" etcdctl_lab get "cilium/state/identities/v1/id/$ID1"

log "SIGKILL of the etcd leader"
LEADER_URL="$(etcdctl_lab endpoint status -w json | jq -r '.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint')"
LEADER_PID="$(jq -r --arg u "$LEADER_URL" '.etcd[] | select(("http://" + .ipv4 + ":2379") == $u) | .pid' <<<"$ST")"
echo "etcd leader $LEADER_URL pid $LEADER_PID"
check "etcd leader found" [ -n "$LEADER_PID" ]
kill -9 "$LEADER_PID"
check "node2: cilium-dbg status shows 2/3 etcd members connected" wait_for 60 status_has node2 "etcd: 2/3 connected"
check "pod added after the etcd leader died gets addresses" lab pod add node2 afterkill --labels app=afterkill
refresh
check "new pod has an IPv4 address" [ -n "$(jq -r '.pods[] | select(.name=="afterkill") | .ipv4' <<<"$ST")" ]
AK_ID="$(id_of node2 afterkill)"
new_cluster_id() { [ -n "$AK_ID" ] && [ "$AK_ID" -ge 256 ] && [ "$AK_ID" != "$ID1" ]; }
check "new pod has a cluster identity ($AK_ID)" new_cluster_id
cat >"/run/ciliumpp/lab/$LAB/deny-same.yaml" <<EOF
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: afterkill-from-same-only
spec:
  endpointSelector:
    matchLabels:
      app: afterkill
  ingress:
  - fromEndpoints:
    - matchLabels:
        app: same
EOF
check "policy applied and enforced by every agent with one etcd member down" \
  lab apply -f "/run/ciliumpp/lab/$LAB/deny-same.yaml"
check "cross-node: same1 (app=same, node1) -> afterkill (node2) allowed" lab probe same1 afterkill --expect allow
check "cross-node: client (node1) -> afterkill (node2) denied" lab probe client afterkill --expect deny

log "SIGKILL of the operator leader"
HOLDER() { etcdctl_lab get --print-value-only cilium/operator/leader; }
OLD_HOLDER="$(HOLDER)"
echo "operator leader: $OLD_HOLDER"
# The leader key holds the operator's identity "<hostname>-<pid>".
OP_PID="$(jq -r --arg h "$OLD_HOLDER" '.operators[] | select(.pid as $p | $h | endswith("-" + ($p | tostring))) | .pid' <<<"$ST" | head -1)"
check "operator leader identified" [ -n "$OP_PID" ]
kill -9 "$OP_PID"
new_leader() { local h; h="$(HOLDER)"; [ -n "$h" ] && [ "$h" != "$OLD_HOLDER" ]; }
check "second operator took over" wait_for 60 new_leader
echo "new operator leader: $(HOLDER)"

log "agent restart (SIGKILL) keeps cross-node traffic flowing"
ECHO_OTHER_IP="$(jq -r '.pods[] | select(.name=="echo-other-node") | .ipv4' <<<"$ST")"
PING_LOG="/run/ciliumpp/lab/$LAB/ping.log"
lab exec client -- ping -n -i 0.2 -c 60 "$ECHO_OTHER_IP" >"$PING_LOG" 2>&1 &
PING_PID=$!
ECHO_NODE="$(jq -r '.pods[] | select(.name=="echo-other-node") | .node' <<<"$ST")"
check "agent on $ECHO_NODE restarted after SIGKILL" lab node restart "$ECHO_NODE" --kill
check "agent on node1 restarted after SIGKILL" lab node restart node1 --kill
wait "$PING_PID" || true
LOSS="$(grep -o '[0-9.]*% packet loss' "$PING_LOG" | cut -d% -f1)"
echo "cross-node ping across two agent restarts: ${LOSS}% loss"
check "no cross-node packet lost across agent restarts" [ "$LOSS" = 0 ]
refresh

log "cross-node policy by labels holds when a pod is recreated with a new IP"
OLD_IP="$(jq -r '.pods[] | select(.name=="afterkill") | .ipv4' <<<"$ST")"
lab pod del node2 afterkill >/dev/null
lab pod add node2 spacer >/dev/null  # takes the freed address, so the new pod gets another one
lab pod add node2 afterkill --labels app=afterkill >/dev/null
refresh
NEW_IP="$(jq -r '.pods[] | select(.name=="afterkill") | .ipv4' <<<"$ST")"
echo "afterkill: $OLD_IP -> $NEW_IP"
check "recreated pod has a new IP" [ "$OLD_IP" != "$NEW_IP" ]
lab pod del node1 same1 >/dev/null
lab pod add node1 spacer1 >/dev/null
lab pod add node1 same1 --labels app=same,tier=x >/dev/null
check "recreated same1 (new IP, node1) -> recreated afterkill (node2) allowed" lab probe same1 afterkill --expect allow
check "client (node1) -> recreated afterkill (node2) denied" lab probe client afterkill --expect deny
check "same3 (node3) -> recreated afterkill (node2) allowed" lab probe same3 afterkill --expect allow

log "removing a node removes its routes, ipcache and tunnel entries everywhere"
refresh
N3_IP="$(jq -r '.nodes[] | select(.name=="node3") | .ipv4' <<<"$ST")"
N3_CIDR="$(jq -r '.nodes[] | select(.name=="node3") | .pod_cidrs[0]' <<<"$ST")"
SAME3_IP="$(jq -r '.pods[] | select(.name=="same3") | .ipv4' <<<"$ST")"
has_route() { lab exec "$1" -- ip route show "$2" | grep -q .; }
tunnel_refs() { dbg "$1" bpf ipcache list | jq --arg t "$N3_IP" '[.[] | select(.tunnel_endpoint == $t)] | length'; }
check "node1 routes node3's PodCIDR before removal" has_route node1 "$N3_CIDR"
check "node1 ipcache has node3 tunnel entries before removal" [ "$(tunnel_refs node1)" -ge 1 ]
check "node removed" lab node del node3
refresh
no_route() { ! has_route "$1" "$N3_CIDR"; }
no_tunnel() { [ "$(tunnel_refs "$1")" = 0 ]; }
no_pod_entry() { ! dbg "$1" bpf ipcache list | jq -e --arg ip "$SAME3_IP/32" '.[] | select(.prefix == $ip)' >/dev/null; }
for n in node1 node2; do
  check "$n: node3's PodCIDR route gone" wait_for 60 no_route "$n"
  check "$n: no ipcache entry tunnels to node3" wait_for 60 no_tunnel "$n"
  check "$n: node3's pod gone from the ipcache" wait_for 60 no_pod_entry "$n"
done
check "node3's CiliumNode gone from etcd" \
  [ "$(etcdctl_lab get --prefix --keys-only cilium/resources/CiliumNode/ | grep -c node3)" = 0 ]
check "cross-node traffic between the remaining nodes still works" lab probe same1 afterkill --expect allow

log "down"
lab down >/dev/null
expect_lab_gone
echo "$PASSED checks passed"
[ "$FAILED" = 0 ] || { echo "cluster e2e FAILED"; exit 1; }
echo "cluster e2e passed"
