#!/usr/bin/env bash
# oci-busybox-image.sh OUT.tar [REF]
#
# Builds an OCI image-layout tarball (oci-layout, index.json, blobs/sha256/...)
# holding one uncompressed layer with the static busybox of the host
# (Debian's busybox-static, /bin/busybox) and a symlink in /bin for every
# applet it has (sh, ip, ping, ping6, nc, wget, cat, echo, sleep, ...).
#
# The result imports with `ctr image import OUT.tar` and is named REF
# (default: docker.io/ciliumpp/busybox:test). Offline, no registry, no
# daemon. Deterministic: the same busybox binary and REF always give
# byte-identical tarballs (sorted entries, mtime 0, uid/gid 0, fixed JSON).
#
# Environment: BUSYBOX=/path/to/static/busybox overrides the binary.
set -euo pipefail

usage() { echo "usage: $0 OUT.tar [REF]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
out=$1
ref=${2:-docker.io/ciliumpp/busybox:test}
busybox=${BUSYBOX:-/bin/busybox}

# shellcheck source=scripts/lib/oci.sh
. "$(dirname "$0")/lib/oci.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/oci-busybox.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- root filesystem ---------------------------------------------------------
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,root,tmp,proc,sys,dev,var/run}
chmod 0755 "$rootfs" "$rootfs"/{bin,etc,proc,sys,dev,var,var/run}
chmod 0700 "$rootfs/root"
chmod 1777 "$rootfs/tmp"
oci_rootfs_busybox "$rootfs" "$busybox"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"

# ---- image ---------------------------------------------------------------------
oci_init "$work"
oci_add_layer "$rootfs" none
# ctr (containerd 1.6) names an imported OCI image after the
# io.containerd.image.name annotation; other tools read ref.name.
oci_add_image "$ref" "${ref##*:}" '{"Env":["PATH=/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"}' scripts/oci-busybox-image.sh
oci_write_tar "$out"
echo "$out: $ref ($OCI_MANIFEST_DIGEST, layer $OCI_LAYER_DIGEST)"
