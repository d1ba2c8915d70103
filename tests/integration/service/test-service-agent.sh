#!/usr/bin/env bash
# Services on a real agent (kube-proxy-replacement: true): Service and
# EndpointSlice objects in the agent's directory store become cpp_lb_svc /
# cpp_lb_be entries (`cilium-dbg service list`, `bpf lb list`); updates and
# deletions follow; services created with `cilium-dbg service update` live
# alongside, bad input is refused with the field named and nothing changes;
# a kill -9 + restart keeps every id. Socket LB: bpf_sock_lb's programs are
# attached to the node's cgroup (cgroup-root) through pinned links, and a
# process in that cgroup (on the node, in a pod) reaches a backend pod
# through the ClusterIP; the restart updates the links in place.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/../agent/node-fixture.sh"

CG=/sys/fs/cgroup/unified/ciliumpp/it${FIX_SUFFIX}/node1
# Cgroups go after every process in them is gone (fix_cleanup kills them).
# The shared ciliumpp parent goes too unless another test still has a child there.
trap 'fix_cleanup; rmdir "$CG" "$(dirname "$CG")" "$(dirname "$(dirname "$CG")")" 2>/dev/null || true' EXIT

node_setup
# Bad LB settings: a startup error naming the key, nothing created.
bad_config() {  # KEY VALUE PATTERN
  local saved; saved=$(cat "$CONFIG/$1" 2>/dev/null || true)
  printf '%s' "$2" >"$CONFIG/$1"
  in_ns "$NODE_NAME" timeout 60 "$BIN/cilium-agent" --config-dir "$CONFIG" --node-name node1 >"$ROOT/out.txt" 2>&1 && rc=0 || rc=$?
  check "$1=$2: exit 2 naming the key" bash -c "[ $rc = 2 ] && grep -q \"$3\" $ROOT/out.txt"
  if [ -n "$saved" ]; then printf '%s' "$saved" >"$CONFIG/$1"; else rm -f "$CONFIG/$1"; fi
}
printf 'true' >"$CONFIG/kube-proxy-replacement"
bad_config kube-proxy-replacement strict "'kube-proxy-replacement'.*use true"
bad_config bpf-lb-algorithm roundrobin "'bpf-lb-algorithm'.*random,maglev"
bad_config bpf-lb-acceleration fast "'bpf-lb-acceleration'"
bad_config bpf-lb-map-max 3 "'bpf-lb-map-max': 3 is outside"
bad_config service-no-backend-response ignore "'service-no-backend-response'"
bad_config node-port-range 32767,30000 "'node-port-range'"
printf 'true' >"$CONFIG/bpf-lb-sock"
bad_config cgroup-root /sys/fs/cgroup/unified "'cgroup-root'.*below /sys/fs/cgroup/unified/"
bad_config cgroup-root /tmp/cg "'cgroup-root'.*below"
check "bad configs created nothing: no pins" test ! -e "$PIN_DIR"

printf 'true' >"$CONFIG/bpf-lb-sock"
printf '%s' "$CG" >"$CONFIG/cgroup-root"
printf 'maglev' >"$CONFIG/bpf-lb-algorithm"
fix_underlay "cpp-it${FIX_SUFFIX}-ul"
fix_underlay_link "$NODE_NAME" n0 192.0.2.1
agent_start

