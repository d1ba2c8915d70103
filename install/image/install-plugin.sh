#!/bin/sh
# Init container install-cni-binaries: copies cilium-cni onto the host
# (/opt/cni/bin, mounted here at /host/opt/cni/bin).
#
# The binary is linked against the image's libraries, not the host's, so it
# goes with its own bundle: /opt/cni/bin/.cilium-cni-<digest>/ holds it, its
# shared libraries and the dynamic loader, and /opt/cni/bin/cilium-cni is a
# small sh wrapper that runs it through that loader. The wrapper is replaced
# by rename, so a CNI call running during an upgrade sees the old or the new
# plugin, never half of one. Bundles of earlier versions are removed.
set -eu

src=${CILIUM_CNI_BUNDLE:-/usr/lib/cilium-cni}
dest=${CNI_BIN_DIR:-/host/opt/cni/bin}

[ -x "$src/cilium-cni" ] || { echo "install-plugin.sh: no $src/cilium-cni in the image" >&2; exit 1; }
[ -d "$dest" ] || { echo "install-plugin.sh: $dest is not mounted (the host's CNI bin dir)" >&2; exit 1; }
loader=$(cat "$src/LOADER")
digest=$(cat "$src"/* | sha256sum | cut -c1-16)
bundle=.cilium-cni-$digest

if [ ! -d "$dest/$bundle" ]; then
  rm -rf "$dest/$bundle.tmp"
  cp -a "$src" "$dest/$bundle.tmp"
  mv "$dest/$bundle.tmp" "$dest/$bundle"
fi
cat >"$dest/cilium-cni.tmp" <<WRAPPER
#!/bin/sh
# Installed by the ciliumpp image (install-plugin.sh): cilium-cni with its own
# loader and libraries, independent of the host's.
b=\$(dirname "\$0")/$bundle
exec "\$b/$loader" --library-path "\$b" --argv0 cilium-cni "\$b/cilium-cni" "\$@"
WRAPPER
chmod 0755 "$dest/cilium-cni.tmp"
mv -f "$dest/cilium-cni.tmp" "$dest/cilium-cni"
for old in "$dest"/.cilium-cni-*; do
  [ -d "$old" ] && [ "$old" != "$dest/$bundle" ] && rm -rf "$old"
done
echo "install-plugin.sh: installed cilium-cni ($bundle) in $dest"
