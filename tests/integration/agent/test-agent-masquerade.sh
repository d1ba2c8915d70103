#!/usr/bin/env bash
# Masquerading through the real agent: a node on an underlay bridge next to
# a "world" namespace that has no route to the pods. The agent attaches
# bpf_netdev to the node's native device at start; a pod made by cilium-cni
# reaches the world, which sees the node's address (IPv4 and IPv6); no
# iptables rule exists; kill -9 and restart of the agent replaces the
# programs in place without losing the flow or the NAT map.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/node-fixture.sh"

UL=cpp-it${FIX_SUFFIX}-ul
WORLD=cpp-it${FIX_SUFFIX}-world
W4=203.0.113.7
W6=2001:db8:ffff::7

node_setup
printf 'true' >"$CONFIG/enable-ipv6-masquerade"
fix_underlay "$UL"
fix_netns "$WORLD"
fix_underlay_link "$NODE_NAME" n0 192.0.2.1 2001:db8::1
fix_underlay_link "$WORLD" w0 192.0.2.100 2001:db8::100
ip -n "$NODE_NAME" route add default via 192.0.2.100
ip -n "$NODE_NAME" -6 route add default via 2001:db8::100
ip -n "$WORLD" addr add "$W4/32" dev lo
ip -n "$WORLD" addr add "$W6/128" dev lo

agent_start
fix_netns "$(pod_netns a)"
cni ADD a >/dev/null
POD=$(pod_netns a)

status=$(dbg status --json)
check "status: eth0 masquerades to the node's addresses" \
  json_has "$status" '.masquerading == [{"device": "eth0", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1"}]'
check "bpf_netdev on eth0 egress and ingress" bash -c \
  "in_ns() { nsenter --net=/run/netns/\$1 \"\${@:2}\"; }; in_ns $NODE_NAME tc filter show dev eth0 egress | grep -q cil_to_netdev && in_ns $NODE_NAME tc filter show dev eth0 ingress | grep -q cil_from_netdev"

# Servers in the world answer with the peer address they see.
bg_in_ns srv4 "$ROOT/srv4.log" "$WORLD" socat TCP4-LISTEN:8080,bind=$W4,fork,reuseaddr 'SYSTEM:echo $SOCAT_PEERADDR'
bg_in_ns srv6 "$ROOT/srv6.log" "$WORLD" socat "TCP6-LISTEN:8080,bind=[$W6],fork,reuseaddr" 'SYSTEM:echo $SOCAT_PEERADDR'
wait_for 10 bash -c "nsenter --net=/run/netns/$WORLD ss -Hltn | grep -c ':8080' | grep -q 2"
ask() { in_ns "$POD" socat -T5 - "$1" </dev/null 2>/dev/null; }
seen4=$(ask "TCP4:$W4:8080" || true)
seen6=$(ask "TCP6:[$W6]:8080" || true)
check "IPv4: the world sees the node's address (got '$seen4')" test "$seen4" = 192.0.2.1
# socat prints IPv6 peers in full, bracketed.
check "IPv6: the world sees the node's address (got '$seen6')" test "$seen6" = '[2001:0db8:0000:0000:0000:0000:0000:0001]'
check "ping IPv4 to the world" in_ns "$POD" ping -c1 -W3 "$W4"
check "ping IPv6 to the world" in_ns "$POD" ping -6 -c1 -W3 "$W6"
nat=$(dbg bpf nat list --json)
check "cilium-dbg bpf nat list shows the translations" \
  json_has "$nat" 'map(select(.direction == "OUT" and (.xlate | startswith("192.0.2.1:")))) | length > 0'
check "the agent lists the NAT maps" json_has "$(dbg map list --json)" 'any(.[]; .name == "cpp_snat" and .entries > 0)'
check "the agent serves the NAT entries" json_has "$(dbg map get cpp_snat)" 'any(.[]; .direction == "IN")'
check "no iptables NAT rule in the node" bash -c \
  "! nsenter --net=/run/netns/$NODE_NAME iptables-save | grep -qi -e nat -e MASQUERADE"

# A flow across kill -9 and restart of the agent.
map_before=$(bpftool -j map show pinned "$PIN_DIR/node1/cpp_snat4" | jq .id)
prog_before=$(in_ns "$NODE_NAME" tc -j filter show dev eth0 egress | jq '[.[] | .options.prog.id // empty][0]')
bg_in_ns ping_pid "$ROOT/ping.txt" "$POD" ping -c 25 -i 0.2 -W 1 "$W4"
sleep 1  # the restart must fall inside the ping run
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
agent_start
wait "$ping_pid" || true
check "ping to the world lost nothing across the restart" grep -q ' 0% packet loss' "$ROOT/ping.txt"
prog_after=$(in_ns "$NODE_NAME" tc -j filter show dev eth0 egress | jq '[.[] | .options.prog.id // empty][0]')
check "the restarted agent replaced the egress program ($prog_before -> $prog_after)" \
  bash -c "[ -n '$prog_after' ] && [ '$prog_after' != null ] && [ '$prog_after' != '$prog_before' ]"
check "the NAT map is the same pinned map" \
  test "$(bpftool -j map show pinned "$PIN_DIR/node1/cpp_snat4" | jq .id)" = "$map_before"
seen4=$(ask "TCP4:$W4:8080" || true)
check "after the restart the world still sees the node (got '$seen4')" test "$seen4" = 192.0.2.1
fix_summary
