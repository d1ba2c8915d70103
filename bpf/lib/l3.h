/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Forwarding bookkeeping. A packet the datapath moves from one pod straight
 * into another skips the kernel's forwarding path, so it must do what that
 * path does: count the hop (TTL / hop limit) and, for IPv4, keep the header
 * checksum valid. A packet with no hop left is dropped, as a router would.
 */
#ifndef CPP_BPF_L3_H
#define CPP_BPF_L3_H

#include "common.h"

/* Decrements the TTL of the IPv4 header at l3_off (ip4 is a copy of it).
 * Returns 0, or -1 when the TTL is exhausted or the packet can't be written. */
static __always_inline int ipv4_dec_ttl(struct __sk_buff *skb, __u32 l3_off,
					const struct iphdr *ip4)
{
	__u8 new_ttl;

	if (ip4->ttl <= 1)
		return -1;
	new_ttl = ip4->ttl - 1;

	/* The TTL is the high byte of the 16-bit word it shares with the
	 * protocol; patch the checksum for that word (RFC 1624). */
	if (bpf_l3_csum_replace(skb, l3_off + offsetof(struct iphdr, check),
				bpf_htons((__u16)ip4->ttl << 8), bpf_htons((__u16)new_ttl << 8),
				sizeof(__u16)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, l3_off + offsetof(struct iphdr, ttl), &new_ttl,
				   sizeof(new_ttl), 0);
}

/* IPv6 has no header checksum; only the hop limit changes. */
static __always_inline int ipv6_dec_hoplimit(struct __sk_buff *skb, __u32 l3_off,
					     const struct ipv6hdr *ip6)
{
	__u8 new_hl;

	if (ip6->hop_limit <= 1)
		return -1;
	new_hl = ip6->hop_limit - 1;
	return bpf_skb_store_bytes(skb, l3_off + offsetof(struct ipv6hdr, hop_limit), &new_hl,
				   sizeof(new_hl), 0);
}

#endif /* CPP_BPF_L3_H */