STORE=$ROOT/store
VERSION=100
# put_obj KIND NAME JSON: writes the object into the agent's directory
# store the way DirectoryStore does (atomic rename, a new resourceVersion).
put_obj() {
  local dir=$STORE/$1/default; mkdir -p "$dir"
  VERSION=$((VERSION + 1))
  jq --arg v "$VERSION" '.metadata.resourceVersion = $v' <<<"$3" >"$dir/.$2.tmp"
  mv "$dir/.$2.tmp" "$dir/$2.json"
}
del_obj() { rm -f "$STORE/$1/default/$2.json"; }
service_json() {
  jq -n --arg ip "$1" '{apiVersion: "v1", kind: "Service",
    metadata: {name: "web", namespace: "default", creationTimestamp: "2026-01-01T00:00:00Z"},
    spec: {type: "ClusterIP", clusterIP: $ip, clusterIPs: [$ip],
           ports: [{name: "http", port: 80, protocol: "TCP", targetPort: 8080}]}}'
}
slice_json() {
  jq -n --argjson ips "$(printf '%s\n' "$@" | jq -R . | jq -s .)" '{apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
    metadata: {name: "web-1", namespace: "default", labels: {"kubernetes.io/service-name": "web"}},
    addressType: "IPv4",
    endpoints: [$ips[] | {addresses: [.], conditions: {ready: true}, nodeName: "node1"}],
    ports: [{name: "http", port: 8080, protocol: "TCP"}]}'
}
svc_list() { dbg service list -o json; }
# backends of frontend IP as "ip:port/state" lines, sorted
backends_of() { svc_list | jq -r --arg ip "$1" '.[] | select(.spec."frontend-address".ip == $ip) | .spec."backend-addresses"[] | "\(.ip):\(.port)/\(.state)"' | sort | paste -sd' '; }
backends_are() { [ "$(backends_of "$1")" = "$2" ]; }
has_frontend() { svc_list | jq -e --arg ip "$1" 'any(.[]; .spec."frontend-address".ip == $ip)' >/dev/null; }
no_services() { [ "$(svc_list | jq length)" = 0 ]; }
lb_slots() { dbg bpf lb list -o json | jq -r --arg s "$1:80/TCP" '[.[] | select(.service == $s and .slot > 0) | .backend] | sort | join(" ")'; }
# in_cgroup NS CMD...: CMD inside the node's cgroup and network namespace NS
in_cgroup() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
ask() { in_cgroup "$1" socat -T5 - "TCP4:$2:80" </dev/null 2>/dev/null; }

for p in a b; do fix_netns "$(pod_netns $p)"; cni ADD $p >/dev/null; done
ipa=$(dbg endpoint get container-id:c-a | jq -r .addressing.ipv4)
ipb=$(dbg endpoint get container-id:c-b | jq -r .addressing.ipv4)
for p in a b; do
  bg_in_ns _srv "$ROOT/srv-$p.log" "$(pod_netns $p)" socat TCP4-LISTEN:8080,fork,reuseaddr "SYSTEM:echo $p"
done
wait_for 10 bash -c "nsenter --net=/run/netns/$(pod_netns b) ss -Hltn | grep -q ':8080'"

status=$(dbg status --json)
check "status reports kube-proxy replacement with socket LB on $CG" \
  json_has "$status" ".\"kube-proxy-replacement\" | .enabled and .\"socket-lb\".cgroup == \"$CG\" and .algorithm == \"maglev\""
check "cgroup-root was created" test -d "$CG"
cg_progs=$(bpftool -j cgroup show "$CG" 2>/dev/null || echo '[]')
check "bpftool cgroup show lists connect4/6, sendmsg4/6, recvmsg4/6, getpeername4/6" json_has "$cg_progs" \
  '[.[].attach_type] | sort == ["cgroup_inet4_connect","cgroup_inet4_getpeername","cgroup_inet6_connect","cgroup_inet6_getpeername","cgroup_udp4_recvmsg","cgroup_udp4_sendmsg","cgroup_udp6_recvmsg","cgroup_udp6_sendmsg"]'
check "the socket-LB links are pinned in the pin directory" test "$(ls "$PIN_DIR/node1/links" | grep -c '^sock_')" = 8
check "nothing is attached to the root cgroup by us" test \
  "$(bpftool -j cgroup show /sys/fs/cgroup/unified | jq -s '[.[][]? | select(.name | startswith("cil_"))] | length')" = 0

