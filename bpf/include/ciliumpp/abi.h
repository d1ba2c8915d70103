/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the BPF datapath and the C++ control plane: map
 * names, key/value layouts and flag bits. Plain C with fixed-width types and
 * explicit padding so that both clang -target bpf and g++ lay the structs out
 * identically. Later features extend these structs through the reserved
 * fields and flag bits rather than changing existing offsets: pinned maps
 * outlive the agent, so a layout change is an upgrade event.
 */
#ifndef CILIUMPP_ABI_H
#define CILIUMPP_ABI_H

#include <linux/types.h>

/* Pinned map names (kernel map names are limited to 15 characters). */
#define CPP_MAP_ENDPOINTS "cpp_lxc"
#define CPP_MAP_IPCACHE   "cpp_ipcache"

#define CPP_ENDPOINTS_MAX 65535
#define CPP_IPCACHE_MAX   512000

/* Address family tags used inside map keys. */
#define CPP_FAMILY_IPV4 1
#define CPP_FAMILY_IPV6 2

/* An IPv4 address is stored in network byte order in the first four bytes;
 * the remaining twelve bytes are zero. */
union cpp_addr {
	__u32 ip4;
	__u8 ip6[16];
};

/* cpp_lxc: every local address the node owns, keyed by address. Pods and
 * the node's own router addresses (flag CPP_EP_F_HOST) live here, so the
 * datapath can tell "deliver locally" from "hand to the stack" in one
 * lookup. */
struct cpp_endpoint_key {
	union cpp_addr addr;
	__u8 family;
	__u8 cluster_id;
	__u16 pad;
};

#define CPP_EP_F_HOST 0x1 /* address belongs to the node itself */

struct cpp_endpoint_info {
	__u32 ifindex;     /* host-side lxc device */
	__u16 pad0;
	__u16 lxc_id;      /* endpoint id, 1..4095 */
	__u32 flags;       /* CPP_EP_F_* */
	__u8 mac[6];       /* pod-side (eth0) MAC */
	__u8 node_mac[6];  /* host-side (lxc) MAC, the pod's router MAC */
	__u32 sec_id;      /* security identity; 0 until identities exist */
	__u32 reserved[3]; /* policy program id, proxy hints, ... */
};

/* cpp_ipcache: longest-prefix match from an address to its security
 * identity and, for remote pods, the node that hosts them. prefixlen counts
 * the 32 bits of pad/cluster_id/family first, then the address prefix, so a
 * /24 IPv4 entry has prefixlen 32 + 24. */
struct cpp_ipcache_key {
	__u32 prefixlen;
	__u16 pad;
	__u8 cluster_id;
	__u8 family;
	union cpp_addr addr;
};

#define CPP_IPCACHE_STATIC_PREFIX_BITS 32

#define CPP_IPCACHE_F_SKIP_TUNNEL 0x1

struct cpp_ipcache_value {
	__u32 sec_identity;
	__u32 tunnel_endpoint; /* IPv4 node address, network byte order; 0 = local */
	__u32 flags;           /* CPP_IPCACHE_F_* */
	__u32 reserved;
};

/* Reserved security identities (upstream Cilium numbering). */
#define CPP_ID_UNKNOWN     0
#define CPP_ID_HOST        1
#define CPP_ID_WORLD       2
#define CPP_ID_UNMANAGED   3
#define CPP_ID_HEALTH      4
#define CPP_ID_INIT        5
#define CPP_ID_REMOTE_NODE 6
#define CPP_ID_KUBE_APISERVER 7
#define CPP_ID_INGRESS     8

#endif /* CILIUMPP_ABI_H */
