#!/usr/bin/env bash
# End-to-end test of cilium-lab with real agents: a 2-node lab, pods on both
# nodes, status, exec, the connectivity test, apply/delete and pod del.
# Usage: lab_e2e.sh BIN_DIR   (BIN_DIR holds cilium-lab, cilium-agent, cilium-cni)
BIN="$(cd "${1:?usage: $0 BIN_DIR}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/lib.sh"

for b in cilium-lab cilium-agent cilium-cni; do
  if [ ! -x "$BIN/$b" ]; then
    echo "ERROR: $BIN/$b not built"
    trap - EXIT
    exit 77
  fi
done
[ "$(id -u)" = 0 ] || { echo "ERROR: needs root"; trap - EXIT; exit 77; }

log "up: lab $LAB with 2 nodes"
lab up --nodes 2 --kvstore directory --bin-dir "$BIN"
ST="$(lab status --json)"
expect_eq "node count" 2 "$(jq '.nodes | length' <<<"$ST")"
expect_eq "node1 underlay" "192.0.2.11 2001:db8::11" "$(jq -r '.nodes[0].underlay_ips | join(" ")' <<<"$ST")"
expect_eq "node2 podCIDRs" "10.233.65.0/24 fd00:10:233:2::/64" "$(jq -r '.nodes[1].pod_cidrs | join(" ")' <<<"$ST")"
expect_eq "node1 netns path" "/run/netns/cpp-${LAB}-node1" "$(jq -r '.nodes[0].netns_path' <<<"$ST")"
expect_eq "agents alive" "true true" "$(jq -r '[.nodes[].agent.alive] | map(tostring) | join(" ")' <<<"$ST")"
AGENT_PIDS="$(jq -r '.nodes[].agent.pid' <<<"$ST" | tr '\n' ' ')"
for p in $AGENT_PIDS; do
  tr '\0' ' ' </proc/$p/cmdline | grep -q cilium-agent || fail "pid $p is not a cilium-agent"
done
[ -f "/run/ciliumpp/lab/$LAB/node1/net.d/05-cilium.conflist" ] || fail "node1 conflist missing"
expect_eq "node1 config cluster-name" "$LAB" "$(cat /run/ciliumpp/lab/$LAB/node1/config/cluster-name)"
expect_eq "node2 config ipv4-range" "10.233.65.0/24" "$(cat /run/ciliumpp/lab/$LAB/node2/config/ipv4-range)"

log "pods on both nodes"
lab pod add node1 web1 --namespace shop --labels app=web,tier=front
lab pod add node2 web2 --namespace shop --labels app=web
ST="$(lab status --json)"
expect_eq "pod count" 2 "$(jq '.pods | length' <<<"$ST")"
W1="$(jq -c '.pods[] | select(.name=="web1")' <<<"$ST")"
W2="$(jq -c '.pods[] | select(.name=="web2")' <<<"$ST")"
expect_eq "web1 node" node1 "$(jq -r .node <<<"$W1")"
expect_eq "web1 namespace" shop "$(jq -r .namespace <<<"$W1")"
expect_eq "web1 netns" "/run/netns/cpp-${LAB}-web1" "$(jq -r .netns_path <<<"$W1")"
W1_V4="$(jq -r .ipv4 <<<"$W1")"
W1_V6="$(jq -r .ipv6 <<<"$W1")"
W2_V4="$(jq -r .ipv4 <<<"$W2")"
case "$W1_V4" in 10.233.64.*) echo "ok: web1 ipv4 $W1_V4 in node1's PodCIDR" ;; *) fail "web1 ipv4 '$W1_V4'" ;; esac
case "$W1_V6" in fd00:10:233:1::*) echo "ok: web1 ipv6 $W1_V6 in node1's PodCIDR" ;; *) fail "web1 ipv6 '$W1_V6'" ;; esac
case "$W2_V4" in 10.233.65.*) echo "ok: web2 ipv4 $W2_V4 in node2's PodCIDR" ;; *) fail "web2 ipv4 '$W2_V4'" ;; esac
[ "$(jq -r .endpoint_id <<<"$W1")" -gt 0 ] && echo "ok: web1 has endpoint id $(jq -r .endpoint_id <<<"$W1")" ||
  fail "web1 endpoint id: $(jq -r .endpoint_id <<<"$W1")"
[ "$(jq -r .endpoint_id <<<"$W2")" -gt 0 ] || fail "web2 endpoint id: $(jq -r .endpoint_id <<<"$W2")"
POD_OBJ="/run/ciliumpp/lab/$LAB/store/Pod/shop/web1.json"
[ -f "$POD_OBJ" ] || fail "Pod object $POD_OBJ missing"
expect_eq "Pod object nodeName" node1 "$(jq -r .spec.nodeName "$POD_OBJ")"
expect_eq "Pod object labels" "front web" "$(jq -r '[.metadata.labels.tier, .metadata.labels.app] | join(" ")' "$POD_OBJ")"
expect_eq "Pod object podIP" "$W1_V4" "$(jq -r .status.podIP "$POD_OBJ")"
if lab pod add node1 web1 2>/dev/null; then fail "adding web1 twice succeeded"; else echo "ok: duplicate pod rejected"; fi
if lab pod add node9 x 2>/dev/null; then fail "pod on an unknown node succeeded"; else echo "ok: unknown node rejected"; fi

