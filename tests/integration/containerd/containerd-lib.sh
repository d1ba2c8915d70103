# shellcheck shell=bash
# containerd-lib.sh — run busybox containers with containerd 1.6 + runc and
# `ctr run --rm --cni` inside a node network namespace, for CNI tests.
#
# Source it, then:
#
#   ctrd_init [SUFFIX]            temp dir, global lock, record host state
#   trap 'ctrd_teardown' EXIT     (teardown is idempotent and never aborts)
#   ctrd_start                    containerd with its own config/sockets/root/state
#   ctrd_import_image [TAR]       builds (scripts/oci-busybox-image.sh) + imports busybox
#   ctrd_cni_add_conflist FILE    -> /etc/cni/net.d/00-ciliumpp-test-<suffix>.conflist
#   ctrd_cni_add_plugin SRC NAME  -> /opt/cni/bin/NAME (symlink; an existing NAME is backed up)
#   ctrd_run NODE_NETNS ID TIMEOUT CMD...
#                                 nsenter --net=/run/netns/NODE_NETNS ctr run --rm --cni ...
#   ctrd_teardown                 kill tasks/shims/containerd by PID, unmount, remove
#                                 temp dirs, restore /etc/cni/net.d and /opt/cni/bin,
#                                 remove what ctr/libcni/runc created outside the temp dir
#
# What `ctr run --cni` (containerd 1.6.20, Debian 12) does, measured here:
#  * ctr itself (not containerd) calls the plugins, in the netns ctr runs in;
#    conf dir is fixed: /etc/cni/net.d, the first of *.conf/*.conflist/*.json
#    in lexical order (max 1 network); CNI_PATH=/opt/cni/bin:/usr/lib/cni.
#  * ADD: CNI_NETNS=/proc/<container pid>/ns/net (the netns runc created; no
#    named netns under /run/netns), CNI_CONTAINERID=<ctr namespace>-<id>,
#    CNI_IFNAME=eth0, CNI_ARGS="" (empty); stdin carries the conflist's
#    cniVersion and name injected into each plugin's config.
#  * DEL (only in the foreground --rm path, after the task exited):
#    CNI_NETNS="" (empty — the netns is already gone), same container ID and
#    ifname, prevResult taken from libcni's cache /var/lib/cni/results/.
#  * Side effects outside containerd's root/state: /run/containerd/s/<hash>
#    (shim sockets), /var/lib/cni/results/ (libcni cache), runc root
#    (/run/containerd/runc unless --runc-root), IO fifos (/run/containerd/fifo
#    unless --fifo-dir), cgroups /<ctr namespace>/<id> in every hierarchy
#    unless --cgroup. This library redirects what it can into its temp dir
#    and removes the rest.
#
# Serialisation: /etc/cni/net.d is global and "first file wins", so runs
# take an exclusive flock (ctrd_init) held until ctrd_teardown. Daemons
# started while the lock is held must not inherit its fd: start them with
# `ctrd_nolock CMD...`.

CTRD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CTRD_REPO_DIR=$(cd "$CTRD_LIB_DIR/../../.." && pwd)
CTRD_IMAGE_SCRIPT=$CTRD_REPO_DIR/scripts/oci-busybox-image.sh

CTRD_CNI_NETD=/etc/cni/net.d       # fixed in ctr (go-cni default)
CTRD_CNI_BIN=/opt/cni/bin          # first entry of ctr's CNI_PATH
CTRD_LOCK=${CTRD_LOCK:-/run/lock/ciliumpp-containerd-cni.lock}
CTRD_LOCK_TIMEOUT=${CTRD_LOCK_TIMEOUT:-600}
CTRD_IMAGE_REF=${CTRD_IMAGE_REF:-docker.io/ciliumpp/busybox:test}
CTRD_CGROUP_ROOT=ciliumpp           # containers go to /ciliumpp/<ctr ns>/<id>
CTRD_SKIP_RC=77                     # ctest SKIP_RETURN_CODE: tools not installed

CTRD_SUFFIX=
CTRD_DIR=
CTRD_SOCK=
CTRD_NS=
CTRD_PID=
CTRD_BG_PID=
CTRD_LOCK_FD=
CTRD_TORN_DOWN=
CTRD_HOST_RECORDED=
CTRD_LAST_DIR=
CTRD_NETNS_CREATED=()

