#!/usr/bin/env bash
# build-image.sh BUILD_DIR OUT.tar
#
# Builds the ciliumpp container image as an OCI image-layout tarball, without
# a container daemon or registry: one gzip'd layer with
#   /usr/bin/           cilium-agent cilium-cni cilium-dbg cilium-health
#                       cilium-operator-generic hubble (debug info stripped),
#                       cilium-mount, cilium-sysctlfix (install/image/)
#   /usr/lib/..., /usr/lib64/ld-linux-*   their shared libraries (the ldd
#                       closure) and the dynamic loader, at the host's paths;
#                       /lib and /lib64 link to them (merged /usr)
#   /usr/lib/cilium-cni/  cilium-cni + loader + libraries, flat: the bundle
#                       /install-plugin.sh puts on the host
#   /bin/               static busybox and its applets (sh, mount, cp, grep,
#                       ...) for the init containers; bash runs sh
#   /usr/bin/nsenter    util-linux's (busybox's lacks --cgroup, which the
#                       mount-cgroup init container uses)
#   /*.sh               the DaemonSet's init/lifecycle scripts (install/image/)
#   /etc/passwd, group, nsswitch.conf
# and two image names over that layer, like the seed's two images:
#   docker.io/ciliumpp/cilium:<version>            Cmd cilium-dbg (as upstream)
#   docker.io/ciliumpp/operator-generic:<version>  Entrypoint cilium-operator-generic
# <version> is cpp::kVersion (src/common/version.h). Deterministic: the same
# binaries and libraries give the same tarball (and manifest digests).
#
# Environment: IMAGE_REPO (default docker.io/ciliumpp), BUSYBOX (default
# /bin/busybox, must be static).
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR OUT.tar" >&2; exit 2; }
[ $# -eq 2 ] || usage
build_dir=$1
out=$2
repo_dir=$(cd "$(dirname "$0")/.." && pwd)
image_repo=${IMAGE_REPO:-docker.io/ciliumpp}
busybox=${BUSYBOX:-/bin/busybox}
binaries=(cilium-agent cilium-cni cilium-dbg cilium-health cilium-operator-generic hubble)
host_tools=(nsenter)

# shellcheck source=scripts/lib/oci.sh
. "$repo_dir/scripts/lib/oci.sh"

die() { echo "$0: $*" >&2; exit 1; }
for tool in ldd strip readelf; do
  command -v "$tool" >/dev/null || die "$tool not found (binutils, libc-bin)"
done
for b in "${binaries[@]}"; do
  [ -x "$build_dir/bin/$b" ] || die "$build_dir/bin/$b missing: build it first (make build)"
done
version=$(sed -n 's/.*kVersion = "\([^"]*\)".*/\1/p' "$repo_dir/src/common/version.h")
[ -n "$version" ] || die "no kVersion in src/common/version.h"

work=$(mktemp -d "${TMPDIR:-/tmp}/cpp-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,home/cilium,root,tmp,proc,sys,dev,run,var/run,var/lib/cilium,usr/bin,usr/lib/cilium-cni}

# ---- binaries and their libraries ----------------------------------------------

# libs_of BINARY — absolute paths of every shared object BINARY loads
# (ldd's closure), the dynamic loader included.
libs_of() {
  local line
  ldd "$1" | while IFS= read -r line; do
    case "$line" in
      *'=> not found'*) die "$1: ${line%% *} not found" ;;
      *'=> /'*) line=${line#*=> }; echo "${line%% (*}" ;;
      *[[:space:]]/*) line=${line#"${line%%/*}"}; echo "${line%% (*}" ;;
    esac
  done
}

# canonical PATH — PATH with its directory resolved (Debian's /lib is a link
# to /usr/lib), so each library is stored once, at the host's real location.
canonical() { echo "$(readlink -f "$(dirname "$1")")/$(basename "$1")"; }

{
  for b in "${binaries[@]}"; do
    strip --strip-debug -o "$rootfs/usr/bin/$b" "$build_dir/bin/$b"
    libs_of "$build_dir/bin/$b"
  done
  for t in "${host_tools[@]}"; do
    path=$(command -v "$t") || die "$t not found on this host"
    cp -L "$path" "$rootfs/usr/bin/$t"
    libs_of "$path"
  done
} | LC_ALL=C sort -u >"$work/libs"
[ -s "$work/libs" ] || die "ldd found no libraries (static binaries?)"
while IFS= read -r lib; do
  dest=$rootfs$(canonical "$lib")
  mkdir -p "$(dirname "$dest")"
  cp -L "$lib" "$dest"
done <"$work/libs"
# merged /usr: the ELF interpreter (/lib64/ld-linux-x86-64.so.2) and ldd's
# /lib/... paths resolve through these links
for d in lib lib64; do
  if [ -L "/$d" ] && [ -d "$rootfs/usr/$d" ]; then ln -s "usr/$d" "$rootfs/$d"; fi
done
interp=$(readelf -l "$build_dir/bin/cilium-agent" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -e "$rootfs$interp" ] || die "the image lacks the dynamic loader $interp"

# The CNI plugin bundle (see install/image/install-plugin.sh).
cni_bundle=$rootfs/usr/lib/cilium-cni
cp "$rootfs/usr/bin/cilium-cni" "$cni_bundle/cilium-cni"
libs_of "$build_dir/bin/cilium-cni" | while IFS= read -r lib; do cp -L "$lib" "$cni_bundle/"; done
basename "$interp" >"$cni_bundle/LOADER"

# ---- tools and scripts -----------------------------------------------------------
oci_rootfs_busybox "$rootfs" "$busybox"
for t in mount grep cp rm mv; do
  [ -L "$rootfs/bin/$t" ] || die "busybox lacks applet $t (needed by the init containers)"
done
img=$repo_dir/install/image
install -m 0755 "$img/bash" "$rootfs/bin/bash"
install -m 0755 "$img/cilium-mount" "$img/cilium-sysctlfix" "$rootfs/usr/bin/"
install -m 0755 "$img/install-plugin.sh" "$img/cni-uninstall.sh" "$img/init-container.sh" \
  "$img/build-config.sh" "$rootfs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\ncilium:x:1000:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

# ---- modes: fixed, independent of the builder's umask -----------------------------
find "$rootfs" -type d -exec chmod 0755 {} +
chmod 0700 "$rootfs/root"
chmod 1777 "$rootfs/tmp"
find "$rootfs" -type f -exec chmod go-w {} +

# ---- image -------------------------------------------------------------------------
path_env='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'
labels() {
  printf '{"org.opencontainers.image.title":"%s","org.opencontainers.image.version":"%s","org.opencontainers.image.description":"%s"}' "$@"
}
oci_init "$work"
oci_add_layer "$rootfs" gzip
oci_add_image "$image_repo/cilium:$version" "$image_repo/cilium:$version" \
  "{\"Env\":[$path_env],\"Cmd\":[\"/usr/bin/cilium-dbg\"],\"WorkingDir\":\"/home/cilium\",\"Labels\":$(labels cilium "$version" "ciliumpp agent, CNI plugin, cilium-dbg, cilium-health and hubble")}" \
  scripts/build-image.sh
cilium_digest=$OCI_MANIFEST_DIGEST
oci_add_image "$image_repo/operator-generic:$version" "$image_repo/operator-generic:$version" \
  "{\"Env\":[$path_env],\"Entrypoint\":[\"/usr/bin/cilium-operator-generic\"],\"WorkingDir\":\"/\",\"Labels\":$(labels operator-generic "$version" "ciliumpp operator")}" \
  scripts/build-image.sh
oci_write_tar "$out"
echo "$out: $image_repo/cilium:$version ($cilium_digest), $image_repo/operator-generic:$version ($OCI_MANIFEST_DIGEST), layer $OCI_LAYER_DIGEST ($(stat -c %s "$out") bytes)"
