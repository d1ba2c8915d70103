#!/usr/bin/env bash
# shellcheck disable=SC2015  # pass/fail always return 0: "A && pass ... || fail ..." is safe
# End-to-end acceptance of identity-based L3/L4 policy (issue 3) in a one-node
# lab: pods in three namespaces with different labels, a "world" namespace on
# the underlay, and reachability matrices (cilium-lab probe-matrix) for TCP,
# UDP and ICMP over IPv4 and IPv6 under CNP / CCNP / NetworkPolicy ingress and
# egress rules, entities, CIDR rules and deny rules; an established connection
# surviving a new policy; a pod created after the policy; policy deletion;
# malformed policies; and the cilium-dbg explain commands.
#
# Usage: policy_e2e.sh BIN_DIR   (BIN_DIR holds cilium-lab, cilium-agent,
# cilium-cni, cilium-dbg). Prints PASS/FAIL per check and "N passed, N failed";
# exits non-zero on any failure. Everything runs in namespaces named
# cpp-<lab>-*, removed on exit (also on failure).
BIN="$(cd "${1:?usage: $0 BIN_DIR}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="$HERE/testdata/policy"
LAB="${LAB:-pe$$}"
# shellcheck source=policy_lib.sh
source "$HERE/policy_lib.sh"
require_tools

dbg() { "$DBG_BIN" -H "$SOCK" "$@"; }
# Members of the matrices: front/fe, front/fe2, back/be, back/db, other/ot, the
# node and the world.
ALL=fe,fe2,be,db,ot,node1,world

section "lab $LAB: one node, namespaces front (team=web), back (team=data), other (team=misc)"
lab up --nodes 1 --kvstore directory --bin-dir "$BIN" >/dev/null
SOCK="$(lab status --json | jq -r '.nodes[0].socket')"
lab apply -f "$DATA/namespaces.yaml" >/dev/null
lab pod add node1 fe --namespace front --labels app=frontend >/dev/null
lab pod add node1 fe2 --namespace front --labels app=frontend,role=canary >/dev/null
lab pod add node1 be --namespace back --labels app=backend >/dev/null
lab pod add node1 db --namespace back --labels app=db >/dev/null
lab pod add node1 ot --namespace other --labels app=frontend >/dev/null
world_up world 192.0.2.200 2001:db8::200
ST="$(lab status --json)"
pod_field() { jq -r --arg p "$1" ".pods[] | select(.name==\$p) | .$2" <<<"$ST"; }
BE_V4="$(pod_field be ipv4)"
BE_V6="$(pod_field be ipv6)"
BE_EP="$(pod_field be endpoint_id)"
echo "pods: $(jq -r '[.pods[] | "\(.namespace)/\(.name)=\(.ipv4)"] | join(" ")' <<<"$ST"), world=192.0.2.200"

section "no policy: everything reaches everything"
for proto in tcp udp icmp; do
  port=8080
  [ "$proto" = icmp ] && port=-
  for fam in ipv4 ipv6; do expect_matrix "default allow" "$proto" "$port" "$fam" "$ALL" allow; done
done

section "CNP ingress L4: back/backend accepts TCP 8080 from front/frontend only"
apply_ok "$DATA/backend-ingress-l4.yaml"
for fam in ipv4 ipv6; do
  expect_matrix "ingress L4 allowed port" tcp 8080 "$fam" "$ALL" allow '*>be=deny' '@(fe|fe2|node1)>be=allow'
  expect_matrix "ingress L4 other protocol" udp 8080 "$fam" "$ALL" allow '*>be=deny' 'node1>be=allow'
  expect_matrix "ingress L4 no ICMP" icmp - "$fam" "$ALL" allow '*>be=deny' 'node1>be=allow'
done
expect_matrix "ingress L4 other port" tcp 8081 ipv4 "$ALL" allow '*>be=deny' 'node1>be=allow'

