#!/usr/bin/env bash
# shellcheck disable=SC2119  # ctrd_start/ctrd_import_image take optional args
# test-containerd-cni.sh BIN_DIR — cilium-cni driven by a real container
# runtime: containerd 1.6 + runc, `ctr run --rm --cni`.
#
#  1. `cilium-lab up --name ctr<suffix> --nodes 1` (agent inside netns
#     cpp-ctr<suffix>-node1, conflist in /run/ciliumpp/lab/<L>/node1/net.d/),
#     `cilium-lab pod add node1 server`, a TCP listener in the pod.
#  2. The lab's conflist goes to /etc/cni/net.d/00-ciliumpp-test-<suffix>.conflist
#     and BIN_DIR/cilium-cni to /opt/cni/bin/cilium-cni (both restored after).
#  3. `ctr run --rm --cni` inside the node netns starts a busybox container:
#     its address is inside the node's PodCIDR; it pings the lab pod (IPv4,
#     and IPv6 when both have one) and exchanges data with it over TCP; the
#     agent lists its endpoint and the lxc device exists; the lab pod pings
#     the container back.
#  4. After the container exits (ctr runs CNI DEL): the agent no longer lists
#     the endpoint, the lxc device is gone, libcni's cache entry is gone.
#  Always: containers/containerd stopped by PID, `cilium-lab down`, CNI dirs
#  restored, nothing left behind (checked).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/containerd/containerd-lib.sh
. "$HERE/containerd-lib.sh"

BIN=${1:-$CTRD_REPO_DIR/build/bin}
LAB_BIN=$BIN/cilium-lab
CNI_BIN=$BIN/cilium-cni
SUFFIX=${CPP_TEST_SUFFIX:-$$}
LAB=ctr$SUFFIX
NODE=node1
NODE_NS=cpp-$LAB-$NODE
POD=server
CONFLIST=/run/ciliumpp/lab/$LAB/$NODE/net.d/05-cilium.conflist
DEFAULT_PODCIDR4=10.233.64.0/24      # node1's PodCIDR with the seed's config
CLUSTER_POOL4=10.233.64.0/18         # cluster-pool-ipv4-cidr of the seed
CID=c1
PORT=8080
TOKEN=cilium-ok-$SUFFIX
TIMEOUT_LAB=${CPP_LAB_TIMEOUT:-120}

LAB_UP=
LISTENER_PID=
RUN_PID=
OUT=

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*" >&2; }
lab() { ctrd_nolock "$LAB_BIN" -n "$LAB" "$@"; }
py() { /usr/bin/python3 -I -c "$@"; }   # stdlib only (ipaddress)

in_cidr() {  # in_cidr ADDR CIDR
  py 'import ipaddress,sys; sys.exit(0 if ipaddress.ip_address(sys.argv[1]) in ipaddress.ip_network(sys.argv[2], strict=False) else 1)' "$1" "$2"
}

# PIDs whose argv contains ARG exactly (ARG holds this run's unique token).
pids_with_arg() {
  local p argv a
  for p in /proc/[0-9]*; do
    mapfile -d '' -t argv 2>/dev/null <"$p/cmdline" || continue
    for a in "${argv[@]}"; do
      if [ "$a" = "$1" ]; then echo "${p#/proc/}"; break; fi
    done
  done
}

