#!/usr/bin/env bash
# Issue 7 acceptance in a 2-node lab whose agents run the BGP control plane,
# peering with a real FRR (zebra + bgpd) in the lab's world namespace and
# with GoBGP and BIRD 2, each in a namespace of its own on the underlay:
#  - both sessions reach Established; FRR learns each node's IPv4 and IPv6
#    PodCIDR with the node as next hop, and the LoadBalancer IPs of a
#    dual-stack service from both nodes: ECMP, installed by zebra with both
#    next hops, and the world reaches the service through it;
#  - GoBGP and BIRD learn the same PodCIDRs and service IPs;
#  - cilium-dbg bgp peers / routes and the metrics show the sessions;
#  - a policy that stops selecting node2 makes FRR converge to node1 alone;
#  - deleting the service withdraws its routes at every peer;
#  - an agent restart with graceful restart keeps the routes in FRR the
#    whole time and refreshes them after;
#  - neighbors with a wrong ASN, a missing capability or a wrong MD5 key,
#    and a policy with a hold time below 3, each get a clear entry in the
#    policy's status.nodes and a log line while the other sessions stay up.
# Usage: bgp_e2e.sh BIN_DIR
BIN="$(cd "${1:?usage: $0 BIN_DIR}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="$HERE/testdata/bgp"
SVC_DATA="$HERE/testdata/services"
LAB="bg$$"
source "$HERE/lib.sh"

for b in cilium-lab cilium-agent cilium-cni cilium-dbg cilium-operator-generic bgp-test-speaker; do
  [ -x "$BIN/$b" ] || { echo "ERROR: $BIN/$b not built"; trap - EXIT; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "ERROR: needs root"; trap - EXIT; exit 77; }
for t in etcd socat jq curl /usr/lib/frr/zebra /usr/lib/frr/bgpd vtysh gobgpd gobgp bird birdc; do
  command -v "$t" >/dev/null || [ -x "$t" ] || { echo "ERROR: $t not installed"; trap - EXIT; exit 77; }
done

TMP="$(mktemp -d /tmp/cpp-bgp-e2e.XXXXXX)"
FRR_PIDS=()
SERVERS=()
BG=()
PEER_NETNS=()
bgp_cleanup() {
  local p ns
  for p in "${BG[@]}" "${FRR_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SERVERS[@]}"; do kill -- "-$p" 2>/dev/null || true; done
  for p in "${BG[@]}" "${FRR_PIDS[@]}" "${SERVERS[@]}"; do
    while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
  done
  for ns in "${PEER_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$TMP"
}
# set +e: under errexit, `(exit $rc)` of a failed run would end the trap before
# the lab is torn down.
trap 'rc=$?; set +e; bgp_cleanup; (exit $rc); cleanup' EXIT

refresh() { ST="$(lab status --json)"; }
nodef() { jq -r --arg n "$1" --arg f "$2" '.nodes[] | select(.name==$n) | .[$f]' <<<"$ST"; }
dbg() {
  local node=$1
  shift
  nsenter --net="/run/netns/cpp-${LAB}-${node}" "$BIN/cilium-dbg" -H "$(nodef "$node" socket)" "$@"
}