# --- Kubernetes objects -> maps ---------------------------------------------
put_obj Service web "$(service_json 10.96.0.10)"
put_obj EndpointSlice web-1 "$(slice_json "$ipb")"
wait_for 20 backends_are 10.96.0.10 "$ipb:8080/active"
check "service list shows the ClusterIP with pod b as its backend" test "$(backends_of 10.96.0.10)" = "$ipb:8080/active"
text=$(dbg service list)
check "service list text has upstream's columns and backend line" bash -c \
  "grep -q '^ID  *Frontend  *Service Type  *Backend' <<<'$text' && grep -Eq '10.96.0.10:80/TCP \(i\) +ClusterIP +1 => $ipb:8080/TCP \(active\)' <<<'$text'"
check "bpf lb list shows the slot with pod b" test "$(lb_slots 10.96.0.10)" = "$ipb:8080/TCP"
check "the service entry has count 1, ClusterIP and Maglev" json_has "$(dbg bpf lb list -o json)" \
  '.[] | select(.service == "10.96.0.10:80/TCP" and .slot == 0) | .count == 1 and (.flags | index("ClusterIP")) and .maglev'
check "a process in the node's cgroup reaches pod b through the ClusterIP" test "$(ask "$NODE_NAME" 10.96.0.10)" = b
check "a process of pod a in the cgroup reaches pod b through the ClusterIP" test "$(ask "$(pod_netns a)" 10.96.0.10)" = b
# A pod process outside the cgroup: no socket LB, bpf_lxc translates per
# packet (pod b is the only backend: a pod reaching itself through a
# service is another case).
plain=$(in_ns "$(pod_netns a)" socat -T5 - TCP4:10.96.0.10:80 </dev/null 2>/dev/null || true)
check "per packet (outside the cgroup): pod a reaches pod b through the ClusterIP (got '$plain')" test "$plain" = b
check "...recorded in bpf lb ct list (SVC and REV)" json_has "$(dbg bpf lb ct list -o json)" \
  '(map(select(.direction == "SVC" and .destination == "10.96.0.10:80")) | length) > 0 and (map(select(.direction == "REV")) | length) > 0'

put_obj EndpointSlice web-1 "$(slice_json "$ipa" "$ipb")"
want=$(printf '%s\n' "$ipa:8080/active" "$ipb:8080/active" | sort | paste -sd' ')
wait_for 20 backends_are 10.96.0.10 "$want"
check "a second backend appears in service list" test "$(backends_of 10.96.0.10)" = "$want"
check "...and in the slots" test "$(lb_slots 10.96.0.10 | wc -w)" = 2
seen=""
for i in $(seq 1 30); do seen+=$(ask "$NODE_NAME" 10.96.0.10 || true); done
check "connections spread over both backends (got $seen)" bash -c "[[ '$seen' == *a* && '$seen' == *b* ]]"
mg=$(dbg bpf lb maglev list -o json)
check "bpf lb maglev list: the service's table is split between its 2 backends" json_has "$mg" \
  "to_entries | map(.value) | any(length == 2 and ([.[]] | add) == 16381)"

ids_before=$(svc_list | jq -c '[.[] | {id: .spec.id, fe: .spec."frontend-address"}] | sort_by(.id)')
k8s_id=$(svc_list | jq '.[] | select(.spec."frontend-address".ip == "10.96.0.10") | .spec.id')

# --- API services ----------------------------------------------------------
check "service update creates an API service" dbg service update --id 200 --frontend 10.96.0.20:80 --backends "$ipa:8080"
check "service get 200 shows it" json_has "$(dbg service get 200 -o json)" \
  ".spec.id == 200 and .spec.\"backend-addresses\"[0].ip == \"$ipa\""
