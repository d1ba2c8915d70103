#!/usr/bin/env bash
# Time and memory to advertise N prefixes (full: 10,000; quick: 2,000) to one
# BGP peer: A = gobgpd 3.10 (the speaker upstream Cilium embeds), B = our
# speaker (bgp-test-speaker, make_speaker()), per family (IPv4 /24s, IPv6
# /64s over the IPv4 session), in the same run, pairs interleaved with the
# side going first alternating.
#
# One receiver for both: FRR (zebra for next-hop tracking, bgpd with -n:
# nothing is installed in a kernel table) in its own namespace, pinned to
# CPU0; the sender runs in a second namespace, pinned to CPU1, always as
# 192.0.2.1 / AS 65001 with a passive neighbor. Before each run the sender
# is started with all N routes already loaded (gobgpd: `gobgp mrt inject
# global` of the same prefixes cpp-bgp-routes wrote for our speaker, count
# checked); then FRR's neighbor is taken out of shutdown and FRR connects.
# transfer_ms: from the session's Established, as FRR logged it (us), to the
# first poll of bgpd's vty socket (cpp-bgp-frr-wait, every 2 ms; the interval
# is reported) that saw all N prefixes received. session_ms (FRR's own
# connect delay, about 1 s) is reported but not compared. Memory: VmHWM (and
# VmRSS) of the sender process after the advertisement. Then the sender is
# stopped and FRR's neighbor shut down again, and the next run waits until
# FRR holds nothing from it.
set -euo pipefail
BUILD_DIR=$(realpath "${1:?usage: bgp-advertise.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=bgp-advertise
source "$(dirname "$(realpath "$0")")/lib.sh"
bn_require_bins bgp-test-speaker cpp-bgp-routes cpp-bgp-frr-wait
for t in gobgpd gobgp vtysh /usr/lib/frr/bgpd; do
  command -v "$t" >/dev/null || bn_die "$t not installed (scripts/install-deps.sh: frr gobgpd)"
done
OUT=$(bn_out_dir)

if [ "$BN_MODE" = full ]; then
  PREFIXES=${CILIUMPP_BENCH_PREFIXES:-10000}; ROUNDS=${CILIUMPP_BENCH_PAIRS:-5}; QUIET_WAIT=30
else
  PREFIXES=${CILIUMPP_BENCH_PREFIXES:-2000}; ROUNDS=${CILIUMPP_BENCH_PAIRS:-1}; QUIET_WAIT=2
fi
FAMILIES=(ipv4 ipv6)
POLL_MS=2  # a summary query costs bgpd ~0.1 ms; the transfer itself takes tens of ms

TMP=$(mktemp -d /tmp/cpp-bench-bgp-advertise.XXXXXX)
bn_path "$TMP"
chmod 755 "$TMP"  # bgpd runs as the frr user
RUNS=$TMP/runs.jsonl
: >"$RUNS"

SND=cpp-$BN_TAG-bgps RCV=cpp-$BN_TAG-bgpr
SND4=192.0.2.1 SND6=2001:db8::1 RCV4=192.0.2.2 RCV6=2001:db8::2
bn_netns "$SND"
bn_netns "$RCV"
ip -n "$SND" link add eth0 type veth peer name eth0 netns "$RCV"
ip -n "$SND" addr add $SND4/24 dev eth0
ip -n "$SND" addr add $SND6/64 dev eth0 nodad
ip -n "$RCV" addr add $RCV4/24 dev eth0
ip -n "$RCV" addr add $RCV6/64 dev eth0 nodad
ip -n "$SND" link set eth0 up
ip -n "$RCV" link set eth0 up

for f in "${FAMILIES[@]}"; do
  nh=$SND4
  [ "$f" = ipv6 ] && nh=$SND6
  "$BIN/cpp-bgp-routes" "$f" "$PREFIXES" "$nh" "$TMP/routes-$f.txt" "$TMP/routes-$f.mrt"
done

# ------------------------------------------------------------ receiver ---
R=$TMP/frr
mkdir -p "$R"
cat >"$R/bgpd.conf" <<CONF
hostname receiver
log file $R/frr.log
log timestamp precision 6
router bgp 65002
 bgp router-id $RCV4
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 neighbor $SND4 remote-as 65001
 neighbor $SND4 timers connect 1
 neighbor $SND4 shutdown
 address-family ipv6 unicast
  neighbor $SND4 activate
 exit-address-family
CONF
echo "hostname receiver" >"$R/zebra.conf"
chown -R frr:frr "$R"
bn_bg "$RCV" "$TMP/zebra.log" taskset -c 0 /usr/lib/frr/zebra -f "$R/zebra.conf" -i "$R/zebra.pid" \
  -z "$R/zserv.api" --vty_socket "$R"
wait_for 30 test -S "$R/zserv.api" || bn_die "zebra did not start: $(tail -5 "$TMP/zebra.log")"
bn_bg "$RCV" "$TMP/bgpd.log" taskset -c 0 /usr/lib/frr/bgpd -n -f "$R/bgpd.conf" -i "$R/bgpd.pid" \
  -z "$R/zserv.api" --vty_socket "$R"
wait_for 30 test -S "$R/bgpd.vty" || bn_die "bgpd did not start: $(tail -5 "$TMP/bgpd.log")"
frr_wait() { "$BIN/cpp-bgp-frr-wait" "$R/bgpd.vty" --interval-ms "$POLL_MS" "$@"; }

# -------------------------------------------------------------- senders ---
gobgp() { in_ns "$SND" gobgp -u 127.0.0.1 -p 50051 "$@"; }
gobgp_paths() { gobgp global rib summary -a "$1" | awk '/^Destination:/ { print $4 }'; }

# start_sender SIDE FAMILY: the sender, pinned to CPU1, with all routes of
# FAMILY loaded and a passive neighbor for the receiver; sets SENDER_PID.
start_sender() {
  local side=$1 f=$2 i
  if [ "$side" = A ]; then
    cat >"$TMP/gobgpd.toml" <<TOML
[global.config]
  as = 65001
  router-id = "$SND4"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$RCV4"
    peer-as = 65002
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
TOML
    bn_bg "$SND" "$TMP/gobgpd.log" taskset -c 1 gobgpd -f "$TMP/gobgpd.toml" -p \
      --api-hosts=127.0.0.1:50051 --pprof-disable
    SENDER_PID=$BN_BG_PID
    wait_for 30 gobgp global || bn_die "gobgpd did not start: $(tail -5 "$TMP/gobgpd.log")"
    for i in 1 2 3; do
      gobgp mrt inject global "$TMP/routes-$f.mrt" >/dev/null
      [ "$(gobgp_paths "$f")" = "$PREFIXES" ] && return 0
    done
    bn_die "gobgpd holds $(gobgp_paths "$f") $f paths after 3 injections of $PREFIXES"
  else
    { echo "router-id $SND4"; echo "listen 179"; echo "router 65001"
      echo "neighbor $RCV4 65002 passive"; cat "$TMP/routes-$f.txt"; } >"$TMP/speaker.conf"
    rm -f "$TMP/status.json"
    bn_bg "$SND" "$TMP/speaker.log" taskset -c 1 "$BIN/bgp-test-speaker" "$TMP/speaker.conf" "$TMP/status.json"
    SENDER_PID=$BN_BG_PID
    wait_for 30 grep -q "applied $TMP/speaker.conf" "$TMP/speaker.log" ||
      bn_die "bgp-test-speaker did not apply its config: $(tail -5 "$TMP/speaker.log")"
    wait_for 30 port_listening "$SND" 179 || bn_die "bgp-test-speaker does not listen on 179"
  fi
}

# established_ns: when FRR logged the session with the sender Up, last time
# (microseconds, wall clock, like date +%s%N).
established_ns() {
  local ts
  ts=$(grep "%ADJCHANGE: neighbor $SND4(.* Up\$" "$R/frr.log" | tail -1 | awk '{ print $1, $2 }')
  [ -n "$ts" ] || bn_die "FRR logged no session Up with $SND4: $(tail -5 "$R/frr.log" 2>&1)"
  date -d "$ts" +%s%N
}

kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }

