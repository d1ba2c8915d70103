#!/usr/bin/env bash
# ciliumpp demo: a 2-node lab (network namespaces, one cilium-agent per node),
# a few pods, the connectivity test and the lab's status. The lab is always
# torn down at the end, also on failure or Ctrl-C. Exits with the
# connectivity test's status.
# Usage: scripts/demo.sh BUILD_DIR      (needs root)
set -euo pipefail

BUILD_DIR="${1:-build}"
BIN="$(cd "$BUILD_DIR/bin" 2>/dev/null && pwd)" || { echo "demo: $BUILD_DIR/bin not found; run 'make build' first" >&2; exit 1; }
for b in cilium-lab cilium-agent cilium-cni; do
  [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b is missing; run 'make build' first" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "demo: must run as root (it creates network namespaces)" >&2; exit 1; }

LAB="demo$$"
lab() { "$BIN/cilium-lab" -n "$LAB" "$@"; }
if [ -t 1 ]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  step "cilium-lab -n $LAB down"
  lab down || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "cilium-lab up --name $LAB --nodes 2"
"$BIN/cilium-lab" up --name "$LAB" --nodes 2 --bin-dir "$BIN"

step "pods: frontend on node1, backend on node2"
lab pod add node1 frontend --namespace shop --labels app=frontend
lab pod add node2 backend --namespace shop --labels app=backend

step "frontend pings its node's router (cilium_host)"
ROUTER="$(lab status --json | jq -r '.nodes[0].router_ipv4')"
lab exec frontend -- ping -c 2 -W 2 "$ROUTER"

step "cilium-lab connectivity test"
set +e
lab connectivity test
RC=$?
set -e

step "cilium-lab status"
lab status

step "Hubble: the last flows the connectivity test dropped, from every node"
lab observe --last 10 --verdict DROPPED || true

if [ "$RC" = 0 ]; then
  step "demo passed"
else
  step "demo FAILED: the connectivity test reported failures"
fi
exit "$RC"
