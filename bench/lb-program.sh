#!/usr/bin/env bash
# Time to program 10,000 services x 10 backends, and the LB map memory.
#
# One cilium-agent (kube-proxy-replacement on, bpf-lb-map-max 262144 so
# 110,000 service entries and 100,000 backends fit) in a node namespace:
#   api:  every service through the agent's API (PUT /v1/service/ID, the call
#         `cilium-dbg service update` makes), all in one curl process over the
#         agent socket, so the time is the agent's (validation, id and
#         backend bookkeeping, map writes), not process start-up; then the
#         same number deleted through the API;
#   cli:  a sample of `cilium-dbg service update` calls, one process each
#         (what a script calling the CLI per service would see);
#   maps: the same services written straight through the map layer the
#         agent uses (cpp-lb-fill: datapath::BpfLbMaps), the floor.
# Memory: bytes_memlock of every pinned cpp_lb_* map (bpftool map show),
# empty and with the services installed through the API, and per service.
# Hash maps are preallocated by the kernel, so memlock is set by
# bpf-lb-map-max, not by the number of services; the report gives both
# that figure and the bytes the entries themselves occupy (key + value).
#
# Usage: CILIUMPP_BENCH_MODE=quick|full bash bench/lb-program.sh BUILD_DIR
#   quick: 300 services (CILIUMPP_BENCH_LB_SERVICES), 10 CLI calls, API
#   budget 10 s (CILIUMPP_BENCH_LB_API_BUDGET: no new API batch after it).
#   full:  10,000 services, 200 CLI calls, API budget 300 s.
#   Backends per service:
#   CILIUMPP_BENCH_LB_BACKENDS (default 10).
BUILD_DIR=$(realpath "${1:?usage: lb-program.sh BUILD_DIR}")
BIN=$BUILD_DIR/bin
BN_NAME=lb-program
source "$(dirname "$(realpath "$0")")/lib.sh"

bn_require_bins cilium-agent cilium-dbg cpp-lb-fill
for b in curl bpftool; do command -v "$b" >/dev/null || bn_die "$b is not installed"; done
if [ "$BN_MODE" = full ]; then N=${CILIUMPP_BENCH_LB_SERVICES:-10000}; CLI_N=200; API_BUDGET=300; BATCH=500
else N=${CILIUMPP_BENCH_LB_SERVICES:-300}; CLI_N=10; API_BUDGET=10; BATCH=100; fi
API_BUDGET=${CILIUMPP_BENCH_LB_API_BUDGET:-$API_BUDGET}
K=${CILIUMPP_BENCH_LB_BACKENDS:-10}
[ "$N" -ge 1 ] && [ "$N" -le 20000 ] || bn_die "CILIUMPP_BENCH_LB_SERVICES must be 1..20000"
[ "$K" -ge 1 ] && [ "$K" -le 12 ] || bn_die "CILIUMPP_BENCH_LB_BACKENDS must be 1..12"
TMP=$(mktemp -d /tmp/cpp-bench-lbprog.XXXXXX)
bn_path "$TMP"

bn_agent_setup "cpp-$BN_TAG-node" "$BN_TAG-lbp" kube-proxy-replacement=true bpf-lb-sock=false \
  bpf-lb-map-max=262144 enable-ipv6=false
# A native device for the agent (no traffic flows in this benchmark).
ip -n "$AGENT_NS" link add eth0 type veth peer name eth0-peer
ip -n "$AGENT_NS" addr add 192.0.2.1/24 dev eth0
ip -n "$AGENT_NS" link set eth0-peer up
ip -n "$AGENT_NS" link set eth0 up
ip -n "$AGENT_NS" route add default via 192.0.2.254
bn_agent_start
PIN=$AGENT_PIN/node1
[ -e "$PIN/cpp_lb_svc" ] || bn_die "the agent made no $PIN/cpp_lb_svc (kube-proxy-replacement not implemented?)"
dbg() { in_ns "$AGENT_NS" "$BIN/cilium-dbg" -H "$AGENT_SOCK" "$@"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Memory of the pinned LB maps: {name: {bytes_memlock, max_entries, key, value}}.
map_memory() {
  local m out='{}'
  for m in "$PIN"/cpp_lb_*; do
    [ -e "$m" ] || continue
    out=$(jq -c --arg n "${m##*/}" --argjson s "$(bpftool -j map show pinned "$m")" \
      '. + {($n): {bytes_memlock: ($s.bytes_memlock | tonumber? // $s.bytes_memlock), max_entries: $s.max_entries,
                   key: $s.bytes_key, value: $s.bytes_value, type: $s.type}}' <<<"$out")
  done
  echo "$out"
}

