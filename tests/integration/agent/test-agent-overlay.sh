#!/usr/bin/env bash
# Two nodes, two real cilium-agents in tunnel mode sharing one store
# directory, on an underlay bridge; a pod on each made by cilium-cni. The
# CiliumNode objects are written here (addresses, PodCIDRs), the agents
# publish their CiliumEndpoints. Checks: cross-node IPv4/IPv6 through
# cilium_vxlan, the ipcache and route of the other node, a kill -9 restart
# of one agent under cross-node traffic without loss, and that a node that
# leaves (agent stopped, CiliumNode deleted) loses its route and entries on
# the other node.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"

CLUSTER=ov${FIX_SUFFIX}
STORE=/run/ciliumpp/test/$CLUSTER-store
UL=cpp-$CLUSTER-ul
fix_path "$STORE"
fix_path "/sys/fs/bpf/ciliumpp/$CLUSTER"
mkdir -p "$STORE/CiliumNode/_cluster"
fix_underlay "$UL"

ns_of() { echo "cpp-$CLUSTER-n$1"; }
root_of() { echo "/run/ciliumpp/test/$CLUSTER-n$1"; }
pod_of() { echo "cpp-$CLUSTER-pod$1"; }
dbg() { local n=$1; shift; in_ns "$(ns_of "$n")" "$BIN/cilium-dbg" -H "$(root_of "$n")/cilium.sock" "$@"; }

# node N ADDR CIDR4 CIDR6: node namespace on the bridge and its agent config.
node() {
  local n=$1 ns root c
  ns=$(ns_of "$n")
  root=$(root_of "$n")
  c=$root/config
  fix_path "$root"
  fix_netns "$ns"
  fix_underlay_link "$ns" "p$n$FIX_SUFFIX" "$2"
  mkdir -p "$c"
  printf '%s' "$CLUSTER" >"$c/cluster-name"
  printf 'true' >"$c/enable-ipv4"
  printf 'true' >"$c/enable-ipv6"
  printf '%s' "$3" >"$c/ipv4-range"
  printf '%s' "$4" >"$c/ipv6-range"
  printf '%s' "$root/state" >"$c/state-dir"
  printf '%s' "$root/cilium.sock" >"$c/socket-path"
  printf '%s' "$STORE" >"$c/local-store-dir"
  printf '%s' "$root/net.d/05-cilium.conflist" >"$c/write-cni-conf-when-ready"
  printf 'tunnel' >"$c/routing-mode"
  printf 'false' >"$c/enable-ipv4-masquerade"
}

agent_start() {  # N; sets AGENT_<N>
  local n=$1 pid
  bg_in_ns pid "$(root_of "$n")/agent.log" "$(ns_of "$n")" "$BIN/cilium-agent" --config-dir "$(root_of "$n")/config" \
    --node-name "node$n"
  printf -v "AGENT_$n" '%s' "$pid"
  wait_for 60 dbg "$n" status || { echo "agent $n did not become ready; log:"; cat "$(root_of "$n")/agent.log"; exit 1; }
}

# cilium_node N ADDR CIDR4 CIDR6: the object node registration and the
# operator would write, put atomically.
cilium_node() {
  local f=$STORE/CiliumNode/_cluster/node$1.json s
  s=$(dbg "$1" status --json)
  jq -n --arg name "node$1" --arg ip "$2" --arg r4 "$(jq -r '."router-ipv4"' <<<"$s")" \
    --arg r6 "$(jq -r '."router-ipv6"' <<<"$s")" --arg c4 "$3" --arg c6 "$4" \
    '{apiVersion: "cilium.io/v2", kind: "CiliumNode", metadata: {name: $name},
      spec: {addresses: [{type: "InternalIP", ip: $ip}, {type: "CiliumInternalIP", ip: $r4},
                         {type: "CiliumInternalIP", ip: $r6}],
             ipam: {podCIDRs: [$c4, $c6]}}}' >"$f.tmp"
  mv "$f.tmp" "$f"
}

