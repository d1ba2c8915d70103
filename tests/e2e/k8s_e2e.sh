#!/usr/bin/env bash
# Kubernetes mode end to end (issue 8): `cilium-lab up --k8s` runs 2 agents
# and an operator against the API server fixture (HTTPS, token, no etcd, CRD
# identities, PodCIDRs from the operator's cluster pool, Lease leader election).
# The connectivity test passes; a NetworkPolicy made with kubectl is enforced
# and stops being enforced when kubectl deletes it; CiliumEndpoint,
# CiliumNode and CiliumIdentity objects have the seed's shape; broken watches
# and a compacted history lose no update; garbage answers delete nothing; with the API down the datapath
# keeps forwarding, /healthz turns 503 after the grace period and 200 again
# when the API is back; an agent started while the API is down comes up.
# Usage: k8s_e2e.sh BIN_DIR
BIN="$(cd "${1:?usage: $0 BIN_DIR}" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
source "$HERE/lib.sh"

for b in cilium-lab cilium-agent cilium-cni cilium-dbg cilium-operator-generic cpp-kube-apiserver-fixture; do
  [ -x "$BIN/$b" ] || { echo "ERROR: $BIN/$b not built"; trap - EXIT; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "ERROR: needs root"; trap - EXIT; exit 77; }
for t in kubectl openssl curl jq; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; trap - EXIT; exit 77; }
done

# The grace period before /healthz says not-ready while the API is away.
GRACE=3s
CONTROL=""
refresh() { ST="$(lab status --json)"; }
k() { lab exec underlay -- kubectl --kubeconfig "$KC" "$@"; }
fixture() { lab exec underlay -- curl -sf -d '' "$CONTROL/fixture/$1" >/dev/null; }
dbg() {  # dbg NODE ARGS...: cilium-dbg against a node's agent
  local node=$1
  shift
  nsenter --net="/run/netns/cpp-${LAB}-${node}" "$BIN/cilium-dbg" -H "/run/ciliumpp/lab/$LAB/$node/cilium.sock" "$@"
}
healthz() {  # healthz NODE: the HTTP code of the agent's 127.0.0.1:9879/healthz
  nsenter --net="/run/netns/cpp-${LAB}-$1" curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:9879/healthz
}
healthz_is() { [ "$(healthz "$1")" = "$2" ]; }
probe() { lab probe "$1" "$2" --expect "$3" >/dev/null 2>&1; }
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

log "up --k8s: 2 nodes, the API server fixture, no etcd"
START=$SECONDS
lab up --k8s --nodes 2 --bin-dir "$BIN" --set "k8s-heartbeat-timeout=$GRACE"
refresh
KC="$(lab kubeconfig)"
CONTROL="$(jq -r .kubeapi_control <<<"$ST")"
expect_eq "kvstore" k8s "$(jq -r .kvstore <<<"$ST")"
expect_eq "no etcd" 0 "$(jq '.etcd | length' <<<"$ST")"
expect_eq "one operator" 1 "$(jq '.operators | length' <<<"$ST")"
case "$(jq -r '.nodes[0].pod_cidrs[0]' <<<"$ST")" in
  10.233.*.0/24) echo "ok: node1's PodCIDR from the operator's cluster pool" ;;
  *) fail "node1 PodCIDR: $(jq -c '.nodes[0].pod_cidrs' <<<"$ST")" ;;
esac
expect_eq "agents healthy" "true true" "$(jq -r '[.nodes[].agent.healthy] | map(tostring) | join(" ")' <<<"$ST")"
expect_eq "kubeconfig path" "/run/ciliumpp/lab/$LAB/kubeapi/kubeconfig" "$KC"
expect_contains "kubeconfig is HTTPS" "server: https://192.0.2.9:6443" "$(cat "$KC")"
expect_contains "kubeconfig has a token" "token: " "$(cat "$KC")"
expect_eq "agent config k8s-kubeconfig-path" "$KC" "$(cat "/run/ciliumpp/lab/$LAB/node1/config/k8s-kubeconfig-path")"
expect_eq "agent config identity mode" crd "$(cat "/run/ciliumpp/lab/$LAB/node1/config/identity-allocation-mode")"
if lab exec underlay -- curl -s --cacert "$(dirname "$KC")/ca.crt" https://192.0.2.9:6443/api/v1/nodes | grep -q '"code": *401'; then
  echo "ok: the API refuses requests without the token (401)"
else
  fail "the API answered without a token"
fi
expect_contains "cilium-dbg status" "Kubernetes:              Ok   https://192.0.2.9:6443" "$(dbg node1 status)"
expect_eq "nodes via kubectl" "node1 node2" "$(k get nodes -o json | jq -r '[.items[].metadata.name] | sort | join(" ")')"
check "the operator holds the Lease" wait_for 30 bash -c \
  "'$LAB_BIN' -n '$LAB' exec underlay -- kubectl --kubeconfig '$KC' get lease -n kube-system cilium-operator-resource-lock -o json | jq -e '.spec.holderIdentity | length > 0'"
