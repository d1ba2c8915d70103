#!/usr/bin/env bash
# One node: the agent makes the health endpoint (own namespace, lxc_health,
# identity 4), answers HTTP on 4240 on the node IP and in the endpoint, probes
# itself over ICMP and HTTP, keeps the same endpoint across a restart, and
# makes nothing when health checking is off.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/health-fixture.sh"

default_ns_existed=no
[ -e /run/netns/cilium-health ] && default_ns_existed=yes

underlay_setup
node_setup 1
agent_start 1
N1=$(node_ns n1)
H1=$(health_ns n1)

check "health namespace $H1 created" test -e "/run/netns/$H1"
has_link() { ip -n "$1" link show "$2" >/dev/null 2>&1; }
check "lxc_health on the node" has_link "$N1" lxc_health
ep=$(dbg 1 endpoint list --json | jq -c '.[] | select(."container-id" == "cilium-health")')
check "health endpoint registered" test -n "$ep"
check "health endpoint has the reserved health identity 4" test "$(jq .identity <<<"$ep")" = 4
check "health endpoint labels are reserved:health" json_has "$ep" '.labels == {"reserved:health": ""}'
check "cilium-dbg endpoint list shows reserved:health" grep -q 'reserved:health' <<<"$(dbg 1 endpoint list)"
h4=$(jq -r '.addressing.ipv4' <<<"$ep"); h6=$(jq -r '.addressing.ipv6' <<<"$ep"); ep_id=$(jq .id <<<"$ep")
check "health endpoint has IPv4 and IPv6 from the PodCIDRs" bash -c "[[ $h4 == 10.233.64.* && $h6 == fd00:10:233:1:* ]]"
check "eth0 in the health namespace carries both addresses" \
  bash -c "ip -n $H1 -br addr show eth0 | grep -q '$h4/32' && ip -n $H1 -br addr show eth0 | grep -q '$h6/128'"
check "IPAM owner 'health' holds the addresses" \
  json_has "$(dbg 1 status --json)" ".ipam.allocations | tostring | contains(\"health\")"
check "no CiliumEndpoint object for the health endpoint" \
  bash -c "! grep -rqs cilium-health '$STORE/CiliumEndpoint'"
check "ipcache maps the health IP to identity 4" \
  json_has "$(dbg 1 bpf ipcache list)" "map(select(.prefix == \"$h4/32\" and .identity == 4)) | length == 1"

http_code() { in_ns "$N1" curl -s -g -o /dev/null -m 5 -w '%{http_code}' "$1"; }
check "node answers GET /hello on $(node_ip 1):4240" test "$(http_code "http://$(node_ip 1):4240/hello")" = 200
check "node answers GET /hello on [$(node_ip6 1)]:4240" test "$(http_code "http://[$(node_ip6 1)]:4240/hello")" = 200
check "health endpoint answers GET /hello on $h4:4240 (through the datapath)" test "$(http_code "http://$h4:4240/hello")" = 200
check "health endpoint answers GET /hello on [$h6]:4240" test "$(http_code "http://[$h6]:4240/hello")" = 200

self_ok() {
  local s; s=$(health_status 1) || return 1
  json_has "$s" '.nodes[] | select(.name == "n1" and .local and .reachable)
    | [.host["primary-address"], .host["secondary-addresses"][], .["health-endpoint"]["primary-address"],
       .["health-endpoint"]["secondary-addresses"][]]
    | length == 4 and all(.icmp.status == "ok" and .icmp["latency-ns"] > 0 and .http.status == "ok" and .http["latency-ns"] > 0)'
}
check "cilium-health: the node reaches itself (node IP and health IP, v4 and v6, ICMP and HTTP, latency > 0)" \
  wait_for 30 self_ok
s=$(health_status 1)
check "status JSON names node IP and health IP" \
  json_has "$s" ".nodes[0][\"node-ip\"] == \"$(node_ip 1)\" and .nodes[0][\"health-ip\"] == \"$h4\""
text=$(chealth 1 status)
echo "$text"
check "text output: Cluster health 1/1 reachable" grep -q 'Cluster health:   1/1 reachable' <<<"$text"
check "text output: per-node RTT lines" grep -qE 'ICMP to stack:   OK, RTT=[0-9.]+(ns|µs|ms)' <<<"$text"
t1=$(jq '."probe-time-ms"' <<<"$(chealth 1 -o json status)")
t2=$(jq '."probe-time-ms"' <<<"$(chealth 1 -o json ping)")
check "ping runs a fresh round" test "$t2" -gt "$t1"

