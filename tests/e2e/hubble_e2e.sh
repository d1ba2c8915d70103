#!/usr/bin/env bash
# Issue 6 acceptance: Hubble in a 2-node lab (agents with enable-hubble, the
# observer API on :4244 and a unix socket, metrics on :9962):
#  - an allowed (cross-node) and a denied (same-node) connection appear as
#    flows with the right verdict, identities, pod names and the policy that
#    decided them; a default-deny drop names no policy;
#  - server-side filters return exactly the flows a client-side filter over
#    the same time window picks;
#  - a Python client generated from the project's .proto streams flows from
#    a real agent;
#  - metrics move when traffic flows and drops happen;
#  - events lost while the agent does not read are counted (status, metrics,
#    the observer's lost-events message), while the drop counters still see
#    every packet;
#  - cilium-dbg monitor, hubble --server over TCP, cilium-lab observe;
#  - bad filters and flags get clear errors; a client killed mid-stream
#    leaves the server serving others.
# Usage: hubble_e2e.sh BIN_DIR
BIN="$(cd "${1:?usage: $0 BIN_DIR}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DATA="$HERE/testdata/hubble"
LAB="hb$$"
source "$HERE/lib.sh"

for b in cilium-lab cilium-agent cilium-cni cilium-dbg cilium-operator-generic hubble; do
  [ -x "$BIN/$b" ] || { echo "ERROR: $BIN/$b not built"; trap - EXIT; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "ERROR: needs root"; trap - EXIT; exit 77; }
for t in etcd socat jq curl /usr/bin/python3 protoc grpc_python_plugin; do
  command -v "$t" >/dev/null || { echo "ERROR: $t not installed"; trap - EXIT; exit 77; }
done

TMP="$(mktemp -d /tmp/cpp-hubble-e2e.XXXXXX)"
refresh() { ST="$(lab status --json)"; }
nodef() { jq -r --arg n "$1" --arg f "$2" '.nodes[] | select(.name==$n) | .[$f]' <<<"$ST"; }
podf() { jq -r --arg p "$1" --arg f "$2" '.pods[] | select(.name==$p) | .[$f]' <<<"$ST"; }
underlay() { nsenter --net="/run/netns/cpp-${LAB}-underlay" "$@"; }
# hubble NODE ARGS...: the hubble CLI against a node's unix socket.
hub() {
  local node=$1
  shift
  "$BIN/hubble" observe --server "unix://$(nodef "$node" hubble_socket)" "$@"
}
dbg() {
  local node=$1
  shift
  nsenter --net="/run/netns/cpp-${LAB}-${node}" "$BIN/cilium-dbg" -H "$(nodef "$node" socket)" "$@"
}
metrics() { underlay curl -sf --max-time 5 "http://$(nodef "$1" metrics_address)/metrics"; }
# metric NODE NAME LABEL_MATCH: sum of the samples of NAME whose labels contain LABEL_MATCH
metric() {
  metrics "$1" | awk -v n="$2" -v m="$3" '
    $0 ~ "^"n"[{ ]" && index($0, m) { s += $NF } END { printf "%d\n", s }'
}

SERVERS=()
serve() {  # serve POD PORT
  setsid "$LAB_BIN" -n "$LAB" exec "$1" -- socat -t10 TCP6-LISTEN:"$2",ipv6only=0,fork,reuseaddr \
    SYSTEM:"echo $1; cat >/dev/null" >/dev/null 2>&1 &
  SERVERS+=("$!")
}
BG=()
hubble_cleanup() {
  local p
  for p in "${BG[@]}" "${SERVERS[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  for p in "${BG[@]}" "${SERVERS[@]}"; do
    while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
  done
  [ -z "${STOPPED_AGENT:-}" ] || kill -CONT "$STOPPED_AGENT" 2>/dev/null || true
  rm -rf "$TMP"
}
# set +e: under errexit, `(exit $rc)` of a failed run would end the trap before
# the lab is torn down.
trap 'rc=$?; set +e; hubble_cleanup; (exit $rc); cleanup' EXIT

# req FROM ADDR PORT: one TCP request; prints the answer (or socat's error)
req() {
  local target="$2:$3"
  case "$2" in *:*) target="[$2]:$3" ;; esac
  echo q | lab exec "$1" -- socat -t5 -T5 - "TCP:$target,connect-timeout=3" 2>&1 || true
}