# pod N: a pod on node N through cilium-cni; sets IP4_<N>, IP6_<N>.
pod() {
  local n=$1 conf res
  fix_netns "$(pod_of "$n")"
  conf=$(jq -c '.plugins[0] + {cniVersion: .cniVersion, name: .name}' "$(root_of "$n")/net.d/05-cilium.conflist")
  res=$(printf '%s' "$conf" | in_ns "$(ns_of "$n")" env CNI_COMMAND=ADD CNI_CONTAINERID="c-$n" \
    CNI_NETNS="/run/netns/$(pod_of "$n")" CNI_IFNAME=eth0 CNI_PATH="$BIN" \
    CNI_ARGS="K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod$n" "$BIN/cilium-cni" 2>>"$(root_of "$n")/cni.log")
  printf -v "IP4_$n" '%s' "$(jq -r '.ips[] | select(.address | contains(".")) | .address' <<<"$res" | cut -d/ -f1)"
  printf -v "IP6_$n" '%s' "$(jq -r '.ips[] | select(.address | contains(":")) | .address' <<<"$res" | cut -d/ -f1)"
}

ipcache_entry() {  # N PREFIX -> the entry's JSON, or nothing
  dbg "$1" -o json bpf ipcache list | jq -c --arg p "$2" '.[] | select(.prefix == $p)'
}
has_route() {  # N PREFIX
  local fam=-4
  [[ "$2" == *:* ]] && fam=-6
  in_ns "$(ns_of "$1")" ip "$fam" route show "$2" | grep -q 'dev cilium_host'
}

node 1 192.0.2.1 10.233.64.0/24 fd00:10:233:1::/64
node 2 192.0.2.2 10.233.65.0/24 fd00:10:233:2::/64
agent_start 1
agent_start 2
cilium_node 1 192.0.2.1 10.233.64.0/24 fd00:10:233:1::/64
cilium_node 2 192.0.2.2 10.233.65.0/24 fd00:10:233:2::/64
pod 1
pod 2

check "cilium_vxlan is external VXLAN on port 8472 without learning" \
  bash -c "ip -n $(ns_of 1) -d link show cilium_vxlan | grep -q 'vxlan external .*dstport 8472.*nolearning'"
check "bpf_overlay is attached to cilium_vxlan ingress" \
  bash -c "nsenter --net=/run/netns/$(ns_of 1) tc filter show dev cilium_vxlan ingress | grep -q 'name cil_from_overla'"  # kernel names stop at 15 characters
check "node 1 routes node 2's IPv4 PodCIDR via cilium_host with the pod MTU" \
  wait_for 20 bash -c "ip -n $(ns_of 1) route show 10.233.65.0/24 | grep -q 'dev cilium_host.*mtu 1450'"
check "node 1 routes node 2's IPv6 PodCIDR via cilium_host" wait_for 20 has_route 1 fd00:10:233:2::/64
check "node 1's ipcache: node 2's PodCIDR is world through the tunnel" \
  json_has "$(ipcache_entry 1 10.233.65.0/24)" '.identity == 2 and .tunnel_endpoint == "192.0.2.2"'
check "node 1's ipcache: pod 2 has its identity and node 2 as tunnel endpoint" \
  wait_for 20 bash -c "[ \"\$(nsenter --net=/run/netns/$(ns_of 1) $BIN/cilium-dbg -H $(root_of 1)/cilium.sock -o json bpf ipcache list |
    jq -r '.[] | select(.prefix == \"$IP4_2/32\") | select(.identity >= 256) | .tunnel_endpoint')\" = 192.0.2.2 ]"
check "node 1's ipcache: node 2's address is remote-node, not tunnelled" \
  json_has "$(ipcache_entry 1 192.0.2.2/32)" '.identity == 6 and .tunnel_endpoint == "0.0.0.0"'