section "explain: cilium-dbg policy trace / bpf policy get / identity list (backend-ingress-l4 in force)"
OUT="$(dbg policy trace --src-k8s-pod front:fe --dst-k8s-pod back:be --dport 8080/TCP 2>&1)" || true
if grep -q 'Final verdict: ALLOWED' <<<"$OUT" && grep -q 'CiliumNetworkPolicy back/backend-ingress-l4' <<<"$OUT" &&
  grep -q 'spec.ingress\[0\]' <<<"$OUT"; then
  pass "policy trace fe -> be 8080/TCP: ALLOWED by CiliumNetworkPolicy back/backend-ingress-l4 spec.ingress[0]"
else
  fail "policy trace fe -> be 8080/TCP: $OUT"
fi
OUT="$(dbg policy trace --src-k8s-pod other:ot --dst-k8s-pod back:be --dport 8080/TCP 2>&1)" || true
if grep -q 'Final verdict: DENIED' <<<"$OUT" && grep -q 'CiliumNetworkPolicy back/backend-ingress-l4' <<<"$OUT" &&
  grep -q 'default deny' <<<"$OUT"; then
  pass "policy trace ot -> be 8080/TCP: DENIED (default deny under back/backend-ingress-l4)"
else
  fail "policy trace ot -> be 8080/TCP: $OUT"
fi
OUT="$(dbg policy trace --src-k8s-pod front:fe --dst-k8s-pod back:be --dport 8081/TCP 2>&1)" || true
grep -q 'Final verdict: DENIED' <<<"$OUT" && pass "policy trace fe -> be 8081/TCP: DENIED" ||
  fail "policy trace fe -> be 8081/TCP: $OUT"
FE_ID="$(dbg -o json endpoint list | jq -r '.[] | select(."k8s-pod-name"=="fe") | .identity')"
BE_ID="$(dbg -o json endpoint list | jq -r '.[] | select(."k8s-pod-name"=="be") | .identity')"
OUT="$(dbg -o json bpf policy get "$BE_EP" 2>&1)" || true
if jq -e --argjson id "$FE_ID" \
  'any(.[]; .identity == $id and .direction == "Ingress" and .port_proto == "8080/TCP" and .policy == "Allow")' \
  <<<"$OUT" >/dev/null 2>&1 &&
  jq -e 'any(.[]; .identity == 1 and .direction == "Ingress")' <<<"$OUT" >/dev/null 2>&1; then
  pass "bpf policy get $BE_EP (be): ingress allow for fe's identity $FE_ID on 8080/TCP and for reserved:host"
else
  fail "bpf policy get $BE_EP (be): $OUT"
fi
OUT="$(dbg bpf policy get "$BE_EP" 2>&1)" || true
grep -q 'k8s:app=frontend' <<<"$OUT" && grep -q '8080/TCP' <<<"$OUT" &&
  pass "bpf policy get $BE_EP (table): names the peer labels and 8080/TCP" || fail "bpf policy get table: $OUT"
OUT="$(dbg -o json identity list 2>&1)" || true
if jq -e 'any(.[]; .id == 1 and .labels == ["reserved:host"]) and any(.[]; .id == 2 and .labels == ["reserved:world"])
          and any(.[]; .id == 6 and (.labels | index("reserved:remote-node")))' <<<"$OUT" >/dev/null 2>&1; then
  pass "identity list: reserved identities 1 host, 2 world, 6 remote-node"
else
  fail "identity list (reserved): $OUT"
fi
if jq -e --argjson id "$BE_ID" 'any(.[]; .id == $id and $id >= 256
          and (.labels | index("k8s:app=backend")) and (.labels | index("k8s:io.kubernetes.pod.namespace=back"))
          and (.labels | index("k8s:io.cilium.k8s.namespace.labels.team=data")))' <<<"$OUT" >/dev/null 2>&1 &&
  [ "$(jq '[.[] | select(.id >= 256 and .id < 65536)] | length' <<<"$OUT")" -eq 5 ]; then
  pass "identity list: cluster identity $BE_ID for back/be with pod and namespace labels; 5 cluster identities for 5 label sets"
else
  fail "identity list (cluster): be identity $BE_ID: $OUT"
fi
delete_ok "$DATA/backend-ingress-l4.yaml"

section "CNP egress L4 + ICMP: front/frontend may send UDP 8080 and pings to back/backend only (other/ot not selected)"
apply_ok "$DATA/frontend-egress-udp-icmp.yaml"
for fam in ipv4 ipv6; do
  expect_matrix "egress L4 allowed" udp 8080 "$fam" "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>be=allow'
  expect_matrix "egress ICMP echo allowed" icmp - "$fam" "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>be=allow'
