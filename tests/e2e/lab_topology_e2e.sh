#!/usr/bin/env bash
# cilium-lab without agents (up --no-agent): namespaces, underlay, node
# addressing, config directories, apply/delete into the store, and a down
# that leaves nothing behind — also after a failed up.
# Usage: lab_topology_e2e.sh BIN_DIR
BIN="$(cd "${1:?usage: $0 BIN_DIR}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/lib.sh"
[ -x "$BIN/cilium-lab" ] || { echo "ERROR: cilium-lab not built"; trap - EXIT; exit 77; }
[ "$(id -u)" = 0 ] || { echo "ERROR: needs root"; trap - EXIT; exit 77; }

ROOT_FWD="$(cat /proc/sys/net/ipv4/ip_forward)"

log "up --no-agent with 3 nodes"
lab up --nodes 3 --kvstore directory --no-agent
for ns in underlay node1 node2 node3; do
  [ -e "/run/netns/cpp-${LAB}-$ns" ] || fail "namespace cpp-${LAB}-$ns missing"
done
if lab up --nodes 1 --kvstore directory --no-agent 2>/dev/null; then fail "second up of the same lab succeeded"; else echo "ok: lab exists"; fi
expect_eq "root namespace forwarding untouched" "$ROOT_FWD" "$(cat /proc/sys/net/ipv4/ip_forward)"
expect_contains "node2 eth0" "192.0.2.12/24" "$(lab exec node2 -- ip -4 -o addr show dev eth0)"
expect_contains "node2 eth0 v6" "2001:db8::12/64" "$(lab exec node2 -- ip -6 -o addr show dev eth0)"
lab exec node1 -- ping -c 1 -W 2 192.0.2.13 >/dev/null && echo "ok: node1 -> node3 over the underlay" ||
  fail "node1 cannot reach node3 over IPv4"
lab exec node3 -- ping -c 1 -W 2 2001:db8::11 >/dev/null && echo "ok: node3 -> node1 over IPv6" ||
  fail "node3 cannot reach node1 over IPv6"
CFG="/run/ciliumpp/lab/$LAB/node3/config"
expect_eq "config ipv4-range" "10.233.66.0/24" "$(cat "$CFG/ipv4-range")"
expect_eq "config ipv6-range" "fd00:10:233:3::/64" "$(cat "$CFG/ipv6-range")"
expect_eq "config routing-mode" tunnel "$(cat "$CFG/routing-mode")"
expect_eq "config local-store-dir" "/run/ciliumpp/lab/$LAB/store" "$(cat "$CFG/local-store-dir")"
expect_eq "config write-cni-conf-when-ready" "/run/ciliumpp/lab/$LAB/node3/net.d/05-cilium.conflist" \
  "$(cat "$CFG/write-cni-conf-when-ready")"
expect_eq "Node object" "10.233.66.0/24" \
  "$(jq -r '.spec.podCIDRs[0]' "/run/ciliumpp/lab/$LAB/store/Node/_cluster/node3.json")"
ST="$(lab status --json)"
expect_eq "status nodes" 3 "$(jq '.nodes | length' <<<"$ST")"
expect_eq "status agent pid" 0 "$(jq '.nodes[0].agent.pid' <<<"$ST")"
if lab pod add node1 p 2>/dev/null; then fail "pod add without agents succeeded"; else echo "ok: pod add refused"; fi
if lab exec nosuch -- true 2>/dev/null; then fail "exec in an unknown pod succeeded"; fi

log "apply / delete"
lab apply -f "$HERE/testdata/policies-good.yaml"
if lab apply -f "$HERE/testdata/policies-bad.yaml" 2>/dev/null; then fail "bad file accepted"; fi
[ ! -e "/run/ciliumpp/lab/$LAB/store/CiliumNetworkPolicy/default/would-be-written.json" ] ||
  fail "a document of the rejected file was written"
lab delete -f "$HERE/testdata/policies-good.yaml"

log "down"
lab down
expect_lab_gone
expect_eq "down of a missing lab" 0 "$(lab down >/dev/null; echo $?)"

log "down after a failed up (the real agent rejects an invalid config value)"
set +e
ERR="$(lab up --nodes 2 --kvstore directory --bin-dir "$BIN" --set enable-ipv6=maybe --keep-on-failure 2>&1)"
RC=$?
set -e
[ "$RC" -ne 0 ] && echo "ok: up failed (exit $RC)" || fail "up with an invalid agent config succeeded"
expect_contains "up error" "exited during start-up" "$ERR"
expect_contains "up error shows the agent's message" "invalid value for config key 'enable-ipv6'" "$ERR"
[ -e "/run/netns/cpp-${LAB}-node1" ] || fail "--keep-on-failure removed the lab"
lab down >/dev/null
expect_lab_gone

[ "$FAILED" = 0 ] || die "some checks failed"
echo "PASS"