check "node 1's ipcache: its own pod stays local" \
  json_has "$(ipcache_entry 1 "$IP4_1/32")" '.tunnel_endpoint == "0.0.0.0"'

check "pod 1 -> pod 2 over IPv4" wait_for 20 in_ns "$(pod_of 1)" ping -q -c1 -W1 "$IP4_2"
check "pod 1 -> pod 2 over IPv6" wait_for 20 in_ns "$(pod_of 1)" ping -q -6 -c1 -W1 "$IP6_2"
check "pod 2 -> pod 1 over IPv4" in_ns "$(pod_of 2)" ping -q -c1 -W2 "$IP4_1"
check "node 1 -> pod 2 (host traffic into the tunnel)" in_ns "$(ns_of 1)" ping -q -c1 -W2 "$IP4_2"
check "full-size packets cross with DF set (pod MTU 1450)" in_ns "$(pod_of 1)" ping -q -c1 -W2 -s 1422 -M do "$IP4_2"

# kill -9 node 1's agent while pod 1 streams to pod 2 and pings it.
bg_in_ns srv "$(root_of 2)/iperf-server.log" "$(pod_of 2)" iperf3 -s -1
wait_for 30 bash -c "nsenter --net=/run/netns/$(pod_of 2) ss -ltn | grep -q ':5201'"
bg_in_ns iperf_pid "$(root_of 1)/iperf.json" "$(pod_of 1)" iperf3 -c "$IP4_2" -t 6 -i 1 --json
bg_in_ns ping_pid "$(root_of 1)/ping.txt" "$(pod_of 1)" ping -6 -c 30 -i 0.2 -W 1 "$IP6_2"
wait_for 30 bash -c "nsenter --net=/run/netns/$(pod_of 1) ss -tn state established | grep -q '$IP4_2:5201'"
check "the recorded PID is agent 1 itself" grep -q cilium-agent "/proc/$AGENT_1/cmdline"
kill -9 "$AGENT_1"
wait "$AGENT_1" 2>/dev/null || true
agent_start 1
wait "$iperf_pid" && iperf_rc=0 || iperf_rc=$?
wait "$ping_pid" || true
check "cross-node stream survived the agent restart" test "$iperf_rc" = 0
check "every second of the stream moved data" \
  jq -e '[.intervals[].sum.bytes] | length >= 5 and all(. > 0)' "$(root_of 1)/iperf.json"
check "cross-node ping lost nothing across the restart" grep -q ' 0% packet loss' "$(root_of 1)/ping.txt"
check "the restarted agent keeps node 2's route" has_route 1 10.233.65.0/24

# Node 2 leaves the cluster: its agent stops (a running agent registers its
# CiliumNode again, as upstream's does), then its CiliumNode goes.
kill "$AGENT_2"
wait "$AGENT_2" 2>/dev/null || true
rm "$STORE/CiliumNode/_cluster/node2.json"
check "deleting node 2's CiliumNode removes its route on node 1" \
  wait_for 20 bash -c "! ip -n $(ns_of 1) route show 10.233.65.0/24 | grep -q ."
check "... and its PodCIDR and address from node 1's ipcache" \
  bash -c "[ -z \"\$(nsenter --net=/run/netns/$(ns_of 1) $BIN/cilium-dbg -H $(root_of 1)/cilium.sock -o json bpf ipcache list |
    jq -c '.[] | select(.prefix == \"10.233.65.0/24\" or .prefix == \"192.0.2.2/32\")')\" ]"
agent_start 2
cilium_node 2 192.0.2.2 10.233.65.0/24 fd00:10:233:2::/64
check "node 2 back: its route returns" wait_for 20 has_route 1 10.233.65.0/24
check "node 2 back: node 1 reaches pod 2 again" wait_for 20 in_ns "$(pod_of 1)" ping -q -c1 -W1 "$IP4_2"
fix_summary
