#!/usr/bin/env bash
# Issue 5 acceptance: services without kube-proxy, in a 2-node etcd lab with
# kube-proxy-replacement, socket LB and Maglev, IPv4 and IPv6:
#  - ClusterIP from pods (socket LB, and per-packet LB for a process outside
#    the node's cgroup) and from the node, TCP and UDP;
#  - NodePort from the world to local and remote backends; externalTrafficPolicy
#    Local answers only with the node's own backends;
#  - LoadBalancer IPs from LB IPAM, and ExternalIPs, from the world; services
#    with one sharing key share an IP on their own ports, a colliding one does not;
#  - session affinity keeps a client on one backend;
#  - Maglev: the same flow picks the same backend on both nodes, and removing
#    one of three backends moves (almost) only that backend's flows;
#  - a service without backends answers with ICMP unreachable (reject);
#  - policy applies to the translated destination;
#  - scaling backends up and down under a request loop loses no request;
#  - XDP acceleration forwards NodePort traffic;
#  - bad services and pools are refused or reported, the rest keeps working.
# Usage: services_e2e.sh BIN_DIR
BIN="$(cd "${1:?usage: $0 BIN_DIR}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="$HERE/testdata/services"
LAB="sv$$"
source "$HERE/lib.sh"

for b in cilium-lab cilium-agent cilium-cni cilium-dbg cilium-operator-generic; do
  [ -x "$BIN/$b" ] || { echo "ERROR: $BIN/$b not built"; trap - EXIT; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "ERROR: needs root"; trap - EXIT; exit 77; }
for t in etcd socat jq; do
  command -v "$t" >/dev/null || { echo "ERROR: $t not installed"; trap - EXIT; exit 77; }
done

refresh() { ST="$(lab status --json)"; }
node_ip() { jq -r --arg n "$1" --arg f "$2" '.nodes[] | select(.name==$n) | .[$f]' <<<"$ST"; }
dbg() {  # dbg NODE ARGS...
  local node=$1 sock
  shift
  sock="$(jq -r --arg n "$node" '.nodes[] | select(.name==$n) | .socket' <<<"$ST")"
  nsenter --net="/run/netns/cpp-${LAB}-${node}" "$BIN/cilium-dbg" -H "$sock" "$@"
}

# Echo servers: each backend answers its own name, TCP and UDP, IPv4 and IPv6
# (-t10: the answer is sent even when the client's EOF arrives before the
# forked shell has run; the shell reads what the client sent, so socat never
# writes into a shell that has exited and drops the answer on EPIPE).
# Each runs in its own session so that it and its per-connection children are
# stopped by process group, never by name.
SERVERS=()
serve() {  # serve POD
  setsid "$LAB_BIN" -n "$LAB" exec "$1" -- socat -t10 TCP6-LISTEN:8080,ipv6only=0,fork,reuseaddr SYSTEM:"echo $1; cat >/dev/null" \
    >/dev/null 2>&1 &
  SERVERS+=("$1:$!")
  setsid "$LAB_BIN" -n "$LAB" exec "$1" -- socat -t10 UDP6-RECVFROM:8080,ipv6only=0,fork SYSTEM:"echo $1; cat >/dev/null" \
    >/dev/null 2>&1 &
  SERVERS+=("$1:$!")
}
unserve() {  # unserve POD
  local s keep=()
  for s in "${SERVERS[@]}"; do
    if [ "${s%%:*}" = "$1" ]; then kill -- "-${s##*:}" 2>/dev/null || true; else keep+=("$s"); fi
  done
  SERVERS=("${keep[@]}")
}
stop_servers() {
  local s
  for s in "${SERVERS[@]}"; do kill -- "-${s##*:}" 2>/dev/null || true; done
  for s in "${SERVERS[@]}"; do
    while kill -0 "${s##*:}" 2>/dev/null; do sleep 0.1; done
  done
  SERVERS=()
}
services_cleanup() {
  [ -z "${LOOP_PID:-}" ] || kill "$LOOP_PID" 2>/dev/null || true
  stop_servers
}
# The lab goes last (lib.sh's cleanup), keeping the script's exit status.
# set +e: under errexit, `(exit $rc)` of a failed run would end the trap before
# the lab is torn down.
trap 'rc=$?; set +e; services_cleanup; (exit $rc); cleanup' EXIT

