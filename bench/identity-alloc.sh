#!/usr/bin/env bash
# Identity allocation throughput through etcd (ids/s): a single etcd member
# on 127.0.0.1 (free ports, data in a temp dir, killed by PID), driven by
# cpp-identity-bench with real KvstoreAllocator instances standing for nodes.
set -euo pipefail
BUILD_DIR=$(realpath "${1:?usage: identity-alloc.sh BUILD_DIR}")
BN_NAME=identity-alloc
source "$(dirname "$(realpath "$0")")/lib.sh"
OUT=${CILIUMPP_BENCH_OUT:-$BUILD_DIR/bench}
mkdir -p "$OUT"
command -v etcd >/dev/null || bn_die "etcd not found (apt-get install etcd-server)"

# A loopback TCP port nothing listens on now.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    [ -z "$(ss -Htln "sport = :$p")" ] && { echo "$p"; return; }
  done
}
D=$(mktemp -d /tmp/cpp-bench-etcd.XXXXXX)
bn_path "$D"
client=$(free_port)
peer=$(free_port)
while [ "$peer" = "$client" ]; do peer=$(free_port); done
etcd --name b1 --data-dir "$D/data" \
  --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "b1=http://127.0.0.1:$peer" >"$D/etcd.log" 2>&1 &
bn_pid $!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$client/health" | grep -q true && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$client/health" | grep -q true || bn_die "etcd did not become healthy: $(tail -5 "$D/etcd.log")"

"$BUILD_DIR/bin/cpp-identity-bench" "http://127.0.0.1:$client" "$BN_MODE" >"$OUT/identity-alloc.json"
jq -r '"identity-alloc: new \(.new_ids_per_s.median | round) ids/s, existing (2nd node) \(.existing_ids_per_s.median | round) ids/s, two nodes at once \(.two_nodes_new_ids_per_s.median | round) ids/s (\(.ids_per_run) per run)"' "$OUT/identity-alloc.json"
