#!/usr/bin/env bash
# kubectl — a client nobody here wrote — against cpp-kube-apiserver-fixture
# over HTTPS (a CA made now by openssl) with a bearer token: discovery,
# get/create/apply/delete, server metadata, invalid objects, watch.
# usage: test-kubectl.sh BIN_DIR
source "$(dirname "$0")/../../lib/fixture.sh"
BIN=$1
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
if [ ! -x "$KUBECTL" ]; then
  echo "SKIP: $KUBECTL not found (kubectl is not packaged in Debian 12; the test machines have it)"
  exit 77
fi

T=$(mktemp -d /tmp/cpp-kfix-kubectl.XXXXXX)
fix_path "$T"
TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

# A test CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.crt" -days 1 \
  -subj "/CN=cpp-fixture-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.csr" -subj "/CN=kube-apiserver" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$T/ext.cnf"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -out "$T/server.crt" \
  -days 1 -extfile "$T/ext.cnf" 2>/dev/null

"$BIN/cpp-kube-apiserver-fixture" --listen 127.0.0.1:0 --port-file "$T/ports" \
  --tls-cert "$T/server.crt" --tls-key "$T/server.key" --token "$TOKEN" >"$T/fixture.log" 2>&1 &
fix_pid $!
wait_for 30 test -s "$T/ports" || { echo "fixture did not start"; cat "$T/fixture.log"; exit 1; }
read -r PORT _ <"$T/ports"

kubeconfig() {  # kubeconfig TOKEN
  cat <<KC
apiVersion: v1
kind: Config
clusters:
- name: fixture
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority: $T/ca.crt
users:
- name: tester
  user:
    token: $1
contexts:
- name: fixture
  context: {cluster: fixture, user: tester}
current-context: fixture
KC
}
kubeconfig "$TOKEN" >"$T/kubeconfig"
kubeconfig "wrong-$TOKEN" >"$T/kubeconfig-badtoken"
# kubectl caches discovery under $HOME/.kube unless told otherwise: keep it in $T.
export HOME=$T/home
mkdir -p "$HOME"
k() { "$KUBECTL" --kubeconfig "$T/kubeconfig" --cache-dir "$T/cache" --request-timeout=30s "$@"; }
state() { curl -sf --cacert "$T/ca.crt" "https://127.0.0.1:$PORT/fixture/state"; }
more_watches_than() { [ "$(state | jq .openWatches)" -gt "$1" ]; }
# output_has REGEX KUBECTL-ARGS...: kubectl's output (stdout and stderr) has a line matching REGEX.
output_has() { local re=$1; shift; k "$@" 2>&1 | grep -Eq "$re"; }
# names_are "A B" KUBECTL-ARGS...: `kubectl ARGS -o name` prints exactly A and B (any order).
names_are() { local want=$1; shift; [ "$(k "$@" -o name | sort | xargs)" = "$want" ]; }

out=$("$KUBECTL" --kubeconfig "$T/kubeconfig-badtoken" --cache-dir "$T/cache-bad" get nodes 2>&1) && rc=0 || rc=$?
echo "$out" | tail -1
# client-go's words for a 401.
check "a wrong token is refused (401)" test "$rc" -ne 0 -a -n "$(grep 'provide credentials' <<<"$out")"
check "kubectl get nodes (empty cluster)" k get nodes
check "kubectl version shows the server" output_has 'Server Version: v1.33' version

# Typed commands send protobuf bodies.
check "create namespace" k create namespace team
check "create secret generic" k create secret generic bgp-auth -n team --from-literal=password=s3cr3t
check "the secret reads back (base64 data, type Opaque)" json_has "$(k get secret bgp-auth -n team -o json)" \
  '.data.password == "czNjcjN0" and .type == "Opaque"'
cat >"$T/base.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: node1, labels: {kubernetes.io/hostname: node1}}
YAML
cat >"$T/objs.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: team}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: allow-web, namespace: team, labels: {app: web}}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: client}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: team, labels: {app: web}}
spec:
  nodeName: node1
  containers: [{name: web, image: busybox}]
YAML

out=$(k create -f "$T/base.yaml" 2>&1)
check "create -f a Node" grep -q 'node/node1 created' <<<"$out"
check "kubectl get nodes lists node1" output_has '^node1 ' get nodes
out=$(k create -f "$T/objs.yaml" 2>&1) || true
echo "$out"
check "create -f NetworkPolicy, CiliumNetworkPolicy, Service, Pod" test "$(grep -c ' created$' <<<"$out")" -eq 4

cnp=$(k get cnp -n team -o json)
check "get cnp -o json shows the policy" json_has "$cnp" '.items | length == 1 and .[0].metadata.name == "allow-web"'
check "the policy carries server metadata (uid, resourceVersion, creationTimestamp, generation 1)" json_has "$cnp" \
  '.items[0].metadata | (.uid | length) == 36 and (.resourceVersion | tonumber) > 0 and (.creationTimestamp | test("Z$")) and .generation == 1'
check "the policy's spec is as written" json_has "$cnp" '.items[0].spec.ingress[0].toPorts[0].ports[0].port == "80"'
svc=$(k get service web -n team -o yaml)
check "get service -o yaml shows the allocated ClusterIP" grep -q 'clusterIP: 10\.233\.' <<<"$svc"
pods=$(k get pods -A)
check "get pods -A lists team/web-0" grep -Eq '^team +web-0 ' <<<"$pods"
check "get netpol (short name) lists the NetworkPolicy" \
  names_are 'networkpolicy.networking.k8s.io/deny-ingress' get netpol -n team
