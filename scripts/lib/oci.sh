# shellcheck shell=bash
# oci.sh — writes OCI image-layout tarballs (oci-layout, index.json,
# blobs/sha256/...) from a root filesystem directory, offline and without a
# container daemon. Deterministic: the same rootfs contents and arguments
# always give a byte-identical tarball (sorted entries, mtime 0, uid/gid 0,
# `gzip -n`, fixed JSON).
#
# Source it, then:
#
#   oci_rootfs_busybox ROOTFS BUSYBOX
#                                       static busybox as ROOTFS/bin/busybox and
#                                       a /bin symlink for each of its applets
#   oci_init WORK                       layout under WORK/layout
#   oci_add_layer ROOTFS gzip|none      one layer from ROOTFS (sets OCI_LAYER_*)
#   oci_add_image NAME REFNAME CONFIG CREATED_BY
#                                       image config + manifest over the layer;
#                                       CONFIG is the JSON object of "config"
#                                       (Entrypoint, Cmd, Env, Labels, ...);
#                                       NAME goes to io.containerd.image.name
#                                       (what `ctr image import` names it),
#                                       REFNAME to org.opencontainers.image.ref.name
#   oci_write_tar OUT                   index.json + oci-layout, then OUT
#
# Callers set `set -euo pipefail`; every function fails loudly.

OCI_DETERMINISTIC_TAR=(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner
                       --format=ustar --no-acls --no-xattrs --no-selinux)

OCI_LAYOUT=
OCI_BLOBS=
OCI_WORK=
OCI_LAYER_DIGEST=
OCI_LAYER_SIZE=
OCI_LAYER_DIFF_ID=
OCI_LAYER_MEDIA=
# shellcheck disable=SC2034  # read by the sourcing scripts
OCI_MANIFEST_DIGEST=      # of the last oci_add_image
OCI_INDEX_ENTRIES=()

oci_die() { echo "oci.sh: $*" >&2; exit 1; }

# oci_arch — the OCI architecture name of this machine.
oci_arch() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    armv7l) echo arm ;;
    ppc64le) echo ppc64le ;;
    s390x) echo s390x ;;
    riscv64) echo riscv64 ;;
    *) oci_die "unsupported machine $(uname -m)" ;;
  esac
}

# oci_json_str S — S as a JSON string literal (backslash and quote escaped;
# callers pass names and paths, never control characters).
oci_json_str() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# oci_put_blob FILE — stores FILE as a blob; prints "sha256:<hex> <size>".
oci_put_blob() {
  local f=$1 hex size
  hex=$(sha256sum "$f" | cut -d' ' -f1)
  size=$(stat -c %s "$f")
  cp "$f" "$OCI_BLOBS/$hex"
  echo "sha256:$hex $size"
}