# Service i: frontend 10.96.0.0 + i (port 80, internal), backends 10.128.0.0 + 17 + i*K + j, port 7000
# (the addresses cpp-lb-fill uses). One curl config entry per request, services FIRST..LAST-1.
curl_config() {  # METHOD FIRST LAST
  awk -v first="$2" -v last="$3" -v k="$K" -v m="$1" -v sock="$AGENT_SOCK" 'function ip(base2, v) {
      return sprintf("10.%d.%d.%d", base2 + int(v / 65536), int(v / 256) % 256, v % 256) }
    BEGIN {
      for (i = first; i < last; i++) {
        if (i > first) print "next"
        printf "url = \"http://localhost/v1/service/%d\"\nrequest = \"%s\"\nunix-socket = \"%s\"\nsilent\nshow-error\noutput = \"/dev/null\"\nwrite-out = \"%%{http_code}\\n\"\n", i + 1, m, sock
        if (m != "PUT") continue
        b = ""
        for (j = 0; j < k; j++) b = b (j ? "," : "") sprintf("{\\\"ip\\\":\\\"%s\\\",\\\"port\\\":7000}", ip(128, 17 + i * k + j))
        printf "header = \"Content-Type: application/json\"\n"
        printf "data = \"{\\\"id\\\":%d,\\\"frontend-address\\\":{\\\"ip\\\":\\\"%s\\\",\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\",\\\"scope\\\":\\\"internal\\\"},\\\"backend-addresses\\\":[%s],\\\"flags\\\":{\\\"type\\\":\\\"ClusterIP\\\"}}\"\n", i + 1, ip(96, i), b
      }
    }'
}

# run_curl METHOD COUNT: requests for services 0..COUNT-1 in batches of
# BATCH, each batch's time appended to $TMP/METHOD.batches as
# {"done", "seconds"}; stops early once API_BUDGET seconds are spent (the
# API's cost per service may grow with the number installed). Prints how
# many were done. Fails unless every answer is 2xx.
run_curl() {
  local m=$1 count=$2 done=0 t0 t1 start bad to
  start=$(now)
  : >"$TMP/$m.batches"
  while [ "$done" -lt "$count" ]; do
    to=$((done + BATCH < count ? done + BATCH : count))
    curl_config "$m" "$done" "$to" >"$TMP/$m.curl"
    t0=$(now)
    in_ns "$AGENT_NS" curl -K "$TMP/$m.curl" >"$TMP/$m.codes" 2>"$TMP/$m.err" || bn_die "curl $m failed: $(head -3 "$TMP/$m.err")"
    t1=$(now)
    bad=$(grep -vc '^2' "$TMP/$m.codes" || true)
    [ "$bad" -eq 0 ] || bn_die "$bad of $((to - done)) $m requests were refused (codes: $(sort "$TMP/$m.codes" | uniq -c | tr '\n' ' '))"
    jq -nc --argjson from "$done" --argjson to "$to" --argjson s "$(elapsed "$t0" "$t1")" \
      '{from: $from, to: $to, seconds: $s, ms_per_service: ($s * 1000 / ($to - $from))}' >>"$TMP/$m.batches"
    done=$to
    if [ "$done" -lt "$count" ] && [ "$(elapsed "$start" "$(now)" | cut -d. -f1)" -ge "$API_BUDGET" ]; then
      bn_log "$m: time budget of ${API_BUDGET}s spent after $done of $count services; stopping there"
      break
    fi
  done
  echo "$done"
}

MEM_EMPTY=$(map_memory)
bn_log "programming $N services x $K backends through the agent API (batches of $BATCH)"
API_N=$(run_curl PUT "$N")
API_PUT_S=$(jq -s 'map(.seconds) | add' "$TMP/PUT.batches")
SVC_ENTRIES=$(bpftool -j map dump pinned "$PIN/cpp_lb_svc" | jq length)
BE_ENTRIES=$(bpftool -j map dump pinned "$PIN/cpp_lb_be" | jq length)
[ "$SVC_ENTRIES" -ge $((API_N * (K + 1))) ] || bn_die "cpp_lb_svc holds $SVC_ENTRIES entries after $API_N services x $K backends"
[ "$BE_ENTRIES" -ge $((API_N * K)) ] || bn_die "cpp_lb_be holds $BE_ENTRIES entries, expected $((API_N * K))"
MEM_FULL=$(map_memory)
AGENT_RSS=$(bn_vmrss_kb "$AGENT_PID")
bn_log "API: $API_N services in ${API_PUT_S}s; cpp_lb_svc $SVC_ENTRIES entries, cpp_lb_be $BE_ENTRIES; agent VmRSS ${AGENT_RSS} kB"

bn_log "$CLI_N more services, one cilium-dbg service update each"
t0=$(now)
for i in $(seq 1 "$CLI_N"); do
  dbg service update --id $((API_N + i)) --frontend "10.99.$((i / 256)).$((i % 256)):80" --protocol TCP \
    --k8s-cluster-internal --backends "10.250.$((i / 256)).$((i % 256)):7000" >/dev/null || bn_die "cilium-dbg service update failed"
done
CLI_S=$(elapsed "$t0" "$(now)")