check "get pods with a field selector" names_are 'pod/web-0' get pods -A --field-selector spec.nodeName=node1
check "get cnp with a label selector" names_are 'ciliumnetworkpolicy.cilium.io/allow-web' get cnp -n team -l app=web

check "label" k label pod web-0 -n team extra=yes
check "patch --type=merge" k patch svc web -n team --type=merge -p '{"spec":{"selector":{"app":"web2"}}}'
check "patch --type=json" k patch pod web-0 -n team --type=json -p '[{"op":"add","path":"/metadata/labels/j","value":"1"}]'
check "patch (strategic)" k patch cnp allow-web -n team -p '{"metadata":{"annotations":{"note":"hi"}}}'
check "the patches are stored" json_has "$(k get pod web-0 -n team -o json)" '.metadata.labels == {"app":"web","extra":"yes","j":"1"}'
check "the merge patch is stored" json_has "$(k get svc web -n team -o json)" '.spec.selector.app == "web2"'
k get cnp allow-web -n team -o yaml | sed 's/app: client$/app: client2/' >"$T/replace.yaml"
check "replace -f" k replace -f "$T/replace.yaml"
check "the replacement is stored" json_has "$(k get cnp allow-web -n team -o json)" \
  '.spec.ingress[0].fromEndpoints[0].matchLabels.app == "client2" and .metadata.annotations.note == "hi" and .metadata.generation == 2'
check "get cilium -A (the CRDs' category)" names_are 'ciliumnetworkpolicy.cilium.io/allow-web' get cilium -A
check "get all -n team (pods and services)" names_are 'pod/web-0 service/web' get all -n team

cat >"$T/bad.yaml" <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: Not_A_Name, namespace: team}
spec: {endpointSelector: {}}
YAML
out=$(k create -f "$T/bad.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
check "create -f of an invalid object fails naming the field" \
  test "$rc" -ne 0 -a -n "$(grep 'is invalid: metadata.name' <<<"$out")"
out=$(k create -f "$T/objs.yaml" 2>&1) && rc=0 || rc=$?
check "create -f of existing objects: AlreadyExists" test "$rc" -ne 0 -a "$(grep -c AlreadyExists <<<"$out")" -eq 4

cat >"$T/apply.yaml" <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: applied, namespace: team}
spec:
  endpointSelector: {matchLabels: {app: one}}
---
apiVersion: v1
kind: Service
metadata: {name: applied-svc, namespace: team, labels: {rev: "1"}}
spec:
  selector: {app: one}
  ports: [{port: 80}]
YAML
out=$(k apply -f "$T/apply.yaml" 2>&1)
check "apply -f creates" test "$(grep -c ' created$' <<<"$out")" -eq 2
sed -i 's/app: one}/app: two}/; s/rev: "1"/rev: "2"/' "$T/apply.yaml"
out=$(k apply -f "$T/apply.yaml" 2>&1)
echo "$out"
check "apply -f of a changed file configures" test "$(grep -c ' configured$' <<<"$out")" -eq 2
applied=$(k get cnp applied -n team -o json)
check "the applied change is stored (spec, generation 2, last-applied annotation)" json_has "$applied" \
  '.spec.endpointSelector.matchLabels.app == "two" and .metadata.generation == 2 and
   (.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"] | length) > 0'
applied_svc=$(k get svc applied-svc -n team -o json)
check "the applied Service change keeps its ClusterIP" json_has "$applied_svc" \
  '.metadata.labels.rev == "2" and .spec.selector.app == "two" and (.spec.clusterIP | startswith("10.233."))'
out=$(k apply -f "$T/apply.yaml" 2>&1)
check "apply -f again is unchanged" test "$(grep -c ' unchanged$' <<<"$out")" -eq 2

# A watch: kubectl lists, then watches from the list's resourceVersion.
watches_before=$(state | jq .openWatches)
"$KUBECTL" --kubeconfig "$T/kubeconfig" --cache-dir "$T/cache" --request-timeout=60s \
  get cnp -n team --watch --output-watch-events >"$T/watch.out" 2>&1 &
WATCH_PID=$!
fix_pid "$WATCH_PID"
check "kubectl's watch is open" wait_for 30 more_watches_than "$watches_before"
sed 's/allow-web/watched/' "$T/objs.yaml" | k create -f - >/dev/null 2>&1 || true
check "kubectl get --watch shows the ADDED event" wait_for 30 grep -Eq '^ADDED +watched ' "$T/watch.out"
kill "$WATCH_PID" 2>/dev/null || true
cat "$T/watch.out"

out=$(k delete -f "$T/objs.yaml" 2>&1)
echo "$out"
check "delete -f removes the four objects" test "$(grep -c ' deleted' <<<"$out")" -eq 4
out=$(k get cnp allow-web -n team 2>&1) && rc=0 || rc=$?
check "get of a deleted object: NotFound" test "$rc" -ne 0 -a -n "$(grep -F '(NotFound): ciliumnetworkpolicies.cilium.io "allow-web" not found' <<<"$out")"
out=$(k get pods -A 2>&1)
check "the deleted pod is gone from get pods -A" test -z "$(grep web-0 <<<"$out")"
check "delete namespace" k delete namespace team
out=$(k get cnp -A 2>&1)
check "deleting the namespace deleted what was in it" test -z "$(grep -E 'applied|watched' <<<"$out")"

fix_summary
