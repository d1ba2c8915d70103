# A single node (network namespace + cilium-agent) for agent/CNI tests.
# Source after tests/lib/fixture.sh; needs BIN.
NODE_NAME=cpp-it${FIX_SUFFIX}-node
CLUSTER=it${FIX_SUFFIX}
ROOT=/run/ciliumpp/test/$CLUSTER
PIN_DIR=/sys/fs/bpf/ciliumpp/$CLUSTER
CONFIG=$ROOT/config
SOCK=$ROOT/cilium.sock
CONFLIST=$ROOT/net.d/05-cilium.conflist
AGENT_PID=

node_setup() {
  fix_path "$ROOT"
  fix_path "$PIN_DIR"
  fix_netns "$NODE_NAME"
  mkdir -p "$CONFIG"
  printf '%s' "$CLUSTER" >"$CONFIG/cluster-name"
  printf 'true' >"$CONFIG/enable-ipv4"
  printf 'true' >"$CONFIG/enable-ipv6"
  printf '10.233.64.0/24' >"$CONFIG/ipv4-range"
  printf 'fd00:10:233:1::/64' >"$CONFIG/ipv6-range"
  printf '%s' "$ROOT/state" >"$CONFIG/state-dir"
  printf '%s' "$SOCK" >"$CONFIG/socket-path"
  printf '%s' "$ROOT/store" >"$CONFIG/local-store-dir"
  printf '%s' "$CONFLIST" >"$CONFIG/write-cni-conf-when-ready"
  printf 'tunnel' >"$CONFIG/routing-mode"
}

agent_start() {
  bg_in_ns AGENT_PID "$ROOT/agent.log" "$NODE_NAME" "$BIN/cilium-agent" --config-dir "$CONFIG" --node-name node1
  wait_for 60 in_ns "$NODE_NAME" "$BIN/cilium-dbg" -H "$SOCK" status || {
    echo "agent did not become ready; log:"; cat "$ROOT/agent.log"; exit 1; }
}

# cni CMD POD [IFNAME]: runs cilium-cni like a runtime does; stdout is the result.
cni() {
  local cmd=$1 pod=$2 ifname=${3:-eth0} netns=${CNI_NETNS_OVERRIDE:-/run/netns/cpp-it${FIX_SUFFIX}-$2}
  local conf
  conf=$(jq -c '.plugins[0] + {cniVersion: .cniVersion, name: .name}' "$CONFLIST")
  printf '%s' "${CNI_STDIN_OVERRIDE:-$conf}" | in_ns "$NODE_NAME" env CNI_COMMAND="$cmd" CNI_CONTAINERID="c-$pod" \
    CNI_NETNS="$netns" CNI_IFNAME="$ifname" CNI_PATH="$BIN" \
    CNI_ARGS="K8S_POD_NAMESPACE=default;K8S_POD_NAME=$pod" "$BIN/cilium-cni" 2>>"$ROOT/cni.log"
}

pod_netns() { echo "cpp-it${FIX_SUFFIX}-$1"; }
dbg() { in_ns "$NODE_NAME" "$BIN/cilium-dbg" -H "$SOCK" "$@"; }
lxc_count() { in_ns "$NODE_NAME" ip -o link show | grep -c ' lxc' || true; }
allocations() { jq -c '.ipam.allocations' < <(dbg status --json); }
