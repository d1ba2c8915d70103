#!/usr/bin/env bash
# Graceful restart with the PEER restarting (RFC 4724 §4.2, the speaker as
# the helper), against GoBGP 3 (`gobgpd -r` after SIGKILL). GoBGP announces
# two routes; killed, the speaker keeps both, stale, while the session is
# down; back (Restart State and Forwarding State bits set) it gets all our
# routes again and announces one of its two: after its End-of-RIB the other
# is gone and nothing is stale. Killed again and not restarted, its routes
# go when its restart time runs out.
BIN=${1:?usage: test-bgp-gr-helper.sh BIN_DIR}
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/bgp-fixture.sh"
command -v gobgpd >/dev/null || { echo "gobgpd not installed (scripts/install-deps.sh)"; exit 1; }
bgp_topology

# gobgpd_config RESTART_TIME [ADMIN_DOWN]: graceful restart for both
# families. Admin-down holds the session until the test has put GoBGP's
# routes in place, so what it announces after a restart is known.
gobgpd_config() {
  cat >"$D/gobgpd.toml" <<TOML
[global.config]
  as = 65002
  router-id = "$PEER4"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$SPK4"
    peer-as = 65001
    admin-down = ${2:-false}
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = $1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
TOML
}
gobgp() { in_ns "$PEER_NS" /usr/bin/gobgp -u 127.0.0.1 -p 50051 "$@"; }
# start_gobgpd [-r]: -r flags the Restart State bit (GoBGP restarted).
start_gobgpd() {
  echo "--- gobgpd $*" >>"$D/gobgpd.log"
  bg_in_ns GOBGP_PID "$D/gobgpd.log" "$PEER_NS" gobgpd -f "$D/gobgpd.toml" -p --api-hosts=127.0.0.1:50051 \
    --pprof-disable "$@"
  wait_for 30 gobgp neighbor || { echo "gobgpd did not start"; cat "$D/gobgpd.log"; exit 1; }
}
kill_gobgpd() {
  kill -9 "$GOBGP_PID"
  wait "$GOBGP_PID" 2>/dev/null || true
}
gobgp_state() { gobgp neighbor "$SPK4" -j | jq -r '.state.session_state'; }
gobgp_established() { [ "$(gobgp_state)" = "6" ] || [ "$(gobgp_state)" = "established" ]; }
gobgp_has() { gobgp global rib -a "$1" -j | jq -e --arg p "$2" 'has($p)' >/dev/null; }
gobgp_has_all_ours() {
  gobgp_has ipv4 10.10.0.0/24 && gobgp_has ipv4 10.20.0.0/24 &&
    gobgp_has ipv6 2001:db8:10::/64 && gobgp_has ipv6 2001:db8:20::/64
}
# speaker_counts RECEIVED STALE: the speaker's counts of GoBGP's routes.
speaker_counts() { [ "$(speaker_peer $PEER4 received)/$(speaker_peer $PEER4 stale)" = "$1/$2" ]; }
speaker_down() { ! speaker_state_is $PEER4 established && [ -n "$(speaker_peer $PEER4 state)" ]; }

gobgpd_config 60
start_gobgpd
gobgp global rib add 10.99.0.0/24 -a ipv4 >/dev/null
gobgp global rib add 2001:db8:99::/64 -a ipv6 nexthop $PEER6 >/dev/null
speaker_config "$PEER4 65002 retry=2 gr" <<<"$ALL_ROUTES"
start_speaker
check "speaker reaches established with GoBGP (graceful restart)" wait_for 60 speaker_state_is $PEER4 established
check "graceful restart negotiated" test "$(speaker_peer $PEER4 graceful_restart)" = true
check "GoBGP has all our routes" wait_for 30 gobgp_has_all_ours
check "speaker received GoBGP's 2 routes" wait_for 30 speaker_counts 2 0
check "one per family" test "$(jq -c '.[0].received_by_family' "$D/status.json")" = \
  '{"ipv4-unicast":1,"ipv6-unicast":1}'

# GoBGP dies: no NOTIFICATION, just the kernel closing its socket.
kill_gobgpd
check "session not established while GoBGP is down" wait_for 30 speaker_down
check "speaker keeps GoBGP's 2 routes, stale" wait_for 10 speaker_counts 2 2

# Back with the Restart State bit, announcing only the IPv4 route this time.
gobgpd_config 60 true
start_gobgpd -r
gobgp global rib add 10.99.0.0/24 -a ipv4 >/dev/null
gobgp neighbor "$SPK4" enable >/dev/null
check "session re-established after GoBGP's restart" wait_for 60 speaker_state_is $PEER4 established
check "GoBGP has all our routes again (refreshed)" wait_for 30 gobgp_has_all_ours
check "after GoBGP's End-of-RIB: its IPv6 route is gone, nothing stale" wait_for 30 speaker_counts 1 0
check "the IPv4 route stayed" test "$(jq -c '.[0].received_by_family' "$D/status.json")" = '{"ipv4-unicast":1}'
check "speaker logged the End-of-RIB sweep" grep -q "End-of-RIB ipv6-unicast: removed 1 stale routes" "$D/speaker.log"

# Killed again with a 5 s restart time, and never back.
kill_gobgpd
check "speaker sees GoBGP gone" wait_for 30 speaker_down
gobgpd_config 5
start_gobgpd
check "session up with a 5 s restart time (GoBGP's side)" wait_for 60 gobgp_established
check "speaker established again" wait_for 30 speaker_state_is $PEER4 established
gobgp global rib add 10.99.0.0/24 -a ipv4 >/dev/null
check "speaker received GoBGP's route" wait_for 30 speaker_counts 1 0
kill_gobgpd
check "route kept stale for GoBGP's 5 s restart time" \
  wait_for 30 grep -q "keeping 1 routes stale for up to 5s" "$D/speaker.log"
check "GoBGP does not come back: its route is removed" wait_for 30 speaker_counts 0 0
check "removed for the restart time, not another reason" \
  grep -q "removed 1 stale routes: the peer did not come back within its restart time" "$D/speaker.log"
check "the session stays down" speaker_down

[ "$FIX_FAILS" -eq 0 ] || { dump_logs; echo "--- gobgpd log"; tail -30 "$D/gobgpd.log"; }
fix_summary