done
expect_matrix "egress L4 other protocol" tcp 8080 ipv4 "$ALL" allow '@(fe|fe2)>*=deny'
delete_ok "$DATA/frontend-egress-udp-icmp.yaml"

section "CNP L3 only: back/db accepts every protocol from back/backend"
apply_ok "$DATA/db-ingress-l3.yaml"
for fam in ipv4 ipv6; do
  for proto in tcp udp icmp; do
    port=9000
    [ "$proto" = icmp ] && port=-
    expect_matrix "ingress L3" "$proto" "$port" "$fam" "$ALL" allow '*>db=deny' '@(be|node1)>db=allow'
  done
done
delete_ok "$DATA/db-ingress-l3.yaml"

section "entities host and world"
apply_ok "$DATA/db-from-host.yaml"
expect_matrix "fromEntities host" tcp 8080 ipv4 "$ALL" allow '*>db=deny' 'node1>db=allow'
expect_matrix "fromEntities host" icmp - ipv6 "$ALL" allow '*>db=deny' 'node1>db=allow'
delete_ok "$DATA/db-from-host.yaml"
apply_ok "$DATA/frontend-to-host.yaml"
expect_matrix "toEntities host" tcp 8080 ipv4 "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>node1=allow'
expect_matrix "toEntities host" udp 8080 ipv6 "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>node1=allow'
expect_matrix "toEntities host" icmp - ipv4 "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>node1=allow'
delete_ok "$DATA/frontend-to-host.yaml"
apply_ok "$DATA/frontend-to-world.yaml"
expect_matrix "toEntities world" tcp 8080 ipv4 "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>world=allow'
expect_matrix "toEntities world" tcp 8080 ipv6 "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>world=allow'
expect_matrix "toEntities world" icmp - ipv4 "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>world=allow'
delete_ok "$DATA/frontend-to-world.yaml"
apply_ok "$DATA/backend-from-world.yaml"
expect_matrix "fromEntities world" tcp 8080 ipv4 "$ALL" allow '*>be=deny' '@(world|node1)>be=allow'
expect_matrix "fromEntities world" udp 8080 ipv6 "$ALL" allow '*>be=deny' '@(world|node1)>be=allow'
delete_ok "$DATA/backend-from-world.yaml"

section "deny beats allow: ingressDeny under a CCNP allowing all; egressDeny under toEntities all"
apply_ok "$DATA/deny-ingress-over-allow.yaml"
for fam in ipv4 ipv6; do
  expect_matrix "ingressDeny over allow-all" tcp 8080 "$fam" "$ALL" allow '@(fe|fe2)>be=deny'
done
expect_matrix "ingressDeny only TCP 8080" udp 8080 ipv4 "$ALL" allow
expect_matrix "ingressDeny only TCP 8080" tcp 8081 ipv6 "$ALL" allow
expect_matrix "ingressDeny only TCP 8080" icmp - ipv4 "$ALL" allow
OUT="$(dbg policy trace --src-k8s-pod front:fe --dst-k8s-pod back:be --dport 8080/TCP 2>&1)" || true
if grep -q 'Final verdict: DENIED' <<<"$OUT" && grep -q 'back/backend-deny-frontend-tcp' <<<"$OUT" &&
  grep -q 'spec.ingressDeny\[0\]' <<<"$OUT"; then
  pass "policy trace fe -> be 8080/TCP: DENIED by back/backend-deny-frontend-tcp spec.ingressDeny[0]"
else
  fail "policy trace fe -> be 8080/TCP (deny rule): $OUT"
fi
OUT="$(dbg -o json bpf policy get "$BE_EP" 2>&1)" || true
jq -e --argjson id "$FE_ID" 'any(.[]; .identity == $id and .deny == true and .port_proto == "8080/TCP")' \
  <<<"$OUT" >/dev/null 2>&1 && pass "bpf policy get be: deny entry for fe's identity on 8080/TCP" ||
  fail "bpf policy get be (deny entry): $OUT"