hostport() { case "$1" in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }
# req FROM ADDR PORT [tcp|udp] [extra socat address options]: prints the
# answering backend's name; FROM is a pod, a node, world, or raw:POD (the pod's
# namespace without joining the node's cgroup: per-packet LB instead of socket LB).
req() {
  local from=$1 addr=$2 port=$3 proto=${4:-tcp} opts=${5:-} target wait="-t10 -T10"
  # A TCP answer may be slow on a loaded machine (the server forks a shell per
  # connection): wait for it, also after our side is done sending (-t: socat
  # otherwise gives up 0.5 s after stdin's EOF). UDP has no end of stream, so
  # its client always waits out -t: keep socat's 0.5 s, and req_retry asks
  # again when no answer came.
  [ "$proto" != udp ] || wait="-T3"
  target="$(hostport "$addr" "$port")"
  if [ "$proto" = udp ]; then target="UDP:$target"; else target="TCP:$target,connect-timeout=3"; fi
  [ -z "$opts" ] || target="$target,$opts"
  case "$from" in
    raw:*) echo q | nsenter --net="/run/netns/cpp-${LAB}-${from#raw:}" socat $wait - "$target" 2>&1 ;;
    *) echo q | lab exec "$from" -- socat $wait - "$target" 2>&1 ;;
  esac
}
# req_retry ...: as req, retried (up to 3 attempts) until a backend answers:
# a lost UDP datagram on a busy machine is not what a check is about, and the
# same 5-tuple always meets the same backend.
req_retry() {
  local i out
  for i in 1 2 3; do
    out="$(req "$@")" || true
    if is_backend "$out"; then break; fi
  done
  echo "$out"
}
is_backend() { case "$1" in echo-a | echo-b | echo-c | echo-d | echo-e) return 0 ;; *) return 1 ;; esac; }
# spread FROM ADDR PORT PROTO N: N requests; prints the distinct answers, fails on any non-backend answer
spread() {
  local i out seen=""
  for i in $(seq "$5"); do
    if [ "$4" = udp ]; then out="$(req_retry "$1" "$2" "$3" "$4")"; else out="$(req "$1" "$2" "$3" "$4")"; fi
    is_backend "$out" || { echo "request $i: $out" >&2; return 1; }
    case " $seen " in *" $out "*) ;; *) seen="$seen $out" ;; esac
  done
  echo "$seen"
}
reaches() {  # reaches FROM ADDR PORT PROTO N [MIN_DISTINCT]: every request answered, by >= MIN_DISTINCT backends
  local got
  got="$(spread "$1" "$2" "$3" "$4" "$5")" || return 1
  echo "  $1 -> $(hostport "$2" "$3")/$4: backends$got"
  [ "$(wc -w <<<"$got")" -ge "${6:-1}" ]
}
only() {  # only BACKENDS FROM ADDR PORT PROTO N: every answer is one of BACKENDS (space-separated)
  local want=$1 got b
  got="$(spread "$2" "$3" "$4" "$5" "$6")" || return 1
  echo "  $2 -> $(hostport "$3" "$4")/$5: backends$got (allowed: $want)"
  for b in $got; do case " $want " in *" $b "*) ;; *) return 1 ;; esac; done
}
refused() {  # refused FROM ADDR PORT PROTO: the attempt ends with "Connection refused" (ICMP unreachable / reject)
  local out
  out="$(req "$1" "$2" "$3" "$4")"
  echo "  $1 -> $(hostport "$2" "$3")/$4: $out" | head -2
  grep -q "Connection refused" <<<"$out"
}