bn_log "deleting the $API_N API services through the API"
API_DEL_N=$(run_curl DELETE "$API_N")
API_DEL_S=$(jq -s 'map(.seconds) | add' "$TMP/DELETE.batches")
for i in $(seq 1 "$CLI_N"); do dbg service delete $((API_N + i)) >/dev/null || bn_die "cilium-dbg service delete $((API_N + i)) failed"; done
LEFT=$(bpftool -j map dump pinned "$PIN/cpp_lb_svc" | jq length)
[ "$API_DEL_N" -lt "$API_N" ] || [ "$LEFT" -eq 0 ] || bn_log "WARNING: $LEFT cpp_lb_svc entries left after deleting every service"

bn_log "writing the same services through the map layer (cpp-lb-fill)"
FILL=$("$BIN/cpp-lb-fill" --pin-dir "$PIN" --services "$N" --backends "$K") || bn_die "cpp-lb-fill failed"

OUT=$(bn_out_dir)/lb-program.json
jq -n --arg mode "$BN_MODE" --argjson n "$N" --argjson k "$K" --argjson api_put "$API_PUT_S" --argjson api_del "$API_DEL_S" \
  --argjson api_n "$API_N" --argjson api_del_n "$API_DEL_N" --slurpfile put_batches "$TMP/PUT.batches" \
  --slurpfile del_batches "$TMP/DELETE.batches" \
  --argjson cli_n "$CLI_N" --argjson cli_s "$CLI_S" --argjson fill "$FILL" --argjson svc_entries "$SVC_ENTRIES" \
  --argjson be_entries "$BE_ENTRIES" --argjson mem_empty "$MEM_EMPTY" --argjson mem_full "$MEM_FULL" \
  --argjson rss "$AGENT_RSS" --arg kernel "$(uname -r)" '
  def total($m): [$m[] | .bytes_memlock] | add;
  ($mem_full.cpp_lb_svc.key + $mem_full.cpp_lb_svc.value) as $svc_kv |
  ($mem_full.cpp_lb_be.key + $mem_full.cpp_lb_be.value) as $be_kv |
  {
    benchmark: "lb-program", mode: $mode, kernel: $kernel,
    services: $n, backends_per_service: $k, bpf_lb_map_max: 262144,
    api: { services: $api_n, put_s: $api_put, per_service_ms: ($api_put * 1000 / $api_n),
           services_per_s: ($api_n / $api_put), put_batches: $put_batches,
           deleted: $api_del_n, delete_s: $api_del, delete_batches: $del_batches },
    cli: { calls: $cli_n, seconds: $cli_s, per_call_ms: ($cli_s * 1000 / $cli_n) },
    map_layer: ($fill + { per_service_us: ($fill.seconds * 1e6 / $n) }),
    entries: { cpp_lb_svc: $svc_entries, cpp_lb_be: $be_entries },
    memory: {
      memlock_empty_bytes: total($mem_empty), memlock_full_bytes: total($mem_full),
      memlock_per_service_at_this_count: (total($mem_full) / $api_n),
      entry_bytes: ($svc_entries * $svc_kv + $be_entries * $be_kv),
      entry_bytes_per_service: (($svc_entries * $svc_kv + $be_entries * $be_kv) / $api_n),
      # What one service with K backends occupies of the preallocated
      # cpp_lb_svc / cpp_lb_be memory (K + 1 and K entries).
      memlock_per_service: (($mem_full.cpp_lb_svc.bytes_memlock / $mem_full.cpp_lb_svc.max_entries) * ($k + 1)
                            + ($mem_full.cpp_lb_be.bytes_memlock / $mem_full.cpp_lb_be.max_entries) * $k),
      maps: $mem_full },
    agent_vmrss_kb_with_services: $rss
  }' >"$OUT"
jq -r '"lb-program: \(.services) services x \(.backends_per_service) backends: agent API \(.api.services) services in \(.api.put_s * 100 | round / 100) s (\(.api.per_service_ms * 100 | round / 100) ms/service; first batch \(.api.put_batches[0].ms_per_service * 100 | round / 100), last \(.api.put_batches[-1].ms_per_service * 100 | round / 100) ms/service), delete \(.api.delete_s * 100 | round / 100) s; cilium-dbg service update \(.cli.per_call_ms | round) ms/call; map layer \(.map_layer.seconds * 1000 | round) ms (\(.map_layer.per_service_us | round) us/service)",
  "lb-program memory: cpp_lb_* memlock \(.memory.memlock_full_bytes / 1048576 * 10 | round / 10) MiB at bpf-lb-map-max 262144 (empty \(.memory.memlock_empty_bytes / 1048576 * 10 | round / 10) MiB; preallocated), entries \(.entries.cpp_lb_svc) svc + \(.entries.cpp_lb_be) backends = \(.memory.entry_bytes_per_service | round) bytes/service of key+value, \(.memory.memlock_per_service | round) bytes/service of cpp_lb_svc+cpp_lb_be memlock; agent VmRSS \(.agent_vmrss_kb_with_services) kB"' "$OUT"
echo "results in $OUT"