# one_run SIDE FAMILY ROUND: appends one JSON line to RUNS.
one_run() {
  local side=$1 f=$2 round=$3 before after w rss hwm
  start_sender "$side" "$f"
  before=$(bn_cpu_sample)
  w=$(frr_wait --timeout-s 120 --run "no neighbor $SND4 shutdown" received "$SND4" "$f" "$PREFIXES") ||
    bn_die "side $side: FRR did not receive $PREFIXES $f prefixes: $(tail -3 "$TMP/gobgpd.log" "$TMP/speaker.log" 2>&1)"
  after=$(bn_cpu_sample)
  w=$(jq -c --argjson up "$(established_ns)" '.established_ns = $up' <<<"$w")
  hwm=$(kb VmHWM "$SENDER_PID")
  rss=$(kb VmRSS "$SENDER_PID")
  bn_stop_pid "$SENDER_PID"
  frr_wait --timeout-s 60 --run "neighbor $SND4 shutdown" down "$SND4" >/dev/null ||
    bn_die "FRR still holds routes from side $side"
  jq -c --arg side "$side" --arg f "$f" --argjson round "$round" --argjson hwm "$hwm" --argjson rss "$rss" \
    --argjson steal "$(bn_steal_pct "$before" "$after")" '
    {side: $side, family: $f, round: $round,
     advertise_ms: ((.done_ns - .start_ns) / 1e6), transfer_ms: ((.done_ns - .established_ns) / 1e6),
     session_ms: ((.established_ns - .start_ns) / 1e6),
     poll_interval_ms, vmhwm_kb: $hwm, vmrss_kb: $rss, steal_pct: $steal}' <<<"$w" >>"$RUNS"
  bn_log "$(jq -r '"\(.family) \(.side) round \(.round): all received \(.advertise_ms | round) ms after the session was enabled, \(.transfer_ms | round) ms after Established, VmHWM \(.vmhwm_kb) kB (steal \(.steal_pct)%)"' <<<"$(tail -1 "$RUNS")")"
}