log "lab $LAB: 2 nodes with enable-bgp-control-plane, echo pods on both"
lab up --nodes 2 --bin-dir "$BIN" --timeout 120 --set enable-bgp-control-plane=true >/dev/null
refresh
WORLD_NS="$(jq -r .world.netns <<<"$ST")"
N1_4="$(nodef node1 ipv4)" N1_6="$(nodef node1 ipv6)" N2_4="$(nodef node2 ipv4)" N2_6="$(nodef node2 ipv6)"
N1_CIDR4="$(jq -r '.nodes[] | select(.name=="node1") | .pod_cidrs[0]' <<<"$ST")"
N1_CIDR6="$(jq -r '.nodes[] | select(.name=="node1") | .pod_cidrs[1]' <<<"$ST")"
N2_CIDR4="$(jq -r '.nodes[] | select(.name=="node2") | .pod_cidrs[0]' <<<"$ST")"
echo "node1 $N1_4 $N1_6 ($N1_CIDR4 $N1_CIDR6), node2 $N2_4 $N2_6 ($N2_CIDR4)"
lab pod add node1 echo-a --labels app=echo >/dev/null
lab pod add node2 echo-b --labels app=echo >/dev/null
for p in echo-a echo-b; do
  setsid "$LAB_BIN" -n "$LAB" exec "$p" -- socat -t10 TCP6-LISTEN:8080,ipv6only=0,fork,reuseaddr \
    SYSTEM:"echo $p; cat >/dev/null" >/dev/null 2>&1 &
  SERVERS+=("$!")
done
lab apply -f "$SVC_DATA/lb.yaml" >/dev/null
lb_ip() {
  lab get service echo-lb |
    jq -r --arg f "$1" '[.status.loadBalancer.ingress[]?.ip | select(if $f=="6" then contains(":") else (contains(":")|not) end)][0] // empty'
}
has_lb_ips() { [ -n "$(lb_ip 4)" ] && [ -n "$(lb_ip 6)" ]; }
check "LB IPAM assigned echo-lb an IPv4 and an IPv6 address" wait_for 60 has_lb_ips
LB4="$(lb_ip 4)" LB6="$(lb_ip 6)"
echo "echo-lb: $LB4 $LB6"

log "FRR in the world namespace ($WORLD_NS), AS 64512, ECMP over both nodes"
R="$TMP/frr"
chmod 755 "$TMP"  # zebra and bgpd run as the frr user
mkdir -p "$R"
echo "hostname world" >"$R/zebra.conf"
cat >"$R/bgpd.conf" <<CONF
hostname world
router bgp 64512
 bgp router-id 192.0.2.250
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 neighbor $N1_4 remote-as 65001
 neighbor $N2_4 remote-as 65001
 neighbor $N1_4 timers connect 5
 neighbor $N2_4 timers connect 5
 address-family ipv4 unicast
  neighbor $N1_4 activate
  neighbor $N2_4 activate
  maximum-paths 4
 exit-address-family
 address-family ipv6 unicast
  neighbor $N1_4 activate
  neighbor $N2_4 activate
  maximum-paths 4
 exit-address-family
CONF
chown -R frr:frr "$R"
nsenter --net="/run/netns/$WORLD_NS" /usr/lib/frr/zebra -f "$R/zebra.conf" -i "$R/zebra.pid" -z "$R/zserv.api" \
  --vty_socket "$R" >"$TMP/zebra.log" 2>&1 &
FRR_PIDS+=("$!")
wait_for 30 test -S "$R/zserv.api" || die "zebra did not start: $(cat "$TMP/zebra.log")"
nsenter --net="/run/netns/$WORLD_NS" /usr/lib/frr/bgpd -f "$R/bgpd.conf" -i "$R/bgpd.pid" -z "$R/zserv.api" \
  --vty_socket "$R" >"$TMP/bgpd.log" 2>&1 &
FRR_PIDS+=("$!")
vtysh() { nsenter --net="/run/netns/$WORLD_NS" vtysh --vty_socket "$R" -c "$1"; }
wait_for 30 vtysh "show bgp summary json" || die "bgpd did not start: $(cat "$TMP/bgpd.log")"

