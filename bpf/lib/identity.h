/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Security identity of a peer address, from the cpp_ipcache LPM map.
 *
 * The control plane puts every address it knows there: local and remote
 * pods (their identity), the node's own addresses (CPP_ID_HOST), other
 * nodes, CIDR policy selectors. An address it does not know is outside the
 * cluster: CPP_ID_WORLD, as upstream Cilium resolves it (without the
 * world-ipv4/world-ipv6 split, which upstream 1.15 only uses in dual-stack
 * clusters that ask for it).
 */
#ifndef CPP_BPF_IDENTITY_H
#define CPP_BPF_IDENTITY_H

#include "common.h"
#include "maps.h"

static __always_inline __u32 identity_of_ipcache(const struct cpp_ipcache_value *v)
{
	/* An entry with identity 0 is a placeholder (e.g. a tunnel route
	 * whose identity is not known yet): still world for policy. */
	return v && v->sec_identity ? v->sec_identity : CPP_ID_WORLD;
}

static __always_inline __u32 identity_lookup4(__be32 addr)
{
	struct cpp_ipcache_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.prefixlen = CPP_IPCACHE_STATIC_PREFIX_BITS + 32;
	key.family = CPP_FAMILY_IPV4;
	key.addr.ip4 = addr;
	return identity_of_ipcache(bpf_map_lookup_elem(&cpp_ipcache, &key));
}

static __always_inline __u32 identity_lookup6(const struct in6_addr *addr)
{
	struct cpp_ipcache_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.prefixlen = CPP_IPCACHE_STATIC_PREFIX_BITS + 128;
	key.family = CPP_FAMILY_IPV6;
	__builtin_memcpy(key.addr.ip6, addr->s6_addr, sizeof(key.addr.ip6));
	return identity_of_ipcache(bpf_map_lookup_elem(&cpp_ipcache, &key));
}

#endif /* CPP_BPF_IDENTITY_H */
