#!/usr/bin/env bash
# An invalid configuration is a clear startup error naming the key, and the
# agent changes nothing: no devices, no pins, no state.
BIN=$(realpath "$1")
source "$(dirname "$0")/../../lib/fixture.sh"
source "$(dirname "$0")/node-fixture.sh"

node_setup
start_expect_failure() {
  in_ns "$NODE_NAME" timeout 60 "$BIN/cilium-agent" --config-dir "$CONFIG" --node-name node1 >"$ROOT/out.txt" 2>&1
}

printf 'maybe' >"$CONFIG/enable-ipv6"
start_expect_failure && rc=0 || rc=$?
check "invalid boolean: exit code 2" test "$rc" = 2
check "invalid boolean: message names the key and value" grep -q "'enable-ipv6'.*maybe.*true or false" "$ROOT/out.txt"
check "nothing created: no cilium_host" bash -c "! ip -n $NODE_NAME link show cilium_host 2>/dev/null"
check "nothing created: no pins" test ! -e "$PIN_DIR"
check "nothing created: no state dir" test ! -e "$ROOT/state"

printf 'true' >"$CONFIG/enable-ipv6"
printf '10.233.64.7/24' >"$CONFIG/ipv4-range"
start_expect_failure && rc=0 || rc=$?
check "CIDR with host bits: exit 2 naming ipv4-range" bash -c "[ $rc = 2 ] && grep -q \"'ipv4-range'\" $ROOT/out.txt"

rm "$CONFIG/ipv4-range"
start_expect_failure && rc=0 || rc=$?
check "missing ipv4-range with IPv4 on: exit 2 naming the key" bash -c "[ $rc = 2 ] && grep -q 'ipv4-range' $ROOT/out.txt"

in_ns "$NODE_NAME" timeout 60 "$BIN/cilium-agent" --config-dir "$ROOT/does-not-exist" >"$ROOT/out.txt" 2>&1 && rc=0 || rc=$?
check "missing config dir: exit 2" bash -c "[ $rc = 2 ] && grep -q 'not a directory' $ROOT/out.txt"

printf '10.233.64.0/24' >"$CONFIG/ipv4-range"
printf 'x' >"$CONFIG/a-key-from-the-future"
agent_start
check "unknown key: agent starts" dbg status
check "unknown key: reported once in the log" test "$(grep -c "unknown configuration key 'a-key-from-the-future'" "$ROOT/agent.log")" = 1
fix_summary