ctrd_log() { printf '[ctrd %(%T)T] %s\n' -1 "$*" >&2; }
ctrd_die() { ctrd_log "FATAL: $*"; exit 1; }

# _ctrd_now_ms: monotonic enough wall clock in milliseconds.
_ctrd_now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# ctrd_wait_until TIMEOUT_S DESCRIPTION CMD... — polls CMD (every 50 ms) until
# it succeeds or the deadline passes. Returns 1 on timeout.
ctrd_wait_until() {
  local timeout=$1 desc=$2; shift 2
  local deadline=$(( $(_ctrd_now_ms) + timeout * 1000 ))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if (( $(_ctrd_now_ms) >= deadline )); then
      ctrd_log "timed out after ${timeout}s waiting for: $desc"
      return 1
    fi
    sleep 0.05
  done
}

# ctrd_nolock CMD... — runs CMD without the lock fd (for daemons and anything
# that may outlive the test: they must not keep the lock).
ctrd_nolock() {
  if [ -n "$CTRD_LOCK_FD" ]; then
    "$@" {CTRD_LOCK_FD}>&-
  else
    "$@"
  fi
}

# ctrd_bg CMD... — starts CMD in the background without the lock fd; its PID
# (the PID of CMD itself, not of a wrapper subshell) is left in CTRD_BG_PID.
# Redirections given to ctrd_bg apply to CMD.
ctrd_bg() {
  (
    if [ -n "$CTRD_LOCK_FD" ]; then exec {CTRD_LOCK_FD}>&-; fi
    exec "$@"
  ) &
  CTRD_BG_PID=$!
}

# ---------------------------------------------------------------------------
# lock (flock + unlink protocol: the lock file is removed on release, and a
# waiter that locked an unlinked file retries on the new one)

_ctrd_lock_acquire() {
  local deadline=$(( $(_ctrd_now_ms) + CTRD_LOCK_TIMEOUT * 1000 )) fd left
  while :; do
    exec {fd}>>"$CTRD_LOCK"
    left=$(( (deadline - $(_ctrd_now_ms)) / 1000 ))
    if (( left < 1 )); then left=1; fi
    if ! flock -x -w "$left" "$fd"; then
      exec {fd}>&-
      ctrd_die "could not lock $CTRD_LOCK within ${CTRD_LOCK_TIMEOUT}s (another containerd/CNI test running?)"
    fi
    if [ "$(stat -c %d:%i "$CTRD_LOCK" 2>/dev/null)" = "$(stat -L -c %d:%i "/dev/fd/$fd")" ]; then
      CTRD_LOCK_FD=$fd
      return 0
    fi
    exec {fd}>&-     # the holder unlinked it meanwhile; try again
  done
}

_ctrd_lock_release() {
  [ -n "$CTRD_LOCK_FD" ] || return 0
  rm -f "$CTRD_LOCK"
  exec {CTRD_LOCK_FD}>&-
  CTRD_LOCK_FD=
}

# ---------------------------------------------------------------------------
# host state outside the temp dir

# Paths ctr/runc/libcni may create; removed at teardown if absent at init
# (only when empty: anything else in them is not ours).
_ctrd_global_dirs=(/run/containerd/s /run/containerd/runc /run/containerd/fifo /run/containerd
                   /var/lib/cni/results /var/lib/cni/cache /var/lib/cni)

_ctrd_cni_listing() {
  # name, type, mode, size, link target and content hash of everything under
  # /etc/cni and /opt/cni — the before/after comparison of the restore.
  local root
  for root in /etc/cni /opt/cni; do
    [ -e "$root" ] || { echo "absent $root"; continue; }
    find "$root" -printf '%p %y %m %U:%G %s %l\n' | LC_ALL=C sort
    find "$root" -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
  done
}