frr_state_is() { [ "$(vtysh "show bgp neighbors $1 json" | jq -r --arg n "$1" '.[$n].bgpState')" = "$2" ]; }
# frr_paths FAMILY PREFIX: the next hops of FRR's paths for PREFIX, sorted, space-separated
frr_paths() {
  vtysh "show bgp $1 unicast json" |
    jq -r --arg p "$2" '[.routes[$p][]?.nexthops[]? | select(.scope != "link-local") | .ip] | unique | join(" ")'
}
frr_paths_are() { [ "$(frr_paths "$1" "$2")" = "$3" ]; }
# kernel_nexthops FAMILY PREFIX: next hops zebra installed in the world's kernel table
kernel_nexthops() {
  local f=-4
  [ "$1" = ipv6 ] && f=-6
  ip -n "$WORLD_NS" $f -j route show "$2" proto bgp |
    jq -r '[.[] | (.gateway // empty), (.nexthops[]?.gateway // empty)] | unique | join(" ")'
}
kernel_nexthops_are() { [ "$(kernel_nexthops "$1" "$2")" = "$3" ]; }

# peer_ns NAME IPV4 IPV6: a namespace on the underlay bridge for one more peer.
peer_ns() {
  local ns="cpp-${LAB}-${1}" u="cpp-${LAB}-underlay"
  ip netns add "$ns"
  PEER_NETNS+=("$ns")
  ip -n "$u" link add "v${1}" type veth peer name eth0 netns "$ns"
  ip -n "$u" link set "v${1}" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$2/24" dev eth0
  ip -n "$ns" -6 addr add "$3/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
}
log "GoBGP (AS 64513) and BIRD (AS 64514) on the underlay"
peer_ns gobgp 192.0.2.251 2001:db8::fb
peer_ns bird 192.0.2.252 2001:db8::fc
cat >"$TMP/gobgpd.toml" <<TOML
[global.config]
  as = 64513
  router-id = "192.0.2.251"
TOML
for n in "$N1_4" "$N2_4"; do
  cat >>"$TMP/gobgpd.toml" <<TOML
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$n"
    peer-as = 65001
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
TOML
done
nsenter --net="/run/netns/cpp-${LAB}-gobgp" gobgpd -f "$TMP/gobgpd.toml" -p --api-hosts=127.0.0.1:50051 \
  --pprof-disable >"$TMP/gobgpd.log" 2>&1 &
FRR_PIDS+=("$!")
gobgp() { nsenter --net="/run/netns/cpp-${LAB}-gobgp" gobgp -u 127.0.0.1 -p 50051 "$@"; }
wait_for 30 gobgp neighbor || die "gobgpd did not start: $(cat "$TMP/gobgpd.log")"
cat >"$TMP/bird.conf" <<CONF
router id 192.0.2.252;
protocol device {}
protocol bgp node1 { local 192.0.2.252 as 64514; neighbor $N1_4 as 65001;
  ipv4 { import all; export none; }; ipv6 { import all; export none; }; }
protocol bgp node2 { local 192.0.2.252 as 64514; neighbor $N2_4 as 65001;
  ipv4 { import all; export none; }; ipv6 { import all; export none; }; }
CONF
nsenter --net="/run/netns/cpp-${LAB}-bird" bird -f -c "$TMP/bird.conf" -s "$TMP/bird.ctl" -P "$TMP/bird.pid" \
  >"$TMP/bird.log" 2>&1 &
FRR_PIDS+=("$!")
birdc() { nsenter --net="/run/netns/cpp-${LAB}-bird" birdc -s "$TMP/bird.ctl" "$@"; }
wait_for 30 birdc show status || die "bird did not start: $(cat "$TMP/bird.log")"
# gobgp_has FAMILY PREFIX NEXTHOP / bird_has PREFIX NEXTHOP: the peer learned PREFIX with NEXTHOP.
gobgp_has() {
  gobgp global rib -a "$1" -j | jq -e --arg p "$2" --arg nh "$3" \
    '[.[$p][]?.attrs[] | select(.type == 3 or .type == 14) | (.nexthop // .value.nexthop // empty)] | any(. == $nh)' \
    >/dev/null
}
gobgp_lacks() { gobgp global rib -a "$1" -j | jq -e --arg p "$2" 'has($p) | not' >/dev/null; }
bird_has() { birdc show route for "$1" all | grep -q "via $2 "; }
bird_lacks() { ! birdc show route "$1" | grep -q "^$1"; }