cleanup() {
  local rc=$? trc=0 p left
  set +e
  if [ -n "$OUT" ] && [ -s "$OUT" ] && [ $rc -ne 0 ]; then
    echo "--- container output ---" >&2; cat "$OUT" >&2
  fi
  if [ -n "$LISTENER_PID" ]; then
    kill -9 "$LISTENER_PID" 2>/dev/null; wait "$LISTENER_PID" 2>/dev/null
  fi
  # the listener itself, should `cilium-lab exec` have forked instead of exec'd
  if [ -n "$LISTEN_CMD" ]; then
    for p in $(pids_with_arg "$LISTEN_CMD"); do kill -9 "$p" 2>/dev/null; done
  fi
  # containers first, while the agent still answers their CNI DEL
  ctrd_teardown || trc=1
  if [ -n "$RUN_PID" ]; then wait "$RUN_PID" 2>/dev/null; fi
  if [ -n "$LAB_UP" ]; then
    if [ $rc -ne 0 ] && [ -s "${STATUS_JSON:-}" ]; then echo "--- lab status ---" >&2; cat "$STATUS_JSON" >&2; fi
    "$LAB_BIN" -n "$LAB" down >&2 || { echo "cilium-lab down failed" >&2; trc=1; }
    left=$(ip netns list | awk '{print $1}' | grep -E "^cpp-$LAB-" || true)
    if [ -n "$left" ]; then
      echo "cilium-lab down left namespaces: $left — removing them" >&2
      for p in $left; do ip netns del "$p"; done
      trc=1
    fi
    [ -e "/run/ciliumpp/lab/$LAB" ] && { echo "cilium-lab down left /run/ciliumpp/lab/$LAB" >&2; trc=1; }
    [ -e "/sys/fs/bpf/ciliumpp/$LAB" ] && { echo "cilium-lab down left pins /sys/fs/bpf/ciliumpp/$LAB" >&2; trc=1; }
    [ -e "/sys/fs/cgroup/unified/ciliumpp/$LAB" ] && { echo "cilium-lab down left cgroup ciliumpp/$LAB" >&2; trc=1; }
  fi
  ctrd_verify_clean || trc=1
  if [ $rc -eq 0 ] && [ $trc -ne 0 ]; then echo "FAIL: teardown left state behind" >&2; rc=1; fi
  if [ $rc -eq 0 ]; then echo "PASS: containerd_cni" >&2
  elif [ $rc -eq "$CTRD_SKIP_RC" ]; then echo "SKIPPED: containerd_cni" >&2
  else echo "FAILED: containerd_cni (rc=$rc)" >&2; fi
  exit $rc
}
LISTEN_CMD=
trap cleanup EXIT
trap 'exit 130' INT TERM

for b in "$LAB_BIN" "$CNI_BIN"; do
  [ -x "$b" ] || fail "$b not built (BIN_DIR=$BIN)"
done
for tool in jq curl socat; do
  command -v "$tool" >/dev/null || { echo "ERROR: $tool not installed" >&2; exit "$CTRD_SKIP_RC"; }
done

# ---- lab: node with agent, one pod ------------------------------------------
# (before ctrd_init: the agent must not inherit the CNI lock's fd)
LAB_UP=1
timeout "$TIMEOUT_LAB" "$LAB_BIN" up --name "$LAB" --nodes 1 --kvstore directory >&2 || fail "cilium-lab up failed"
ctrd_wait_until 60 "agent conflist $CONFLIST" test -s "$CONFLIST" || fail "no conflist at $CONFLIST"
timeout "$TIMEOUT_LAB" "$LAB_BIN" -n "$LAB" pod add "$NODE" "$POD" >&2 || fail "cilium-lab pod add failed"

ctrd_init "$SUFFIX"
FULL_CID=$CTRD_NS-$CID          # what ctr passes as CNI_CONTAINERID
OUT=$CTRD_DIR/container.out
STATUS_JSON=$CTRD_DIR/status.json

lab status --json >"$STATUS_JSON" || fail "cilium-lab status --json failed"
# {"pods":[{"name","ipv4","ipv6","container_id",...}], "nodes":[{"pod_cidrs":[v4,v6],"socket",...}]}
pod_field() {
  jq -r --arg pod "$POD" --arg f "$1" \
    '[.pods[]? | select(.name == $pod) | .[$f] | strings | select(. != "")] | first // empty | sub("/[0-9]+$"; "")' \
    "$STATUS_JSON"
}
node_field() {
  jq -r --arg node "$NODE" "[.nodes[]? | select(.name == \$node) | $1 | strings | select(. != \"\")] | first // empty" \
    "$STATUS_JSON"
}
POD4=$(pod_field ipv4)
POD6=$(pod_field ipv6)
[ -n "$POD4" ] || fail "no IPv4 for pod $POD in 'cilium-lab status --json'"
pass "lab pod $POD: ${POD4} ${POD6:-(no IPv6)}"