_ctrd_record_host_state() {
  local p
  : >"$CTRD_DIR/pre-existing"
  for p in "${_ctrd_global_dirs[@]}" /etc/cni /etc/cni/net.d /opt/cni /opt/cni/bin; do
    if [ -e "$p" ]; then echo "$p" >>"$CTRD_DIR/pre-existing"; fi
  done
  for p in /sys/fs/cgroup/*/; do
    if [ -e "$p$CTRD_CGROUP_ROOT" ]; then echo "$p$CTRD_CGROUP_ROOT" >>"$CTRD_DIR/pre-existing"; fi
  done
  _ctrd_cni_listing >"$CTRD_DIR/cni-before"
  : >"$CTRD_DIR/dir-mtimes"
  for p in /etc/cni /etc/cni/net.d /opt/cni /opt/cni/bin; do
    if [ -d "$p" ]; then printf '%s\t%s\n' "$p" "$(stat -c %.9Y "$p")" >>"$CTRD_DIR/dir-mtimes"; fi
  done
}

_ctrd_preexisting() { grep -qxF -- "$1" "$CTRD_DIR/pre-existing"; }

# ---------------------------------------------------------------------------
# init / start

# ctrd_init [SUFFIX] — SUFFIX defaults to the PID; the containerd namespace
# (and thus the CNI container ID prefix) is cpp-ctr-<SUFFIX>.
ctrd_init() {
  [ "$(id -u)" = 0 ] || ctrd_die "needs root"
  local tool
  for tool in containerd ctr runc nsenter flock ip timeout; do
    if ! command -v "$tool" >/dev/null; then
      ctrd_log "ERROR: $tool not found (scripts/install-deps.sh installs it)"
      exit "$CTRD_SKIP_RC"
    fi
  done
  CTRD_SUFFIX=${1:-$$}
  CTRD_NS=cpp-ctr-$CTRD_SUFFIX
  CTRD_DIR=$(mktemp -d "/tmp/cpp-ctrd-$CTRD_SUFFIX.XXXXXX")
  chmod 0711 "$CTRD_DIR"
  CTRD_SOCK=$CTRD_DIR/containerd.sock
  CTRD_TORN_DOWN=
  CTRD_NETNS_CREATED=()
  mkdir -p "$CTRD_DIR/backup" "$CTRD_DIR/fifo" "$CTRD_DIR/runc"
  : >"$CTRD_DIR/added"          # files we put into /etc/cni, /opt/cni
  : >"$CTRD_DIR/backed-up"      # "ORIGINAL<TAB>BACKUP"
  : >"$CTRD_DIR/containers"     # container IDs we ran
  CTRD_HOST_RECORDED=
  _ctrd_lock_acquire
  _ctrd_record_host_state
  CTRD_HOST_RECORDED=1
  ctrd_log "init: dir=$CTRD_DIR ns=$CTRD_NS lock=$CTRD_LOCK"
}

ctrd_ctr() { ctrd_nolock ctr -a "$CTRD_SOCK" -n "$CTRD_NS" "$@"; }

_ctrd_alive() { [ -n "$CTRD_PID" ] && [ -e "/proc/$CTRD_PID" ] && ! grep -q '^State:.*Z' "/proc/$CTRD_PID/status" 2>/dev/null; }

_ctrd_ready() { _ctrd_alive && ctr -a "$CTRD_SOCK" version; }

# ctrd_start [TIMEOUT_S] — containerd with everything in the temp dir.
ctrd_start() {
  local timeout=${1:-30}
  cat >"$CTRD_DIR/config.toml" <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$CTRD_DIR/debug.sock"
  level = "info"
EOF
  ctrd_bg containerd --config "$CTRD_DIR/config.toml" </dev/null >"$CTRD_DIR/containerd.log" 2>&1
  CTRD_PID=$CTRD_BG_PID
  echo "$CTRD_PID" >"$CTRD_DIR/containerd.pid"
  ctrd_log "containerd pid $CTRD_PID"
  if ! ctrd_wait_until "$timeout" "containerd at $CTRD_SOCK" _ctrd_ready; then
    tail -n 30 "$CTRD_DIR/containerd.log" >&2
    ctrd_die "containerd did not come up"
  fi
}

# ctrd_import_image [TAR] — builds the busybox OCI image unless TAR is given.
ctrd_import_image() {
  local tar=${1:-}
  if [ -z "$tar" ]; then
    tar=$CTRD_DIR/busybox-oci.tar
    ctrd_nolock bash "$CTRD_IMAGE_SCRIPT" "$tar" "$CTRD_IMAGE_REF" >&2 || ctrd_die "image build failed"
  fi
  ctrd_ctr image import "$tar" >&2 || ctrd_die "ctr image import failed"
  ctrd_ctr image ls -q | grep -qxF "$CTRD_IMAGE_REF" || ctrd_die "image $CTRD_IMAGE_REF missing after import"
}

# ---------------------------------------------------------------------------
# /etc/cni/net.d and /opt/cni/bin

_ctrd_mkdir_tracked() {
  # mkdir -p, remembering which directories we created (removed at restore).
  local d=$1 missing=() p
  p=$d
  while [ ! -e "$p" ]; do missing=("$p" "${missing[@]}"); p=$(dirname "$p"); done
  for p in "${missing[@]}"; do
    mkdir -m 0755 "$p" || ctrd_die "mkdir $p"
    echo "$p" >>"$CTRD_DIR/created-dirs"
  done
}

# _ctrd_place DEST — back DEST up if it exists; record DEST as added.
_ctrd_place() {
  local dest=$1 bak
  _ctrd_mkdir_tracked "$(dirname "$dest")"
  if [ -e "$dest" ] || [ -L "$dest" ]; then
    bak=$CTRD_DIR/backup/$(echo "$dest" | tr / _)
    mv "$dest" "$bak"
    printf '%s\t%s\n' "$dest" "$bak" >>"$CTRD_DIR/backed-up"
    ctrd_log "backed up $dest"
  fi
  echo "$dest" >>"$CTRD_DIR/added"
}

# ctrd_cni_conf_files — what go-cni would consider, in its order.
ctrd_cni_conf_files() {
  [ -d "$CTRD_CNI_NETD" ] || return 0
  find "$CTRD_CNI_NETD" -maxdepth 1 -type f \( -name '*.conf' -o -name '*.conflist' -o -name '*.json' \) \
    -printf '%f\n' | LC_ALL=C sort
}

# ctrd_cni_add_conflist SRC — installs SRC as 00-ciliumpp-test-<suffix>.conflist
# and checks that it is the one ctr will load (the first in lexical order).
ctrd_cni_add_conflist() {
  local src=$1 name dest first
  [ -r "$src" ] || ctrd_die "conflist $src not readable"
  if command -v jq >/dev/null; then
    jq -e '.plugins | length > 0' "$src" >/dev/null || ctrd_die "$src is not a conflist"
  fi
  name=00-ciliumpp-test-$CTRD_SUFFIX.conflist
  dest=$CTRD_CNI_NETD/$name
  _ctrd_place "$dest"
  install -m 0644 "$src" "$dest"
  first=$(ctrd_cni_conf_files | head -n1)
  [ "$first" = "$name" ] || ctrd_die "$CTRD_CNI_NETD/$first sorts before $name; ctr would load it instead"
  ctrd_log "installed $dest (network $(jq -r .name "$dest" 2>/dev/null))"
}

# ctrd_cni_add_plugin SRC NAME — makes plugin NAME resolve to SRC for ctr
# (a symlink in /opt/cni/bin, which ctr searches before /usr/lib/cni).
ctrd_cni_add_plugin() {
  local src=$1 name=$2 dest
  [ -x "$src" ] || ctrd_die "plugin $src not executable"
  case "$name" in */*|'') ctrd_die "bad plugin name '$name'" ;; esac
  dest=$CTRD_CNI_BIN/$name
  _ctrd_place "$dest"
  ln -s "$(readlink -f "$src")" "$dest"
  ctrd_log "installed $dest -> $(readlink "$dest")"
}