delete_ok "$DATA/deny-ingress-over-allow.yaml"
apply_ok "$DATA/deny-egress-over-allow.yaml"
expect_matrix "egressDeny over toEntities all" tcp 8080 ipv4 "$ALL" allow '@(fe|fe2)>db=deny'
expect_matrix "egressDeny over toEntities all" udp 8080 ipv6 "$ALL" allow '@(fe|fe2)>db=deny'
expect_matrix "egressDeny over toEntities all" icmp - ipv4 "$ALL" allow '@(fe|fe2)>db=deny'
delete_ok "$DATA/deny-egress-over-allow.yaml"

section "CCNP selects across namespaces: every app=frontend pod accepts only app=backend"
apply_ok "$DATA/ccnp-frontend-from-backend.yaml"
expect_matrix "CCNP ingress" tcp 8080 ipv4 "$ALL" allow '*>@(fe|fe2|ot)=deny' '@(be|node1)>@(fe|fe2|ot)=allow'
expect_matrix "CCNP ingress" udp 8080 ipv6 "$ALL" allow '*>@(fe|fe2|ot)=deny' '@(be|node1)>@(fe|fe2|ot)=allow'
expect_matrix "CCNP ingress" icmp - ipv4 "$ALL" allow '*>@(fe|fe2|ot)=deny' '@(be|node1)>@(fe|fe2|ot)=allow'
delete_ok "$DATA/ccnp-frontend-from-backend.yaml"

section "Kubernetes NetworkPolicy with namespaceSelector team=web"
apply_ok "$DATA/knp-backend-from-team-web.yaml"
expect_matrix "KNP namespaceSelector" tcp 8080 ipv4 "$ALL" allow '*>be=deny' '@(fe|fe2|node1)>be=allow'
expect_matrix "KNP namespaceSelector" tcp 8080 ipv6 "$ALL" allow '*>be=deny' '@(fe|fe2|node1)>be=allow'
expect_matrix "KNP other port" tcp 8081 ipv4 "$ALL" allow '*>be=deny' 'node1>be=allow'
expect_matrix "KNP other protocol" udp 8080 ipv4 "$ALL" allow '*>be=deny' 'node1>be=allow'
delete_ok "$DATA/knp-backend-from-team-web.yaml"

section "CIDR: toCIDR the underlay subnets, fromCIDR the world's addresses"
apply_ok "$DATA/frontend-to-cidr.yaml"
expect_matrix "toCIDR (node addresses are host, not CIDR)" tcp 8080 ipv4 "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>world=allow'
expect_matrix "toCIDR (node addresses are host, not CIDR)" tcp 8080 ipv6 "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>world=allow'
expect_matrix "toCIDR" icmp - ipv4 "$ALL" allow '@(fe|fe2)>*=deny' '@(fe|fe2)>world=allow'
delete_ok "$DATA/frontend-to-cidr.yaml"
apply_ok "$DATA/backend-from-cidr.yaml"
expect_matrix "fromCIDR" tcp 8080 ipv4 "$ALL" allow '*>be=deny' '@(world|node1)>be=allow'
expect_matrix "fromCIDR" tcp 8080 ipv6 "$ALL" allow '*>be=deny' '@(world|node1)>be=allow'
delete_ok "$DATA/backend-from-cidr.yaml"

section "policy added while a TCP connection is open: the established flow stays, new ones are dropped"
CONN="$DATA/conn.py"
bg_start "$TMP_DIR/server.out" "$LAB_BIN" -n "$LAB" exec be -- python3 "$CONN" serve 9090
SERVER_PID=$BG_PID
if ! wait_for 20 grep -q listening "$TMP_DIR/server.out"; then
  fail "echo server in be did not start: $(cat "$TMP_DIR/server.out")"
fi
new_conn() { lab exec "$1" -- python3 "$CONN" connect "$2" 9090 1.5; }
new_conn fe "$BE_V4" && pass "before the policy: new connection fe -> be:9090 ipv4" ||
  fail "before the policy: new connection fe -> be:9090 ipv4 failed"
