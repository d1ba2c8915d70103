#!/usr/bin/env bash
# `kvstore: etcd`: the agent keeps its resources in a real etcd (started here,
# inside the node's namespace, on that namespace's loopback) instead of the
# local store directory; a corrupt object in etcd is logged and skipped; etcd
# going away and coming back is survived; bad kvstore settings are clear
# startup errors.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/../agent/node-fixture.sh"

node_setup
ETCD_DIR=$ROOT/etcd
ETCD_PID=
ETCD_URL=http://127.0.0.1:2379
mkdir -p "$ETCD_DIR"
etcd_start() {
  bg_in_ns ETCD_PID "$ETCD_DIR/log" "$NODE_NAME" etcd --name m0 --data-dir "$ETCD_DIR/data" \
    --listen-client-urls $ETCD_URL --advertise-client-urls $ETCD_URL \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster m0=http://127.0.0.1:2380
  wait_for 60 in_ns "$NODE_NAME" curl -sf $ETCD_URL/health || { echo "etcd did not start"; cat "$ETCD_DIR/log"; exit 1; }
}
etcd_kill() { kill -9 "$ETCD_PID"; wait "$ETCD_PID" 2>/dev/null || true; }
etcdctl_ns() { in_ns "$NODE_NAME" env ETCDCTL_API=3 etcdctl --endpoints=$ETCD_URL "$@"; }
etcd_has() { [ -n "$(etcdctl_ns get --keys-only "$1")" ]; }
start_expect_failure() {
  in_ns "$NODE_NAME" timeout 60 "$BIN/cilium-agent" --config-dir "$CONFIG" --node-name node1 >"$ROOT/out.txt" 2>&1
}

# Bad settings first: nothing runs yet.
printf 'consul' >"$CONFIG/kvstore"
start_expect_failure && rc=0 || rc=$?
check "kvstore: consul is a startup error naming the key" bash -c "[ $rc = 2 ] && grep -q \"'kvstore'\" $ROOT/out.txt"
printf 'etcd' >"$CONFIG/kvstore"
printf '{"etcd.config": ' >"$CONFIG/kvstore-opt"
start_expect_failure && rc=0 || rc=$?
check "kvstore-opt that is not JSON: exit 2 naming the key" bash -c "[ $rc = 2 ] && grep -q \"'kvstore-opt'\" $ROOT/out.txt"
printf '{"etcd.config": "%s"}' "$ROOT/missing.config" >"$CONFIG/kvstore-opt"
start_expect_failure && rc=0 || rc=$?
check "missing etcd.config: the error names the file" bash -c "[ $rc != 0 ] && grep -q '$ROOT/missing.config' $ROOT/out.txt"

etcd_start
printf 'endpoints:\n- %s\n' "$ETCD_URL" >"$ROOT/etcd.config"
printf '{"etcd.config": "%s"}' "$ROOT/etcd.config" >"$CONFIG/kvstore-opt"
agent_start
st=$(dbg status --json)
check "status reports the etcd store, connected" json_has "$st" '.kvstore.type == "etcd" and .kvstore.connected == 1'

fix_netns "$(pod_netns a)"
cni ADD a >/dev/null
check "CiliumEndpoint of pod a lands in etcd" wait_for 30 etcd_has cilium/resources/CiliumEndpoint/default/a
check "...and not in the local store directory" test ! -e "$ROOT/store/CiliumEndpoint/default/a.json"
ida=$(dbg endpoint get container-id:c-a | jq .identity)
check "its CiliumIdentity is in etcd" wait_for 30 etcd_has "cilium/resources/CiliumIdentity/_cluster/$ida"
check "stored JSON names the pod" bash -c \
  "etcdctl_ns() { nsenter --net=/run/netns/$NODE_NAME env ETCDCTL_API=3 etcdctl --endpoints=$ETCD_URL \"\$@\"; };
   etcdctl_ns get --print-value-only cilium/resources/CiliumEndpoint/default/a | jq -e '.metadata.name == \"a\"' >/dev/null"

# A corrupt policy written by someone else: logged with its key, skipped.
etcdctl_ns put cilium/resources/CiliumNetworkPolicy/default/broken '{ not json' >/dev/null
check "corrupt object is logged with its key" \
  wait_for 30 grep -q "cilium/resources/CiliumNetworkPolicy/default/broken" "$ROOT/agent.log"
check "agent still serves" dbg status

# etcd away: the agent keeps serving its endpoints; back: it catches up.
etcd_kill
check "status shows etcd unreachable" wait_for 30 bash -c \
  "nsenter --net=/run/netns/$NODE_NAME $BIN/cilium-dbg -H $SOCK status --json | jq -e '.kvstore.connected == 0'"
check "endpoint of pod a still served while etcd is down" dbg endpoint get container-id:c-a
healthz_is() { [ "$(nsenter --net="/run/netns/$NODE_NAME" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9879/healthz)" = "$1" ]; }
check "agent reports not-ready (healthz 503) while etcd is down" wait_for 30 healthz_is 503
check "status state Degraded while etcd is down" bash -c \
  "nsenter --net=/run/netns/$NODE_NAME $BIN/cilium-dbg -H $SOCK status --json | jq -e '.state == \"Degraded\"'"
etcd_start
check "status shows etcd connected again" wait_for 30 bash -c \
  "nsenter --net=/run/netns/$NODE_NAME $BIN/cilium-dbg -H $SOCK status --json | jq -e '.kvstore.connected == 1'"
check "agent ready again (healthz 200)" wait_for 30 healthz_is 200
fix_netns "$(pod_netns b)"
cni ADD b >/dev/null
check "a new pod's CiliumEndpoint reaches etcd after the outage" wait_for 30 etcd_has cilium/resources/CiliumEndpoint/default/b
fix_summary