log "up: 2 nodes (etcd, operator), kube-proxy replacement with socket LB and Maglev"
lab up --nodes 2 --bin-dir "$BIN" --timeout 120 --set bpf-lb-algorithm=maglev
refresh
N1V4="$(node_ip node1 ipv4)"; N1V6="$(node_ip node1 ipv6)"
N2V4="$(node_ip node2 ipv4)"; N2V6="$(node_ip node2 ipv6)"

log "pods: echo-a on node1, echo-b/echo-c on node2 (app=echo), clients on both nodes"
lab pod add node1 echo-a --labels app=echo --ports serve=8080/TCP >/dev/null
lab pod add node2 echo-b --labels app=echo --ports serve=8080/TCP >/dev/null
lab pod add node2 echo-c --labels app=echo --ports serve=8080/TCP >/dev/null
lab pod add node1 client1 --labels role=client1 >/dev/null
lab pod add node2 client2 --labels role=client2 >/dev/null
for p in echo-a echo-b echo-c; do serve "$p"; done
for p in echo-a echo-b echo-c; do
  check "$p serves" wait_for 30 lab exec client1 -- socat -T2 - "TCP:$(jq -r --arg p "$p" '.pods[] | select(.name==$p) | .ipv4' <<<"$(lab status --json)"):8080"
done

log "services"
check "echo services applied (agents programmed them)" lab apply -f "$DATA/echo-services.yaml"
refresh
SLICES="$(lab get endpointslices)"
check "EndpointSlices written for echo (IPv4 and IPv6, 3 endpoints each)" \
  [ "$(jq '[.items[] | select(.metadata.labels["kubernetes.io/service-name"]=="echo") | .endpoints | length] | add' <<<"$SLICES")" = 6 ]
LIST1="$(dbg node1 service list)"
echo "$LIST1" | head -20
check "cilium-dbg service list shows the ClusterIP frontend" grep -q "10.96.0.50:80" <<<"$LIST1"
check "cilium-dbg service list shows the NodePort frontend" grep -q "$N1V4:30080" <<<"$LIST1"

log "ClusterIP from pods (socket LB), both nodes, IPv4 and IPv6, TCP and UDP"
check "client1 -> ClusterIP v4 tcp spreads over backends" reaches client1 10.96.0.50 80 tcp 12 2
check "client2 -> ClusterIP v4 tcp" reaches client2 10.96.0.50 80 tcp 6
check "client1 -> ClusterIP v6 tcp" reaches client1 fd00:10:96::50 80 tcp 10 2
check "client2 -> ClusterIP v6 tcp" reaches client2 fd00:10:96::50 80 tcp 6
check "client1 -> ClusterIP v4 udp (reply source is the service)" reaches client1 10.96.0.50 53 udp 6
check "client2 -> ClusterIP v6 udp" reaches client2 fd00:10:96::50 53 udp 6
log "ClusterIP from a process outside the node cgroup (per-packet LB in bpf_lxc)"
check "raw client1 -> ClusterIP v4 tcp" reaches raw:client1 10.96.0.50 80 tcp 10 2
check "raw client2 -> ClusterIP v6 tcp" reaches raw:client2 fd00:10:96::50 80 tcp 6
check "raw client1 -> ClusterIP v4 udp" reaches raw:client1 10.96.0.50 53 udp 6
log "ClusterIP from the nodes"
check "node1 -> ClusterIP v4" reaches node1 10.96.0.50 80 tcp 6
check "node2 -> ClusterIP v6" reaches node2 fd00:10:96::50 80 tcp 6