: >"$TMP_DIR/hold4.log"
: >"$TMP_DIR/hold6.log"
bg_start "$TMP_DIR/hold4.out" "$LAB_BIN" -n "$LAB" exec fe -- python3 "$CONN" hold "$BE_V4" 9090 "$TMP_DIR/hold4.log"
HOLD4_PID=$BG_PID
bg_start "$TMP_DIR/hold6.out" "$LAB_BIN" -n "$LAB" exec fe -- python3 "$CONN" hold "$BE_V6" 9090 "$TMP_DIR/hold6.log"
HOLD6_PID=$BG_PID
rounds() { grep -c '^ok' "$1" || true; }
errors_in() { grep '^ERROR' "$1" || true; }
at_least() { [ "$(rounds "$1")" -ge "$2" ] && [ -z "$(errors_in "$1")" ]; }
wait_for 20 at_least "$TMP_DIR/hold4.log" 5 && wait_for 20 at_least "$TMP_DIR/hold6.log" 5 ||
  fail "long-lived connections did not start: $(cat "$TMP_DIR/hold4.log" "$TMP_DIR/hold6.log" | tail -3)"
apply_ok "$DATA/backend-only-from-db.yaml"
for fam in 4 6; do
  log="$TMP_DIR/hold$fam.log"
  n=$(rounds "$log")
  # 40 more round trips (about 2 s at one per 50 ms) on the same connection.
  if wait_for 30 at_least "$log" $((n + 40)); then
    pass "established fe -> be:9090 ipv$fam flow keeps working after the policy ($n -> $(rounds "$log") round trips)"
  else
    fail "established fe -> be:9090 ipv$fam flow broken by the policy: $(tail -2 "$log")"
  fi
done
new_conn fe "$BE_V4" && fail "new connection fe -> be:9090 ipv4 allowed under backend-only-from-db" ||
  pass "new connection fe -> be:9090 ipv4 dropped"
new_conn fe "$BE_V6" && fail "new connection fe -> be:9090 ipv6 allowed under backend-only-from-db" ||
  pass "new connection fe -> be:9090 ipv6 dropped"
new_conn ot "$BE_V4" && fail "new connection ot -> be:9090 ipv4 allowed under backend-only-from-db" ||
  pass "new connection ot -> be:9090 ipv4 dropped"
new_conn db "$BE_V4" && pass "new connection db -> be:9090 ipv4 allowed (the server is up)" ||
  fail "new connection db -> be:9090 ipv4 dropped"
for fam in 4 6; do
  log="$TMP_DIR/hold$fam.log"
  n=$(rounds "$log")
  wait_for 30 at_least "$log" $((n + 20)) &&
    pass "established ipv$fam flow still working after the dropped attempts" ||
    fail "established ipv$fam flow broken: $(tail -2 "$log")"
done
stop_pid "$HOLD4_PID"
stop_pid "$HOLD6_PID"
stop_pid "$SERVER_PID"
delete_ok "$DATA/backend-only-from-db.yaml"

section "pods created after the policy get it"
apply_ok "$DATA/backend-ingress-l4.yaml"
lab pod add node1 fe3 --namespace front --labels app=frontend >/dev/null
lab pod add node1 ot2 --namespace front --labels app=other >/dev/null
lab pod add node1 be2 --namespace back --labels app=backend >/dev/null
NEW=fe,fe3,ot2,ot,db,be,be2,node1
for fam in ipv4 ipv6; do
  expect_matrix "new pods under backend-ingress-l4" tcp 8080 "$fam" "$NEW" allow '*>@(be|be2)=deny' \
    '@(fe|fe3|node1)>@(be|be2)=allow'
done
EPS="$(dbg -o json endpoint list)"
id_of() { jq -r --arg p "$1" '.[] | select(."k8s-pod-name"==$p) | .identity' <<<"$EPS"; }
[ "$(id_of fe3)" = "$(id_of fe)" ] && [ "$(id_of be2)" = "$(id_of be)" ] && [ "$(id_of ot2)" != "$(id_of fe)" ] &&
  pass "new pods with the same labels share the identity (fe3=fe=$(id_of fe), be2=be=$(id_of be)); ot2 has its own ($(id_of ot2))" ||
  fail "identities of new pods: fe=$(id_of fe) fe3=$(id_of fe3) be=$(id_of be) be2=$(id_of be2) ot2=$(id_of ot2)"