bn_log "$PREFIXES prefixes per family, $ROUNDS round(s); A = gobgpd, B = bgp-test-speaker"
for round in $(seq 1 "$ROUNDS"); do
  for f in "${FAMILIES[@]}"; do
    bn_wait_quiet "$QUIET_WAIT" || bn_log "CPUs still busy with other processes after ${QUIET_WAIT}s; measuring anyway"
    if [ $((round % 2)) -eq 0 ]; then one_run B "$f" "$round"; one_run A "$f" "$round"
    else one_run A "$f" "$round"; one_run B "$f" "$round"; fi
  done
done

jq -s --arg mode "$BN_MODE" --argjson prefixes "$PREFIXES" --argjson rounds "$ROUNDS" --argjson poll "$POLL_MS" \
  "$BN_JQ_STATS"'
  . as $runs |
  def side($f; $s; $k): [$runs[] | select(.family == $f and .side == $s) | .[$k]] | stats;
  def ratio($b; $a): if $a.median > 0 then $b.median / $a.median else null end;
  {benchmark: "bgp-advertise", mode: $mode, prefixes: $prefixes, rounds: $rounds,
   A: "gobgpd", B: "ciliumpp speaker (bgp-test-speaker)", receiver: "FRR bgpd -n (no kernel routes) + zebra",
   poll_ms: $poll, poll_interval_ms: ([$runs[].poll_interval_ms] | stats.median),
   families: ([$runs[].family] | unique | map(. as $f | {key: $f, value: {
     transfer_ms: {A: side($f; "A"; "transfer_ms"), B: side($f; "B"; "transfer_ms"),
                   ratio: ratio(side($f; "B"; "transfer_ms"); side($f; "A"; "transfer_ms"))},
     vmhwm_kb: {A: side($f; "A"; "vmhwm_kb"), B: side($f; "B"; "vmhwm_kb"),
                ratio: ratio(side($f; "B"; "vmhwm_kb"); side($f; "A"; "vmhwm_kb"))},
     session_ms: {A: side($f; "A"; "session_ms"), B: side($f; "B"; "session_ms")}}}) | from_entries),
   runs: $runs}' "$RUNS" >"$OUT/bgp-advertise.json"
jq -r '.families | to_entries[] | def r3: if . == null then "n/a" else (. * 1000 | round) / 1000 end;
  "bgp-advertise \(.key): transfer ours/gobgp = \(.value.transfer_ms.ratio | r3) (\(.value.transfer_ms.B.median | round) vs \(.value.transfer_ms.A.median | round) ms), VmHWM ours/gobgp = \(.value.vmhwm_kb.ratio | r3) (\(.value.vmhwm_kb.B.median) vs \(.value.vmhwm_kb.A.median) kB)"' \
  "$OUT/bgp-advertise.json"
