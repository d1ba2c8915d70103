#!/bin/sh
# Init container clean-cilium-state: when the ConfigMap asks for it
# (clean-cilium-state / clean-cilium-bpf-state: "true"), removes what an
# earlier agent left behind before the new one starts, so it starts empty
# instead of restoring. Only ciliumpp's own paths are touched.
set -eu
bpf_root=${CILIUM_BPF_ROOT:-/sys/fs/bpf}
run_dir=${CILIUM_RUN_DIR:-/var/run/cilium}

is_true() { [ "${1:-}" = true ]; }

if is_true "${CILIUM_ALL_STATE:-}" || is_true "${CILIUM_BPF_STATE:-}"; then
  echo "init-container.sh: removing pinned maps and programs under $bpf_root/ciliumpp"
  rm -rf "$bpf_root/ciliumpp"
fi
if is_true "${CILIUM_ALL_STATE:-}"; then
  echo "init-container.sh: removing agent state under $run_dir"
  rm -rf "$run_dir/state" "$run_dir/store"
fi
