# shellcheck shell=bash disable=SC2034  # DBG_BIN is used by the scripts, want[] through a nameref
# Shared helpers for the policy end-to-end scripts (policy_e2e.sh,
# policy_netpol_model.sh). Source after setting BIN (the directory holding
# cilium-lab, cilium-agent, cilium-cni, cilium-dbg) and LAB (a unique lab name:
# lower-case letters and digits).
#
# Everything a script makes is registered here and removed by cleanup, also on
# failure or interruption: background processes (stopped by PID), extra
# network namespaces (cpp-<LAB>-...), temporary files, and the lab itself
# (`cilium-lab down`, which stops the agents by PID and removes every
# namespace, pin and file of the lab).
set -euo pipefail
shopt -s extglob  # member patterns may be @(a|b)

LAB_BIN="${BIN}/cilium-lab"
DBG_BIN="${BIN}/cilium-dbg"
PASSES=0
FAILS=0
BG_PIDS=()
EXTRA_NETNS=()
TMP_DIR="$(mktemp -d /tmp/cpp-policy-e2e.XXXXXX)"
MATRIX_EXTRA=()     # extra arguments for every probe-matrix (e.g. --extra world=...)
MATRIX_TIMEOUT_MS="${MATRIX_TIMEOUT_MS:-1000}"
T_START=$(date +%s)

lab() { "$LAB_BIN" -n "$LAB" "$@"; }

pass() { PASSES=$((PASSES + 1)); printf 'PASS: %s\n' "$*"; }
fail() { FAILS=$((FAILS + 1)); printf 'FAIL: %s\n' "$*"; }
section() { printf '\n== %s\n' "$*"; }

summary() {
  printf '\n%d passed, %d failed (%d s)\n' "$PASSES" "$FAILS" "$(($(date +%s) - T_START))"
  [ "$FAILS" -eq 0 ]
}

# Stops a process we started: SIGTERM, up to 3 s, then SIGKILL. By PID only.
stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || break
    # A child that already exited is a zombie until waited for.
    grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid ns
  trap - EXIT INT TERM
  set +e
  for pid in "${BG_PIDS[@]}"; do stop_pid "$pid"; done
  for ns in "${EXTRA_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  "$LAB_BIN" -n "$LAB" down >/dev/null 2>&1 || "$LAB_BIN" -n "$LAB" down
  rm -rf "$TMP_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_tools() {
  local b
  for b in cilium-lab cilium-agent cilium-cni cilium-dbg; do
    [ -x "$BIN/$b" ] || { echo "ERROR: $BIN/$b not built"; exit 77; }
  done
  [ "$(id -u)" = 0 ] || { echo "ERROR: needs root"; exit 77; }
  for b in ip jq nsenter ping python3; do
    command -v "$b" >/dev/null || { echo "ERROR: $b not found"; exit 1; }
  done
}

# wait_for DEADLINE_S CMD...: polls CMD until it succeeds or the deadline passes.
wait_for() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# bg_start LOGFILE CMD...: starts CMD in the background, registered for cleanup.
# Sets BG_PID. (CMD must exec the real process, e.g. `cilium-lab exec`, which
# execs nsenter, which execs the program: the PID is the program's.)
bg_start() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# world_up NAME IPV4 IPV6: a namespace cpp-<LAB>-ext-NAME standing for the world
# outside the cluster (beside the lab's own world namespace): on the lab's
# underlay bridge, routes to the pod CIDRs via node1. Removed by cleanup (and
# with it its veth into the underlay).
world_up() {
  local name=$1 v4=$2 v6=$3
  local ns="cpp-${LAB}-ext-${name}" u="cpp-${LAB}-underlay" st node_v4 node_v6 cidr4 cidr6
  st="$(lab status --json)"
  node_v4="$(jq -r '.nodes[0].ipv4' <<<"$st")"
  node_v6="$(jq -r '.nodes[0].ipv6' <<<"$st")"
  cidr4="$(jq -r '.nodes[0].pod_cidrs[0]' <<<"$st")"
  cidr6="$(jq -r '.nodes[0].pod_cidrs[1]' <<<"$st")"
  ip netns add "$ns"
  EXTRA_NETNS+=("$ns")
  ip -n "$u" link add "ve${name}" type veth peer name eth0 netns "$ns"
  ip -n "$u" link set "ve${name}" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$v4/24" dev eth0
  ip -n "$ns" -6 addr add "$v6/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add "$cidr4" via "$node_v4"
  ip -n "$ns" -6 route add "$cidr6" via "$node_v6"
  MATRIX_EXTRA+=(--extra "${name}=/run/netns/${ns},${v4},${v6}")
}