lab apply -f "$DATA/peering-policy.yaml" >/dev/null
check "FRR: session with node1 Established" wait_for 60 frr_state_is "$N1_4" Established
check "FRR: session with node2 Established" wait_for 60 frr_state_is "$N2_4" Established
check "FRR has node1's PodCIDR $N1_CIDR4 via node1" wait_for 30 frr_paths_are ipv4 "$N1_CIDR4" "$N1_4"
check "FRR has node2's PodCIDR $N2_CIDR4 via node2" wait_for 30 frr_paths_are ipv4 "$N2_CIDR4" "$N2_4"
check "FRR has node1's PodCIDR $N1_CIDR6 via $N1_6" wait_for 30 frr_paths_are ipv6 "$N1_CIDR6" "$N1_6"
ECMP4="$(printf '%s\n' "$N1_4" "$N2_4" | sort | tr '\n' ' ' | sed 's/ $//')"
ECMP6="$(printf '%s\n' "$N1_6" "$N2_6" | sort | tr '\n' ' ' | sed 's/ $//')"
check "FRR has $LB4/32 from both nodes" wait_for 30 frr_paths_are ipv4 "$LB4/32" "$ECMP4"
check "FRR has $LB6/128 from both nodes" wait_for 30 frr_paths_are ipv6 "$LB6/128" "$ECMP6"
check "zebra installed $LB4 with both next hops (ECMP)" wait_for 30 kernel_nexthops_are ipv4 "$LB4" "$ECMP4"
check "zebra installed $LB6 with both next hops (ECMP)" wait_for 30 kernel_nexthops_are ipv6 "$LB6" "$ECMP6"
world_req() { echo q | lab exec world -- socat -t5 -T5 - "TCP:$1,connect-timeout=3" 2>/dev/null; }
answered() { case "$(world_req "$1")" in echo-a | echo-b) return 0 ;; *) return 1 ;; esac; }
check "the world reaches echo-lb at $LB4 over the BGP routes" wait_for 30 answered "$LB4:80"
check "the world reaches echo-lb at [$LB6] over the BGP routes" wait_for 30 answered "[$LB6]:80"

check "GoBGP has node1's PodCIDR $N1_CIDR4 via node1" wait_for 60 gobgp_has ipv4 "$N1_CIDR4" "$N1_4"
check "GoBGP has node1's PodCIDR $N1_CIDR6 via $N1_6" wait_for 30 gobgp_has ipv6 "$N1_CIDR6" "$N1_6"
check "GoBGP has $LB4/32 from node2" wait_for 30 gobgp_has ipv4 "$LB4/32" "$N2_4"
check "GoBGP has $LB6/128 from node1" wait_for 30 gobgp_has ipv6 "$LB6/128" "$N1_6"
check "BIRD has node2's PodCIDR $N2_CIDR4 via node2" wait_for 60 bird_has "$N2_CIDR4" "$N2_4"
check "BIRD has node1's PodCIDR $N1_CIDR6 via $N1_6" wait_for 30 bird_has "$N1_CIDR6" "$N1_6"
check "BIRD has $LB4/32" wait_for 30 bird_has "$LB4/32" "$N1_4"
check "BIRD has $LB6/128" wait_for 30 bird_has "$LB6/128" "$N1_6"

