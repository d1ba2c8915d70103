/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * VXLAN encapsulation towards the node that hosts a destination (tunnel
 * routing mode). The ipcache says which node that is: an entry with a
 * tunnel endpoint (the node's InternalIP) is a remote pod, a remote
 * PodCIDR or a remote router IP. The packet gets tunnel metadata and is
 * redirected to cilium_vxlan, an external (collect_md) VXLAN device, which
 * builds the outer Ethernet/IPv4/UDP/VXLAN headers and routes the result
 * over the underlay. IPv4 and IPv6 pods both ride on the IPv4 underlay:
 * VXLAN carries whole Ethernet frames.
 *
 * The VNI carries the sender's security identity, as upstream Cilium does,
 * so the receiving node polices by identity without an address lookup
 * (bpf_overlay.c). Identities fit: cluster identities are below 2^24 and
 * the datapath never sends with a CIDR identity (those carry bit 24).
 *
 * The inner frame is sent as is (the sending pod's MAC to its router MAC,
 * or cilium_host's MAC for the node's own traffic): the receiver rewrites
 * both MACs before delivering into a pod and marks frames for its own
 * stack as PACKET_HOST, so no sender needs to know a remote MAC.
 */
#ifndef CPP_BPF_ENCAP_H
#define CPP_BPF_ENCAP_H

#include "common.h"
#include "identity.h"
#include "maps.h"

/* ifindex of cilium_vxlan in the node's namespace, set by the loader; 0 =
 * no overlay (routing-mode native): the verifier then prunes the whole
 * encapsulation path and remote destinations go to the stack. */
const volatile __u32 ENCAP_IFINDEX = 0;

#define CPP_TUNNEL_TTL 64 /* outer TTL, IPDEFTTL */

static __always_inline const struct cpp_ipcache_value *ipcache_lookup4(__be32 addr)
{
	struct cpp_ipcache_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.prefixlen = CPP_IPCACHE_STATIC_PREFIX_BITS + 32;
	key.family = CPP_FAMILY_IPV4;
	key.addr.ip4 = addr;
	return bpf_map_lookup_elem(&cpp_ipcache, &key);
}

static __always_inline const struct cpp_ipcache_value *ipcache_lookup6(const struct in6_addr *addr)
{
	struct cpp_ipcache_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.prefixlen = CPP_IPCACHE_STATIC_PREFIX_BITS + 128;
	key.family = CPP_FAMILY_IPV6;
	__builtin_memcpy(key.addr.ip6, addr->s6_addr, sizeof(key.addr.ip6));
	return bpf_map_lookup_elem(&cpp_ipcache, &key);
}

/* The node hosting an ipcache entry's addresses (network order), or 0 when
 * the entry is local, unknown or explicitly routed without a tunnel. */
static __always_inline __be32 tunnel_endpoint_of(const struct cpp_ipcache_value *v)
{
	if (!v || (v->flags & CPP_IPCACHE_F_SKIP_TUNNEL))
		return 0;
	return v->tunnel_endpoint;
}

/* Tunnel metadata for cilium_vxlan, then a redirect to its egress. */
static __always_inline int encap_redirect(struct __sk_buff *skb, __be32 endpoint, __u32 src_identity)
{
	struct bpf_tunnel_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.tunnel_id = src_identity;
	/* The helper takes the IPv4 remote in host byte order. */
	key.remote_ipv4 = bpf_ntohl(endpoint);
	key.tunnel_ttl = CPP_TUNNEL_TTL;
	/* RFC 7348: the outer UDP checksum SHOULD be zero over IPv4; the
	 * inner packet keeps its own checksums. */
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), BPF_F_ZERO_CSUM_TX) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(ENCAP_IFINDEX, 0);
}

/* Encapsulates the packet if its destination lives on another node.
 * src_identity 0 means "the source address's identity from the ipcache"
 * (traffic the node forwards or sends itself). Returns TC_ACT_REDIRECT
 * (sent into the tunnel), TC_ACT_SHOT, or TC_ACT_OK when there is no
 * tunnel for the destination: the stack routes it.
 *
 * Out of line: the tunnel key and the ipcache key must not add to the
 * frames of the policy pipeline's call chain (512 bytes for all of it). */
static __noinline int encap_ipv4(struct __sk_buff *skb, __be32 saddr, __be32 daddr,
				 __u32 src_identity)
{
	__be32 endpoint;

	if (!ENCAP_IFINDEX)
		return TC_ACT_OK;
	endpoint = tunnel_endpoint_of(ipcache_lookup4(daddr));
	if (!endpoint)
		return TC_ACT_OK;
	if (!src_identity)
		src_identity = identity_lookup4(saddr);
	return encap_redirect(skb, endpoint, src_identity);
}

static __noinline int encap_ipv6(struct __sk_buff *skb, const struct in6_addr *saddr,
				 const struct in6_addr *daddr, __u32 src_identity)
{
	__be32 endpoint;

	if (!ENCAP_IFINDEX)
		return TC_ACT_OK;
	endpoint = tunnel_endpoint_of(ipcache_lookup6(daddr));
	if (!endpoint)
		return TC_ACT_OK;
	if (!src_identity)
		src_identity = identity_lookup6(saddr);
	return encap_redirect(skb, endpoint, src_identity);
}

#endif /* CPP_BPF_ENCAP_H */