check "node1's agent-not-ready taint removed" wait_for 30 bash -c \
  "[ \"\$('$LAB_BIN' -n '$LAB' exec underlay -- kubectl --kubeconfig '$KC' get node node1 -o json | jq -c '[.spec.taints // [] | .[] | select(.key==\"node.cilium.io/agent-not-ready\")] | length')\" = 0 ]"

log "connectivity test (after $((SECONDS - START)) s)"
set +e
OUT="$(lab connectivity test 2>&1)"
RC=$?
set -e
printf '%s\n' "$OUT" | tail -n 15
expect_eq "connectivity test exit code" 0 "$RC"
LAST="$(printf '%s\n' "$OUT" | tail -n 1)"
if [[ "$LAST" =~ ^([0-9]+)\ passed,\ 0\ failed$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; then
  echo "ok: last line '$LAST'"
else
  fail "connectivity summary line: '$LAST'"
fi
expect_contains "cross-node policy ran" "echo-ingress/pod-to-pod-deny/cross-node" "$OUT"

log "pods and a NetworkPolicy created with kubectl (after $((SECONDS - START)) s)"
k create namespace shop >/dev/null
lab pod add node1 web1 --namespace shop --labels app=web --ports http=80/TCP,stats=9090/UDP
lab pod add node2 cli1 --namespace shop --labels app=client
lab pod add node2 cli2 --namespace shop --labels app=other
check "cli2 -> web1 allowed before the policy" probe cli2 web1 allow
POLICY="/run/ciliumpp/lab/$LAB/web-from-client.yaml"  # removed with the lab
cat >"$POLICY" <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-from-client
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: client
    ports:
    - protocol: TCP
      port: 8080
EOF
expect_contains "kubectl create -f" "networkpolicy.networking.k8s.io/web-from-client created" \
  "$(lab exec underlay -- kubectl --kubeconfig "$KC" create -f - <"$POLICY")"
check "cli2 -> web1 denied by the NetworkPolicy (cross-node)" wait_for 30 probe cli2 web1 deny
check "cli1 -> web1 allowed by the NetworkPolicy (cross-node)" probe cli1 web1 allow

log "CiliumEndpoint, CiliumNode and CiliumIdentity objects"
check "web1's CiliumEndpoint appears" wait_for 30 k get ciliumendpoints -n shop web1
cep_enforcing() {  # cep_enforcing POD DIRECTION VALUE
  [ "$(k get ciliumendpoints -n shop "$1" -o json | jq -r ".status.policy.$2.enforcing")" = "$3" ]
}
check "web1's CiliumEndpoint: ingress enforcing under the NetworkPolicy" wait_for 30 cep_enforcing web1 ingress true
check "web1's CiliumEndpoint: egress not enforcing" cep_enforcing web1 egress false
CEP="$(k get ciliumendpoints -n shop web1 -o json)"
W1_V4="$(lab status --json | jq -r '.pods[] | select(.name=="web1") | .ipv4')"
expect_eq "CEP state" ready "$(jq -r .status.state <<<"$CEP")"
expect_eq "CEP ipv4" "$W1_V4" "$(jq -r '.status.networking.addressing[0].ipv4' <<<"$CEP")"
expect_eq "CEP node" 192.0.2.11 "$(jq -r .status.networking.node <<<"$CEP")"
expect_eq "CEP pod-name" shop/web1 "$(jq -r '.status."external-identifiers"."pod-name"' <<<"$CEP")"
expect_eq "CEP k8s-namespace" shop "$(jq -r '.status."external-identifiers"."k8s-namespace"' <<<"$CEP")"
expect_eq "CEP owner" "Pod web1" "$(jq -r '.metadata.ownerReferences[0] | "\(.kind) \(.name)"' <<<"$CEP")"
expect_eq "CEP named-ports" "http 80 TCP,stats 9090 UDP" \
  "$(jq -r '[.status."named-ports"[] | "\(.name) \(.port) \(.protocol)"] | join(",")' <<<"$CEP")"
expect_eq "CEP policy state (as the seed's)" "<status disabled>" "$(jq -r '.status.policy.ingress.state' <<<"$CEP")"
expect_eq "CEP visibility-policy-status" "<status disabled>" "$(jq -r '.status."visibility-policy-status"' <<<"$CEP")"
expect_contains "CEP identity labels" "k8s:app=web" "$(jq -r '.status.identity.labels | join(",")' <<<"$CEP")"
[ "$(jq '.status.id' <<<"$CEP")" -gt 0 ] && echo "ok: CEP id" || fail "CEP id: $(jq .status.id <<<"$CEP")"
ID="$(jq -r '.status.identity.id' <<<"$CEP")"
CID="$(k get ciliumidentities "$ID" -o json)"
expect_eq "CiliumIdentity security-labels" web "$(jq -r '."security-labels"."k8s:app"' <<<"$CID")"
expect_eq "CiliumIdentity namespace label" shop "$(jq -r '."security-labels"."k8s:io.kubernetes.pod.namespace"' <<<"$CID")"
CN="$(k get ciliumnodes node1 -o json)"
N1_CIDR="$(jq -r '.nodes[0].pod_cidrs[0]' <<<"$ST")"
N1_PREFIX="${N1_CIDR%.0/24}."
expect_eq "CiliumNode InternalIP" 192.0.2.11 \
  "$(jq -r '[.spec.addresses[] | select(.type=="InternalIP") | .ip] | first' <<<"$CN")"
expect_contains "CiliumNode CiliumInternalIP" "$N1_PREFIX" \
  "$(jq -r '[.spec.addresses[] | select(.type=="CiliumInternalIP") | .ip] | join(" ")' <<<"$CN")"
expect_contains "CiliumNode health ipv4" "$N1_PREFIX" "$(jq -r '.spec.health.ipv4' <<<"$CN")"
expect_contains "CiliumNode podCIDRs (from the operator)" "$N1_CIDR" "$(jq -r '.spec.ipam.podCIDRs | join(" ")' <<<"$CN")"
expect_eq "CiliumNode owner" "Node node1" "$(jq -r '.metadata.ownerReferences[0] | "\(.kind) \(.name)"' <<<"$CN")"

log "broken watches and a compacted history lose no update"
fixture break-watches
lab pod add node1 web2 --namespace shop --labels app=web
fixture compact
fixture break-watches
check "cli1 -> web2 (added while watches broke) allowed" wait_for 30 probe cli1 web2 allow
check "cli2 -> web2 denied: the policy applies to the new pod" wait_for 30 probe cli2 web2 deny

log "garbage answers to the relists after broken watches delete nothing"
lab exec underlay -- curl -sf -d '' "$CONTROL/fixture/fail?count=40&code=200&mode=garbage" >/dev/null
fixture break-watches
check "the fixture served its garbage" wait_for 30 bash -c \
  "[ \"\$('$LAB_BIN' -n '$LAB' exec underlay -- curl -sf '$CONTROL/fixture/state' | jq .pendingFaults)\" = 0 ]"
check "cli2 -> web1 still denied (the policy was kept)" probe cli2 web1 deny
check "cli1 -> web1 still allowed (identities and endpoints were kept)" probe cli1 web1 allow

log "API down: forwarding continues, /healthz 503 after the grace, an agent restarted meanwhile comes up"
fixture down
check "cli1 -> web1 still allowed with the API down" probe cli1 web1 allow
check "cli2 -> web1 still denied with the API down" probe cli2 web1 deny
check "node1 /healthz 503 after the grace" wait_for 60 healthz_is node1 503
OLD_PID="$(lab status --json | jq -r '.nodes[1].agent.pid')"
lab node restart node2 --timeout 120 >"$(dirname "$KC")/restart.out" 2>&1 &
RESTART=$!
check "the restarted agent waits for the API" wait_for 30 grep -q "waiting for the Kubernetes API" \
  "/run/ciliumpp/lab/$LAB/node2/agent.log"
check "pods on node2 still forward while its agent waits" probe cli1 web1 allow
fixture up
if wait "$RESTART"; then echo "ok: node2's agent came up after the API returned"; else
  fail "node restart: $(cat "$(dirname "$KC")/restart.out")"; fi
[ "$(lab status --json | jq -r '.nodes[1].agent.pid')" != "$OLD_PID" ] || fail "node2's agent was not restarted"
check "node1 /healthz 200 again" wait_for 60 healthz_is node1 200
check "node2 /healthz 200" wait_for 60 healthz_is node2 200
check "policy still enforced after the restart" wait_for 30 probe cli2 web1 deny

log "kubectl delete: the policy is no longer enforced"
expect_contains "kubectl delete" "deleted" \
  "$(k delete networkpolicy -n shop web-from-client)"
check "cli2 -> web1 allowed again" wait_for 30 probe cli2 web1 allow
check "web1's CiliumEndpoint: ingress no longer enforcing" wait_for 30 cep_enforcing web1 ingress false

log "down"
AGENT_PIDS="$(lab status --json | jq -r '.nodes[].agent.pid' | tr '\n' ' ')"
API_PID="$(lab status --json | jq -r '.kubeapi[0].pid')"
lab down
expect_lab_gone $AGENT_PIDS
check "API server (pid $API_PID) stopped" gone "$API_PID"
echo "took $((SECONDS - START)) s"

[ "$FAILED" = 0 ] || die "some checks failed"
echo "PASS ($PASSED checks)"