log "cilium-dbg bgp peers / routes"
PEERS="$(dbg node1 bgp peers)"
echo "$PEERS"
expect_contains "bgp peers: established with the world" "established" "$(grep 192.0.2.250 <<<"$PEERS")"
expect_contains "bgp peers: established with GoBGP" "established" "$(grep 192.0.2.251 <<<"$PEERS")"
expect_contains "bgp peers: established with BIRD" "established" "$(grep 192.0.2.252 <<<"$PEERS")"
ADV="$(dbg node1 bgp routes advertised)"
expect_contains "bgp routes advertised: $LB4/32" "$LB4/32" "$ADV"
expect_contains "bgp routes advertised: $N1_CIDR4" "$N1_CIDR4" "$ADV"
expect_contains "bgp routes available ipv6 unicast: $LB6/128" "$LB6/128" "$(dbg node1 bgp routes available ipv6 unicast)"
TO_GOBGP="$(dbg node1 bgp routes advertised ipv4 unicast vrouter 65001 peer 192.0.2.251)"
expect_contains "bgp routes advertised ... peer 192.0.2.251: $LB4/32" "$LB4/32" "$TO_GOBGP"
check "bgp routes advertised ... peer 192.0.2.251 lists only that peer" \
  bash -c "! grep -q '192.0.2.25[02]' <<<'$TO_GOBGP'"
check "bgp routes ... vrouter 65099 lists nothing" \
  bash -c "! '$BIN/cilium-dbg' -H '$(nodef node1 socket)' bgp routes available ipv4 unicast vrouter 65099 | grep -q /"
OUT="$(dbg node1 bgp routes available ipv4 unicast peer 10.0.0.300 2>&1)" && fail "bgp routes with a bad peer accepted"
expect_contains "bgp routes: a bad peer address is an error" "not an IP address" "$OUT"
OUT="$(dbg node1 bgp routes available ipx unicast 2>&1)" && fail "bgp routes with family ipx accepted"
expect_contains "bgp routes: unknown family is an error" "unknown family" "$OUT"

metric() {  # metric NODE NAME LABEL_MATCH: sum of NAME's samples whose labels contain LABEL_MATCH
  nsenter --net="/run/netns/cpp-${LAB}-underlay" curl -sf --max-time 5 "http://$(nodef "$1" ipv4):9962/metrics" |
    awk -v n="$2" -v m="$3" '$0 ~ "^"n"[{ ]" && index($0, m) { s += $NF } END { printf "%d\n", s }'
}
check "metrics: node1's session with the world is up" \
  test "$(metric node1 cilium_bgp_control_plane_session_state 'neighbor="192.0.2.250:179"')" = 1
check "metrics: node1 advertises IPv4 routes (PodCIDR, LB IP, cluster IP)" \
  test "$(metric node1 cilium_bgp_control_plane_advertised_routes 'afi="ipv4"')" -ge 2

log "routes a peer announces are counted per family"
gobgp global rib add 198.18.7.0/24 -a ipv4
received_from_gobgp() {
  dbg node1 bgp peers -o json |
    jq -r --arg f "$1" '.[] | select(.["peer-address"] == "192.0.2.251") | .["received-by-family"][$f] // 0'
}
gobgp_route_counted() { [ "$(received_from_gobgp ipv4/unicast)" -ge 1 ]; }
check "node1 counts GoBGP's IPv4 route as received ipv4/unicast" wait_for 30 gobgp_route_counted
check "... and nothing as ipv6/unicast" test "$(received_from_gobgp ipv6/unicast)" = 0
received_metric() { [ "$(metric node1 cilium_bgp_control_plane_received_routes 'neighbor="192.0.2.251:179",neighbor_asn="64513",afi="ipv4"')" -ge 1 ]; }
check "metrics: received routes from GoBGP, afi ipv4" wait_for 30 received_metric
gobgp global rib del 198.18.7.0/24 -a ipv4