check "a process in the cgroup reaches pod a through the API service" test "$(ask "$NODE_NAME" 10.96.0.20)" = a
check "a service without backends is accepted" dbg service update --id 250 --frontend 10.96.0.25:80
out=$(in_cgroup "$NODE_NAME" socat -T5 - TCP4:10.96.0.25:80 </dev/null 2>&1 || true)
check "connect to it is refused at once (service-no-backend-response: reject; got: $out)" grep -q 'Connection refused' <<<"$out"
check "it is deleted again" dbg service delete 250
list_before=$(svc_list); lb_before=$(dbg bpf lb list -o json)
out=$(dbg service update --id 201 --frontend 10.96.0.21:70000 --backends "$ipa:8080" 2>&1) && rc=0 || rc=$?
check "bad port is refused naming the field (got: $out)" bash -c "[ $rc != 0 ] && grep -q 'frontend-address.port: 70000 is outside 1..65535' <<<'$out'"
out=$(dbg service update --id 201 --frontend 10.96.0.21:80 --backends "10.0.0.300:8080" 2>&1) && rc=0 || rc=$?
check "bad backend address is refused naming the field (got: $out)" bash -c "[ $rc != 0 ] && grep -q 'backend-addresses\[0\].ip' <<<'$out'"
out=$(dbg service update --id 201 --frontend 10.96.0.10:80 --backends "$ipa:8080" 2>&1) && rc=0 || rc=$?
check "a duplicate frontend is refused (got: $out)" bash -c "[ $rc != 0 ] && grep -q 'already used by service default/web' <<<'$out'"
out=$(dbg service update --id "$k8s_id" --frontend 10.96.0.22:80 2>&1) && rc=0 || rc=$?
check "the id of a Kubernetes frontend is refused (got: $out)" bash -c "[ $rc != 0 ] && grep -q '^Error: id: ' <<<'$out'"
check "after bad input the services are unchanged" test "$(svc_list)" = "$list_before"
check "after bad input the maps are unchanged" test "$(dbg bpf lb list -o json)" = "$lb_before"
out=$(dbg service delete "$k8s_id" 2>&1) && rc=0 || rc=$?
check "deleting a Kubernetes service through the API is refused" bash -c "[ $rc != 0 ] && grep -q 'Kubernetes Service default/web' <<<'$out'"

# --- restart keeps ids -------------------------------------------------------
ids_before=$(svc_list | jq -c '[.[] | {id: .spec.id, fe: .spec."frontend-address"}] | sort_by(.id)')
be_before=$(dbg bpf lb list -o json | jq -c '[.[] | select(.slot > 0) | {backend, backend_id}] | sort_by(.backend_id)')
link_before=$(bpftool -j link show pinned "$PIN_DIR/node1/links/sock_cil_sock4_connect" 2>/dev/null | jq .id)
kill -9 "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
check "services keep working while the agent is down" test "$(ask "$NODE_NAME" 10.96.0.20)" = a
agent_start
check "after a restart every service has the same id" test "$(svc_list | jq -c '[.[] | {id: .spec.id, fe: .spec."frontend-address"}] | sort_by(.id)')" = "$ids_before"
check "after a restart every backend has the same id" \
  test "$(dbg bpf lb list -o json | jq -c '[.[] | select(.slot > 0) | {backend, backend_id}] | sort_by(.backend_id)')" = "$be_before"
check "the socket-LB link was updated in place (same link id $link_before)" \
  test "$(bpftool -j link show pinned "$PIN_DIR/node1/links/sock_cil_sock4_connect" 2>/dev/null | jq .id)" = "$link_before"
check "still 8 programs on the cgroup" test "$(bpftool -j cgroup show "$CG" | jq length)" = 8
check "the ClusterIP still answers after the restart" test "$(ask "$NODE_NAME" 10.96.0.20)" = a

printf '4096' >"$CONFIG/bpf-lb-map-max"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
agent_start
check "bpf-lb-map-max resizes the LB maps" bash -c \
  "[ \"\$(bpftool -j map show pinned $PIN_DIR/node1/cpp_lb_svc | jq .max_entries)\" = 4096 ] && [ \"\$(bpftool -j map show pinned $PIN_DIR/node1/cpp_lb_ct4 | jq .max_entries)\" = 4096 ]"
