# Shared helpers for the benchmark scripts: unique names, cleanup of every
# namespace / process / path they make (also on failure), a single-node
# cilium-agent, cilium-cni invoked like a runtime, steal accounting and
# statistics. Source it with BIN set (the build's bin directory).
#
# Safety (brief section 5): namespaces are `cpp-bn<pid>-...`, daemons are
# stopped by PID, pins live under /sys/fs/bpf/ciliumpp/<unique cluster>,
# state under /run/ciliumpp/bench/<unique cluster>. Nothing in the root
# namespace is changed: sysctls are set only inside our namespaces.
set -euo pipefail

BN_TAG=${BN_TAG:-bn$$}
BN_NETNS=()
BN_PIDS=()
BN_PATHS=()
BN_MODE=${CILIUMPP_BENCH_MODE:-quick}
case "$BN_MODE" in quick | full) ;; *) echo "CILIUMPP_BENCH_MODE must be quick or full, not '$BN_MODE'" >&2; exit 2 ;; esac

bn_log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${BN_NAME:-bench}" "$*" >&2; }
bn_die() { bn_log "ERROR: $*"; exit 1; }

bn_cleanup() {
  local rc=$? pid ns p i
  trap - EXIT INT TERM ERR
  set +e
  for pid in "${BN_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${BN_PIDS[@]}"; do
    for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  # Cgroups once their processes are gone (deepest first; an exiting process may linger briefly).
  for ((i = ${#BN_CGROUPS[@]} - 1; i >= 0; i--)); do
    for _ in $(seq 1 20); do rmdir "${BN_CGROUPS[$i]}" 2>/dev/null && break; [ -d "${BN_CGROUPS[$i]}" ] || break; sleep 0.1; done
  done
  # The shared parent bn_cgroup's mkdir -p made, unless another user still has a child there.
  [ ${#BN_CGROUPS[@]} -eq 0 ] || rmdir /sys/fs/cgroup/unified/ciliumpp 2>/dev/null || true
  # Pods first (their veths take the node-side lxc devices with them), then nodes.
  for ((i = ${#BN_NETNS[@]} - 1; i >= 0; i--)); do echo "netns del ${BN_NETNS[$i]}"; done | ip -force -batch - 2>/dev/null
  for p in "${BN_PATHS[@]}"; do rm -rf -- "$p"; done
  exit "$rc"
}
trap bn_cleanup EXIT
# Say where a `set -e` exit came from instead of stopping silently.
set -E
trap 'bn_log "failed (exit $?) at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

bn_netns() {
  [[ "$1" == cpp-* ]] || bn_die "namespace $1 must start with cpp-"
  ip netns add "$1"
  BN_NETNS+=("$1")
  ip -n "$1" link set lo up
}
# bn_netns_many NAME...: many namespaces at once (loopback left down; the CNI plugin sets it up).
bn_netns_many() {
  local n
  for n in "$@"; do [[ "$n" == cpp-* ]] || bn_die "namespace $n must start with cpp-"; done
  BN_NETNS+=("$@")
  for n in "$@"; do echo "netns add $n"; done | ip -batch -
}
bn_pid() { BN_PIDS+=("$1"); }
# bn_cgroup DIR: creates a cgroup v2 directory under /sys/fs/cgroup/unified/ciliumpp/
# (socket LB attaches to it), removed on exit.
BN_CGROUPS=()
bn_cgroup() {
  case "$1" in /sys/fs/cgroup/unified/ciliumpp/?*) ;; *) bn_die "refusing to make cgroup $1" ;; esac
  [ ! -e "$1" ] || bn_die "cgroup $1 already exists"
  mkdir -p "$1"
  BN_CGROUPS+=("$1")
}
bn_path() {
  case "$1" in /run/ciliumpp/bench/?* | /sys/fs/bpf/ciliumpp/?* | /tmp/?*) ;; *) bn_die "refusing to register path $1" ;; esac
  BN_PATHS+=("$1")
}
# in_ns NS CMD...: runs CMD in NS's network namespace (keeps /sys/fs/bpf visible).
in_ns() { local ns=$1; shift; nsenter --net=/run/netns/"$ns" "$@"; }

# bn_bg NS LOG CMD...: starts CMD in NS in the background and registers its
# PID (in BN_BG_PID) for cleanup. nsenter itself is the background job and
# execs CMD, so the PID is CMD's own (backgrounding a shell function would
# give the PID of a subshell, and killing that would leave CMD running).
bn_bg() {
  local ns=$1 log=$2
  shift 2
  nsenter --net=/run/netns/"$ns" "$@" >>"$log" 2>&1 &
  BN_BG_PID=$!
  bn_pid "$BN_BG_PID"
}

# bn_stop_pid PID: stops one process we started (TERM, then KILL).
bn_stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

wait_for() {
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# Listening TCP port PORT in NS?
port_listening() { in_ns "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }

# Pod-side sysctls for the benchmark clients (inside the pod namespace only):
# CRR opens tens of thousands of connections, which must not run out of ports.
bn_pod_sysctls() {
  in_ns "$1" sysctl -qw net.ipv4.tcp_tw_reuse=1 'net.ipv4.ip_local_port_range=1024 65000'
}

# --------------------------------------------------------------- output ---
bn_out_dir() {
  local d=${CILIUMPP_BENCH_OUT:-$BUILD_DIR/bench}
  mkdir -p "$d"
  realpath "$d"
}

# ---------------------------------------------------------------- steal ---
# Aggregate "cpu" line of /proc/stat: prints "<steal> <total> <user+nice>" in jiffies.
bn_cpu_sample() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t, $2 + $3; exit }' /proc/stat; }
# bn_steal_pct "<before>" "<after>": steal share of all CPU time in between, percent.
bn_steal_pct() {
  local s0 t0 s1 t1
  read -r s0 t0 _ <<<"$1"
  read -r s1 t1 _ <<<"$2"
  awk -v s="$((s1 - s0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.2f", (t > 0 ? 100 * s / t : 0) }'
}
# bn_user_pct "<before>" "<after>": user-mode share of all CPU time in between,
# percent. The benchmarks themselves run almost entirely in the kernel
# (syscalls, softirq), so user time is mostly other processes of this VM
# competing for the CPUs (builds, tests), which steal does not show.
bn_user_pct() {
  local u0 t0 u1 t1
  read -r _ t0 u0 <<<"$1"
  read -r _ t1 u1 <<<"$2"
  awk -v u="$((u1 - u0))" -v t="$((t1 - t0))" 'BEGIN { printf "%.1f", (t > 0 ? 100 * u / t : 0) }'
}
# bn_wait_quiet SECONDS: waits (at most SECONDS) until the CPUs were >= 90%
# idle over half a second, so a benchmark does not start in the middle of a
# build; returns 1 if they never were.
bn_wait_quiet() {
  local deadline=$(($(date +%s) + $1)) a b
  while :; do
    a=$(awk '$1 == "cpu" { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep 0.5
    b=$(awk '$1 == "cpu" { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2];
      exit !(t > 0 && (y[1] - x[1]) / t >= 0.9) }' && return 0
    [ "$(date +%s)" -lt "$deadline" ] || return 1
  done
}

# bn_sched_wait_ns PID: nanoseconds PID's threads spent runnable but waiting
# for a CPU (schedstat field 2). Pinned benchmark processes wait only when
# another task wants their CPU: contention by other processes of this VM,
# which steal does not show.
bn_sched_wait_ns() {
  local f w=0 a b
  for f in /proc/"$1"/task/*/schedstat; do
    read -r a b _ <"$f" 2>/dev/null && w=$((w + b))
  done
  echo "$w"
}

# ---------------------------------------------------------------- stats ---
# jq program defining stats(f): median/min/max/cv over an array of numbers.
BN_JQ_STATS='
def median: sort | if length == 0 then null elif length % 2 == 1 then .[(length - 1) / 2]
  else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def pct(p): sort | if length == 0 then null else .[([((length * p / 100) | ceil) - 1, 0] | max)] end;
def mean: if length == 0 then null else add / length end;
def stats: . as $v | ($v | mean) as $m |
  { n: ($v | length), median: ($v | median), min: ($v | min), max: ($v | max), mean: $m,
    cv: (if $m == null or $m == 0 or ($v | length) < 2 then 0 else
          ((($v | map((. - $m) * (. - $m)) | add) / (($v | length) - 1)) | sqrt) / $m end) };
'

# ------------------------------------------------------- A/B benchmarks ---
# bn_ab_init NAME FULL_BUDGET FULL_MIN_PAIRS: settings of a benchmark that
# compares a baseline (A) with ciliumpp (B) in pairs of runs, for BN_MODE;
# TMP (a registered temp dir) and RUNS, the JSON lines of bn_measure.
# PAIRS clean pairs are wanted per metric, at most MAX_ATTEMPTS run; once
# MIN_PAIRS have run, no new pair starts after the metric's share of
# TIME_BUDGET seconds was spent (bn_ab_pairs). Noisy pairs are kept in the
# JSON but left out of the statistics while clean ones exist.
bn_ab_init() {
  if [ "$BN_MODE" = full ]; then
    SECONDS_RUN=${CILIUMPP_BENCH_SECONDS:-5}; WARMUP=1; PAIRS=${CILIUMPP_BENCH_PAIRS:-10}; MIN_PAIRS=$3
    QUIET_WAIT=30; TIME_BUDGET=${CILIUMPP_BENCH_TIME_BUDGET:-$2}
  else
    SECONDS_RUN=${CILIUMPP_BENCH_SECONDS:-1}; WARMUP=0; PAIRS=${CILIUMPP_BENCH_PAIRS:-1}; MIN_PAIRS=1
    QUIET_WAIT=2; TIME_BUDGET=${CILIUMPP_BENCH_TIME_BUDGET:-30}
  fi
  MAX_ATTEMPTS=$((PAIRS * 2))
  [ "$MIN_PAIRS" -le "$PAIRS" ] || MIN_PAIRS=$PAIRS
  STEAL_MAX=1.0                            # percent (bench-protocol.md)
  USER_MAX=${CILIUMPP_BENCH_USER_MAX:-10}  # percent user-mode CPU (see bn_measure)
  TMP=$(mktemp -d "/tmp/cpp-bench-$1.XXXXXX")
  bn_path "$TMP"
  RUNS=$TMP/runs.jsonl
  : >"$RUNS"
}

# bn_measure SIDE METRIC PAIR: one run of the script's `one_run SIDE METRIC`
# (which prints the value) with steal and user-CPU accounting, appended to
# RUNS. A run is noisy when steal > STEAL_MAX (bench-protocol.md) or
# user-mode CPU time > USER_MAX: the benchmark itself runs almost entirely in
# the kernel, so user time means other processes of this VM (builds, tests)
# competed for the two CPUs, which steal does not show. Sets NOISY=1 when
# noisy. BN_VALUE_FMT (printf; default %.2f) shows the value in the log.
bn_measure() {
  local side=$1 metric=$2 pair=$3 before after steal user value why
  before=$(bn_cpu_sample)
  value=$(one_run "$side" "$metric") || bn_die "$metric run on side $side failed"
  after=$(bn_cpu_sample)
  steal=$(bn_steal_pct "$before" "$after")
  user=$(bn_user_pct "$before" "$after")
  why=$(awk -v s="$steal" -v sm="$STEAL_MAX" -v u="$user" -v um="$USER_MAX" \
    'BEGIN { if (s > sm) print "steal " s "% > " sm "%"; else if (u > um) print "user CPU " u "% > " um "%" }')
  jq -nc --arg side "$side" --arg metric "$metric" --argjson pair "$pair" --argjson value "$value" \
    --argjson steal "$steal" --argjson user "$user" --arg why "$why" \
    '{side: $side, metric: $metric, pair: $pair, value: $value, steal_pct: $steal, user_cpu_pct: $user,
      noisy: ($why != ""), noise: $why}' >>"$RUNS"
  bn_log "$(printf "%-6s %s pair %d: ${BN_VALUE_FMT:-%.2f} (steal %s%%, user CPU %s%%)%s" "$metric" "$side" "$pair" \
    "$value" "$steal" "$user" "${why:+ NOISY: $why}")"
  [ -z "$why" ] || NOISY=1
}

# bn_ab_pairs METRIC SHARE ORDER: pairs of bn_measure runs of METRIC until
# PAIRS are clean (at most MAX_ATTEMPTS); after MIN_PAIRS, none starts once
# TIME_BUDGET / SHARE seconds were spent on METRIC. ORDER "fixed" runs A
# then B; "alternate" swaps them every other pair, so slow drift does not
# favour one side.
bn_ab_pairs() {
  local metric=$1 budget=$((TIME_BUDGET / $2)) order=$3 clean=0 t0 pair
  t0=$(date +%s)
  for pair in $(seq 1 "$MAX_ATTEMPTS"); do
    [ "$clean" -lt "$PAIRS" ] || break
    if [ "$pair" -gt "$MIN_PAIRS" ] && [ $(($(date +%s) - t0)) -ge "$budget" ]; then
      bn_log "$metric: time budget of ${budget}s spent after $((pair - 1)) pairs, $clean clean"
      break
    fi
    # Start each pair on idle CPUs if that happens within QUIET_WAIT s.
    bn_wait_quiet "$QUIET_WAIT" || bn_log "CPUs still busy with other processes after ${QUIET_WAIT}s; measuring anyway"
    NOISY=0
    if [ "$order" = alternate ] && [ $((pair % 2)) -eq 0 ]; then
      bn_measure B "$metric" "$pair"; bn_measure A "$metric" "$pair"
    else
      bn_measure A "$metric" "$pair"; bn_measure B "$metric" "$pair"
    fi
    [ "$NOISY" -eq 1 ] || clean=$((clean + 1))
  done
}

# jq definitions over $runs (the lines of RUNS), for the report after
# `. as $runs |`. A pair is clean when neither of its runs was noisy;
# statistics use the clean pairs of a metric, or all of its pairs when none
# is clean. ab_metrics(units): for each [metric, unit] that ran, the
# statistics of A and B and the ratio B/A (of the medians and per pair).
BN_JQ_AB='
def pairs($m): [$runs[] | select(.metric == $m)] | group_by(.pair) |
  map(select(length == 2) | { pair: .[0].pair, clean: (map(.noisy) | any | not),
    A: (.[] | select(.side == "A") | .value), B: (.[] | select(.side == "B") | .value) });
def used($m): pairs($m) as $p | ([$p[] | select(.clean)]) as $c | if ($c | length) > 0 then $c else $p end;
def ab_metrics($units): $units |
  map(select(.[0] as $m | $runs | any(.metric == $m))) |
  map(. as [$m, $unit] | { key: $m, value: (used($m) as $u |
    ($u | map(.A) | stats) as $a | ($u | map(.B) | stats) as $b |
    ($u | map(select(.A > 0) | .B / .A)) as $r |
    { unit: $unit, pairs_run: (pairs($m) | length), clean_pairs: ([pairs($m)[] | select(.clean)] | length),
      A: $a, B: $b, ratio: (if $a.median > 0 then $b.median / $a.median else null end),
      paired_ratio: { median: ($r | median), min: ($r | min), max: ($r | max) } }) }) | from_entries;
'

# bn_underlay NS: namespace NS with bridge br0, the underlay network that
# bn_underlay_link joins nodes to.
bn_underlay() {
  bn_netns "$1"
  ip -n "$1" link add br0 type bridge
  ip -n "$1" link set br0 up
  BN_UNDERLAY=$1
}
# bn_underlay_link NS PORT ADDR: a veth from NS (eth0, ADDR/24, MTU 1500) to
# the underlay's bridge (PORT on the bridge side).
bn_underlay_link() {
  ip -n "$BN_UNDERLAY" link add "$2" type veth peer name eth0 netns "$1"
  ip -n "$BN_UNDERLAY" link set "$2" master br0 up
  ip -n "$1" addr add "$3/24" dev eth0
  ip -n "$1" link set eth0 up
}

# ------------------------------------------------------- one cilium node ---
# bn_agent_setup NODE_NS CLUSTER [extra key=value ...]: config for one agent
# in NODE_NS (created here). Sets AGENT_ROOT, AGENT_SOCK, AGENT_CONFLIST.
bn_agent_setup() {
  local ns=$1 cluster=$2 kv
  shift 2
  AGENT_NS=$ns
  AGENT_CLUSTER=$cluster
  AGENT_ROOT=/run/ciliumpp/bench/$cluster
  AGENT_PIN=/sys/fs/bpf/ciliumpp/$cluster
  AGENT_SOCK=$AGENT_ROOT/cilium.sock
  AGENT_CONFLIST=$AGENT_ROOT/net.d/05-cilium.conflist
  [ ! -e "$AGENT_ROOT" ] && [ ! -e "$AGENT_PIN" ] || bn_die "$AGENT_ROOT or $AGENT_PIN already exists"
  bn_path "$AGENT_ROOT"
  bn_path "$AGENT_PIN"
  bn_netns "$ns"
  local c=$AGENT_ROOT/config
  mkdir -p "$c"
  printf '%s' "$cluster" >"$c/cluster-name"
  printf 'true' >"$c/enable-ipv4"
  printf 'true' >"$c/enable-ipv6"
  printf '10.233.64.0/24' >"$c/ipv4-range"
  printf 'fd00:10:233:1::/64' >"$c/ipv6-range"
  printf '%s' "$AGENT_ROOT/state" >"$c/state-dir"
  printf '%s' "$AGENT_SOCK" >"$c/socket-path"
  printf '%s' "$AGENT_ROOT/store" >"$c/local-store-dir"
  printf '%s' "$AGENT_CONFLIST" >"$c/write-cni-conf-when-ready"
  printf 'native' >"$c/routing-mode"
  for kv in "$@"; do printf '%s' "${kv#*=}" >"$c/${kv%%=*}"; done
}

bn_agent_start() {
  bn_bg "$AGENT_NS" "$AGENT_ROOT/agent.log" "$BIN/cilium-agent" --config-dir "$AGENT_ROOT/config" --node-name node1
  AGENT_PID=$BN_BG_PID
  if ! wait_for 60 in_ns "$AGENT_NS" "$BIN/cilium-dbg" -H "$AGENT_SOCK" status || ! wait_for 10 test -s "$AGENT_CONFLIST"; then
    bn_log "agent did not become ready; log:"
    cat "$AGENT_ROOT/agent.log" >&2
    exit 1
  fi
  [ "$(cat "/proc/$AGENT_PID/comm" 2>/dev/null)" = cilium-agent ] || bn_die "PID $AGENT_PID is not the agent"
  AGENT_NETCONF=$(jq -c '.plugins[0] + {cniVersion: .cniVersion, name: .name}' "$AGENT_CONFLIST")
}

# bn_cni CMD POD_NS CONTAINER_ID: runs cilium-cni in the node namespace as a
# runtime does; stdout is the plugin's result.
bn_cni() {
  local cmd=$1 podns=$2 cid=$3
  printf '%s' "$AGENT_NETCONF" | in_ns "$AGENT_NS" env CNI_COMMAND="$cmd" CNI_CONTAINERID="$cid" \
    CNI_NETNS="/run/netns/$podns" CNI_IFNAME=eth0 CNI_PATH="$BIN" \
    CNI_ARGS="K8S_POD_NAMESPACE=default;K8S_POD_NAME=$podns" "$BIN/cilium-cni" 2>>"$AGENT_ROOT/cni.log"
}

bn_vmrss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Build's bin dir and the tools every benchmark needs.
bn_require_bins() {
  local b
  for b in "$@"; do [ -x "$BIN/$b" ] || bn_die "$BIN/$b is missing: build first (cmake --build $BUILD_DIR)"; done
  for b in jq nsenter ip ss taskset awk; do command -v "$b" >/dev/null || bn_die "$b is not installed"; done
}