log "bad peers: wrong ASN, unsupported capability, wrong MD5 key; each in the policy's status"
# Four more peers, each our test speaker (passive) in a namespace of its own.
speaker_peer() {  # speaker_peer NAME IPV4 IPV6 ASN [NEIGHBOR OPTIONS...]
  local name=$1 v4=$2 v6=$3 asn=$4 n
  shift 4
  peer_ns "$name" "$v4" "$v6"
  {
    echo "router-id $v4"
    echo "listen 179"
    echo "router $asn"
    for n in "$N1_4" "$N2_4"; do echo "neighbor $n 65001 passive $*"; done
  } >"$TMP/$name.conf"
  nsenter --net="/run/netns/cpp-${LAB}-$name" "$BIN/bgp-test-speaker" "$TMP/$name.conf" "$TMP/$name.status" \
    >"$TMP/$name.log" 2>&1 &
  BG+=("$!")
}
speaker_peer badasn 192.0.2.253 2001:db8::fd 64600
speaker_peer badcap 192.0.2.254 2001:db8::fe 64601 v4only
speaker_peer badmd5 192.0.2.249 2001:db8::f9 64602 md5=rightkey
speaker_peer v4only 192.0.2.248 2001:db8::f8 64603 v4only
lab apply -f "$DATA/peering-policy-bad-peers.yaml" >/dev/null
# policy_peer NODE PEER FIELD: a field of NODE's session with PEER in to-world's status
policy_peer() {
  lab get ciliumbgppeeringpolicy to-world |
    jq -r --arg n "$1" --arg p "$2" --arg f "$3" '.status.nodes[]? | select(.name == $n) | .peers[]? | select(.peerAddress == $p) | .[$f] // empty'
}
peer_error_has() { policy_peer "$1" "$2" lastError | grep -q "$3"; }
for n in node1 node2; do
  check "status: $n's session with 192.0.2.253 failed with Bad Peer AS" wait_for 60 peer_error_has "$n" 192.0.2.253 "Bad Peer AS"
  check "status: $n's session with 192.0.2.254 failed with Unsupported Capability" \
    wait_for 60 peer_error_has "$n" 192.0.2.254 "Unsupported Capability"
done
echo "  to-world status (node1): $(lab get ciliumbgppeeringpolicy to-world | jq -c '.status.nodes[]? | select(.name == "node1")')"
check "status: node1's session with 192.0.2.249 (wrong MD5 key) says no connection, naming TCP MD5" \
  wait_for 60 peer_error_has node1 192.0.2.249 "TCP MD5"
check "... and is not established" test "$(policy_peer node1 192.0.2.249 sessionState)" != established
check "status: node1 applies to-world" \
  test "$(lab get ciliumbgppeeringpolicy to-world | jq -r '.status.nodes[]? | select(.name == "node1") | .state')" = Applied
check "status: node1's session with FRR is established" test "$(policy_peer node1 192.0.2.250 sessionState)" = established
v4only_established() { [ "$(policy_peer node1 192.0.2.248 sessionState)" = established ]; }
check "status: node1's session with the IPv4-only peer (no families listed) is established" wait_for 60 v4only_established
v4only_families() { dbg node1 bgp peers -o json | jq -c '[.[] | select(."peer-address" == "192.0.2.248") | .families[] | .afi]'; }
expect_eq "... and negotiated IPv4 unicast alone" '["ipv4"]' "$(v4only_families)"
check "the MD5 peer never saw an established session" \
  bash -c "! jq -e '.[] | select(.state == \"established\")' '$TMP/badmd5.status' >/dev/null"
check "node1's log names the wrong ASN" grep -q "192.0.2.253.*Bad Peer AS" "$(nodef node1 log)"
check "node1's log names the missing capability" grep -q "192.0.2.254.*Unsupported Capability" "$(nodef node1 log)"
check "node1's log says the MD5 peer never answered" grep -q "192.0.2.249.*TCP MD5" "$(nodef node1 log)"
check "FRR: node1 still Established" frr_state_is "$N1_4" Established
check "GoBGP still has node1's PodCIDR" gobgp_has ipv4 "$N1_CIDR4" "$N1_4"
check "BIRD still has node2's PodCIDR" bird_has "$N2_CIDR4" "$N2_4"
lab apply -f "$DATA/peering-policy.yaml" >/dev/null
bad_peers_gone() { [ -z "$(policy_peer node1 192.0.2.253 sessionState)" ]; }
check "status: the bad neighbors leave node1's status with the policy" wait_for 30 bad_peers_gone