log "lab $LAB: 2 nodes on etcd (cluster-wide identities); fe (front), db and be1 (back) on node1, be (back) on node2"
lab up --nodes 2 --bin-dir "$BIN" --timeout 120 >/dev/null
lab apply -f "$DATA/namespaces.yaml" >/dev/null
lab pod add node1 fe --namespace front --labels app=frontend >/dev/null
lab pod add node1 db --namespace back --labels app=db >/dev/null
lab pod add node1 be1 --namespace back --labels app=backend >/dev/null
lab pod add node2 be --namespace back --labels app=backend >/dev/null
refresh
FE_ID="$(dbg node1 endpoint list --json | jq -r '.[] | select(."k8s-pod-name"=="fe") | .identity')"
DB_ID="$(dbg node1 endpoint list --json | jq -r '.[] | select(."k8s-pod-name"=="db") | .identity')"
BE_ID="$(dbg node2 endpoint list --json | jq -r '.[] | select(."k8s-pod-name"=="be") | .identity')"
BE_IP="$(podf be ipv4)"
BE1_IP="$(podf be1 ipv4)"
echo "identities: fe=$FE_ID db=$DB_ID be=$BE_ID; be=$BE_IP be1=$BE1_IP"
serve be 8080
serve be1 8080
serve be1 9999
lab apply -f "$DATA/backend-policy.yaml" >/dev/null

log "allowed, denied and default-denied connections"
answered() { [ "$(req "$1" "$2" "$3")" = "$4" ]; }
check "fe -> be:8080 (other node) allowed" wait_for 30 answered fe "$BE_IP" 8080 be
FWD_BEFORE="$(metric node2 cilium_forward_count_total 'direction="INGRESS"')"
DROP_BEFORE="$(metric node1 cilium_drop_count_total 'reason="Policy denied by denylist"')"
for _ in 1 2 3; do req fe "$BE_IP" 8080 >/dev/null; done
check "db -> be1:8080 denied" test "$(req db "$BE1_IP" 8080)" != be1
check "fe -> be1:9999 denied by default" test "$(req fe "$BE1_IP" 9999)" != be1

log "flows name the policy that decided them"
allowed_flow() {
  hub node2 --last 1000 --type policy-verdict --to-pod back/be --verdict FORWARDED -o json >"$TMP/allowed.json"
  [ -s "$TMP/allowed.json" ]
}
check "node2 has a policy-verdict flow fe -> be" wait_for 30 allowed_flow
A="$(head -1 "$TMP/allowed.json")"
expect_eq "allowed: source pod" "front/fe" "$(jq -r '.flow.source | "\(.namespace)/\(.pod_name)"' <<<"$A")"
expect_eq "allowed: destination pod" "back/be" "$(jq -r '.flow.destination | "\(.namespace)/\(.pod_name)"' <<<"$A")"
expect_eq "allowed: source identity" "$FE_ID" "$(jq -r '.flow.source.identity' <<<"$A")"
expect_eq "allowed: destination identity" "$BE_ID" "$(jq -r '.flow.destination.identity' <<<"$A")"
expect_eq "allowed: verdict" "FORWARDED" "$(jq -r '.flow.verdict' <<<"$A")"
expect_eq "allowed: direction" "INGRESS" "$(jq -r '.flow.traffic_direction' <<<"$A")"
expect_eq "allowed: port" "8080" "$(jq -r '.flow.l4.TCP.destination_port' <<<"$A")"
expect_eq "allowed: policy" "back/backend-policy" \
  "$(jq -r '.flow.ingress_allowed_by[0] | "\(.namespace)/\(.name)"' <<<"$A")"
expect_eq "allowed: rule" "spec.ingress[0]" "$(jq -r '.flow.ingress_allowed_by[0].rule' <<<"$A")"
expect_contains "allowed: source labels" "k8s:app=frontend" "$(jq -c '.flow.source.labels' <<<"$A")"
expect_eq "allowed: node" "node2" "$(jq -r '.flow.node_name' <<<"$A")"