log "NodePort from the world (named targetPort), local and remote backends"
check "world -> node1 NodePort v4 reaches local and remote backends" reaches world "$N1V4" 30080 tcp 12 2
check "world -> node2 NodePort v4" reaches world "$N2V4" 30080 tcp 10 2
check "world -> node1 NodePort v6" reaches world "$N1V6" 30080 tcp 10 2
check "world -> node2 NodePort v6" reaches world "$N2V6" 30080 tcp 6
check "pod -> node2 NodePort v4 (socket LB)" reaches client1 "$N2V4" 30080 tcp 6
log "externalTrafficPolicy: Local"
check "world -> node1 Local NodePort: only echo-a" only "echo-a" world "$N1V4" 30081 tcp 8
check "world -> node2 Local NodePort: only node2's backends" only "echo-b echo-c" world "$N2V4" 30081 tcp 8
check "world -> node2 Local NodePort v6: only node2's backends" only "echo-b echo-c" world "$N2V6" 30081 tcp 6

log "ExternalIPs"
check "world -> external IP v4" reaches world 198.51.100.10 80 tcp 10 2
check "world -> external IP v6" reaches world 2001:db8:200::10 80 tcp 6
check "pod -> external IP v4 (socket LB)" reaches client2 198.51.100.10 80 tcp 4

log "LoadBalancer with LB IPAM"
check "pool and LoadBalancer service applied" lab apply -f "$DATA/lb.yaml"
lb_ip() { lab get service echo-lb | jq -r --arg f "$1" '[.status.loadBalancer.ingress[]?.ip | select(if $f=="6" then contains(":") else (contains(":")|not) end)][0] // empty'; }
has_lb_ip() { [ -n "$(lb_ip "$1")" ]; }
check "the operator assigned an IPv4 LB IP" wait_for 60 has_lb_ip 4
check "the operator assigned an IPv6 LB IP" wait_for 60 has_lb_ip 6
LB4="$(lb_ip 4)"; LB6="$(lb_ip 6)"
echo "  LoadBalancer IPs: $LB4 $LB6"
check "IPv4 LB IP is from the pool" grep -q '^203\.0\.113\.' <<<"$LB4"
check "IPv6 LB IP is from the pool" grep -q '^2001:db8:100::' <<<"$LB6"
lb_programmed() { dbg node1 service list | grep -qF "$LB4:80" && dbg node2 service list | grep -qF "$LB6"; }
check "agents programmed the LB frontends" wait_for 60 lb_programmed
check "world -> LB IP v4" reaches world "$LB4" 80 tcp 10 2
check "world -> LB IP v6" reaches world "$LB6" 80 tcp 6
check "sharing-key services applied" lab apply -f "$DATA/lb-shared.yaml"
share_ip() { lab get service "$1" | jq -r '.status.loadBalancer.ingress[0].ip // empty'; }
shared_assigned() { [ -n "$(share_ip echo-share-a)" ] && [ -n "$(share_ip echo-share-b)" ] && [ -n "$(share_ip echo-share-c)" ]; }
check "the operator assigned the sharing services' IPs" wait_for 60 shared_assigned
SHARED="$(share_ip echo-share-a)"; SHARED_C="$(share_ip echo-share-c)"
echo "  shared IP: $SHARED (echo-share-a :8081, echo-share-b :8082); echo-share-c :8081: $SHARED_C"
check "one sharing key, different ports: one IP" [ "$(share_ip echo-share-b)" = "$SHARED" ]
check "one sharing key, colliding port: another IP" [ "$SHARED_C" != "$SHARED" ]
# Frontends appear before their EndpointSlices fill: wait for all three echo backends.
all_backends() {  # all_backends JSON IP PORT: the IP:PORT frontends exist, each with the 3 echo backends
  jq -e --arg ip "$2" --arg port "$3" '[.[].spec | select(."frontend-address".ip == $ip and
    (."frontend-address".port | tostring) == $port) | ."backend-addresses" | length] | length > 0 and all(. >= 3)' \
    <<<"$1" >/dev/null
}
shared_programmed() {
  local l; l="$(dbg node1 service list -o json)"
  all_backends "$l" "$SHARED" 8081 && all_backends "$l" "$SHARED" 8082 && all_backends "$l" "$SHARED_C" 8081
}
check "agents programmed the shared IP's frontends" wait_for 60 shared_programmed
dbg node1 service list -o json | jq -r --arg a "$SHARED" --arg c "$SHARED_C" '.[].spec | ."frontend-address" as $f |
  select($f.ip == $a or $f.ip == $c) | "  \($f.ip):\($f.port) \($f.scope): \(."backend-addresses" | length) backends"'
