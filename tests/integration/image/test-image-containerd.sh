#!/usr/bin/env bash
# shellcheck disable=SC2119,SC2015,SC2016  # optional args; A && B || fail; sh -c scripts in single quotes
# test-image-containerd.sh BUILD_DIR — the ciliumpp image (scripts/build-image.sh)
# under a real containerd:
#
#  * the tarball is an OCI image layout with two names (cilium, operator-generic)
#    over one gzip'd layer whose diff_id matches, configs for amd64/linux with
#    the expected Cmd/Entrypoint, PATH and labels; every layer entry is owned
#    by 0:0 with mtime 0; a second build gives the same manifest digests;
#  * `ctr image import` gives both names; `ctr run --rm` (own empty network
#    namespace, never the host's) runs cilium-agent/cilium-dbg/operator
#    --version, hubble version, cilium-cni VERSION, cilium-health --help from
#    it: the binaries find their libraries and loader in the image;
#  * the init scripts work in the image: /build-config.sh turns the install
#    ConfigMap into the agent's config dir and the agent accepts it
#    (--validate-config); /install-plugin.sh puts a cilium-cni onto a
#    (temporary) host directory that runs on the host with the image's
#    loader and libraries.
set -euo pipefail
# shellcheck source=tests/integration/containerd/containerd-lib.sh
. "$(dirname "$0")/../containerd/containerd-lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD_DIR=$(cd "$1" && pwd)
REPO=$CTRD_REPO_DIR
SUFFIX=${CPP_TEST_SUFFIX:-$$}
VERSION=$(sed -n 's/.*kVersion = "\([^"]*\)".*/\1/p' "$REPO/src/common/version.h")
CILIUM_REF=docker.io/ciliumpp/cilium:$VERSION
OPERATOR_REF=docker.io/ciliumpp/operator-generic:$VERSION
PYTHON=/usr/bin/python3   # Debian's, with python3-yaml (pyenv's python3 lacks it)

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*" >&2; }