ns_inode=$(stat -L -c %i "/run/netns/$H1")
agent_stop 1
check "health endpoint stays while the agent is down" has_link "$N1" lxc_health
agent_start 1
ep2=$(dbg 1 endpoint list --json | jq -c '.[] | select(."container-id" == "cilium-health")')
check "restart: same endpoint id" test "$(jq .id <<<"$ep2")" = "$ep_id"
check "restart: same IPv4" test "$(jq -r .addressing.ipv4 <<<"$ep2")" = "$h4"
check "restart: same namespace" test "$(stat -L -c %i "/run/netns/$H1")" = "$ns_inode"
check "restart: one health endpoint, one lxc_health" \
  bash -c "[ \$(nsenter --net=/run/netns/$N1 $BIN/cilium-dbg -H $(sock 1) endpoint list --json | jq '[.[] | select(.identity == 4)] | length') = 1 ] && \
           [ \$(ip -n $N1 -o link show | grep -c 'lxc_health') = 1 ]"
check "restart: the node still reaches its health endpoint" wait_for 30 self_ok
check "restart: log says adopted" grep -q "health endpoint $ep_id adopted" "$ROOT/n1/agent.log"

# The namespace deleted while the agent was down: made again on start.
agent_stop 1
ip netns del "$H1"
# The kernel tears a namespace down asynchronously.
check "namespace deleted: lxc_health went with it" wait_for 30 bash -c "! ip -n $N1 link show lxc_health >/dev/null 2>&1"
agent_start 1
check "namespace deleted: made again" test -e "/run/netns/$H1"
check "namespace deleted: the health endpoint is back with its IPv4" \
  test "$(dbg 1 endpoint list --json | jq -r '.[] | select(.identity == 4) | .addressing.ipv4')" = "$h4"
check "namespace deleted: the node reaches its health endpoint again" wait_for 30 self_ok

# A second node configured with the same health-netns must not take it over.
node_setup 5 "health-netns=$H1"
agent_start 5
check "shared health-netns: the second node makes no endpoint" \
  bash -c "! ip -n $(node_ns n5) link show lxc_health >/dev/null 2>&1"
check "shared health-netns: the reason is reported" \
  json_has "$(chealth 5 -o json status)" '.["health-endpoint"].error | contains("shared with another node")'
check "shared health-netns: the first node's endpoint is untouched" wait_for 30 self_ok

# Turning endpoint health checking off on a restart removes what was made.
agent_stop 1
printf 'false' >"$ROOT/n1/config/enable-endpoint-health-checking"
agent_start 1
check "turned off: health endpoint removed" test "$(dbg 1 endpoint list --json | jq '[.[] | select(.identity == 4)] | length')" = 0
check "turned off: lxc_health removed" bash -c "! ip -n $N1 link show lxc_health >/dev/null 2>&1"
check "turned off: health namespace removed" test ! -e "/run/netns/$H1"
check "turned off: IPAM owner 'health' released" \
  bash -c "! nsenter --net=/run/netns/$N1 $BIN/cilium-dbg -H $(sock 1) status --json | jq -c .ipam.allocations | grep -q health"
check "turned off: the node still probes itself" json_has "$(health_status 1)" '.nodes[0].reachable'

# Health checking off: no namespace, no device, no endpoint, an API error.
node_setup 2 enable-health-checking=false
agent_start 2
check "disabled: no health namespace" test ! -e "/run/netns/$(health_ns n2)"
check "disabled: no lxc_health" bash -c "! ip -n $(node_ns n2) link show lxc_health >/dev/null 2>&1"
check "disabled: no health endpoint" test "$(dbg 2 endpoint list --json | jq length)" = 0
check "disabled: cilium-health status fails and says why" \
  bash -c "! out=\$(nsenter --net=/run/netns/$(node_ns n2) $BIN/cilium-health --socket $(sock 2) status 2>&1) && grep -q disabled <<<\"\$out\""
check "disabled: nothing answers on 4240" bash -c "! nsenter --net=/run/netns/$(node_ns n2) curl -s -m 2 http://$(node_ip 2):4240/hello"

# Endpoint health checking off: node probes only.
node_setup 3 enable-endpoint-health-checking=false
agent_start 3
check "endpoint checking off: no lxc_health" bash -c "! ip -n $(node_ns n3) link show lxc_health >/dev/null 2>&1"
check "endpoint checking off: the node still probes itself" \
  json_has "$(health_status 3)" '.nodes[0].reachable and .nodes[0]["health-endpoint"] == null'

# A node namespace without health-netns: the shared default name is refused.
node_setup 4
rm "$ROOT/n4/config/health-netns"
agent_start 4
check "no health-netns in a node namespace: no endpoint" bash -c "! ip -n $(node_ns n4) link show lxc_health >/dev/null 2>&1"
check "no health-netns in a node namespace: the reason is reported" \
  json_has "$(chealth 4 -o json status)" '.["health-endpoint"].error | contains("set health-netns")'
if [ "$default_ns_existed" = no ] && [ -e /run/netns/cilium-health ]; then
  fail "the default namespace cilium-health was created"; ip netns del cilium-health
else
  pass "the default namespace cilium-health was not created"
fi

check "cilium-health exits non-zero when the agent is unreachable" \
  bash -c "! $BIN/cilium-health --socket $ROOT/none.sock status 2>/dev/null"
fix_summary