log "exec"
expect_contains "exec web1 ip addr" "$W1_V4" "$(lab exec web1 -- ip -4 -o addr show dev eth0)"
set +e
lab exec web1 -- sh -c 'exit 7'
RC=$?
set -e
expect_eq "exec exit code" 7 "$RC"
expect_contains "exec node1" "192.0.2.11" "$(lab exec node1 -- ip -4 -o addr show dev eth0)"
lab exec web1 -- ping -c 1 -W 2 "$(jq -r .nodes[0].router_ipv4 <<<"$ST")" >/dev/null || fail "web1 cannot ping its router"

log "connectivity test"
set +e
OUT="$(lab connectivity test 2>&1)"
RC=$?
set -e
printf '%s\n' "$OUT"
expect_eq "connectivity test exit code" 0 "$RC"
LAST="$(printf '%s\n' "$OUT" | tail -n 1)"
if [[ "$LAST" =~ ^([0-9]+)\ passed,\ 0\ failed$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; then
  echo "ok: last line '$LAST'"
else
  fail "connectivity summary line: '$LAST'"
fi
for t in no-policies/pod-to-pod/same-node/tcp/ipv4 no-policies/pod-to-pod/same-node/udp/ipv6 \
  no-policies/client-to-client/same-node/icmp/ipv4 no-policies/pod-to-host/router-ip/icmp/ipv6 \
  no-policies/host-to-pod/same-node/tcp/ipv4; do
  expect_contains "connectivity output" "$t" "$OUT"
done
expect_contains "skipped list" "allow-all-except-world" "$OUT"
JSON="$(lab connectivity test --json)"
expect_eq "json failed" 0 "$(jq .failed <<<"$JSON")"
expect_eq "json passed equals results" "$(jq '.results | length' <<<"$JSON")" "$(jq .passed <<<"$JSON")"
expect_eq "probe pods reused (2 pods + 5 probe pods)" 7 "$(lab status --json | jq '.pods | length')"

log "apply / delete"
STORE="/run/ciliumpp/lab/$LAB/store"
OUT="$(lab apply -f "$HERE/testdata/policies-good.yaml")"
expect_contains "apply" "ciliumnetworkpolicy.cilium.io/echo-ingress-from-client created" "$OUT"
expect_contains "apply" "ciliumclusterwidenetworkpolicy.cilium.io/allow-all-within-cluster created" "$OUT"
[ -f "$STORE/CiliumNetworkPolicy/cilium-test/echo-ingress-from-client.json" ] || fail "CNP not in the store"
[ -f "$STORE/CiliumClusterwideNetworkPolicy/_cluster/allow-all-within-cluster.json" ] || fail "CCNP not in the store"
expect_eq "port stays a string" '"8080"' \
  "$(jq -c '.spec.ingress[0].toPorts[0].ports[0].port' "$STORE/CiliumNetworkPolicy/cilium-test/echo-ingress-from-client.json")"
expect_contains "re-apply" "unchanged" "$(lab apply -f "$HERE/testdata/policies-good.yaml")"
set +e
ERR="$(lab apply -f "$HERE/testdata/policies-bad.yaml" 2>&1 >/dev/null)"
RC=$?
set -e
[ "$RC" -ne 0 ] && echo "ok: bad file rejected (exit $RC)" || fail "bad file accepted"
expect_contains "bad file error" "document 2: metadata.name: required" "$ERR"
[ ! -e "$STORE/CiliumNetworkPolicy/default/would-be-written.json" ] && echo "ok: nothing written" ||
  fail "a document of the rejected file was written"
OUT="$(lab delete -f "$HERE/testdata/policies-good.yaml")"
expect_contains "delete" "echo-ingress-from-client deleted" "$OUT"
[ ! -e "$STORE/CiliumNetworkPolicy/cilium-test/echo-ingress-from-client.json" ] || fail "CNP still in the store"
if lab delete -f "$HERE/testdata/policies-good.yaml" 2>/dev/null; then fail "deleting twice succeeded"; fi
lab delete -f "$HERE/testdata/policies-good.yaml" --ignore-not-found >/dev/null

log "pod del"
lab pod del node2 web2
[ ! -e "/run/netns/cpp-${LAB}-web2" ] || fail "web2 namespace still there"
[ ! -e "$STORE/Pod/shop/web2.json" ] || fail "web2 Pod object still there"
expect_eq "pods after del" "" "$(lab status --json | jq -r '.pods[] | select(.name=="web2") | .name')"
if lab pod del node2 web2 2>/dev/null; then fail "deleting web2 twice succeeded"; fi

log "down"
lab down
expect_lab_gone $AGENT_PIDS
lab down >/dev/null || fail "second down failed"

[ "$FAILED" = 0 ] || die "some checks failed"
echo "PASS"