SOCK=$(node_field .socket)
[ -n "$SOCK" ] || SOCK=$(jq -r '[.plugins[] | select(.type == "cilium-cni") | ."socket-path"] | first // empty' "$CONFLIST")
[ -n "$SOCK" ] || fail "no agent socket in lab status nor in $CONFLIST"
api() { curl -s --max-time 10 --unix-socket "$SOCK" "$@"; }
api_code() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "$1"; }
# The node's PodCIDRs as the lab reports them, else the seed's default.
PODCIDR4=$(node_field '.pod_cidrs[0]')
PODCIDR6=$(node_field '.pod_cidrs[1]')
if [ -z "$PODCIDR4" ]; then PODCIDR4=$DEFAULT_PODCIDR4; fi
in_cidr "${PODCIDR4%/*}" "$CLUSTER_POOL4" || fail "node PodCIDR $PODCIDR4 outside the cluster pool $CLUSTER_POOL4"
echo "node PodCIDRs: $PODCIDR4 ${PODCIDR6:-(no IPv6)}" >&2

# ---- TCP listener in the lab pod ---------------------------------------------
# Replies "<token>-<line the client sent>" ("-", not ":": socat address syntax).
LISTEN_CMD="SYSTEM:read l; echo $TOKEN-\$l"
if [ -n "$POD6" ]; then listen_addr="TCP6-LISTEN:$PORT,ipv6only=0,reuseaddr,fork"
else listen_addr="TCP4-LISTEN:$PORT,reuseaddr,fork"; fi
ctrd_bg "$LAB_BIN" -n "$LAB" exec "$POD" -- timeout 300 socat -T10 "$listen_addr" "$LISTEN_CMD" \
  </dev/null >"$CTRD_DIR/listener.log" 2>&1
LISTENER_PID=$CTRD_BG_PID
listening() { lab exec "$POD" -- ss -Htln "sport = :$PORT" | grep -q .; }
ctrd_wait_until 20 "listener in pod $POD on :$PORT" listening || fail "listener did not start: $(cat "$CTRD_DIR/listener.log")"

# ---- containerd + ctr with the lab's conflist and cilium-cni ------------------
ctrd_cni_add_conflist "$CONFLIST"
ctrd_cni_add_plugin "$CNI_BIN" cilium-cni
ctrd_start
ctrd_import_image

read -r -d '' script <<EOF || true
ip -o addr show dev eth0; ip route; ip -6 route
a4=\$(ip -o -4 addr show dev eth0 | awk '{print \$4}' | cut -d/ -f1)
a6=\$(ip -o -6 addr show dev eth0 scope global | awk '{print \$4}' | cut -d/ -f1)
echo "ADDR4=\$a4"; echo "ADDR6=\$a6"
ping -c 3 -W 2 $POD4 >/dev/null && echo PING4=ok || echo PING4=fail
echo "TCP4=\$(echo c4 | nc -w 5 $POD4 $PORT)"
if [ -n "\$a6" ] && [ -n "$POD6" ]; then
  i=0; while ip -6 addr show dev eth0 | grep -q tentative && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done
  ping -6 -c 3 -W 2 $POD6 >/dev/null && echo PING6=ok || echo PING6=fail
  echo "TCP6=\$(echo c6 | nc -w 5 $POD6 $PORT)"
fi
echo READY
# stay up (bounded) until the test has looked at the endpoint from outside
i=0; while [ ! -e /tmp/done ] && [ \$i -lt 900 ]; do sleep 0.1; i=\$((i+1)); done
EOF

ctrd_run "$NODE_NS" "$CID" 180 sh -c "$script" >"$OUT" 2>&1 &
RUN_PID=$!
ready_or_exited() { grep -qx READY "$OUT" || ! kill -0 "$RUN_PID" 2>/dev/null; }
ctrd_wait_until 90 "container checks" ready_or_exited || fail "container did not report READY"
grep -qx READY "$OUT" || { wait "$RUN_PID"; fail "container exited early (rc=$?)"; }
cat "$OUT" >&2
get() { sed -n "s/^$1=//p" "$OUT" | tail -n1; }

