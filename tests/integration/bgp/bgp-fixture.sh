# Shared by the BGP integration tests: a speaker namespace and a peer
# namespace joined by a veth pair, the test speaker (bgp-test-speaker, the
# real make_speaker()) running in the first, helpers to steer and observe it.
# Source after tests/lib/fixture.sh; BIN is the build's bin directory.
SPK_NS=cpp-bgp$FIX_SUFFIX-spk
PEER_NS=cpp-bgp$FIX_SUFFIX-peer
SPK4=192.0.2.1 SPK6=2001:db8::1
PEER4=192.0.2.2 PEER6=2001:db8::2
D=$(mktemp -d /tmp/cpp-bgp-test.XXXXXX)
fix_path "$D"
chmod 755 "$D"

bgp_topology() {
  fix_netns "$SPK_NS"
  fix_netns "$PEER_NS"
  ip -n "$SPK_NS" link add eth0 type veth peer name eth0 netns "$PEER_NS"
  ip -n "$SPK_NS" addr add $SPK4/24 dev eth0
  ip -n "$SPK_NS" addr add $SPK6/64 dev eth0 nodad
  ip -n "$PEER_NS" addr add $PEER4/24 dev eth0
  ip -n "$PEER_NS" addr add $PEER6/64 dev eth0 nodad
  ip -n "$SPK_NS" link set eth0 up
  ip -n "$PEER_NS" link set eth0 up
}

# speaker_config NEIGHBOR_LINE... < routes on stdin: writes the speaker's
# config atomically (the speaker re-applies on change).
speaker_config() {
  {
    echo "router-id $SPK4"
    echo "router 65001"
    local n
    for n in "$@"; do echo "neighbor $n"; done
    cat
  } >"$D/speaker.conf.tmp"
  mv "$D/speaker.conf.tmp" "$D/speaker.conf"
}

start_speaker() {
  bg_in_ns SPK_PID "$D/speaker.log" "$SPK_NS" "$BIN/bgp-test-speaker" "$D/speaker.conf" "$D/status.json" "$@"
}

# speaker_peer ADDR FIELD: a field of the speaker's status for one peer.
speaker_peer() { jq -r --arg p "$1" ".[] | select(.peer == \$p) | .$2" "$D/status.json" 2>/dev/null; }
speaker_state_is() { [ "$(speaker_peer "$1" state)" = "$2" ]; }
speaker_received_is() { [ "$(speaker_peer "$1" received)" = "$2" ]; }

# The four routes every test advertises; the IPv6 ones carry the speaker's
# IPv6 address as next hop (the session runs over IPv4).
ALL_ROUTES="route 10.10.0.0/24
route 10.20.0.0/24
route 2001:db8:10::/64 $SPK6
route 2001:db8:20::/64 $SPK6"
FEWER_ROUTES="route 10.10.0.0/24
route 2001:db8:10::/64 $SPK6"

dump_logs() {
  echo "--- speaker log (tail)"; tail -40 "$D/speaker.log" 2>/dev/null || true
  echo "--- status"; cat "$D/status.json" 2>/dev/null || true
}
