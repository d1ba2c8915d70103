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

for tool in tar sha256sum stat; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done
[ -x "$busybox" ] || { echo "$0: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
help_out=$(LC_ALL=C "$busybox" --help 2>&1 || true)
if [[ $help_out != BusyBox* ]]; then
  echo "$0: $busybox is not a busybox binary" >&2; exit 1
fi
# A dynamically linked busybox would not run in an image without libc.
if command -v ldd >/dev/null && ldd "$busybox" 2>&1 | grep -q '=>'; then
  echo "$0: $busybox is dynamically linked; need busybox-static" >&2; exit 1
fi

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  armv7l) arch=arm ;;
  ppc64le) arch=ppc64le ;;
  s390x) arch=s390x ;;
  riscv64) arch=riscv64 ;;
  *) echo "$0: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/oci-busybox.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- root filesystem ---------------------------------------------------------
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,root,tmp,proc,sys,dev,var/run}
chmod 0755 "$rootfs" "$rootfs"/{bin,etc,proc,sys,dev,var,var/run}
chmod 0700 "$rootfs/root"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"
# busybox --list prints one applet per line; link each into /bin.
while IFS= read -r applet; do
  case "$applet" in
    ''|busybox|*/*) continue ;;
  esac
  ln -s busybox "$rootfs/bin/$applet"
done < <("$busybox" --list | LC_ALL=C sort -u)
for must in sh ip ping nc wget cat echo sleep; do
  [ -L "$rootfs/bin/$must" ] || { echo "$0: busybox lacks applet $must" >&2; exit 1; }
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"

# ---- blobs ---------------------------------------------------------------------
layout=$work/layout
blobs=$layout/blobs/sha256
mkdir -p "$blobs"

deterministic_tar=(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner
                   --format=ustar --no-acls --no-xattrs --no-selinux)

layer=$work/layer.tar
(cd "$rootfs" && "${deterministic_tar[@]}" -cf "$layer" ./*)

# put_blob FILE -> prints "sha256:<hex> <size>" and stores the blob
put_blob() {
  local f=$1 hex size
  hex=$(sha256sum "$f" | cut -d' ' -f1)
  size=$(stat -c %s "$f")
  cp "$f" "$blobs/$hex"
  echo "sha256:$hex $size"
}

# JSON string escaping for the only free-form input (REF).
json_str() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

read -r layer_digest layer_size < <(put_blob "$layer")

config=$work/config.json
printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/oci-busybox-image.sh"}],"created":"1970-01-01T00:00:00Z"}' \
  "$arch" "$layer_digest" >"$config"
read -r config_digest config_size < <(put_blob "$config")

manifest=$work/manifest.json
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
  "$config_digest" "$config_size" "$layer_digest" "$layer_size" >"$manifest"
read -r manifest_digest manifest_size < <(put_blob "$manifest")

# ctr (containerd 1.6) names an imported OCI image after the
# io.containerd.image.name annotation; other tools read ref.name.
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":%s,"org.opencontainers.image.ref.name":%s}}]}' \
  "$manifest_digest" "$manifest_size" "$arch" "$(json_str "$ref")" "$(json_str "${ref##*:}")" >"$layout/index.json"

chmod 0644 "$layout/oci-layout" "$layout/index.json" "$blobs"/*
chmod 0755 "$layout" "$layout/blobs" "$blobs"

tmp_out=$work/out.tar
(cd "$layout" && "${deterministic_tar[@]}" -cf "$tmp_out" oci-layout index.json blobs)
mkdir -p "$(dirname "$out")"
mv -f "$tmp_out" "$out"
echo "$out: $ref ($manifest_digest, layer $layer_digest)"