oci_rootfs_busybox() {
  local rootfs=$1 busybox=$2 help_out applet must
  [ -x "$busybox" ] || oci_die "$busybox not found (apt-get install busybox-static)"
  help_out=$(LC_ALL=C "$busybox" --help 2>&1 || true)
  [[ $help_out == BusyBox* ]] || oci_die "$busybox is not a busybox binary"
  # A dynamically linked busybox would not run in an image without libc.
  if command -v ldd >/dev/null && ldd "$busybox" 2>&1 | grep -q '=>'; then
    oci_die "$busybox is dynamically linked; need busybox-static"
  fi
  mkdir -p "$rootfs/bin"
  cp "$busybox" "$rootfs/bin/busybox"
  chmod 0755 "$rootfs/bin/busybox"
  while IFS= read -r applet; do
    case "$applet" in
      ''|busybox|*/*) continue ;;
    esac
    ln -s busybox "$rootfs/bin/$applet"
  done < <("$busybox" --list | LC_ALL=C sort -u)
  for must in sh ip ping nc wget cat echo sleep; do
    [ -L "$rootfs/bin/$must" ] || oci_die "busybox lacks applet $must"
  done
}

oci_init() {
  local tool
  for tool in tar sha256sum stat gzip; do
    command -v "$tool" >/dev/null || oci_die "$tool not found"
  done
  OCI_WORK=$1
  OCI_LAYOUT=$OCI_WORK/layout
  OCI_BLOBS=$OCI_LAYOUT/blobs/sha256
  OCI_INDEX_ENTRIES=()
  mkdir -p "$OCI_BLOBS"
}

oci_add_layer() {
  local rootfs=$1 compression=$2 layer=$OCI_WORK/layer.tar
  [ -d "$rootfs" ] || oci_die "rootfs $rootfs is not a directory"
  (cd "$rootfs" && "${OCI_DETERMINISTIC_TAR[@]}" -cf "$layer" ./*)
  OCI_LAYER_DIFF_ID=sha256:$(sha256sum "$layer" | cut -d' ' -f1)
  case "$compression" in
    none) OCI_LAYER_MEDIA=application/vnd.oci.image.layer.v1.tar ;;
    gzip)
      # -n: no name or timestamp in the gzip header (reproducible)
      gzip -n -9 "$layer"
      layer=$layer.gz
      OCI_LAYER_MEDIA=application/vnd.oci.image.layer.v1.tar+gzip ;;
    *) oci_die "layer compression must be gzip or none, not '$compression'" ;;
  esac
  read -r OCI_LAYER_DIGEST OCI_LAYER_SIZE < <(oci_put_blob "$layer")
  rm -f "$layer"
}

oci_add_image() {
  local name=$1 refname=$2 config_obj=$3 created_by=$4 arch
  [ -n "$OCI_LAYER_DIGEST" ] || oci_die "oci_add_image before oci_add_layer"
  arch=$(oci_arch)
  local config=$OCI_WORK/config.json manifest=$OCI_WORK/manifest.json
  local config_digest config_size manifest_digest manifest_size
  printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":%s}],"created":"1970-01-01T00:00:00Z"}' \
    "$arch" "$config_obj" "$OCI_LAYER_DIFF_ID" "$(oci_json_str "$created_by")" >"$config"
  read -r config_digest config_size < <(oci_put_blob "$config")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"%s","digest":"%s","size":%s}]}' \
    "$config_digest" "$config_size" "$OCI_LAYER_MEDIA" "$OCI_LAYER_DIGEST" "$OCI_LAYER_SIZE" >"$manifest"
  read -r manifest_digest manifest_size < <(oci_put_blob "$manifest")
  rm -f "$config" "$manifest"
  OCI_INDEX_ENTRIES+=("$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":%s,"org.opencontainers.image.ref.name":%s}}' \
    "$manifest_digest" "$manifest_size" "$arch" "$(oci_json_str "$name")" "$(oci_json_str "$refname")")")
  # shellcheck disable=SC2034  # read by the sourcing scripts
  OCI_MANIFEST_DIGEST=$manifest_digest
}

oci_write_tar() {
  local out=$1 entries
  [ ${#OCI_INDEX_ENTRIES[@]} -gt 0 ] || oci_die "oci_write_tar without an image"
  entries=$(IFS=,; echo "${OCI_INDEX_ENTRIES[*]}")
  printf '{"imageLayoutVersion":"1.0.0"}' >"$OCI_LAYOUT/oci-layout"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' \
    "$entries" >"$OCI_LAYOUT/index.json"
  chmod 0644 "$OCI_LAYOUT/oci-layout" "$OCI_LAYOUT/index.json" "$OCI_BLOBS"/*
  chmod 0755 "$OCI_LAYOUT" "$OCI_LAYOUT/blobs" "$OCI_BLOBS"
  local tmp_out=$OCI_WORK/out.tar
  (cd "$OCI_LAYOUT" && "${OCI_DETERMINISTIC_TAR[@]}" -cf "$tmp_out" oci-layout index.json blobs)
  mkdir -p "$(dirname "$out")"
  mv -f "$tmp_out" "$out"
}