denied_flow() {
  hub node1 --last 1000 --from-pod back/db --to-pod back/be1 --verdict DROPPED -o json >"$TMP/denied.json"
  [ -s "$TMP/denied.json" ]
}
check "node1 has a dropped flow db -> be1" wait_for 30 denied_flow
D="$(head -1 "$TMP/denied.json")"
expect_eq "denied: verdict" "DROPPED" "$(jq -r '.flow.verdict' <<<"$D")"
expect_eq "denied: reason" "POLICY_DENY" "$(jq -r '.flow.drop_reason_desc' <<<"$D")"
expect_eq "denied: source identity" "$DB_ID" "$(jq -r '.flow.source.identity' <<<"$D")"
expect_eq "denied: policy" "back/backend-policy" \
  "$(jq -r '[.flow.ingress_denied_by[]? | "\(.namespace)/\(.name)"] | first' "$TMP/denied.json" | head -1)"

expect_eq "denied: rule" "spec.ingressDeny[0]" \
  "$(jq -r '[.flow.ingress_denied_by[]? | .rule] | first' "$TMP/denied.json" | head -1)"

default_flow() {
  hub node1 --last 1000 --from-pod front/fe --to-port 9999 --verdict DROPPED -o json >"$TMP/default.json"
  [ -s "$TMP/default.json" ]
}
check "node1 has a dropped flow fe -> be1:9999" wait_for 30 default_flow
expect_eq "default deny: reason" "POLICY_DENIED" "$(jq -r '.flow.drop_reason_desc' <"$TMP/default.json" | head -1)"
expect_eq "default deny: no deciding rule" "0" \
  "$(jq -s '[.[] | (.flow.ingress_denied_by // []) | length] | add' <"$TMP/default.json")"

log "compact output says who dropped what"
COMPACT="$(hub node1 --last 1000 --from-pod back/db --verdict DROPPED -o compact)"
expect_contains "compact: pods" "back/db" "$COMPACT"
expect_contains "compact: verdict" "DROPPED" "$COMPACT"
expect_contains "compact: policy" "backend-policy" "$COMPACT"

log "server-side filters return exactly what a client-side filter picks"
# Both queries must see every flow up to UNTIL. The ring buffer is FIFO and
# the datapath batches wake-ups: once a flow from after UNTIL is in the
# ring, everything before it is too.
UNTIL="$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)"
newer_flow() {
  req fe "$BE1_IP" 9999 >/dev/null
  [ -n "$(hub node1 --since "$UNTIL" -o json)" ]
}
check "a flow newer than $UNTIL reached node1's ring" wait_for 30 newer_flow
hub node1 --until "$UNTIL" -o json >"$TMP/all.json"
filter_exact() {  # filter_exact DESC JQ_SELECT HUBBLE_ARGS...
  local desc=$1 sel=$2
  shift 2
  hub node1 --until "$UNTIL" -o json "$@" | jq -c '.flow' | sort >"$TMP/server.txt"
  jq -c ".flow | select($sel)" <"$TMP/all.json" | sort >"$TMP/client.txt"
  local n
  n=$(wc -l <"$TMP/client.txt")
  if [ "$n" -gt 0 ] && cmp -s "$TMP/server.txt" "$TMP/client.txt"; then
    PASSED=$((PASSED + 1))
    echo "ok: filter $desc: $n flows, same as client-side"
  else
    fail "filter $desc: server $(wc -l <"$TMP/server.txt") flows, client $n"
  fi
}
filter_exact "--from-pod back/db" '.source.namespace == "back" and (.source.pod_name | startswith("db"))' --from-pod back/db
filter_exact "--verdict DROPPED" '.verdict == "DROPPED"' --verdict DROPPED
filter_exact "--pod front/fe (from or to)" \
  '(.source.namespace == "front" and (.source.pod_name|startswith("fe"))) or (.destination.namespace == "front" and (.destination.pod_name|startswith("fe")))' \
  --pod front/fe
filter_exact "--to-port 9999 --protocol tcp" '.l4.TCP.destination_port == 9999' --to-port 9999 --protocol tcp
filter_exact "--label app=db" '(.source.labels | index("k8s:app=db")) or (.destination.labels | index("k8s:app=db"))' \
  --label app=db
filter_exact "--not --verdict FORWARDED" '.verdict != "FORWARDED"' --not --verdict FORWARDED
filter_exact "--type policy-verdict" '.event_type.type == 5' --type policy-verdict
filter_exact "--from-identity $DB_ID" ".source.identity == $DB_ID" --from-identity "$DB_ID"