section "malformed policies are rejected with the field path; the policy in force stays"
STORE_OBJ="/run/ciliumpp/lab/$LAB/store/CiliumNetworkPolicy/back/backend-ingress-l4.json"
RV_BEFORE="$(jq -r .metadata.resourceVersion "$STORE_OBJ")"
REV_BEFORE="$(dbg policy get | sed -n 's/^Revision: //p')"
reject() {  # reject FILE EXPECTED-TEXT
  local err rc=0
  err="$(lab apply -f "$DATA/$1" 2>&1 >/dev/null)" || rc=$?
  if [ "$rc" -ne 0 ] && grep -qF "$2" <<<"$err" && grep -q 'nothing was applied' <<<"$err"; then
    pass "apply $1 rejected: $(head -1 <<<"$err")"
  else
    fail "apply $1: exit $rc, expected an error containing '$2': $err"
  fi
}
reject bad-port.yaml 'spec.ingress[0].toPorts[0].ports[0].port: "70000" is not a valid port'
reject bad-unknown-field.yaml 'spec.ingress[0].fromEndpoint: unknown field'
reject bad-cidr.yaml 'document 2: spec.egress[0].toCIDR[0]: "10.0.0.300/24" is not a valid CIDR'
OUT="$(dbg policy import "$DATA/bad-port.yaml" 2>&1)" && fail "cilium-dbg policy import bad-port.yaml accepted: $OUT" ||
  { grep -qF 'spec.ingress[0].toPorts[0].ports[0].port' <<<"$OUT" &&
    pass "cilium-dbg policy import bad-port.yaml rejected by the agent: $OUT" ||
    fail "cilium-dbg policy import bad-port.yaml: no field path in: $OUT"; }
[ "$(jq -r .metadata.resourceVersion "$STORE_OBJ")" = "$RV_BEFORE" ] &&
  [ ! -e "/run/ciliumpp/lab/$LAB/store/CiliumNetworkPolicy/front/would-deny-frontend.json" ] &&
  pass "store unchanged (backend-ingress-l4 resourceVersion $RV_BEFORE, nothing of bad-cidr.yaml written)" ||
  fail "store changed by rejected files"
REV_AFTER="$(dbg policy get | sed -n 's/^Revision: //p')"
[ "$REV_AFTER" = "$REV_BEFORE" ] && pass "agent policy revision unchanged ($REV_AFTER)" ||
  fail "agent policy revision changed: $REV_BEFORE -> $REV_AFTER"
for fam in ipv4 ipv6; do
  expect_matrix "previous policy still in force" tcp 8080 "$fam" "$ALL" allow '*>be=deny' '@(fe|fe2|node1)>be=allow'
done

section "deleting the policy restores the default (allowed)"
delete_ok "$DATA/backend-ingress-l4.yaml"
EVERYONE="$ALL,fe3,ot2,be2"
expect_matrix "after delete" tcp 8080 ipv4 "$EVERYONE" allow
expect_matrix "after delete" udp 8080 ipv6 "$EVERYONE" allow
expect_matrix "after delete" icmp - ipv4 "$EVERYONE" allow
# (`policy get` prints the policies as JSON followed by a "Revision: N" line.)
OUT="$(dbg policy get)"
[ "$(sed '/^Revision: /d' <<<"$OUT" | jq length)" = 0 ] && pass "cilium-dbg policy get: no policies left" || fail "policies left: $OUT"
OUT="$(dbg -o json bpf policy get "$BE_EP" 2>&1)" || true
[ "$(jq length <<<"$OUT" 2>/dev/null)" = 0 ] && pass "bpf policy get be: no entries left" ||
  fail "bpf policy get be after delete: $OUT"