check "world -> shared IP :8081 (echo-share-a)" reaches world "$SHARED" 8081 tcp 10 2
check "world -> shared IP :8082 (echo-share-b)" reaches world "$SHARED" 8082 tcp 10 2
check "world -> echo-share-c's own IP :8081" reaches world "$SHARED_C" 8081 tcp 4

log "session affinity (ClientIP)"
STICKY="$(lab get service echo-sticky | jq -r '.spec.clusterIPs[0]')"
STICKY6="$(lab get service echo-sticky | jq -r '.spec.clusterIPs[1]')"
sticky_one() { [ "$(spread "$1" "$2" 80 tcp 10 | wc -w)" = 1 ]; }
check "client1 -> sticky ClusterIP v4: one backend for 10 connections" sticky_one client1 "$STICKY"
check "raw client2 -> sticky ClusterIP v6: one backend (per-packet affinity)" sticky_one raw:client2 "$STICKY6"

log "no backends: reject"
check "world -> NodePort without backends, TCP: refused (ICMP unreachable)" refused world "$N1V4" 30099 tcp
check "world -> NodePort without backends, UDP v6: refused" refused world "$N2V6" 30099 udp
NOBODY="$(lab get service nobody | jq -r '.spec.clusterIPs[0]')"
check "pod -> ClusterIP without backends: refused at connect" refused client1 "$NOBODY" 80 tcp
check "raw pod -> ClusterIP without backends: refused (ICMP from bpf_lxc)" refused raw:client2 "$NOBODY" 80 tcp

log "policy applies to the translated destination"
check "policy applied" lab apply -f "$DATA/deny-client2.yaml"
check "client1 -> ClusterIP still allowed" reaches client1 10.96.0.50 80 tcp 4
denied() { ! grep -qE '^echo-' <<<"$(req "$@")"; }
check "client2 -> ClusterIP denied by the backends' policy" denied client2 10.96.0.50 80 tcp
check "world -> NodePort still allowed (world entity)" reaches world "$N1V4" 30080 tcp 4
check "policy deleted" lab delete -f "$DATA/deny-client2.yaml"

log "bad input"
out="$(lab apply -f "$DATA/bad-port.yaml" 2>&1)" && fail "bad port accepted"
check "invalid port refused with the field path" grep -q "spec.ports\[0\].port" <<<"$out"
out="$(lab apply -f "$DATA/bad-protocol.yaml" 2>&1)" && fail "bad protocol accepted"
check "unknown protocol refused" grep -qi "protocol" <<<"$out"
check "duplicate frontend: service stored" lab apply -f "$DATA/duplicate-frontend.yaml"
check "duplicate frontend: external IP still answered by echo-external's backends" reaches world 198.51.100.10 80 tcp 12 2
check "duplicate frontend reported in the agent log" \
  wait_for 30 grep -q "thief" "$(jq -r '.nodes[0].log' <<<"$ST")"
check "overlapping pool and out-of-pool request applied" lab apply -f "$DATA/lb-bad.yaml"
pool_conflict() { lab get ciliumloadbalancerippool overlapping-pool | jq -e '.status.conditions[] | select(.type=="cilium.io/PoolConflict" and .status=="True")'; }
check "overlapping pool gets PoolConflict" wait_for 60 pool_conflict
outside_cond() { lab get service echo-lb-outside | jq -e '.status.conditions[] | select(.type=="cilium.io/IPAMRequestSatisfied" and .status=="False")'; }
check "service asking for an IP outside every pool gets a condition" wait_for 60 outside_cond
check "... and no IP" [ -z "$(lab get service echo-lb-outside | jq -r '.status.loadBalancer.ingress[]?.ip')" ]
check "the first pool still serves echo-lb" reaches world "$LB4" 80 tcp 4