cleanup() {
  local rc=$? trc=0
  ctrd_teardown || trc=$?
  ctrd_verify_clean || trc=1
  if [ $rc -eq 0 ] && [ $trc -ne 0 ]; then echo "FAIL: teardown left state behind" >&2; rc=1; fi
  [ $rc -eq 0 ] && echo "PASS: integration.image.containerd" >&2 || echo "FAILED: integration.image.containerd (rc=$rc)" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in jq gzip sha256sum "$PYTHON"; do command -v "$tool" >/dev/null || fail "$tool not found"; done
[ -n "$VERSION" ] || fail "no kVersion in src/common/version.h"
ctrd_init "$SUFFIX"

# ---- the tarball ----------------------------------------------------------------
tar1=$CTRD_DIR/cilium-1.tar
ctrd_nolock bash "$REPO/scripts/build-image.sh" "$BUILD_DIR" "$tar1" >&2 || fail "build-image.sh failed"
layout=$CTRD_DIR/layout
mkdir -p "$layout"
tar -xf "$tar1" -C "$layout"
[ "$(jq -r .imageLayoutVersion "$layout/oci-layout")" = 1.0.0 ] || fail "oci-layout"
blob() { echo "$layout/blobs/sha256/${1#sha256:}"; }
manifest_of() { jq -r --arg n "$1" '.manifests[] | select(.annotations["io.containerd.image.name"] == $n) | .digest' "$layout/index.json"; }
m_cilium=$(manifest_of "$CILIUM_REF"); m_operator=$(manifest_of "$OPERATOR_REF")
[ -n "$m_cilium" ] && [ -n "$m_operator" ] || fail "index.json lacks $CILIUM_REF or $OPERATOR_REF: $(cat "$layout/index.json")"
[ "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$layout/index.json")" = "$CILIUM_REF" ] \
  || fail "ref.name annotation"
for m in "$m_cilium" "$m_operator"; do
  f=$(blob "$m")
  [ "$(sha256sum "$f" | cut -d' ' -f1)" = "${m#sha256:}" ] || fail "manifest blob $m does not match its digest"
  [ "$(jq -r '.layers | length' "$f")" = 1 ] || fail "manifest $m: expected one layer"
  [ "$(jq -r '.layers[0].mediaType' "$f")" = application/vnd.oci.image.layer.v1.tar+gzip ] || fail "layer media type"
done
layer=$(jq -r '.layers[0].digest' "$(blob "$m_cilium")")
[ "$(sha256sum "$(blob "$layer")" | cut -d' ' -f1)" = "${layer#sha256:}" ] || fail "layer blob digest"
diff_id=sha256:$(gzip -dc "$(blob "$layer")" | sha256sum | cut -d' ' -f1)
config() { blob "$(jq -r .config.digest "$(blob "$1")")"; }
cc=$(config "$m_cilium"); oc=$(config "$m_operator")
for c in "$cc" "$oc"; do
  [ "$(jq -r .architecture "$c")/$(jq -r .os "$c")" = amd64/linux ] || fail "$c: platform"
  [ "$(jq -r '.rootfs.diff_ids[0]' "$c")" = "$diff_id" ] || fail "$c: diff_id is not the uncompressed layer's digest"
  jq -e '.config.Env | any(startswith("PATH=") and contains("/usr/bin") and contains("/bin"))' "$c" >/dev/null || fail "$c: PATH"
  [ "$(jq -r '.config.Labels["org.opencontainers.image.version"]' "$c")" = "$VERSION" ] || fail "$c: version label"
done
[ "$(jq -c .config.Cmd "$cc")" = '["/usr/bin/cilium-dbg"]' ] && [ "$(jq -c .config.Entrypoint "$cc")" = null ] \
  || fail "cilium image: Cmd/Entrypoint $(jq -c .config "$cc")"
[ "$(jq -c .config.Entrypoint "$oc")" = '["/usr/bin/cilium-operator-generic"]' ] || fail "operator image: Entrypoint"
pass "layout: two names over one layer, digests and diff_id match, Cmd/Entrypoint/PATH/labels as expected"

listing=$CTRD_DIR/layer.list
gzip -dc "$(blob "$layer")" | tar -tv --numeric-owner >"$listing"
for f in usr/bin/cilium-agent usr/bin/cilium-cni usr/bin/cilium-dbg usr/bin/cilium-health \
         usr/bin/cilium-operator-generic usr/bin/hubble usr/bin/cilium-mount usr/bin/cilium-sysctlfix \
         usr/bin/nsenter \
         bin/busybox bin/sh bin/bash usr/lib64/ld-linux-x86-64.so.2 lib64 \
         install-plugin.sh init-container.sh cni-uninstall.sh build-config.sh etc/passwd; do
  grep -qE " \./$f( ->.*)?$" "$listing" || fail "layer lacks /$f"
done
if grep -vE '^[^ ]+ 0/0 .* 1970-01-01 00:00 ' "$listing" | grep -q .; then
  fail "layer entries not 0/0 at mtime 0: $(grep -vE '^[^ ]+ 0/0 .* 1970-01-01 00:00 ' "$listing" | head -3)"
fi
if grep -E ' \./(usr/)?bin/(cpp-|.*_test$|cilium-lab$)' "$listing"; then fail "test tools in the image"; fi
pass "layer: binaries, loader, busybox, init scripts; all 0/0 mtime 0; no test tools"

tar2=$CTRD_DIR/cilium-2.tar
TMPDIR=$CTRD_DIR ctrd_nolock bash "$REPO/scripts/build-image.sh" "$BUILD_DIR" "$tar2" >&2 || fail "second build failed"
cmp -s "$tar1" "$tar2" || fail "two builds differ: $(sha256sum "$tar1" "$tar2")"
pass "reproducible: a second build is byte-identical (manifest $m_cilium)"

# ---- containerd -----------------------------------------------------------------
ctrd_start
CTRD_IMAGE_REF=$CILIUM_REF ctrd_import_image "$tar1"
ctrd_ctr image ls -q | grep -qxF "$OPERATOR_REF" || fail "$OPERATOR_REF missing after import"
[ "$(ctrd_ctr image ls | awk -v r="$CILIUM_REF" '$1 == r {print $3}')" = "$m_cilium" ] || fail "imported digest differs"
pass "ctr image import: $CILIUM_REF and $OPERATOR_REF"

# crun ID TIMEOUT_S [ctr run options...] -- IMAGE [ARGS...] — `ctr run --rm`
# without CNI: runc gives the container a new, empty network namespace.
# Recorded like ctrd_run's so that teardown stops whatever is left.
crun() {
  local id=$1 timeout=$2 pid rc=0; shift 2
  echo "$id" >>"$CTRD_DIR/containers"
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  local image=$1; shift
  (
    if [ -n "$CTRD_LOCK_FD" ]; then exec {CTRD_LOCK_FD}>&-; fi
    exec timeout -k 10 "$timeout" ctr -a "$CTRD_SOCK" -n "$CTRD_NS" run --rm \
      --fifo-dir "$CTRD_DIR/fifo" --runc-root "$CTRD_DIR/runc" \
      --cgroup "/$CTRD_CGROUP_ROOT/$CTRD_NS/$id" "${opts[@]}" "$image" "$id" "$@"
  ) </dev/null 2>&1 &
  pid=$!
  echo "$pid" >>"$CTRD_DIR/ctr-run-pids"
  wait "$pid" || rc=$?
  return $rc
}

expect() {  # expect ID WANT [ctr run options...] -- IMAGE ARGS... — output contains WANT, exit 0
  local id=$1 want=$2 out rc=0; shift 2
  out=$(crun "$id" 60 "$@") || rc=$?
  [ $rc -eq 0 ] || fail "$id: exit $rc: $out"
  [[ $out == *"$want"* ]] || fail "$id: expected '$want' in: $out"
  pass "$id: $(echo "$out" | head -n1)"
}

expect agent-version "cilium-agent $VERSION" -- "$CILIUM_REF" cilium-agent --version
expect dbg-version "cilium-dbg $VERSION" -- "$CILIUM_REF" cilium-dbg --version
expect hubble-version "hubble v$VERSION" -- "$CILIUM_REF" hubble version
expect health-help "cilium-health" -- "$CILIUM_REF" cilium-health --help
expect cni-version '"supportedVersions"' --env CNI_COMMAND=VERSION -- "$CILIUM_REF" cilium-cni
expect operator-version "cilium-operator-generic $VERSION" -- "$OPERATOR_REF" cilium-operator-generic --version
# Without arguments ctr runs the image's Entrypoint + Cmd (with arguments it
# replaces both): the operator's Entrypoint wants --config-dir, the cilium
# image's Cmd (cilium-dbg) a subcommand.
out=$(crun operator-entrypoint 60 -- "$OPERATOR_REF") && fail "the operator without --config-dir exited 0"
[[ $out == *"--config-dir is required"* ]] || fail "operator image Entrypoint is not cilium-operator-generic: $out"
pass "operator image Entrypoint runs cilium-operator-generic"
out=$(crun default-cmd 60 -- "$CILIUM_REF") && fail "cilium-dbg without a subcommand exited 0"
[[ $out == *subcommand* ]] || fail "default Cmd is not cilium-dbg: $out"
pass "cilium image Cmd runs cilium-dbg"
expect nsenter-cgroup "--cgroup" -- "$CILIUM_REF" nsenter --help
# mount-bpf-fs's command line, as the seed writes it
expect bash-c "BASH_OK" -- "$CILIUM_REF" /bin/bash -c -- 'mount | grep -q " / " && echo BASH_OK'
# own network namespace: only lo
expect netns "LINKS=lo" -- "$CILIUM_REF" sh -c 'echo LINKS=$(ls /sys/class/net | tr "\n" " " | sed "s/ $//")'

# build-config.sh + agent config check, with the install ConfigMap's data
cm_src=$CTRD_DIR/config-map-source
mkdir -p "$cm_src"
"$PYTHON" - "$REPO/install/kubernetes/cilium-configmap.yaml" "$cm_src" <<'PY'
import os, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for k, v in doc["data"].items():
    with open(os.path.join(sys.argv[2], k), "w") as f:
        f.write(v)
PY
nkeys=$(find "$cm_src" -type f | wc -l)
expect build-config "$nkeys keys, 0 unknown" \
  --mount "type=bind,src=$cm_src,dst=/cilium-config,options=rbind:ro" \
  -- "$CILIUM_REF" sh -ec '/build-config.sh && cilium-agent --config-dir=/tmp/cilium/config-map --node-name n1 --validate-config'

# install-plugin.sh onto a stand-in for the host's /opt/cni/bin
host_bin=$CTRD_DIR/host-cni-bin
mkdir -p "$host_bin"
expect install-plugin "installed cilium-cni" \
  --mount "type=bind,src=$host_bin,dst=/host/opt/cni/bin,options=rbind:rw" -- "$CILIUM_REF" /install-plugin.sh
out=$(CNI_COMMAND=VERSION "$host_bin/cilium-cni" </dev/null) || fail "installed cilium-cni failed on the host: $out"
echo "$out" | jq -e '.supportedVersions | index("1.0.0")' >/dev/null || fail "installed cilium-cni VERSION: $out"
[ "$(find "$host_bin" -maxdepth 1 -name '.cilium-cni-*' | wc -l)" = 1 ] || fail "expected one bundle in $host_bin"
expect install-plugin-again "installed cilium-cni" \
  --mount "type=bind,src=$host_bin,dst=/host/opt/cni/bin,options=rbind:rw" -- "$CILIUM_REF" /install-plugin.sh
[ "$(find "$host_bin" -maxdepth 1 -name '.cilium-cni-*' | wc -l)" = 1 ] || fail "reinstall left a second bundle"
pass "install-plugin.sh: cilium-cni runs on the host with the image's loader and libraries (idempotent)"

# clean-cilium-state: only ciliumpp's pins and state go, and only when asked
bpf=$CTRD_DIR/bpffs; run=$CTRD_DIR/run-cilium
mkdir -p "$bpf/ciliumpp/x" "$bpf/other" "$run/state" "$run/store" "$run/keep"
clean() {  # clean ID ENV...
  local id=$1; shift
  local envs=() e
  for e in "$@"; do envs+=(--env "$e"); done
  crun "$id" 60 "${envs[@]}" --mount "type=bind,src=$bpf,dst=/sys/fs/bpf,options=rbind:rw" \
    --mount "type=bind,src=$run,dst=/var/run/cilium,options=rbind:rw" -- "$CILIUM_REF" /init-container.sh >/dev/null
}
clean clean-none CILIUM_ALL_STATE=false || fail "init-container.sh (nothing to clean) failed"
[ -d "$bpf/ciliumpp/x" ] && [ -d "$run/state" ] || fail "init-container.sh removed state it was not asked to"
clean clean-bpf CILIUM_BPF_STATE=true || fail "init-container.sh (bpf state) failed"
[ ! -e "$bpf/ciliumpp" ] && [ -d "$bpf/other" ] && [ -d "$run/state" ] || fail "clean-cilium-bpf-state removed the wrong things"
clean clean-all CILIUM_ALL_STATE=true || fail "init-container.sh (all state) failed"
[ ! -e "$run/state" ] && [ ! -e "$run/store" ] && [ -d "$run/keep" ] && [ -d "$bpf/other" ] || fail "clean-cilium-state removed the wrong things"
pass "init-container.sh: removes ciliumpp's pins (bpf state) and state dirs (all state), nothing else"

# cni-uninstall.sh (preStop): the agent's conflist goes, other networks stay
netd=$CTRD_DIR/netd
mkdir -p "$netd"
echo '{}' >"$netd/05-cilium.conflist"; echo '{}' >"$netd/10-other.conflist"
crun cni-uninstall 60 --mount "type=bind,src=$netd,dst=/host/etc/cni/net.d,options=rbind:rw" -- "$CILIUM_REF" /cni-uninstall.sh \
  || fail "cni-uninstall.sh failed"
[ ! -e "$netd/05-cilium.conflist" ] && [ -e "$netd/10-other.conflist" ] || fail "cni-uninstall.sh removed the wrong files: $(ls "$netd")"
pass "cni-uninstall.sh: removes 05-cilium.conflist only"
