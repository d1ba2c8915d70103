/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Ethernet header access and MAC helpers. */
#ifndef CPP_BPF_ETH_H
#define CPP_BPF_ETH_H

#include "common.h"

static __always_inline int eth_load(struct __sk_buff *skb, struct ethhdr *eth)
{
	return bpf_skb_load_bytes(skb, 0, eth, sizeof(*eth));
}

/* Copies a MAC out of .rodata. The source is `volatile`, so
 * __builtin_memcpy cannot be used; six byte moves are what it would emit
 * anyway. */
static __always_inline void mac_copy_cfg(__u8 *dst, const volatile __u8 *src)
{
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++)
		dst[i] = src[i];
}

/* Sets both MACs of the frame, e.g. before delivering it into a pod whose
 * stack only accepts frames addressed to its own MAC. */
static __always_inline int eth_store_macs(struct __sk_buff *skb, const __u8 *dst,
					  const __u8 *src)
{
	if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), dst, ETH_ALEN, 0) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_source), src, ETH_ALEN, 0);
}

#endif /* CPP_BPF_ETH_H */
