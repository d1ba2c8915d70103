# Shared helpers for shell integration tests: unique names, namespaces,
# processes started and stopped by PID, waiting on conditions, assertions.
# Everything a test makes is registered and removed by cleanup, also on failure.
set -euo pipefail

FIX_SUFFIX="${FIX_SUFFIX:-$$}"
FIX_NETNS=()
FIX_PIDS=()
FIX_PATHS=()
FIX_FAILS=0
FIX_PASSES=0

fix_cleanup() {
  local pid ns p
  for pid in "${FIX_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${FIX_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${FIX_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  for p in "${FIX_PATHS[@]}"; do rm -rf "$p"; done
}
trap fix_cleanup EXIT

# fix_netns NAME: creates network namespace NAME (must start with cpp-).
fix_netns() {
  [[ "$1" == cpp-* ]] || { echo "namespace $1 must start with cpp-" >&2; exit 2; }
  ip netns add "$1"
  FIX_NETNS+=("$1")
  ip -n "$1" link set lo up
}

# fix_underlay NAME: namespace NAME with bridge br0, the underlay network
# that fix_underlay_link joins nodes to.
fix_underlay() {
  fix_netns "$1"
  ip -n "$1" link add br0 type bridge
  ip -n "$1" link set br0 up
  FIX_UNDERLAY=$1
}

# fix_underlay_link NS PORT ADDR4 [ADDR6]: a veth from NS (eth0, ADDR4/24
# and ADDR6/64) to the underlay's bridge (PORT on the bridge side).
fix_underlay_link() {
  ip -n "$FIX_UNDERLAY" link add "$2" type veth peer name eth0 netns "$1"
  ip -n "$FIX_UNDERLAY" link set "$2" master br0 up
  ip -n "$1" addr add "$3/24" dev eth0
  [ -z "${4:-}" ] || ip -n "$1" addr add "$4/64" dev eth0 nodad
  ip -n "$1" link set eth0 up
}

# in_ns NS CMD...: runs CMD in the namespace without hiding /sys/fs/bpf.
in_ns() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }

# bg_in_ns OUT LOG NS CMD...: starts CMD in the namespace in the background,
# registers it for cleanup and stores its PID in the variable named OUT.
# nsenter execs CMD in place, so the PID is CMD's own (a shell function run
# with & would be a subshell whose death leaves CMD running).
bg_in_ns() {
  local out=$1 log=$2 ns=$3; shift 3
  nsenter --net=/run/netns/"$ns" "$@" >>"$log" 2>&1 &
  printf -v "$out" '%s' "$!"
  FIX_PIDS+=("$!")
}

fix_path() { FIX_PATHS+=("$1"); }
fix_pid() { FIX_PIDS+=("$1"); }

# wait_for DEADLINE_S CMD...: polls CMD until it succeeds or the deadline passes.
wait_for() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
    sleep 0.1
  done
}

pass() { FIX_PASSES=$((FIX_PASSES + 1)); echo "PASS: $*"; }
fail() { FIX_FAILS=$((FIX_FAILS + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

fix_summary() {
  echo "$FIX_PASSES passed, $FIX_FAILS failed"
  [ "$FIX_FAILS" -eq 0 ]
}

# json_has JSON FILTER: true when jq FILTER holds for JSON.
json_has() { jq -e "$2" >/dev/null <<<"$1"; }
