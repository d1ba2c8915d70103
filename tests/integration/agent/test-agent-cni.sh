#!/usr/bin/env bash
# The agent and cilium-cni together on one node: real namespaces, real veths,
# real BPF programs, real packets; plus every bad-input path of the plugin.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/node-fixture.sh"

node_setup
agent_start
check "healthz on 127.0.0.1:9879 answers 200 once ready" \
  test "$(in_ns "$NODE_NAME" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9879/healthz)" = 200
check "conflist written to write-cni-conf-when-ready" test "$(jq -r '.plugins[0].type' "$CONFLIST")" = cilium-cni
check "cilium_host carries both router IPs" \
  bash -c "ip -n $NODE_NAME -br addr show cilium_host | grep -q '10.233.64.1/32' && ip -n $NODE_NAME -br addr show cilium_host | grep -q 'fd00:10:233:1::1/128'"
check "PodCIDR routed via cilium_host" bash -c "ip -n $NODE_NAME route | grep -q '10.233.64.0/24 via 10.233.64.1 dev cilium_host'"

out=$(CNI_STDIN_OVERRIDE='{}' cni VERSION x || true)
check "VERSION lists 1.0.0" json_has "$out" '.supportedVersions | index("1.0.0")'

for p in a b; do fix_netns "$(pod_netns $p)"; done
ra=$(cni ADD a); rb=$(cni ADD b)
ipa=$(jq -r '.ips[0].address' <<<"$ra" | cut -d/ -f1); ipb=$(jq -r '.ips[0].address' <<<"$rb" | cut -d/ -f1)
ip6a=$(jq -r '.ips[1].address' <<<"$ra" | cut -d/ -f1); ip6b=$(jq -r '.ips[1].address' <<<"$rb" | cut -d/ -f1)
check "ADD returns IPv4 and IPv6 in the PodCIDRs" bash -c "[[ $ipa == 10.233.64.* && $ip6b == fd00:10:233:1:* ]]"
check "pod MTU is 1450 (tunnel mode)" bash -c "ip -n $(pod_netns a) link show eth0 | grep -q 'mtu 1450'"
check "pod a -> pod b IPv4 ping" in_ns "$(pod_netns a)" ping -c1 -i0.2 -w10 "$ipb"
check "pod b -> pod a IPv6 ping" in_ns "$(pod_netns b)" ping -c1 -i0.2 -w10 "$ip6a"
check "pod a -> router IPv4" in_ns "$(pod_netns a)" ping -c1 -i0.2 -w10 10.233.64.1
check "node -> pod b IPv6" in_ns "$NODE_NAME" ping -c1 -i0.2 -w10 "$ip6b"
check "conntrack tracked the pings" json_has "$(dbg bpf ct list --json)" "map(select(.destination | startswith(\"$ipb\"))) | length > 0"
check "endpoint list shows both pods" test "$(dbg endpoint list --json | jq length)" = 2
check "bpf endpoint list has pods and router IPs" test "$(dbg bpf endpoint list --json | jq length)" = 6
check "CiliumEndpoint objects in the store" test -f "$ROOT/store/CiliumEndpoint/default/a.json"
ida=$(dbg endpoint get container-id:c-a | jq .identity)
check "pod a has a cluster identity (>= 256)" test "$ida" -ge 256
check "its CiliumIdentity object is in the store" test -f "$ROOT/store/CiliumIdentity/_cluster/$ida.json"

id_before=$(dbg endpoint get container-id:c-a | jq .id)
again=$(cni ADD a)
check "repeated ADD returns the same addresses" test "$(jq -c .ips <<<"$again")" = "$(jq -c .ips <<<"$ra")"
check "repeated ADD keeps endpoint id and adds no device" \
  bash -c "[ $(dbg endpoint get container-id:c-a | jq .id) = $id_before ] && [ $(lxc_count) = 2 ]"
