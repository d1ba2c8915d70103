#!/usr/bin/env bash
# The speaker against FRR (zebra + bgpd): an MD5-signed session with the
# right key reaches Established and FRR's RIB holds our IPv4 and IPv6
# prefixes with the right next hops; a second session with a wrong key never
# comes up while the first stays up (hold time 9 s, so keepalives flow);
# apply() without a prefix withdraws it; restarting bgpd re-establishes the
# session and brings the routes back.
BIN=${1:?usage: test-bgp-frr.sh BIN_DIR}
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/bgp-fixture.sh"
[ -x /usr/lib/frr/bgpd ] || { echo "frr not installed (scripts/install-deps.sh)"; exit 1; }
bgp_topology
# A second address pair for the session with the wrong MD5 key.
SPK4B=192.0.2.11 PEER4B=192.0.2.12
ip -n "$SPK_NS" addr add $SPK4B/24 dev eth0
ip -n "$PEER_NS" addr add $PEER4B/24 dev eth0

R=$D/frr
mkdir -p "$R"
echo "hostname peer" >"$R/zebra.conf"
cat >"$R/bgpd.conf" <<CONF
hostname peer
router bgp 65002
 bgp router-id $PEER4
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor $SPK4 remote-as 65001
 neighbor $SPK4 password rightkey
 neighbor $SPK4B remote-as 65001
 neighbor $SPK4B password rightkey
 address-family ipv4 unicast
  neighbor $SPK4 activate
  neighbor $SPK4B activate
 exit-address-family
 address-family ipv6 unicast
  neighbor $SPK4 activate
  neighbor $SPK4B activate
 exit-address-family
CONF
chown -R frr:frr "$R"
bg_in_ns ZEBRA_PID "$D/zebra.log" "$PEER_NS" /usr/lib/frr/zebra -f "$R/zebra.conf" -i "$R/zebra.pid" \
  -z "$R/zserv.api" --vty_socket "$R"
wait_for 30 test -S "$R/zserv.api" || { echo "zebra did not start"; cat "$D/zebra.log"; exit 1; }
start_bgpd() {
  bg_in_ns BGPD_PID "$D/bgpd.log" "$PEER_NS" /usr/lib/frr/bgpd -f "$R/bgpd.conf" -i "$R/bgpd.pid" \
    -z "$R/zserv.api" --vty_socket "$R"
}
start_bgpd
vtysh() { in_ns "$PEER_NS" /usr/bin/vtysh --vty_socket "$R" -c "$1"; }
wait_for 30 vtysh "show bgp summary json" || { echo "bgpd did not start"; cat "$D/bgpd.log"; exit 1; }

speaker_config "$PEER4 65002 md5=rightkey local=$SPK4 retry=2 hold=9" \
  "$PEER4B 65002 md5=wrongkey local=$SPK4B retry=2" <<<"$ALL_ROUTES"
start_speaker

frr_state_is() { [ "$(vtysh "show bgp neighbors $1 json" | jq -r --arg n "$1" '.[$n].bgpState')" = "$2" ]; }
# frr_has FAMILY PREFIX NEXTHOP: FRR's RIB has PREFIX with NEXTHOP.
frr_has() {
  vtysh "show bgp $1 unicast json" |
    jq -e --arg p "$2" --arg nh "$3" '.routes[$p] | any(.[]; any(.nexthops[]; .ip == $nh))' >/dev/null
}
frr_lacks() { vtysh "show bgp $1 unicast json" | jq -e --arg p "$2" '.routes | has($p) | not' >/dev/null; }
all_routes_in_frr() {
  frr_has ipv4 10.10.0.0/24 $SPK4 && frr_has ipv4 10.20.0.0/24 $SPK4 &&
    frr_has ipv6 2001:db8:10::/64 $SPK6 && frr_has ipv6 2001:db8:20::/64 $SPK6
}

check "MD5 session (right key) reaches established" wait_for 60 speaker_state_is $PEER4 established
check "FRR sees it established" wait_for 30 frr_state_is $SPK4 Established
check "negotiated hold time is 9 s" test "$(speaker_peer $PEER4 hold)" = 9
check "FRR has 10.10.0.0/24 via $SPK4" wait_for 30 frr_has ipv4 10.10.0.0/24 $SPK4
check "FRR has 10.20.0.0/24 via $SPK4" wait_for 30 frr_has ipv4 10.20.0.0/24 $SPK4
check "FRR has 2001:db8:10::/64 via $SPK6" wait_for 30 frr_has ipv6 2001:db8:10::/64 $SPK6
check "FRR has 2001:db8:20::/64 via $SPK6" wait_for 30 frr_has ipv6 2001:db8:20::/64 $SPK6

# The wrong key: the peer's kernel drops our SYNs. Watch the session for
# longer than the other one's hold time.
WRONG_SEEN_UP=0
deadline=$(( $(date +%s) + 15 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  [ "$(speaker_peer $PEER4B ever_established)" = true ] && WRONG_SEEN_UP=1
  frr_state_is $SPK4B Established && WRONG_SEEN_UP=1
  sleep 0.5
done
check "wrong MD5 key never reaches established" test $WRONG_SEEN_UP = 0
check "the right-key session stayed up meanwhile (keepalives)" speaker_state_is $PEER4 established
check "FRR still Established with the right-key session" frr_state_is $SPK4 Established

speaker_config "$PEER4 65002 md5=rightkey local=$SPK4 retry=2 hold=9" \
  "$PEER4B 65002 md5=wrongkey local=$SPK4B retry=2" <<<"$FEWER_ROUTES"
check "FRR loses 10.20.0.0/24 after apply()" wait_for 30 frr_lacks ipv4 10.20.0.0/24
check "FRR loses 2001:db8:20::/64 after apply()" wait_for 30 frr_lacks ipv6 2001:db8:20::/64
check "FRR keeps 10.10.0.0/24" frr_has ipv4 10.10.0.0/24 $SPK4
check "session stayed up through apply()" speaker_state_is $PEER4 established

speaker_config "$PEER4 65002 md5=rightkey local=$SPK4 retry=2 hold=9" \
  "$PEER4B 65002 md5=wrongkey local=$SPK4B retry=2" <<<"$ALL_ROUTES"
check "FRR has the routes again after apply()" wait_for 30 all_routes_in_frr

kill -9 "$BGPD_PID"
wait "$BGPD_PID" 2>/dev/null || true
check "speaker notices the peer is gone" wait_for 30 bash -c "! jq -e '.[] | select(.peer == \"$PEER4\" and .state == \"established\")' $D/status.json"
start_bgpd
check "session re-established after the peer restarts" wait_for 90 speaker_state_is $PEER4 established
check "FRR has all routes again after its restart" wait_for 60 all_routes_in_frr

[ "$FIX_FAILS" -eq 0 ] || { dump_logs; echo "--- bgpd log"; tail -30 "$D/bgpd.log"; }
fix_summary
