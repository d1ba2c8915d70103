# Shared helpers for the lab end-to-end tests. Source after setting BIN.
set -euo pipefail

LAB="${LAB:-e2e$$}"
LAB_BIN="${BIN}/cilium-lab"
FAILED=0

log() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; FAILED=1; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
lab() { "$LAB_BIN" -n "$LAB" "$@"; }

# Always tear the lab down, also when a check fails or the script is interrupted.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  "$LAB_BIN" -n "$LAB" down >/dev/null 2>&1 || "$LAB_BIN" -n "$LAB" down || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0
check() {  # check WHAT CMD...: pass when CMD succeeds
  local what=$1
  shift
  if "$@"; then PASSED=$((PASSED + 1)); echo "ok: $what"; else fail "$what"; fi
}
# wait_for SECONDS CMD...: poll CMD until it succeeds (generous deadlines; never a fixed sleep).
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

expect_eq() {  # expect_eq WHAT EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then fail "$1: expected '$2', got '$3'"; else printf 'ok: %s = %s\n' "$1" "$3"; fi
}

expect_contains() {  # expect_contains WHAT NEEDLE HAYSTACK
  case "$3" in
    *"$2"*) printf 'ok: %s contains "%s"\n' "$1" "$2" ;;
    *) fail "$1: \"$2\" not found in: $3" ;;
  esac
}

# Nothing of the lab may remain: namespaces, run dir, pins, agents.
expect_lab_gone() {
  if ip netns list | awk '{print $1}' | grep -q "^cpp-${LAB}-"; then
    fail "namespaces left: $(ip netns list | awk '{print $1}' | grep "^cpp-${LAB}-" | tr '\n' ' ')"
  fi
  [ ! -e "/run/ciliumpp/lab/${LAB}" ] || fail "/run/ciliumpp/lab/${LAB} left behind"
  [ ! -e "/sys/fs/bpf/ciliumpp/${LAB}" ] || fail "/sys/fs/bpf/ciliumpp/${LAB} left behind"
  local pid
  for pid in "$@"; do
    if [ -n "$pid" ] && [ "$pid" != 0 ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q cilium-agent &&
      ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
      fail "cilium-agent pid $pid still running"
    fi
  done
}
