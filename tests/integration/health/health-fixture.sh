# Nodes for node-health tests: an underlay bridge in its own namespace, one
# namespace + cilium-agent per node, all agents sharing one store directory.
# Source after tests/lib/fixture.sh; needs BIN.
HL=hl${FIX_SUFFIX}
ROOT=/run/ciliumpp/test/$HL
STORE=$ROOT/store
UNDERLAY=cpp-$HL-ul
declare -A AGENT_PIDS=()

underlay_setup() {
  fix_path "$ROOT"
  fix_path "/sys/fs/bpf/ciliumpp/$HL"
  fix_underlay "$UNDERLAY"
}

node_ns() { echo "cpp-$HL-$1"; }
health_ns() { echo "cpp-$HL-$1-health"; }
node_ip() { echo "192.0.2.$((10 + $1))"; }
node_ip6() { echo "2001:db8::$((10 + $1))"; }
sock() { echo "$ROOT/n$1/cilium.sock"; }

# node_setup I [KEY=VALUE...]: namespace n<I> on the underlay, its config
# (health-netns is a cpp- name unique to the run; probes every second).
node_setup() {
  local i=$1; shift
  local ns; ns=$(node_ns "n$i")
  local cfg=$ROOT/n$i/config
  fix_netns "$ns"
  # The agent creates the health namespace; cleanup removes it.
  FIX_NETNS+=("$(health_ns "n$i")")
  fix_underlay_link "$ns" "n$i" "$(node_ip "$i")" "$(node_ip6 "$i")"
  mkdir -p "$cfg"
  printf '%s' "$HL" >"$cfg/cluster-name"
  printf 'true' >"$cfg/enable-ipv4"
  printf 'true' >"$cfg/enable-ipv6"
  printf '10.233.%s.0/24' "$((63 + i))" >"$cfg/ipv4-range"
  printf 'fd00:10:233:%s::/64' "$i" >"$cfg/ipv6-range"
  printf '%s' "$ROOT/n$i/state" >"$cfg/state-dir"
  printf '%s' "$(sock "$i")" >"$cfg/socket-path"
  printf '%s' "$STORE" >"$cfg/local-store-dir"
  printf 'tunnel' >"$cfg/routing-mode"
  printf '%s' "$(health_ns "n$i")" >"$cfg/health-netns"
  printf '1s' >"$cfg/health-probe-interval"
  local kv
  for kv in "$@"; do printf '%s' "${kv#*=}" >"$cfg/${kv%%=*}"; done
}

agent_start() {
  local i=$1 pid
  bg_in_ns pid "$ROOT/n$i/agent.log" "$(node_ns "n$i")" "$BIN/cilium-agent" --config-dir "$ROOT/n$i/config" --node-name "n$i"
  AGENT_PIDS[$i]=$pid
  wait_for 60 in_ns "$(node_ns "n$i")" "$BIN/cilium-dbg" -H "$(sock "$i")" status || {
    echo "agent n$i did not become ready; log:"; cat "$ROOT/n$i/agent.log"; exit 1; }
}

# agent_stop I: SIGTERM, as a DaemonSet rollout does; waits for the exit.
agent_stop() {
  local pid=${AGENT_PIDS[$1]}
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
}

dbg() { local i=$1; shift; in_ns "$(node_ns "n$i")" "$BIN/cilium-dbg" -H "$(sock "$i")" "$@"; }
chealth() { local i=$1; shift; in_ns "$(node_ns "n$i")" "$BIN/cilium-health" --socket "$(sock "$i")" "$@"; }

# health_status I: `cilium-health ping -o json` (a fresh probe round).
health_status() { in_ns "$(node_ns "n$1")" "$BIN/cilium-health" ping -o json --socket "$(sock "$1")"; }

# node_health JSON NAME: the entry of node NAME in a status document.
node_health() { jq -c --arg n "$2" '.nodes[] | select(.name == $n)' <<<"$1"; }

# A CiliumNode as upstream shapes it: InternalIPs, the health endpoint's
# addresses and (optional, space-separated) PodCIDRs.
write_cilium_node() {
  local name=$1 ip4=$2 ip6=$3 h4=$4 h6=$5 cidrs=${6:-}
  mkdir -p "$STORE/CiliumNode/_cluster"
  jq -n --arg name "$name" --arg ip4 "$ip4" --arg ip6 "$ip6" --arg h4 "$h4" --arg h6 "$h6" --arg cidrs "$cidrs" '{
    apiVersion: "cilium.io/v2", kind: "CiliumNode", metadata: {name: $name},
    spec: {addresses: [{type: "InternalIP", ip: $ip4}, {type: "InternalIP", ip: $ip6}],
           health: ({ipv4: $h4} + (if $h6 == "" then {} else {ipv6: $h6} end)),
           ipam: {podCIDRs: ($cidrs | split(" ") | map(select(. != "")))}}}' \
    >"$STORE/CiliumNode/_cluster/$name.json.tmp"
  mv "$STORE/CiliumNode/_cluster/$name.json.tmp" "$STORE/CiliumNode/_cluster/$name.json"
}