log "a Python client generated from proto/ streams flows from the agent"
mkdir -p "$TMP/py"
protoc -I "$ROOT/proto" --python_out="$TMP/py" --grpc_python_out="$TMP/py" \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  flow/flow.proto relay/relay.proto observer/observer.proto
cat >"$TMP/py/stream.py" <<'EOF'
import sys
import grpc
sys.path.insert(0, sys.argv[1])
from observer import observer_pb2, observer_pb2_grpc
from flow import flow_pb2
channel = grpc.insecure_channel("unix://" + sys.argv[2])
stub = observer_pb2_grpc.ObserverStub(channel)
req = observer_pb2.GetFlowsRequest(follow=True, whitelist=[flow_pb2.FlowFilter(destination_pod=["back/be1"])])
n = 0
for resp in stub.GetFlows(req, timeout=60):
    if resp.HasField("flow") and resp.flow.destination.pod_name == "be1":
        n += 1
        print(resp.flow.source.pod_name, flow_pb2.Verdict.Name(resp.flow.verdict), flush=True)
        if n >= int(sys.argv[3]):
            break
print("streamed", n)
EOF
/usr/bin/python3 "$TMP/py/stream.py" "$TMP/py" "$(nodef node1 hubble_socket)" 3 >"$TMP/py.out" 2>&1 &
PY=$!
BG+=("$PY")
streamed() { grep -q '^streamed 3' "$TMP/py.out"; }
poke() { req fe "$BE1_IP" 9999 >/dev/null; streamed; }
check "python client streamed 3 follow-mode flows to be1" wait_for 60 poke
wait "$PY" 2>/dev/null || true

log "metrics move with traffic and drops"
fwd_moved() { [ "$(metric node2 cilium_forward_count_total 'direction="INGRESS"')" -gt "$FWD_BEFORE" ]; }
check "node2 cilium_forward_count_total{INGRESS} grew (was $FWD_BEFORE)" wait_for 20 fwd_moved
drop_moved() { [ "$(metric node1 cilium_drop_count_total 'reason="Policy denied by denylist"')" -gt "$DROP_BEFORE" ]; }
check "node1 cilium_drop_count_total{Policy denied by denylist} grew (was $DROP_BEFORE)" wait_for 20 drop_moved
check "node1 hubble_flows_processed_total > 0" test "$(metric node1 hubble_flows_processed_total '')" -gt 0
check "node1 cilium_endpoint_state counts 3 ready endpoints" \
  test "$(metric node1 cilium_endpoint_state 'endpoint_state="ready"')" -ge 3

log "events lost while the agent does not read are counted, never silent"
refresh
AGENT1="$(jq -r '.nodes[] | select(.name=="node1") | .agent.pid' <<<"$ST")"
DROPS_BEFORE="$(metric node1 cilium_drop_count_total 'reason="Policy denied by denylist"')"
LOST_BEFORE="$(dbg node1 status --json | jq -r '.hubble."lost-events"')"
kill -STOP "$AGENT1"
STOPPED_AGENT="$AGENT1"
# Every UDP datagram db sends to be1 is dropped by the deny rule and yields a
# drop event; 120,000 of them overflow the 4 MiB ring many times over.
lab exec db -- /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(120000):
    s.sendto(b'x', ('$BE1_IP', 7000 + i % 100))
"
kill -CONT "$AGENT1"
STOPPED_AGENT=""
lost_counted() {
  local l
  l="$(dbg node1 status --json | jq -r '.hubble."lost-events"')"
  [ "$l" -gt "$LOST_BEFORE" ]
}
check "cilium-dbg status reports lost events" wait_for 30 lost_counted
LOST="$(dbg node1 status --json | jq -r '.hubble."lost-events"')"
echo "  lost events: $LOST"
check "status --verbose shows the lost events" bash -c "'$BIN/cilium-dbg' -H '$(nodef node1 socket)' status --verbose | grep -q 'Lost events: *$LOST'"
lost_metric() { [ "$(metric node1 hubble_lost_events_total '')" -gt 0 ]; }
check "hubble_lost_events_total > 0" wait_for 30 lost_metric
drops_all() { [ $(($(metric node1 cilium_drop_count_total 'reason="Policy denied by denylist"') - DROPS_BEFORE)) -ge 120000 ]; }
check "cilium_drop_count_total saw all 120000 drops although events were lost" wait_for 30 drops_all