check "CHECK passes on a healthy pod" cni CHECK a
ip -n "$(pod_netns a)" addr del "$ipa/32" dev eth0
out=$(cni CHECK a || true)
check "CHECK reports a missing address" json_has "$out" ".code == 101 and (.msg | contains(\"$ipa\"))"

allocs_before=$(allocations); links_before=$(lxc_count)
fix_netns "$(pod_netns c)"
out=$(CNI_STDIN_OVERRIDE='{"cniVersion":' cni ADD c || true)
check "malformed JSON: code 6" json_has "$out" '.code == 6'
out=$(CNI_STDIN_OVERRIDE='{"cniVersion":"7.0.0","name":"cilium"}' cni ADD c || true)
check "unsupported version: code 1" json_has "$out" '.code == 1'
out=$(CNI_NETNS_OVERRIDE=/run/netns/cpp-it${FIX_SUFFIX}-missing cni ADD c || true)
check "missing netns: code 3 naming the path" json_has "$out" '.code == 3 and (.msg | test("missing"))'
out=$(CNI_NETNS_OVERRIDE=/etc/hostname cni ADD c || true)
check "wrong netns (not a namespace): error" json_has "$out" '.code > 0'
out=$(cni ADD c eth0-name-that-is-too-long || true)
check "invalid ifname: code 4" json_has "$out" '.code == 4'
ip -n "$(pod_netns c)" link add eth0 type veth peer name squat0
out=$(cni ADD c || true)
check "ADD into a pod whose eth0 exists fails naming the device" json_has "$out" '.code > 0 and (.msg | test("eth0"))'
check "failed ADDs leave no device" test "$(lxc_count)" = "$links_before"
check "failed ADDs leave no address allocated" test "$(allocations)" = "$allocs_before"
check "failed ADDs leave no endpoint" test "$(dbg endpoint list --json | jq length)" = 2

check "DEL of an unknown container succeeds" cni DEL never-added
out=$(dbg endpoint get 4000 2>&1 || true)
check "API: missing endpoint is a clear error" grep -q 'endpoint 4000 not found' <<<"$out"

cni DEL a
check "DEL removes the device" test "$(lxc_count)" = 1
check "DEL releases the addresses" json_has "$(allocations)" 'has("c-a:eth0") | not'
check "DEL removes the endpoint and its map entries" test "$(dbg bpf endpoint list --json | jq length)" = 4
check "DEL removes the CiliumEndpoint object" test ! -f "$ROOT/store/CiliumEndpoint/default/a.json"
check "DEL twice is fine" cni DEL a

maps=$(dbg map list --json)
check "map list shows the endpoint map with its entry count" \
  json_has "$maps" 'map(select(.name == "cpp_lxc"))[0].entries == 4 and (map(.name) | index("cpp_policy") != null)'
check "map get cpp_lxc decodes pod b" json_has "$(dbg map get cpp_lxc)" "map(.address) | index(\"$ipb\")"
out=$(dbg map get cpp_nothing 2>&1 || true)
check "map get of an unknown map is a clear error" grep -q 'map cpp_nothing not found' <<<"$out"
check "STATUS succeeds while the agent is ready" cni STATUS x

fix_netns "$(pod_netns d)"
cni ADD d >/dev/null
gc_conf=$(jq -c '.plugins[0] + {cniVersion: "1.1.0", name: .name, "cni.dev/valid-attachments": [{containerID: "c-b", ifname: "eth0"}]}' "$CONFLIST")
CNI_STDIN_OVERRIDE="$gc_conf" cni GC x >/dev/null
eps=$(dbg endpoint list --json)
check "GC keeps the valid attachment" json_has "$eps" 'map(."container-id") == ["c-b"]'
check "GC removed the stale pod's device" test "$(lxc_count)" = 1
check "pod b still reachable from the node" in_ns "$NODE_NAME" ping -c1 -i0.2 -w10 "$ipb"

fix_summary