ADDR4=$(get ADDR4); ADDR6=$(get ADDR6)
[ -n "$ADDR4" ] || fail "container has no IPv4 address"
in_cidr "$ADDR4" "$PODCIDR4" || fail "container IPv4 $ADDR4 not in the node's PodCIDR $PODCIDR4"
pass "container got $ADDR4 (in PodCIDR $PODCIDR4)"
if [ -n "$ADDR6" ] && [ -n "$PODCIDR6" ]; then
  in_cidr "$ADDR6" "$PODCIDR6" || fail "container IPv6 $ADDR6 not in the node's PodCIDR $PODCIDR6"
  pass "container got $ADDR6 (in PodCIDR $PODCIDR6)"
fi
[ "$(get PING4)" = ok ] || fail "container could not ping pod $POD4"
pass "container pinged lab pod $POD4"
[ "$(get TCP4)" = "$TOKEN-c4" ] || fail "TCP exchange with $POD4:$PORT gave '$(get TCP4)'"
pass "container exchanged data over TCP with lab pod ($(get TCP4))"
if [ -n "$ADDR6" ] && [ -n "$POD6" ]; then
  [ "$(get PING6)" = ok ] || fail "container could not ping6 pod $POD6"
  pass "container pinged lab pod $POD6"
  [ "$(get TCP6)" = "$TOKEN-c6" ] || fail "TCP exchange with [$POD6]:$PORT gave '$(get TCP6)'"
  pass "container exchanged data over TCP/IPv6 with lab pod ($(get TCP6))"
else
  echo "note: IPv6 not checked (container: '${ADDR6}', pod: '${POD6}')" >&2
fi

# The endpoint, seen from the agent and the node, while the container runs.
ep=$(api "http://agent/v1/endpoint/container-id:$FULL_CID") || fail "agent API unreachable at $SOCK"
echo "$ep" | jq -e . >/dev/null 2>&1 || fail "agent has no endpoint for $FULL_CID: $ep"
LXC=$(echo "$ep" | jq -r '."host-interface-name" // empty')
EP4=$(echo "$ep" | jq -r '.addressing.ipv4 // empty' | sed 's|/.*||')
[ "$EP4" = "$ADDR4" ] || fail "agent's endpoint has IPv4 '$EP4', container has '$ADDR4'"
if [ -z "$LXC" ] || ! ip -n "$NODE_NS" link show "$LXC" >/dev/null 2>&1; then
  fail "lxc device '$LXC' missing in $NODE_NS"
fi
pass "agent lists endpoint $FULL_CID ($EP4, $LXC); $LXC exists in $NODE_NS"
lab exec "$POD" -- ping -c 2 -W 2 "$ADDR4" >/dev/null || fail "lab pod could not ping the container $ADDR4"
pass "lab pod pinged the container $ADDR4"

# Let the container finish; ctr then calls CNI DEL and removes the container.
ctrd_ctr task exec --exec-id finish "$CID" touch /tmp/done || fail "ctr task exec failed"
rc=0; wait "$RUN_PID" || rc=$?
RUN_PID=
[ $rc -eq 0 ] || fail "container exited with $rc"
pass "container exited 0"

# ---- after exit: CNI DEL ran -----------------------------------------------------
code=$(api_code "http://agent/v1/endpoint/container-id:$FULL_CID")
[ "$code" = 404 ] || fail "agent still has endpoint $FULL_CID (GET -> $code)"
eps=$(api http://agent/v1/endpoint) || fail "agent API unreachable at $SOCK"
if grep -qF "\"$FULL_CID\"" <<<"$eps"; then fail "agent's endpoint list still has $FULL_CID"; fi
lab status --json >"$STATUS_JSON" || fail "cilium-lab status --json failed"
if grep -qF "$FULL_CID" "$STATUS_JSON"; then fail "cilium-lab status still lists $FULL_CID"; fi
pass "endpoint $FULL_CID removed (agent API 404, not in the list nor in lab status)"
if ip -n "$NODE_NS" link show "$LXC" >/dev/null 2>&1; then fail "$LXC still exists in $NODE_NS"; fi
pass "$LXC is gone from $NODE_NS"
[ -z "$(ctrd_cni_cache_files)" ] || fail "libcni cache still has $(ctrd_cni_cache_files)"
[ -z "$(ctrd_ctr container ls -q)" ] || fail "container still listed by containerd"
pass "container and libcni cache entry are gone"