log "cilium-dbg monitor, hubble over TCP, cilium-lab observe"
nsenter --net="/run/netns/cpp-${LAB}-node1" "$BIN/cilium-dbg" -H "$(nodef node1 socket)" monitor \
  --hubble-socket "$(nodef node1 hubble_socket)" --type drop >"$TMP/monitor.out" 2>&1 &
MON=$!
BG+=("$MON")
monitor_saw() { req db "$BE1_IP" 8080 >/dev/null; grep -q 'drop (Policy denied by denylist)' "$TMP/monitor.out"; }
check "cilium-dbg monitor --type drop prints the deny drop" wait_for 30 monitor_saw
check "monitor --type drop printed only drops" bash -c "! grep -v '^xx drop' '$TMP/monitor.out' | grep -q '^[-<>]'"
kill "$MON" 2>/dev/null || true
tcp_ok() {
  underlay "$BIN/hubble" observe --server "$(nodef node2 hubble_address)" --last 5 -o json | jq -e '.flow.node_name == "node2"' >/dev/null
}
check "hubble observe --server node2:4244 (TCP) returns node2's flows" tcp_ok
OBS="$(lab observe --last 200 -o json)"
check "cilium-lab observe merges both nodes" test "$(jq -r '.flow.node_name' <<<"$OBS" | sort -u | tr '\n' ' ')" = "node1 node2 "
check "hubble status answers" bash -c "'$BIN/hubble' status --server 'unix://$(nodef node1 hubble_socket)' | grep -q 'Current/Max Flows'"

log "bad input gets clear errors; a client killed mid-stream leaves the server serving"
OUT="$("$BIN/hubble" observe --server "unix://$(nodef node1 hubble_socket)" --verdict BOGUS 2>&1)" && fail "--verdict BOGUS accepted"
expect_contains "--verdict BOGUS error" "BOGUS" "$OUT"
OUT="$("$BIN/hubble" observe --server "unix://$(nodef node1 hubble_socket)" --no-such-flag 2>&1)" && fail "--no-such-flag accepted"
expect_contains "unknown flag error" "no-such-flag" "$OUT"
OUT="$("$BIN/hubble" observe --server "unix://$(nodef node1 hubble_socket)" --from-ip 10.0.0.300 2>&1)" && fail "bad IP accepted"
expect_contains "bad IP error" "10.0.0.300" "$OUT"
"$BIN/hubble" observe --server "unix://$(nodef node1 hubble_socket)" --follow -o json >/dev/null 2>&1 &
F=$!
BG+=("$F")
req fe "$BE1_IP" 9999 >/dev/null
check "a follower is streaming" kill -0 "$F"
kill -9 "$F"
wait "$F" 2>/dev/null || true
check "after a follower was killed, another client still gets flows" \
  bash -c "'$BIN/hubble' observe --server 'unix://$(nodef node1 hubble_socket)' --last 3 -o json | jq -e .flow >/dev/null"

log "socket-LB translations are trace-sock flows naming the service and the client; verdicts name the match type"
expect_eq "allowed verdict: match type L3-L4 (fromEndpoints + toPorts)" "2" "$(jq -r '.flow.policy_match_type' <<<"$A")"
hub node1 --last 1000 --type policy-verdict --from-pod back/db --to-pod back/be1 -o json >"$TMP/deny-pv.json"
DENY_PV="$(head -1 "$TMP/deny-pv.json")"
expect_eq "deny verdict: match type L3-Only (ingressDeny fromEndpoints)" "1" "$(jq -r '.flow.policy_match_type' <<<"$DENY_PV")"
lab apply -f "$DATA/backend-service.yaml" >/dev/null
# The service reaches the agents through the store: retry until fe gets an answer.
via_service() { case "$(req fe 10.96.0.60 80)" in be | be1) return 0 ;; esac; return 1; }
check "fe -> ClusterIP 10.96.0.60:80 answered by a backend" wait_for 60 via_service
sock_flows() {
  hub node1 --last 2000 --type trace-sock --from-pod front/fe -o json >"$TMP/sock.json"
  # -s: jq 1.6 -e succeeds on empty input; the flows may not have arrived yet.
  jq -s -e 'any(.[]; .flow.sock_xlate_point == "SOCK_XLATE_POINT_POST_DIRECTION_FWD")' "$TMP/sock.json" >/dev/null
}
check "node1 has trace-sock flows from fe" wait_for 30 sock_flows
PRE="$(jq -c 'select(.flow.sock_xlate_point == "SOCK_XLATE_POINT_PRE_DIRECTION_FWD")' "$TMP/sock.json" | tail -1)"
POST="$(jq -c 'select(.flow.sock_xlate_point == "SOCK_XLATE_POINT_POST_DIRECTION_FWD")' "$TMP/sock.json" | tail -1)"
expect_eq "pre-xlate-fwd: type" "SOCK" "$(jq -r '.flow.Type' <<<"$PRE")"
expect_eq "pre-xlate-fwd: verdict" "TRACED" "$(jq -r '.flow.verdict' <<<"$PRE")"
expect_eq "pre-xlate-fwd: monitor event type trace-sock (7)" "7" "$(jq -r '.flow.event_type.type' <<<"$PRE")"
expect_eq "pre-xlate-fwd: client pod" "front/fe" "$(jq -r '.flow.source | "\(.namespace)/\(.pod_name)"' <<<"$PRE")"
expect_eq "pre-xlate-fwd: destination is the frontend" "10.96.0.60:80" \
  "$(jq -r '"\(.flow.IP.destination):\(.flow.l4.TCP.destination_port)"' <<<"$PRE")"
