#!/bin/sh
# Init container config: builds the agent's configuration directory
# (/tmp/cilium/config-map, shared with the agent through the tmp emptyDir)
# from the mounted cilium-config ConfigMap. Upstream's `cilium-dbg
# build-config` reads the same ConfigMap from the API server; a file copy
# gives the agent the same one-file-per-key directory. Kubernetes' ..data
# bookkeeping entries are not copied; symlinks are resolved.
set -eu
src=${CILIUM_CONFIG_SOURCE:-/cilium-config}
dest=${CILIUM_CONFIG_DIR:-/tmp/cilium/config-map}
[ -d "$src" ] || { echo "build-config.sh: $src is not mounted (the cilium-config ConfigMap)" >&2; exit 1; }
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
n=0
for f in "$src"/*; do
  [ -f "$f" ] || continue
  cp -L "$f" "$dest.tmp/$(basename "$f")"
  n=$((n + 1))
done
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "build-config.sh: $n keys from $src in $dest"