log "Maglev: same flow, same backend on both nodes; removing one of three backends moves only its flows"
# UDP flows with fixed source ports to the external IP: first through node1,
# then (after echo-c is gone) through node2, which has never seen them (no
# conntrack entry), so its choice is Maglev's alone.
declare -A BEFORE
for sp in $(seq 40001 40060); do BEFORE[$sp]="$(req_retry world 198.51.100.10 53 udp "sourceport=$sp")"; done
on_c=0
for sp in "${!BEFORE[@]}"; do [ "${BEFORE[$sp]}" != echo-c ] || on_c=$((on_c + 1)); done
check "maglev: every flow answered before" [ "$(printf '%s\n' "${BEFORE[@]}" | grep -c '^echo-')" = 60 ]
lab pod del node2 echo-c >/dev/null
unserve echo-c
lab exec world -- ip route replace 198.51.100.0/24 via "$N2V4"
moved=0 lost=0
for sp in $(seq 40001 40060); do
  after="$(req_retry world 198.51.100.10 53 udp "sourceport=$sp")"
  is_backend "$after" || lost=$((lost + 1))
  [ "${BEFORE[$sp]}" = echo-c ] || [ "$after" = "${BEFORE[$sp]}" ] || moved=$((moved + 1))
done
echo "  flows on echo-c: $on_c of 60; other flows that moved: $moved; unanswered: $lost"
check "maglev: every flow answered after removing a backend" [ "$lost" = 0 ]
check "maglev: at most 6 of the flows on surviving backends moved (1/N disruption)" [ "$moved" -le 6 ]
lab exec world -- ip route replace 198.51.100.0/24 via "$N1V4"

log "scaling backends under a request loop"
step() { echo "  $(date +%T.%N) $*"; }
LOOPDIR="$(mktemp -d)"
(
  ok=0 bad=0
  while [ ! -e "$LOOPDIR/stop" ]; do
    out="$(req client1 10.96.0.50 80 tcp)" || true
    if is_backend "$out"; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "$(date +%T.%N): [$out]" >>"$LOOPDIR/errors"; fi
    echo "$ok $bad" >"$LOOPDIR/count"
  done
) &
LOOP_PID=$!
loop_count() { awk '{print $1}' "$LOOPDIR/count" 2>/dev/null || echo 0; }
loop_at_least() { [ "$(loop_count)" -ge "$1" ]; }
wait_for 30 loop_at_least 5
step "lab pod add node1 echo-d"; lab pod add node1 echo-d --labels app=echo --ports serve=8080/TCP --not-ready >/dev/null
serve echo-d
wait_for 30 lab exec echo-d -- socat -T2 - TCP:127.0.0.1:8080
step "lab pod ready echo-d"; lab pod ready echo-d >/dev/null
start=$(loop_count); wait_for 30 loop_at_least $((start + 10))
step "lab pod del node2 echo-b"; lab pod del node2 echo-b >/dev/null
step "unserve echo-b"; unserve echo-b
start=$(loop_count); wait_for 30 loop_at_least $((start + 10))
step "lab pod add node2 echo-e"; lab pod add node2 echo-e --labels app=echo --ports serve=8080/TCP --not-ready >/dev/null
serve echo-e
wait_for 30 lab exec echo-e -- socat -T2 - TCP:127.0.0.1:8080
step "lab pod ready echo-e"; lab pod ready echo-e >/dev/null
start=$(loop_count); wait_for 30 loop_at_least $((start + 10))
touch "$LOOPDIR/stop"
wait "$LOOP_PID" || true
LOOP_PID=""
read -r LOOP_OK LOOP_BAD <"$LOOPDIR/count"
echo "  request loop: $LOOP_OK answered, $LOOP_BAD failed$( [ ! -s "$LOOPDIR/errors" ] || echo ": $(head -3 "$LOOPDIR/errors" | tr '\n' ' ')")"
check "scaling: no request lost" [ "$LOOP_BAD" = 0 ]
check "scaling: the loop kept running (>= 30 requests)" [ "$LOOP_OK" -ge 30 ]
rm -rf "$LOOPDIR"
check "new backends are used" reaches world "$N1V4" 30080 tcp 12 2

