#!/usr/bin/env bash
# The agent's /metrics (prometheus-serve-addr) on one node: every scrape
# parses with prometheus_client's reference parser, and the metrics follow
# what the agent does (endpoints, identities, API calls, BPF map writes and
# pressure, policy changes accepted and rejected).
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../../lib/fixture.sh"
source "$HERE/../agent/node-fixture.sh"
PY=/usr/bin/python3

node_setup
# The node namespace has its own loopback: the upstream port is free there.
printf '127.0.0.1:9962' >"$CONFIG/prometheus-serve-addr"
agent_start

scrape() { in_ns "$NODE_NAME" curl -sf --max-time 5 http://127.0.0.1:9962/metrics; }
parsed() { scrape | $PY "$HERE/prom_parse.py"; }
# value FAMILY JQ_LABEL_TEST: the first sample of FAMILY whose labels pass the test ("" if none).
value() { parsed | jq -r --arg f "$1" ".[\$f].samples // [] | map(select(.labels | $2)) | .[0].value // empty"; }
# holds FAMILY JQ_LABEL_TEST OP NUMBER: the sample exists and "value OP NUMBER" is true.
holds() { local v; v=$(value "$1" "$2"); [ -n "$v" ] && jq -en "$v $3 $4" >/dev/null; }
parses() { parsed >/dev/null; }
content_type_ok() { in_ns "$NODE_NAME" curl -sf -o /dev/null -D - http://127.0.0.1:9962/metrics | grep -qi 'content-type: text/plain; version=0.0.4'; }
rejected() { ! dbg policy import "$1" >/dev/null 2>&1; }
accepted() { dbg policy import "$1" >/dev/null; }
pings() { in_ns "$(pod_netns "$1")" ping -c3 -i0.2 -w10 "$2" >/dev/null; }

check "metrics answer on prometheus-serve-addr" wait_for 30 scrape
check "the exposition parses with prometheus_client" parses
check "content type is text format 0.0.4" content_type_ok
check "no endpoints yet" holds cilium_endpoint 'true' '==' 0
check "reserved identities are counted" holds cilium_identity '.type == "reserved"' '>' 0
check "cilium_version is 1" holds cilium_version 'true' '==' 1
check "process metrics are upstream's cilium_process_*" holds cilium_process_resident_memory_bytes 'true' '>' 1000000

for p in a b; do fix_netns "$(pod_netns $p)"; cni ADD "$p" >/dev/null; done
check "two endpoints" wait_for 10 holds cilium_endpoint 'true' '==' 2
check "both ready" holds cilium_endpoint_state '.endpoint_state == "ready"' '==' 2
check "the pods' identity is a cluster_local identity" holds cilium_identity '.type == "cluster_local"' '>=' 1
check "the endpoints' cpp_lxc writes are counted" \
  holds cilium_bpf_map_ops_total '.map_name == "cpp_lxc" and .operation == "update" and .outcome == "success"' '>' 0
check "cpp_lxc pressure reflects its entries" holds cilium_bpf_map_pressure '.map_name == "cpp_lxc"' '>' 0
check "CNI's endpoint PUTs are timed by short path, method and code" \
  holds cilium_agent_api_process_time_seconds '.path == "/v1/endpoint" and .method == "PUT" and (.return_code | startswith("2")) and .le == "+Inf"' '>=' 2
check "IPAM POSTs too" holds cilium_agent_api_process_time_seconds '.path == "/v1/ipam" and .method == "POST" and .le == "+Inf"' '>=' 2

cat >"$ROOT/allow.yaml" <<'EOF'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: allow-a, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: none}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: a}}]
  - fromEndpoints: [{matchLabels: {app: b}}]
EOF
cat >"$ROOT/bad.yaml" <<'EOF'
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: bad, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: none}}
  ingress:
  - toPorts: [{ports: [{port: "70000", protocol: TCP}]}]
EOF
rev_before=$(value cilium_policy_max_revision 'true')
check "a valid policy is accepted" accepted "$ROOT/allow.yaml"
check "it counts as a successful change" wait_for 15 holds cilium_policy_change_total '.outcome == "success"' '>=' 1
check "its rules are counted" holds cilium_policy 'true' '>=' 1
check "the policy revision moved" holds cilium_policy_max_revision 'true' '>' "$rev_before"
check "a bad policy is rejected" rejected "$ROOT/bad.yaml"
check "and counts as a failed change" holds cilium_policy_change_total '.outcome == "fail"' '==' 1
check "policy PUTs that failed carry their 400" \
  holds cilium_agent_api_process_time_seconds '.path == "/v1/policy" and .method == "PUT" and .return_code == "400" and .le == "+Inf"' '==' 1

fwd_before=$(value cilium_forward_count_total '.direction == "INGRESS"')
ipb=$(dbg endpoint get container-id:c-b | jq -r .addressing.ipv4)
check "pod a pings pod b" pings a "$ipb"
check "forwarded packets are counted from cpp_metrics" \
  holds cilium_forward_count_total '.direction == "INGRESS"' '>=' "$(( ${fwd_before:-0} + 6 ))"
check "and their bytes" holds cilium_forward_bytes_total '.direction == "EGRESS"' '>' 0

cni DEL b >/dev/null
check "endpoint removal is seen" wait_for 10 holds cilium_endpoint 'true' '==' 1
check "cpp_lxc deletes are counted" \
  holds cilium_bpf_map_ops_total '.map_name == "cpp_lxc" and .operation == "delete" and .outcome == "success"' '>' 0
check "the exposition still parses" parses

fix_summary
