/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Local endpoint lookup (cpp_lxc) and the L2 rewrite that hands a packet to
 * a pod on this node.
 */
#ifndef CPP_BPF_ENDPOINT_H
#define CPP_BPF_ENDPOINT_H

#include "common.h"
#include "eth.h"
#include "maps.h"

static __always_inline const struct cpp_endpoint_info *lookup_ip4_endpoint(__be32 addr)
{
	struct cpp_endpoint_key key;

	/* The whole key is hashed, padding and unused address bytes included. */
	__builtin_memset(&key, 0, sizeof(key));
	key.addr.ip4 = addr;
	key.family = CPP_FAMILY_IPV4;
	return bpf_map_lookup_elem(&cpp_lxc, &key);
}

static __always_inline const struct cpp_endpoint_info *
lookup_ip6_endpoint(const struct in6_addr *addr)
{
	struct cpp_endpoint_key key;

	__builtin_memset(&key, 0, sizeof(key));
	__builtin_memcpy(key.addr.ip6, addr->s6_addr, sizeof(key.addr.ip6));
	key.family = CPP_FAMILY_IPV6;
	return bpf_map_lookup_elem(&cpp_lxc, &key);
}

/* A pod on this node, as opposed to one of the node's own addresses (those
 * are delivered by the node's stack). */
static __always_inline bool endpoint_is_local_pod(const struct cpp_endpoint_info *ep)
{
	return ep && !(ep->flags & CPP_EP_F_HOST);
}

/* Addresses the frame the way the pod's router would: from the pod's
 * router MAC (host-side lxc MAC) to the pod's own MAC. */
static __always_inline int endpoint_set_l2(struct __sk_buff *skb,
					   const struct cpp_endpoint_info *ep)
{
	return eth_store_macs(skb, ep->mac, ep->node_mac);
}

#endif /* CPP_BPF_ENDPOINT_H */
