#!/bin/sh
# preStop of the agent container: removes the CNI configuration the agent
# wrote (write-cni-conf-when-ready), so the kubelet stops scheduling pods onto
# a node whose agent is going away. The plugin binary stays: pods being torn
# down still need its DEL.
set -eu
conf=${WRITE_CNI_CONF_WHEN_READY:-/host/etc/cni/net.d/05-cilium.conflist}
case "$conf" in
  /host/etc/cni/net.d/*) rm -f "$conf" ;;
  *) echo "cni-uninstall.sh: refusing to remove $conf (not under /host/etc/cni/net.d)" >&2; exit 1 ;;
esac