# Last: these two sections leave ipcache entries behind damaged when the
# agent overwrites/removes them (ipcache entries of CIDR rules that name a
# node or pod address replace the host/pod entry and are deleted with the rule).
section "toCIDR with the node's own addresses (CIDR rules do not select nodes); host identity kept"
ipcache_id_of() {
  dbg bpf ipcache list | jq -r --arg p "$1" '[.[] | select(.prefix == $p) | .identity] | first // "missing"'
}
NODE_V4="$(jq -r '.nodes[0].ipv4' <<<"$ST")"
NODE_V6="$(jq -r '.nodes[0].ipv6' <<<"$ST")"
for p in "$NODE_V4/32" "$NODE_V6/128"; do
  [ "$(ipcache_id_of "$p")" = 1 ] && pass "ipcache $p -> identity 1 (host) before" ||
    fail "ipcache $p before: $(ipcache_id_of "$p")"
done
apply_ok "$DATA/frontend-to-node-cidr.yaml"
expect_matrix "toCIDR node address" tcp 8080 ipv4 fe,fe2,be,node1,world allow '@(fe|fe2)>*=deny'
expect_matrix "toCIDR node address" tcp 8080 ipv6 fe,fe2,be,node1,world allow '@(fe|fe2)>*=deny'
for p in "$NODE_V4/32" "$NODE_V6/128"; do
  [ "$(ipcache_id_of "$p")" = 1 ] && pass "ipcache $p still identity 1 (host) with the CIDR policy" ||
    fail "ipcache $p with the CIDR policy: identity $(ipcache_id_of "$p") instead of 1 (host)"
done
delete_ok "$DATA/frontend-to-node-cidr.yaml"
for p in "$NODE_V4/32" "$NODE_V6/128"; do
  [ "$(ipcache_id_of "$p")" = 1 ] && pass "ipcache $p -> identity 1 (host) after the CIDR policy is deleted" ||
    fail "ipcache $p after the CIDR policy is deleted: $(ipcache_id_of "$p") (expected 1, host)"
done
apply_ok "$DATA/frontend-to-host.yaml"
expect_matrix "toEntities host after the CIDR policy" tcp 8080 ipv4 fe,be,node1 allow 'fe>*=deny' 'fe>node1=allow'
expect_matrix "toEntities host after the CIDR policy" tcp 8080 ipv6 fe,be,node1 allow 'fe>*=deny' 'fe>node1=allow'
delete_ok "$DATA/frontend-to-host.yaml"

section "toCIDR with a pod's own addresses (CIDR rules do not select pods); pod identity kept"
cat >"$TMP_DIR/frontend-to-be-cidr.yaml" <<YAML
# toCIDR naming back/be's addresses: CIDR rules never select pods (upstream
# default policy-cidr-match-mode), so front/frontend still cannot reach be.
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: frontend-to-be-cidr, namespace: front}
spec:
  endpointSelector: {matchLabels: {app: frontend}}
  egress:
  - toCIDR: ["$BE_V4/32", "$BE_V6/128"]
YAML
apply_ok "$TMP_DIR/frontend-to-be-cidr.yaml"
expect_matrix "toCIDR pod address" tcp 8080 ipv4 fe,be,db allow 'fe>*=deny'
expect_matrix "toCIDR pod address" tcp 8080 ipv6 fe,be,db allow 'fe>*=deny'
for p in "$BE_V4/32" "$BE_V6/128"; do
  [ "$(ipcache_id_of "$p")" = "$BE_ID" ] && pass "ipcache $p still be's identity $BE_ID with the CIDR policy" ||
    fail "ipcache $p with the CIDR policy: identity $(ipcache_id_of "$p") instead of be's $BE_ID"
done
delete_ok "$TMP_DIR/frontend-to-be-cidr.yaml"
for p in "$BE_V4/32" "$BE_V6/128"; do
  [ "$(ipcache_id_of "$p")" = "$BE_ID" ] && pass "ipcache $p -> be's identity $BE_ID after the CIDR policy is deleted" ||
    fail "ipcache $p after the CIDR policy is deleted: $(ipcache_id_of "$p") (expected be's identity $BE_ID)"
done
apply_ok "$DATA/frontend-to-backend.yaml"
expect_matrix "toEndpoints backend after the CIDR policy" tcp 8080 ipv4 fe,be,db allow 'fe>*=deny' 'fe>be=allow'
expect_matrix "toEndpoints backend after the CIDR policy" tcp 8080 ipv6 fe,be,db allow 'fe>*=deny' 'fe>be=allow'
delete_ok "$DATA/frontend-to-backend.yaml"

summary