_ctrd_cni_restore() {
  local rc=0 f orig bak d
  if [ -s "$CTRD_DIR/added" ]; then
    while IFS= read -r f; do rm -f -- "$f" || rc=1; done <"$CTRD_DIR/added"
    : >"$CTRD_DIR/added"
  fi
  if [ -s "$CTRD_DIR/backed-up" ]; then
    while IFS=$'\t' read -r orig bak; do
      mv -f -- "$bak" "$orig" || { ctrd_log "could not restore $orig from $bak"; rc=1; }
    done <"$CTRD_DIR/backed-up"
    : >"$CTRD_DIR/backed-up"
  fi
  if [ -s "$CTRD_DIR/created-dirs" ]; then
    # deepest first
    while IFS= read -r d; do rmdir -- "$d" 2>/dev/null || { ctrd_log "not removing non-empty $d"; rc=1; }
    done < <(LC_ALL=C sort -r "$CTRD_DIR/created-dirs")
    : >"$CTRD_DIR/created-dirs"
  fi
  # adding/removing entries bumped the directories' mtimes: put them back
  while IFS=$'\t' read -r d f; do
    if [ -d "$d" ]; then touch -m -d "@$f" -- "$d"; fi
  done <"$CTRD_DIR/dir-mtimes"
  _ctrd_cni_listing >"$CTRD_DIR/cni-after"
  if ! diff -u "$CTRD_DIR/cni-before" "$CTRD_DIR/cni-after" >&2; then
    ctrd_log "/etc/cni or /opt/cni differ from before the test (see diff above)"
    rc=1
  fi
  return $rc
}