apply_ok() {  # apply_ok FILE: cilium-lab apply (waits until every agent enforces it)
  local out
  if out="$(lab apply -f "$1" 2>&1)"; then
    pass "apply $(basename "$1")"
  else
    fail "apply $(basename "$1"): $out"
  fi
}

delete_ok() {
  local out
  if out="$(lab delete -f "$1" 2>&1)"; then
    pass "delete $(basename "$1")"
  else
    fail "delete $(basename "$1"): $out"
  fi
}

# Prints a reachability table (. allowed, X denied) from an associative array
# name holding "from/to" -> allow|deny, for the comma-separated members.
print_table() {
  local -n _cells=$1
  local members=$2 indent=$3 f t w=4 line m
  IFS=, read -ra m <<<"$members"
  for f in "${m[@]}"; do [ "${#f}" -gt "$w" ] && w=${#f}; done
  line="$(printf '%-*s' "$w" '-')"
  for t in "${m[@]}"; do line+="$(printf ' %*s' "$w" "$t")"; done
  printf '%s%s\n' "$indent" "$line"
  for f in "${m[@]}"; do
    line="$(printf '%-*s' "$w" "$f")"
    for t in "${m[@]}"; do
      case "${_cells[$f/$t]:-}" in
        allow) line+="$(printf ' %*s' "$w" .)" ;;
        deny) line+="$(printf ' %*s' "$w" X)" ;;
        *) line+="$(printf ' %*s' "$w" -)" ;;
      esac
    done
    printf '%s%s\n' "$indent" "$line"
  done
}

# expect_matrix DESC PROTO PORT FAMILY MEMBERS DEFAULT [FROM>TO=allow|deny ...]
#   Runs `cilium-lab probe-matrix` over MEMBERS (comma-separated pods, nodes
#   or --extra names) and compares every off-diagonal cell with the
#   expectation: DEFAULT, then each override in order, FROM and TO being bash
#   glob patterns over member names (like the upstream e2e's
#   Reachability.ExpectPeer). A pod reaching itself goes over loopback and is
#   not compared (probe-matrix itself fails when such a cell fails).
#   PORT is - for icmp. One PASS or FAIL line; on FAIL the mismatching cells
#   and both tables.
# Every matrix cell asserts what a new connection gets. A conntrack entry left
# by an earlier allowed probe that happened to use the same ephemeral port
# would pass a now-denied probe as established, so the matrix starts from
# empty conntrack tables on every node.
flush_conntrack() {
  local sock
  for sock in $(lab status --json | jq -r '.nodes[].socket'); do
    "$DBG_BIN" -H "$sock" bpf ct flush global >/dev/null
  done
}

expect_matrix() {
  local desc=$1 proto=$2 port=$3 fam=$4 members=$5 def=$6
  shift 6
  local label
  label="$desc [$proto$([ "$port" = - ] || printf '/%s' "$port") $fam]"
  local args=(probe-matrix --pods "$members" --proto "$proto" --json --timeout-ms "$MATRIX_TIMEOUT_MS"
    "${MATRIX_EXTRA[@]}")
  [ "$port" = - ] || args+=(--port "$port")
  [ "$fam" = ipv6 ] && args+=(--ipv6)
  local json rc=0
  flush_conntrack
  json="$(lab "${args[@]}" 2>"$TMP_DIR/matrix.err")" || rc=$?
  if [ "$rc" -ne 0 ]; then
    fail "$label: probe-matrix exited $rc: $(cat "$TMP_DIR/matrix.err")"
    return 0
  fi
  local -A got=() want=()
  local k v f t ov p q val m bad=""
  while read -r k v; do got[$k]=$([ "$v" = true ] && echo allow || echo deny); done \
    < <(jq -r 'to_entries[] | "\(.key) \(.value)"' <<<"$json")
  IFS=, read -ra m <<<"$members"
  for f in "${m[@]}"; do
    for t in "${m[@]}"; do
      [ "$f" = "$t" ] && continue
      val=$def
      for ov in "$@"; do
        p=${ov%%>*}
        q=${ov#*>}
        q=${q%=*}
        # shellcheck disable=SC2053  # glob match on purpose
        if [[ $f == $p && $t == $q ]]; then val=${ov##*=}; fi
      done
      want[$f/$t]=$val
      if [ "${got[$f/$t]:-missing}" != "$val" ]; then
        bad+="    $f -> $t: expected $val, got ${got[$f/$t]:-missing}"$'\n'
      fi
    done
  done
  if [ -z "$bad" ]; then
    pass "$label"
  else
    fail "$label: $(printf '%s' "$bad" | grep -c .) cell(s) differ"
    printf '%s' "$bad"
    echo "    expected:"
    print_table want "$members" "      "
    echo "    observed:"
    print_table got "$members" "      "
  fi
}
