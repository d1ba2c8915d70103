#!/usr/bin/env bash
# Two nodes on one underlay bridge, sharing a store: each probes the other's
# node addresses and, through the overlay, its health endpoint (ICMP and
# HTTP, IPv4 and IPv6) and reports latency; a
# CiliumNode whose address nobody holds is reported unreachable, and a
# removed CiliumNode leaves the report.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/health-fixture.sh"

underlay_setup
node_setup 1
node_setup 2
agent_start 1
agent_start 2

health_ip() { dbg "$1" endpoint list --json | jq -r --arg f "$2" '.[] | select(.identity == 4) | .addressing[$f]'; }
for i in 1 2; do
  write_cilium_node "n$i" "$(node_ip $i)" "$(node_ip6 $i)" "$(health_ip $i ipv4)" "$(health_ip $i ipv6)" \
    "$(cat "$ROOT/n$i/config/ipv4-range") $(cat "$ROOT/n$i/config/ipv6-range")"
done
# Inside the underlay's /24, but no namespace holds it.
write_cilium_node n3 192.0.2.200 2001:db8::200 10.233.99.9 ""

# peer_ok I NAME IP: node I reaches NAME's node addresses (IPv4 primary, IPv6 secondary) over ICMP and HTTP.
peer_ok() {
  local s; s=$(health_status "$1") || return 1
  json_has "$(node_health "$s" "$2")" ".\"node-ip\" == \"$3\" and
    ([.host[\"primary-address\"], .host[\"secondary-addresses\"][]]
     | length == 2 and all(.icmp.status == \"ok\" and .icmp[\"latency-ns\"] > 0 and .http.status == \"ok\" and .http[\"latency-ns\"] > 0))"
}
check "n1 reaches n2's node IPs (ICMP + HTTP, v4 + v6, latency > 0)" wait_for 60 peer_ok 1 n2 "$(node_ip 2)"
check "n2 reaches n1's node IPs (ICMP + HTTP, v4 + v6, latency > 0)" wait_for 60 peer_ok 2 n1 "$(node_ip 1)"

n3_down() {
  local s; s=$(health_status 1) || return 1
  json_has "$(node_health "$s" n3)" '.reachable == false and ."node-ip" == "192.0.2.200"
    and .host["primary-address"].icmp.status == "unreachable" and .host["primary-address"].http.status == "unreachable"
    and (.host["primary-address"].icmp.error | length > 0) and ."health-ip" == "10.233.99.9"
    and .["health-endpoint"]["primary-address"].icmp.status == "unreachable"'
}
check "n3 (192.0.2.200, nobody's address) is reported unreachable" wait_for 60 n3_down

s=$(health_status 1)
text=$(chealth 1 status)
echo "$text"
want=$(jq '[.nodes[] | select(.reachable)] | length' <<<"$s")
check "text summary counts the reachable nodes of 3" grep -q "Cluster health:   $want/3 reachable" <<<"$text"
# node_block NAME: the lines of node NAME in the text output.
node_block() { awk -v n="  $1:" '$0 == n {p = 1; next} /^  [^ ]/ {p = 0} p' <<<"$text"; }
check "text lists n3 with the failure" grep -q 'ICMP to stack:   no echo reply' <<<"$(node_block n3)"
check "text lists n2 with a round-trip time" grep -qE 'HTTP to agent:   OK, RTT=' <<<"$(node_block n2)"
# peer_endpoint_ok I NAME: node I reaches NAME's health endpoint (IPv4 and
# IPv6, through the VXLAN overlay) over ICMP and HTTP.
peer_endpoint_ok() {
  local s; s=$(health_status "$1") || return 1
  json_has "$(node_health "$s" "$2")" '.reachable and
    ([.["health-endpoint"]["primary-address"], .["health-endpoint"]["secondary-addresses"][]]
     | length == 2 and all(.icmp.status == "ok" and .icmp["latency-ns"] > 0 and .http.status == "ok" and .http["latency-ns"] > 0))'
}
check "n1 reaches n2's health endpoint across the overlay (ICMP + HTTP, v4 + v6)" wait_for 60 peer_endpoint_ok 1 n2
check "n2 reaches n1's health endpoint across the overlay (ICMP + HTTP, v4 + v6)" wait_for 60 peer_endpoint_ok 2 n1

rm "$STORE/CiliumNode/_cluster/n3.json"
n3_gone() { local s; s=$(health_status 1) && [ -z "$(node_health "$s" n3)" ]; }
check "a removed CiliumNode leaves the report" wait_for 30 n3_gone
fix_summary