# ---------------------------------------------------------------------------
# running containers

# ctrd_netns_add NAME — creates a netns (lo up) removed at teardown.
ctrd_netns_add() {
  local n=$1
  case "$n" in cpp-*) ;; *) ctrd_die "netns '$n' must start with cpp-" ;; esac
  ip netns add "$n" || ctrd_die "ip netns add $n"
  CTRD_NETNS_CREATED+=("$n")
  ip -n "$n" link set lo up
}

# ctrd_run NODE_NETNS ID TIMEOUT_S CMD... — runs CMD in a fresh busybox
# container whose network is set up by the CNI plugins (ADD before start,
# DEL after exit), with ctr running inside /run/netns/NODE_NETNS.
# Prints the container's stdout/stderr; returns the container's exit code
# (or 124/137 from timeout(1)). May itself be run in the background; the
# ctr process group is recorded so that teardown can stop it.
ctrd_run() {
  local node=$1 id=$2 timeout=$3; shift 3
  [ -e "/run/netns/$node" ] || ctrd_die "no netns /run/netns/$node"
  echo "$id" >>"$CTRD_DIR/containers"
  local rc=0 pid
  # timeout(1) makes itself a process-group leader: PGID == its PID.
  (
    if [ -n "$CTRD_LOCK_FD" ]; then exec {CTRD_LOCK_FD}>&-; fi
    exec timeout -k 10 "$timeout" \
      nsenter --net="/run/netns/$node" \
      ctr -a "$CTRD_SOCK" -n "$CTRD_NS" run --rm --cni \
        --fifo-dir "$CTRD_DIR/fifo" --runc-root "$CTRD_DIR/runc" \
        --cgroup "/$CTRD_CGROUP_ROOT/$CTRD_NS/$id" \
        "$CTRD_IMAGE_REF" "$id" "$@"
  ) </dev/null &
  pid=$!
  echo "$pid" >>"$CTRD_DIR/ctr-run-pids"
  wait "$pid" || rc=$?
  return $rc
}

# ctrd_cni_cache_files — libcni result cache entries of our containers
# (present while a container's network is up; removed by DEL).
ctrd_cni_cache_files() {
  [ -d /var/lib/cni/results ] || return 0
  find /var/lib/cni/results -maxdepth 1 -type f -name "*-$CTRD_NS-*" -printf '%p\n'
}

# ---------------------------------------------------------------------------
# teardown