expect_eq "pre-xlate-fwd: destination_service" "back/backend" \
  "$(jq -r '.flow.destination_service | "\(.namespace)/\(.name)"' <<<"$PRE")"
expect_eq "post-xlate-fwd: verdict" "TRANSLATED" "$(jq -r '.flow.verdict' <<<"$POST")"
POST_DST="$(jq -r '"\(.flow.IP.destination):\(.flow.l4.TCP.destination_port)"' <<<"$POST")"
check "post-xlate-fwd: destination is a backend ($POST_DST)" \
  test "$POST_DST" = "$BE_IP:8080" -o "$POST_DST" = "$BE1_IP:8080"
expect_eq "post-xlate-fwd: destination_service" "back/backend" \
  "$(jq -r '.flow.destination_service | "\(.namespace)/\(.name)"' <<<"$POST")"
expect_eq "post-xlate-fwd: destination identity is the backends'" "$BE_ID" "$(jq -r '.flow.destination.identity' <<<"$POST")"
expect_eq "post-xlate-fwd: source identity is fe's" "$FE_ID" "$(jq -r '.flow.source.identity' <<<"$POST")"
sock_ids() {
  jq -s -e 'length == 1 and (.[0].flow.socket_cookie | tonumber) > 0 and (.[0].flow.cgroup_id | tonumber) > 0' \
    <<<"$POST" >/dev/null
}
check "post-xlate-fwd: socket cookie and cgroup id set" sock_ids
SOCK_COMPACT="$(hub node1 --last 2000 --type trace-sock --from-pod front/fe -o compact)"
expect_contains "compact: pre-xlate-fwd TRACED" "pre-xlate-fwd TRACED (TCP)" "$SOCK_COMPACT"
expect_contains "compact: post-xlate-fwd TRANSLATED" "post-xlate-fwd TRANSLATED (TCP)" "$SOCK_COMPACT"
filter_sock() {
  hub node1 --last 2000 --type trace-sock -o json | jq -e -s 'length > 0 and all(.[]; .flow.event_type.type == 7)' >/dev/null
}
check "--type trace-sock returns only trace-sock flows" filter_sock
nsenter --net="/run/netns/cpp-${LAB}-node1" "$BIN/cilium-dbg" -H "$(nodef node1 socket)" monitor \
  --hubble-socket "$(nodef node1 hubble_socket)" --type trace-sock >"$TMP/monitor-sock.out" 2>&1 &
MON=$!
BG+=("$MON")
monitor_sock() { req fe 10.96.0.60 80 >/dev/null; grep -q '\[pre-xlate-fwd\] cgroup_id: [0-9]* sock_cookie: [0-9]*, dst \[10.96.0.60\]:80 tcp' "$TMP/monitor-sock.out"; }
check "cilium-dbg monitor --type trace-sock prints the translation" wait_for 30 monitor_sock
kill "$MON" 2>/dev/null || true

echo
echo "$PASSED checks passed"
[ "$FAILED" = 0 ] || exit 1