log "policies with hold time 2 or overlapping virtual routers are refused; the sessions stay up"
lab apply -f "$DATA/bad-policy.yaml" >/dev/null
bad_reported() { grep -q "bad-hold-time.*holdTimeSeconds" "$(nodef node1 log)"; }
check "node1's agent reports the bad policy with the field" wait_for 30 bad_reported
bad_status() {
  lab get ciliumbgppeeringpolicy bad-hold-time |
    jq -e '.status.nodes[]? | select(.name == "node1" and .state == "Invalid") | .errors[] | select(contains("holdTimeSeconds"))' >/dev/null
}
check "the bad policy's status says Invalid with the field" wait_for 30 bad_status
overlap_status() {
  lab get ciliumbgppeeringpolicy overlapping-routers |
    jq -e '.status.nodes[]? | select(.name == "node2" and .state == "Invalid") | .errors[] | select(contains("virtualRouters[1].localASN"))' >/dev/null
}
check "the policy with overlapping virtual routers: Invalid, naming the second router" wait_for 30 overlap_status
check "node2's log names the overlapping router" grep -q "overlapping-routers.*virtualRouters\[1\].localASN" "$(nodef node2 log)"
check "FRR: node1 still Established" frr_state_is "$N1_4" Established
lab delete -f "$DATA/bad-policy.yaml" >/dev/null

log "graceful restart: node1's agent restarts, FRR keeps its routes throughout"
: >"$TMP/gr.log"
(
  while :; do
    if [ -z "$(frr_paths ipv4 "$N1_CIDR4")" ]; then echo missing >>"$TMP/gr.log"; fi
    sleep 0.2
  done
) &
BG+=("$!")
lab node restart node1 --kill >/dev/null
refresh
check "FRR: session with node1 Established again" wait_for 60 frr_state_is "$N1_4" Established
check "node1's routes are back and fresh" wait_for 30 frr_paths_are ipv4 "$LB4/32" "$ECMP4"
kill "${BG[-1]}" 2>/dev/null || true
wait "${BG[-1]}" 2>/dev/null || true
check "node1's PodCIDR never left FRR's table during the restart" test ! -s "$TMP/gr.log"

log "node2 leaves the policy: FRR converges to node1"
lab apply -f "$DATA/peering-policy-node1.yaml" >/dev/null
not_established() { ! frr_state_is "$1" Established; }
check "FRR: session with node2 ended" wait_for 60 not_established "$N2_4"
check "FRR: $LB4/32 only via node1" wait_for 30 frr_paths_are ipv4 "$LB4/32" "$N1_4"
check "zebra: $LB4 only via node1" wait_for 30 kernel_nexthops_are ipv4 "$LB4" "$N1_4"
check "the world still reaches echo-lb" wait_for 30 answered "$LB4:80"

log "deleting the service withdraws its routes"
lab delete -f "$SVC_DATA/lb.yaml" >/dev/null
check "FRR lost $LB4/32" wait_for 30 frr_paths_are ipv4 "$LB4/32" ""
check "FRR lost $LB6/128" wait_for 30 frr_paths_are ipv6 "$LB6/128" ""
check "FRR keeps node1's PodCIDR" frr_paths_are ipv4 "$N1_CIDR4" "$N1_4"
check "GoBGP lost $LB4/32" wait_for 30 gobgp_lacks ipv4 "$LB4/32"
check "GoBGP lost $LB6/128" wait_for 30 gobgp_lacks ipv6 "$LB6/128"
check "BIRD lost $LB4/32" wait_for 30 bird_lacks "$LB4/32"
check "BIRD lost $LB6/128" wait_for 30 bird_lacks "$LB6/128"
check "BIRD keeps node1's PodCIDR" bird_has "$N1_CIDR4" "$N1_4"

echo
echo "$PASSED checks passed"
[ "$FAILED" = 0 ] || exit 1