_ctrd_gone() { [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
_ctrd_all_gone() { local p; for p in "$@"; do _ctrd_gone "$p" || return 1; done; }

_ctrd_kill_pid() {
  local pid=$1
  [[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] || return 0
  kill -9 "$pid" 2>/dev/null || true
}

# PIDs of the containerd-shim-runc-v2 processes of *this* containerd: argv
# must be exactly a shim binary with "-address <our socket>" (the socket is in
# our unique temp dir). Shims outlive containerd and write no pid file.
_ctrd_shim_pids() {
  local p argv
  for p in /proc/[0-9]*; do
    mapfile -d '' -t argv 2>/dev/null <"$p/cmdline" || continue
    [ "${#argv[@]}" -gt 2 ] || continue
    [[ ${argv[0]} == *containerd-shim* ]] || continue
    local i
    for ((i = 1; i < ${#argv[@]} - 1; i++)); do
      if [ "${argv[i]}" = -address ] && [ "${argv[i+1]}" = "$CTRD_SOCK" ]; then
        echo "${p#/proc/}"; break
      fi
    done
  done
}

_ctrd_ctr_run_pids() {
  [ -r "$CTRD_DIR/ctr-run-pids" ] || return 0
  local p
  while read -r p; do _ctrd_gone "$p" || echo "$p"; done <"$CTRD_DIR/ctr-run-pids"
}

_ctrd_stop_tasks() {
  local bundles=$CTRD_DIR/state/io.containerd.runtime.v2.task/$CTRD_NS b id pids=() p
  local up=
  _ctrd_alive && ctr -a "$CTRD_SOCK" version >/dev/null 2>&1 && up=1
  # 1. Graceful: kill the tasks; a still-running `ctr run --rm` then sees the
  #    exit, calls CNI DEL and removes the container itself.
  if [ -n "$up" ]; then
    for id in $(ctrd_ctr task ls -q 2>/dev/null); do
      ctrd_log "killing leftover task $id"
      ctrd_ctr task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
  fi
  mapfile -t pids < <(_ctrd_ctr_run_pids)
  if [ ${#pids[@]} -gt 0 ]; then
    ctrd_wait_until 20 "ctr run (${pids[*]}) to finish (CNI DEL)" _ctrd_all_gone "${pids[@]}" || true
    # 2. ctr run still there: kill its process group (timeout's PGID == PID)
    for p in "${pids[@]}"; do
      _ctrd_gone "$p" && continue
      ctrd_log "SIGKILL ctr run process group $p (its CNI DEL will not run)"
      kill -9 -- "-$p" 2>/dev/null || true
    done
    ctrd_wait_until 10 "ctr run processes to die" _ctrd_all_gone "${pids[@]}" || true
  fi
  # 3. containers ctr did not remove
  if [ -n "$up" ]; then
    for id in $(ctrd_ctr task ls -q 2>/dev/null); do
      ctrd_ctr task rm -f "$id" >/dev/null 2>&1 || true
    done
    for id in $(ctrd_ctr container ls -q 2>/dev/null); do
      ctrd_log "removing leftover container $id"
      ctrd_ctr container rm "$id" >/dev/null 2>&1 || true
    done
  fi
  # 4. Whatever survived (containerd dead or not answering): by PID.
  pids=()
  if [ -d "$bundles" ]; then
    for b in "$bundles"/*/; do
      [ -r "${b}init.pid" ] || continue
      p=$(cat "${b}init.pid")
      _ctrd_gone "$p" && continue
      ctrd_log "SIGKILL container init $(basename "$b") pid $p"
      _ctrd_kill_pid "$p"; pids+=("$p")
    done
  fi
  for p in $(_ctrd_shim_pids); do
    ctrd_log "SIGKILL shim pid $p"
    _ctrd_kill_pid "$p"; pids+=("$p")
  done
  [ ${#pids[@]} -eq 0 ] || ctrd_wait_until 10 "containers/shims to die" _ctrd_all_gone "${pids[@]}" || true
  # shim sockets: /run/containerd/s/<sha256(<socket>/<ns>/<id>)>
  if [ -d "$bundles" ]; then
    for b in "$bundles"/*/; do
      [ -r "${b}address" ] || continue
      p=$(cat "${b}address"); p=${p#unix://}
      case "$p" in /run/containerd/s/*) rm -f -- "$p" ;; esac
    done
  fi
}

_ctrd_unmount_below() {
  local dir=$1 m
  # deepest first; mountinfo field 5 is the mount point (octal escapes)
  while IFS= read -r m; do
    m=$(printf '%b' "$m")
    umount -l -- "$m" 2>/dev/null || ctrd_log "umount $m failed"
  done < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | LC_ALL=C sort -r)
}

_ctrd_remove_cgroups() {
  local h p rc=0
  for h in /sys/fs/cgroup/*/; do
    for p in "$h$CTRD_CGROUP_ROOT/$CTRD_NS" "$h$CTRD_NS"; do
      # $h$CTRD_NS: ctr's default cgroup, in case a caller bypassed ctrd_run
      [ -d "$p" ] || continue
      find "$p" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
      rmdir "$p" 2>/dev/null || { ctrd_log "cgroup $p not removable"; rc=1; }
    done
    p=$h$CTRD_CGROUP_ROOT
    if [ -d "$p" ] && ! _ctrd_preexisting "$p"; then
      rmdir "$p" 2>/dev/null    # only if empty: other tests may use it
    fi
  done
  return $rc
}

# ctrd_teardown — idempotent, best effort, never exits (also under set -e);
# returns 1 if anything could not be stopped, restored or removed.
ctrd_teardown() {
  local - ; set +e
  local rc=0 d f
  [ -n "$CTRD_DIR" ] && [ -z "$CTRD_TORN_DOWN" ] || return 0
  CTRD_TORN_DOWN=1
  if [ -z "$CTRD_HOST_RECORDED" ]; then
    # init failed before the lock: nothing outside the temp dir is ours
    rm -rf --one-file-system -- "$CTRD_DIR"
    _ctrd_lock_release
    CTRD_LAST_DIR=$CTRD_DIR; CTRD_DIR=
    return 0
  fi
  _ctrd_stop_tasks
  if [ -n "$CTRD_PID" ]; then
    _ctrd_kill_pid "$CTRD_PID"
    wait "$CTRD_PID" 2>/dev/null
    ctrd_wait_until 10 "containerd $CTRD_PID to exit" _ctrd_gone "$CTRD_PID" || rc=1
    CTRD_PID=
  fi
  for f in $(_ctrd_shim_pids); do ctrd_log "shim $f still alive"; rc=1; done
  # libcni cache entries of containers whose DEL never ran
  while IFS= read -r f; do
    ctrd_log "removing stale libcni cache $f (CNI DEL did not run)"
    rm -f -- "$f"
  done < <(ctrd_cni_cache_files)
  _ctrd_remove_cgroups || rc=1
  _ctrd_cni_restore || rc=1
  for d in "${CTRD_NETNS_CREATED[@]}"; do
    [ -e "/run/netns/$d" ] || continue
    ip netns del "$d" 2>/dev/null || { ctrd_log "ip netns del $d failed"; rc=1; }
  done
  for d in "${_ctrd_global_dirs[@]}"; do
    if [ -d "$d" ] && ! _ctrd_preexisting "$d"; then
      rmdir "$d" 2>/dev/null || { ctrd_log "left non-empty $d: $(find "$d" -mindepth 1 -maxdepth 1 -printf '%f ' | head -c 200)"; rc=1; }
    fi
  done
  _ctrd_unmount_below "$CTRD_DIR"
  rm -rf --one-file-system -- "$CTRD_DIR" || rc=1
  _ctrd_lock_release
  CTRD_LAST_DIR=$CTRD_DIR
  CTRD_DIR=
  ctrd_log "teardown done (rc=$rc)"
  return $rc
}

# ctrd_verify_clean — after ctrd_teardown: nothing of this run is left
# (processes, temp dir, cgroups, netns, libcni cache, shim sockets, lock).
ctrd_verify_clean() {
  local - ; set +e
  local rc=0 d h p
  d=$CTRD_LAST_DIR
  if [ -n "$d" ] && [ -e "$d" ]; then ctrd_log "leftover: $d"; rc=1; fi
  local cmd
  for p in /proc/[0-9]*; do
    [ -n "$d" ] || break
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    if [[ $cmd == *"$d"* ]]; then ctrd_log "leftover process ${p#/proc/}: $cmd"; rc=1; fi
  done
  for h in /sys/fs/cgroup/*/; do
    for p in "$h$CTRD_CGROUP_ROOT/$CTRD_NS" "$h$CTRD_NS"; do
      [ -e "$p" ] && { ctrd_log "leftover cgroup $p"; rc=1; }
    done
  done
  for p in "${CTRD_NETNS_CREATED[@]}"; do
    [ -e "/run/netns/$p" ] && { ctrd_log "leftover netns $p"; rc=1; }
  done
  [ -n "$(ctrd_cni_cache_files)" ] && { ctrd_log "leftover libcni cache: $(ctrd_cni_cache_files)"; rc=1; }
  [ -e "$CTRD_CNI_NETD/00-ciliumpp-test-$CTRD_SUFFIX.conflist" ] && { ctrd_log "leftover conflist"; rc=1; }
  [ -n "$CTRD_LOCK_FD" ] && { ctrd_log "lock still held"; rc=1; }
  return $rc
}
