#!/usr/bin/env bash
# The speaker against GoBGP 3: Established, GoBGP's RIB holds our IPv4 and
# IPv6 prefixes with the right next hops, a withdrawal after apply(), a route
# GoBGP announces counted as received, Cease on stop.
BIN=${1:?usage: test-bgp-gobgp.sh BIN_DIR}
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/bgp-fixture.sh"
command -v gobgpd >/dev/null || { echo "gobgpd not installed (scripts/install-deps.sh)"; exit 1; }
bgp_topology

cat >"$D/gobgpd.toml" <<TOML
[global.config]
  as = 65002
  router-id = "$PEER4"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$SPK4"
    peer-as = 65001
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
TOML
bg_in_ns GOBGP_PID "$D/gobgpd.log" "$PEER_NS" gobgpd -f "$D/gobgpd.toml" -p --api-hosts=127.0.0.1:50051 --pprof-disable
gobgp() { in_ns "$PEER_NS" /usr/bin/gobgp -u 127.0.0.1 -p 50051 "$@"; }
wait_for 30 gobgp neighbor || { echo "gobgpd did not start"; cat "$D/gobgpd.log"; exit 1; }

speaker_config "$PEER4 65002 retry=2" <<<"$ALL_ROUTES"
start_speaker

gobgp_state() { gobgp neighbor "$SPK4" -j | jq -r '.state.session_state'; }
gobgp_established() { [ "$(gobgp_state)" = "6" ] || [ "$(gobgp_state)" = "established" ]; }
# gobgp_nexthop FAMILY PREFIX: the next hop of PREFIX in GoBGP's global RIB.
gobgp_nexthop() {
  gobgp global rib -a "$1" -j | jq -r --arg p "$2" \
    '.[$p][0].attrs[] | select(.type == 3 or .type == 14) | (.nexthop // .value.nexthop // empty)' | head -1
}
gobgp_has() { [ "$(gobgp_nexthop "$1" "$2")" = "$3" ]; }
gobgp_lacks() { gobgp global rib -a "$1" -j | jq -e --arg p "$2" 'has($p) | not' >/dev/null; }

check "speaker reaches established with GoBGP" wait_for 60 speaker_state_is $PEER4 established
check "GoBGP sees the session established" wait_for 30 gobgp_established
check "GoBGP has 10.10.0.0/24 via $SPK4" wait_for 30 gobgp_has ipv4 10.10.0.0/24 $SPK4
check "GoBGP has 10.20.0.0/24 via $SPK4" wait_for 30 gobgp_has ipv4 10.20.0.0/24 $SPK4
check "GoBGP has 2001:db8:10::/64 via $SPK6" wait_for 30 gobgp_has ipv6 2001:db8:10::/64 $SPK6
check "GoBGP has 2001:db8:20::/64 via $SPK6" wait_for 30 gobgp_has ipv6 2001:db8:20::/64 $SPK6
gobgp_aspath_is_ours() {
  gobgp global rib -a ipv4 -j |
    jq -e '.["10.10.0.0/24"][0].attrs[] | select(.type == 2) | .as_paths[0].asns == [65001]' >/dev/null
}
check "AS_PATH is [65001]" gobgp_aspath_is_ours
speaker_advertised_is() { [ "$(speaker_peer "$1" advertised)" = "$2" ]; }
check "speaker counts 4 advertised" wait_for 10 speaker_advertised_is $PEER4 4

speaker_config "$PEER4 65002 retry=2" <<<"$FEWER_ROUTES"
check "GoBGP loses 10.20.0.0/24 after apply()" wait_for 30 gobgp_lacks ipv4 10.20.0.0/24
check "GoBGP loses 2001:db8:20::/64 after apply()" wait_for 30 gobgp_lacks ipv6 2001:db8:20::/64
check "GoBGP keeps 10.10.0.0/24" gobgp_has ipv4 10.10.0.0/24 $SPK4
check "GoBGP keeps 2001:db8:10::/64" gobgp_has ipv6 2001:db8:10::/64 $SPK6

gobgp global rib add 10.99.0.0/24 -a ipv4 >/dev/null
gobgp global rib add 2001:db8:99::/64 -a ipv6 nexthop $PEER6 >/dev/null
check "speaker counts GoBGP's 2 routes as received" wait_for 30 speaker_received_is $PEER4 2
gobgp global rib del 10.99.0.0/24 -a ipv4 >/dev/null
check "speaker sees GoBGP's withdrawal" wait_for 30 speaker_received_is $PEER4 1

kill -TERM "$SPK_PID"
check "speaker exits on SIGTERM" wait_for 30 bash -c "! kill -0 $SPK_PID"
check "GoBGP saw a Cease / Admin Shutdown" wait_for 30 grep -qiE "administrative.?shutdown|code 6.*subcode 2" "$D/gobgpd.log"
check "GoBGP drops our routes after stop()" wait_for 30 gobgp_lacks ipv4 10.10.0.0/24

[ "$FIX_FAILS" -eq 0 ] || { dump_logs; echo "--- gobgpd log"; tail -30 "$D/gobgpd.log"; }
fix_summary
