#!/usr/bin/env bash
# shellcheck disable=SC2119  # ctrd_start/ctrd_import_image take optional args
# test-containerd-ptp.sh — self-test of containerd-lib.sh with the stock
# reference plugins (ptp + host-local from /usr/lib/cni), no ciliumpp code:
#
#  * node = netns cpp-ctr-<suffix>; containerd/ctr from a temp dir;
#  * a busybox container started by `ctr run --rm --cni` inside the node gets
#    an address from 10.233.127.0/24 (and fd00:10:233:127::/64), pings the
#    node side of its veth (v4 and v6) and fetches a line over TCP from a
#    socat listener in the node namespace;
#  * after the container exits, the CNI DEL ran (host-local released the
#    addresses, libcni's cache entry is gone) and the veth is gone;
#  * teardown restores /etc/cni/net.d and /opt/cni/bin and leaves nothing.
#
# Usage: test-containerd-ptp.sh [BIN_DIR]   (BIN_DIR unused; ctest passes it)
set -euo pipefail
# shellcheck source=tests/integration/containerd/containerd-lib.sh
. "$(dirname "$0")/containerd-lib.sh"

SUFFIX=${CPP_TEST_SUFFIX:-$$}
NODE=cpp-ctr-$SUFFIX
SUBNET4=10.233.127.0/24
GW4=10.233.127.1
SUBNET6=fd00:10:233:127::/64
PORT=7777
TOKEN=ptp-ok-$SUFFIX
LISTENER_PID=

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*" >&2; }

cleanup() {
  local rc=$? trc=0
  if [ -n "$LISTENER_PID" ]; then kill -9 "$LISTENER_PID" 2>/dev/null || true; wait "$LISTENER_PID" 2>/dev/null || true; fi
  ctrd_teardown || trc=$?
  ctrd_verify_clean || trc=1
  if [ $rc -eq 0 ] && [ $trc -ne 0 ]; then echo "FAIL: teardown left state behind" >&2; rc=1; fi
  [ $rc -eq 0 ] && echo "PASS: containerd_ptp" >&2 || echo "FAILED: containerd_ptp (rc=$rc)" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctrd_init "$SUFFIX"
ctrd_netns_add "$NODE"

conf=$CTRD_DIR/ptp.conflist
cat >"$conf" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "cpp-ptp-$SUFFIX",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": false,
      "mtu": 1450,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CTRD_DIR/ipam",
        "ranges": [[{"subnet": "$SUBNET4"}], [{"subnet": "$SUBNET6"}]]
      }
    }
  ]
}
EOF
ctrd_cni_add_conflist "$conf"
ctrd_start
ctrd_import_image

# TCP peer on the node side (the container connects to the node's veth address)
# (dual-stack socket; replies "<token>-<line the client sent>" (no ":" — socat address syntax))
ctrd_bg nsenter --net="/run/netns/$NODE" socat -T10 "TCP6-LISTEN:$PORT,ipv6only=0,reuseaddr,fork" \
  "SYSTEM:read l; echo $TOKEN-\$l" \
  </dev/null >"$CTRD_DIR/socat.log" 2>&1
LISTENER_PID=$CTRD_BG_PID
listening() { nsenter --net="/run/netns/$NODE" ss -Htln "sport = :$PORT" | grep -q .; }
ctrd_wait_until 10 "listener on :$PORT" listening || fail "socat listener did not start"

# In the container: report addresses, ping the gateway (node side), fetch
# the token over TCP; every step prints a marker line the test checks.
read -r -d '' script <<EOF || true
ip -o addr show dev eth0
ip route; ip -6 route
a4=\$(ip -o -4 addr show dev eth0 | awk '{print \$4}' | cut -d/ -f1)
a6=\$(ip -o -6 addr show dev eth0 scope global | awk '{print \$4}' | cut -d/ -f1)
echo "ADDR4=\$a4"; echo "ADDR6=\$a6"
ping -c 2 -W 2 $GW4 >/dev/null && echo PING4=ok || echo PING4=fail
gw6=\$(ip -6 route show default | awk '{print \$3; exit}')
[ -z "\$gw6" ] && gw6=\$(ip -6 route | awk '/via/ {print \$3; exit}')
echo "GW6=\$gw6"
if [ -n "\$gw6" ]; then
  # DAD: wait (bounded) for the address to leave the tentative state
  i=0; while ip -6 addr show dev eth0 | grep -q tentative && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done
  ping -6 -c 2 -W 2 \$gw6 >/dev/null && echo PING6=ok || echo PING6=fail
fi
echo "TCP4=\$(echo c4 | nc -w 5 $GW4 $PORT)"
[ -n "\$gw6" ] && echo "TCP6=\$(echo c6 | nc -w 5 \$gw6 $PORT)"
EOF

rc=0; out=$(ctrd_run "$NODE" c1 60 sh -c "$script") || rc=$?
[ $rc -eq 0 ] || { echo "$out"; fail "ctr run exited $rc"; }
echo "$out"
get() { echo "$out" | sed -n "s/^$1=//p" | tail -n1; }

addr4=$(get ADDR4)
[[ $addr4 == 10.233.127.* ]] || fail "container IPv4 '$addr4' not in $SUBNET4"
pass "container got $addr4 (in $SUBNET4)"
[ "$(get PING4)" = ok ] || fail "ping $GW4 from the container"
pass "container pinged node side $GW4"
[ "$(get TCP4)" = "$TOKEN-c4" ] || fail "TCP exchange with $GW4:$PORT gave '$(get TCP4)'"
pass "container exchanged data over TCP with the node ($(get TCP4))"
addr6=$(get ADDR6)
[[ $addr6 == fd00:10:233:127:* ]] || fail "container IPv6 '$addr6' not in $SUBNET6"
pass "container got $addr6 (in $SUBNET6)"
[ "$(get PING6)" = ok ] || fail "ping6 $(get GW6) from the container"
pass "container pinged node side $(get GW6)"
[ "$(get TCP6)" = "$TOKEN-c6" ] || fail "TCP exchange with [$(get GW6)]:$PORT gave '$(get TCP6)'"
pass "container exchanged data over TCP/IPv6 with the node ($(get TCP6))"

# After exit: DEL ran -> host-local released both addresses, cache entry gone,
# container and veth gone.
ipam_dir=$CTRD_DIR/ipam/cpp-ptp-$SUFFIX
left=$(find "$ipam_dir" -maxdepth 1 -type f ! -name lock ! -name 'last_reserved_ip*' -printf '%f ' 2>/dev/null)
[ -z "$left" ] || fail "host-local still holds $left (CNI DEL did not run)"
pass "CNI DEL released the addresses"
[ -z "$(ctrd_cni_cache_files)" ] || fail "libcni cache still has $(ctrd_cni_cache_files)"
[ -z "$(ctrd_ctr container ls -q)" ] || fail "container still listed"
veths=$(ip -n "$NODE" -o link show type veth)
[ -z "$veths" ] || fail "veth left in $NODE: $veths"
pass "container, libcni cache entry and veth are gone"
