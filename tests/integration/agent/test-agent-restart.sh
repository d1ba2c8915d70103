#!/usr/bin/env bash
# kill -9 the agent while pods exchange traffic: the TCP stream and the ping
# keep going, and the restarted agent restores every endpoint with the same
# ids and addresses without recreating or flushing the pinned maps.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/node-fixture.sh"

node_setup
agent_start
for p in a b; do fix_netns "$(pod_netns $p)"; cni ADD $p >/dev/null; done
ipb=$(dbg endpoint get container-id:c-b | jq -r .addressing.ipv4)
ip6b=$(dbg endpoint get container-id:c-b | jq -r .addressing.ipv6)

bg_in_ns server_pid "$ROOT/iperf-server.log" "$(pod_netns b)" iperf3 -s -1
wait_for 30 bash -c "nsenter --net=/run/netns/$(pod_netns b) ss -ltn | grep -q ':5201'"
bg_in_ns iperf_pid "$ROOT/iperf.json" "$(pod_netns a)" iperf3 -c "$ipb" -t 6 -i 1 --json
bg_in_ns ping_pid "$ROOT/ping.txt" "$(pod_netns a)" ping -c 30 -i 0.2 -W 1 "$ip6b"
wait_for 30 bash -c "nsenter --net=/run/netns/$(pod_netns a) ss -tn state established | grep -q '$ipb:5201'"

endpoints_before=$(dbg endpoint list --json | jq -c 'map({id, addressing, "host-interface-name"})')
map_id_before=$(bpftool -j map show pinned "$PIN_DIR/node1/cpp_lxc" | jq .id)

old_agent=$AGENT_PID
check "the recorded PID is the agent itself" grep -q cilium-agent "/proc/$old_agent/cmdline"
kill -9 "$old_agent"
wait "$old_agent" 2>/dev/null || true
check "agent is gone" bash -c "! kill -0 $old_agent 2>/dev/null"
out=$(cni STATUS x || true)
check "CNI STATUS reports the agent unavailable (code 50)" json_has "$out" '.code == 50'
agent_start
check "restarted agent reports ready" dbg status
check "the restarted agent is a new process" test "$AGENT_PID" != "$old_agent"

wait "$iperf_pid" && iperf_rc=0 || iperf_rc=$?
wait "$ping_pid" || true
check "iperf3 stream completed without error" test "$iperf_rc" = 0
check "every one-second interval of the stream moved data" \
  jq -e '[.intervals[].sum.bytes] | length >= 5 and all(. > 0)' "$ROOT/iperf.json"
check "ping lost nothing across the restart" grep -q ' 0% packet loss' "$ROOT/ping.txt"
check "endpoints restored with the same ids and addresses" \
  test "$(dbg endpoint list --json | jq -c 'map({id, addressing, "host-interface-name"})')" = "$endpoints_before"
check "pinned endpoint map is the same map (not recreated)" \
  test "$(bpftool -j map show pinned "$PIN_DIR/node1/cpp_lxc" | jq .id)" = "$map_id_before"
check "endpoint map still holds both pods and the router IPs" test "$(dbg bpf endpoint list --json | jq length)" = 6

fix_netns "$(pod_netns c)"
cni ADD c >/dev/null
ipc=$(dbg endpoint get container-id:c-c | jq -r .addressing.ipv4)
check "a pod added after the restart gets a fresh address" bash -c "[ '$ipc' != '$ipb' ] && [ -n '$ipc' ]"
check "the new pod reaches an old one" in_ns "$(pod_netns c)" ping -c1 -i0.2 -w10 "$ipb"
fix_summary
