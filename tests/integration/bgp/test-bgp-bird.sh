#!/usr/bin/env bash
# The speaker against BIRD 2: Established, BIRD's tables hold our IPv4 and
# IPv6 prefixes with the right next hops, a withdrawal after apply(), and a
# graceful stop (stop(keep_routes=true) with graceful restart negotiated)
# leaves the routes in BIRD's table until the speaker is back.
BIN=${1:?usage: test-bgp-bird.sh BIN_DIR}
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/bgp-fixture.sh"
command -v bird >/dev/null || { echo "bird2 not installed (scripts/install-deps.sh)"; exit 1; }
bgp_topology

cat >"$D/bird.conf" <<CONF
router id $PEER4;
protocol device {}
protocol bgp up {
  local $PEER4 as 65002;
  neighbor $SPK4 as 65001;
  graceful restart on;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
CONF
bg_in_ns BIRD_PID "$D/bird.log" "$PEER_NS" bird -f -c "$D/bird.conf" -s "$D/bird.ctl" -P "$D/bird.pid"
birdc() { in_ns "$PEER_NS" /usr/sbin/birdc -s "$D/bird.ctl" "$@"; }
wait_for 30 birdc show status || { echo "bird did not start"; cat "$D/bird.log"; exit 1; }

speaker_config "$PEER4 65002 retry=2 gr" <<<"$ALL_ROUTES"
start_speaker

bird_established() { birdc show protocols up | grep -q Established; }
# bird_has PREFIX NEXTHOP: BIRD's table has PREFIX via NEXTHOP.
bird_has() { birdc show route for "$1" | grep -q "via $2 "; }
bird_lacks() { birdc show route "$1" | grep -q "Network not found" || ! birdc show route "$1" | grep -q "$1"; }
bird_not_established() { ! bird_established; }

check "speaker reaches established with BIRD" wait_for 60 speaker_state_is $PEER4 established
check "BIRD sees the session established" wait_for 30 bird_established
check "BIRD has 10.10.0.0/24 via $SPK4" wait_for 30 bird_has 10.10.0.0/24 $SPK4
check "BIRD has 10.20.0.0/24 via $SPK4" wait_for 30 bird_has 10.20.0.0/24 $SPK4
check "BIRD has 2001:db8:10::/64 via $SPK6" wait_for 30 bird_has 2001:db8:10::/64 $SPK6
check "BIRD has 2001:db8:20::/64 via $SPK6" wait_for 30 bird_has 2001:db8:20::/64 $SPK6

speaker_config "$PEER4 65002 retry=2 gr" <<<"$FEWER_ROUTES"
check "BIRD loses 10.20.0.0/24 after apply()" wait_for 30 bird_lacks 10.20.0.0/24
check "BIRD loses 2001:db8:20::/64 after apply()" wait_for 30 bird_lacks 2001:db8:20::/64
check "BIRD keeps 10.10.0.0/24" bird_has 10.10.0.0/24 $SPK4

kill -USR1 "$SPK_PID"
check "speaker exits on a graceful stop" wait_for 30 bash -c "! kill -0 $SPK_PID"
check "BIRD notices the session is gone" wait_for 30 bird_not_established
check "BIRD keeps 10.10.0.0/24 through our restart" bird_has 10.10.0.0/24 $SPK4
check "BIRD keeps 2001:db8:10::/64 through our restart" bird_has 2001:db8:10::/64 $SPK6
# Back with a different table: the new route arrives, and the stale one we no
# longer advertise goes once BIRD has our End-of-RIB.
speaker_config "$PEER4 65002 retry=2 gr" <<EOF2
route 10.30.0.0/24
route 2001:db8:10::/64 $SPK6
EOF2
start_speaker restarting
check "session re-established after our restart" wait_for 60 speaker_state_is $PEER4 established
check "BIRD sees the session established again" wait_for 30 bird_established
check "BIRD has the new 10.30.0.0/24 after the restart" wait_for 30 bird_has 10.30.0.0/24 $SPK4
check "BIRD flushes the stale 10.10.0.0/24 after our End-of-RIB" wait_for 30 bird_lacks 10.10.0.0/24
check "BIRD keeps 2001:db8:10::/64" bird_has 2001:db8:10::/64 $SPK6

[ "$FIX_FAILS" -eq 0 ] || { dump_logs; echo "--- bird log"; tail -30 "$D/bird.log"; birdc show protocols all up; birdc show route all; }
fix_summary