log "XDP acceleration"
for n in node1 node2; do
  echo native >"$(jq -r --arg n "$n" '.nodes[] | select(.name==$n) | .config_dir' <<<"$ST")/bpf-lb-acceleration"
  lab node restart "$n" >/dev/null
done
refresh
check "XDP program attached to node1's eth0" grep -q "xdp" <<<"$(ip -n "cpp-${LAB}-node1" link show eth0)"
check "world -> node1 NodePort v4 through XDP" reaches world "$N1V4" 30080 tcp 10 2
check "world -> node2 NodePort v6 through XDP" reaches world "$N2V6" 30080 tcp 6
check "world -> LB IP through XDP" reaches world "$LB4" 80 tcp 6
check "world -> NodePort without backends under XDP: refused" refused world "$N1V4" 30099 tcp

log "hairpin and ICMP errors through per-packet LB (processes outside the node cgroup)"
lab pod add node1 hairpin --labels role=hairpin >/dev/null
serve hairpin
HAIRPIN4="$(jq -r '.pods[] | select(.name=="hairpin") | .ipv4' <<<"$(lab status --json)")"
check "hairpin serves" wait_for 30 lab exec client1 -- socat -T2 - "TCP:$HAIRPIN4:8080"
check "hairpin service applied" lab apply -f "$DATA/hairpin.yaml"
answers_itself() {  # answers_itself ADDR: the pod reaches its own service and is answered by itself
  local out
  out="$(req raw:hairpin "$1" 80 tcp)"
  echo "  raw:hairpin -> $(hostport "$1" 80): $out"
  [ "$out" = hairpin ]
}
refused_soon() {  # refused FROM ADDR PORT PROTO, up to 3 attempts (the first may race neighbour resolution)
  local i
  for i in 1 2 3; do refused "$@" && return 0; done
  return 1
}
check "raw hairpin -> its own ClusterIP v4 (hairpin)" answers_itself 10.96.0.80
check "raw hairpin -> its own ClusterIP v6 (hairpin)" answers_itself fd00:10:96::80
check "raw client1 -> ClusterIP v4 udp, closed backend port: refused (backend's ICMP)" \
  refused_soon raw:client1 10.96.0.80 59 udp
check "raw client1 -> ClusterIP v6 udp, closed backend port: refused" refused_soon raw:client1 fd00:10:96::80 59 udp
check "raw client2 -> ClusterIP v4 udp, closed port on node1's backend: refused (through the tunnel)" \
  refused_soon raw:client2 10.96.0.80 59 udp
check "world -> node1 NodePort v4 udp, closed port on its local backend: refused" \
  refused_soon world "$N1V4" 30059 udp
check "world -> node2 NodePort v6 udp, closed port on node1's backend: refused (through the tunnel)" \
  refused_soon world "$N2V6" 30059 udp
check "hairpin service deleted" lab delete -f "$DATA/hairpin.yaml"
unserve hairpin
lab pod del node1 hairpin >/dev/null

log "delete: frontends go away"
check "echo services deleted" lab delete -f "$DATA/echo-services.yaml"
clusterip_gone() { ! dbg node1 service list | grep -qF "10.96.0.50:80"; }
check "ClusterIP frontend gone from node1" wait_for 30 clusterip_gone

stop_servers
log "down"
AGENTS="$(jq -r '[.nodes[].agent_pid] | join(" ")' <<<"$ST")"
lab down
trap - EXIT
expect_lab_gone $AGENTS
[ ! -e "/sys/fs/cgroup/unified/ciliumpp/$LAB" ] || fail "cgroup ciliumpp/$LAB left behind"
echo "services e2e: $PASSED checks passed"
[ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