check "...keeping every service id" test "$(svc_list | jq -c '[.[] | {id: .spec.id, fe: .spec."frontend-address"}] | sort_by(.id)')" = "$ids_before"
check "...and traffic through the ClusterIP" test "$(ask "$NODE_NAME" 10.96.0.10)" != ""

# --- deletion ----------------------------------------------------------------
check "service delete removes the API service" dbg service delete 200
check "...from the list" test "$(svc_list | jq '[.[] | select(.spec.id == 200)] | length')" = 0
check "...and from the maps" test -z "$(lb_slots 10.96.0.20)"

# --- NodePort through the API: an entry per scope ---------------------------
check "an API NodePort service is accepted" dbg service update --id 300 --frontend 192.0.2.1:30080 --backends "$ipb:8080" --k8s-node-port
check "it has an external (e) and an internal (i) entry with their own ids" json_has "$(dbg bpf lb list -o json)" \
  '[.[] | select(.service == "192.0.2.1:30080/TCP" and .slot == 0)] | (map(.scope) | sort) == ["e","i"] and (map(.svc_id) | unique | length) == 2'
check "the external one carries id 300" json_has "$(dbg service get 300 -o json)" '.spec."frontend-address".scope == "external"'
out=$(dbg service delete --all)
check "service delete --all removes API services only (got: $out)" test "$out" = "Deleted 1 services"
check "...both entries of the NodePort are gone" test -z "$(dbg bpf lb list -o json | jq '.[] | select(.service == "192.0.2.1:30080/TCP")')"
check "...the Kubernetes service stays" has_frontend 10.96.0.10

put_obj Service web "$(service_json 10.96.0.11)"
wait_for 20 has_frontend 10.96.0.11
check "a changed ClusterIP moves the frontend" bash -c "[ -z '$(lb_slots 10.96.0.10)' ] && [ '$(lb_slots 10.96.0.11 | wc -w)' = 2 ]"
del_obj Service web
wait_for 20 no_services
check "deleting the Service empties the list" test "$(svc_list | jq length)" = 0
check "...and the LB maps" test "$(dbg bpf lb list -o json | jq length)" = 0
check "no backend is left in cpp_lb_be" test "$(bpftool -j map dump pinned "$PIN_DIR/node1/cpp_lb_be" | jq length)" = 0

# --- XDP (bpf-lb-acceleration) and turning kube-proxy replacement off --------
xdp_mode() { in_ns "$NODE_NAME" bpftool -j net show dev eth0 | jq -r '.[0].xdp[0].mode // "none"'; }
restart_agent() { kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; agent_start; }
printf 'native' >"$CONFIG/bpf-lb-acceleration"
restart_agent
check "bpf-lb-acceleration native: cil_xdp_entry on eth0 in driver mode" test "$(xdp_mode)" = driver
check "status reports it" json_has "$(dbg status --json)" '."kube-proxy-replacement".acceleration == [{"device": "eth0", "mode": "native"}]'
printf 'best-effort' >"$CONFIG/bpf-lb-acceleration"
restart_agent
check "best-effort: driver mode where the driver has it (veth)" test "$(xdp_mode)" = driver
printf 'disabled' >"$CONFIG/bpf-lb-acceleration"
restart_agent
check "disabled: XDP removed from eth0" test "$(xdp_mode)" = none
printf 'false' >"$CONFIG/kube-proxy-replacement"
rm -f "$CONFIG/bpf-lb-sock"
restart_agent
check "kube-proxy-replacement false: socket LB detached from the cgroup" \
  test "$(bpftool -j cgroup show "$CG" | jq -s '[.[][]?] | length')" = 0
check "...and its pinned links are gone" test "$(ls "$PIN_DIR/node1/links" | grep -c '^sock_' || true)" = 0
out=$(dbg service list 2>&1 || true)
check "...and the service API says so (got: $out)" grep -q 'kube-proxy-replacement is false' <<<"$out"
fix_summary
