/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * service-no-backend-response: reject, in XDP. The request to a frontend
 * without backends becomes, in place, ICMP destination unreachable / port
 * unreachable (IPv4 type 3 code 3, RFC 792) or ICMPv6 destination
 * unreachable / port unreachable (type 1 code 4, RFC 4443) from the
 * frontend to the client, both MACs swapped, sent back with XDP_TX.
 *
 * Growing the head by exactly the new IP + ICMP headers leaves the
 * request's own IP header right behind them, where the quote belongs: only
 * the new headers are written and the tail is cut after the quote. Quoted:
 * the request's IP header and the first 8 bytes of its payload (the ports),
 * for both families. RFC 4443 asks for as much as fits in 1280 bytes where
 * possible; the tc path (lib/lb_reject.h) quotes that much, XDP keeps the
 * fixed-size quote its checksum loop can be verified with. Receivers match
 * the error by the quoted addresses and ports either way.
 *
 * The parser (lib/xdp_nat.h) admitted only IPv4 without options and IPv6
 * without extension headers, so the header sizes are fixed.
 */
#ifndef CPP_BPF_XDP_REJECT_H
#define CPP_BPF_XDP_REJECT_H

#include "common.h"
#include "lb.h"
#include "xdp_csum.h"

#define XDP_REJECT4_PUSH  (20 + 8)               /* IPv4 + ICMP headers */
#define XDP_REJECT4_QUOTE (20 + 8)
#define XDP_REJECT4_LEN   (14 + XDP_REJECT4_PUSH + XDP_REJECT4_QUOTE)
#define XDP_REJECT6_PUSH  (40 + 8)               /* IPv6 + ICMPv6 headers */
#define XDP_REJECT6_QUOTE (40 + 8)
#define XDP_REJECT6_LEN   (14 + XDP_REJECT6_PUSH + XDP_REJECT6_QUOTE)

static __always_inline __u64 xdp_sum_words(__u64 s, const __u16 *w, int words)
{
#pragma unroll
	for (int i = 0; i < words; i++)
		s += w[i];
	return s;
}

/* Grows the head by push bytes and returns the new start with len bytes
 * checked, or NULL. mac gets the request's two MACs first. */
static __always_inline void *xdp_reject_grow(struct xdp_md *ctx, int push, __u32 len, __u8 *mac)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (data + 12 > end)
		return 0;
	__builtin_memcpy(mac, data, 12);
	if (bpf_xdp_adjust_head(ctx, -push))
		return 0;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + len > end)
		return 0;
	return data;
}

static __always_inline void xdp_reject_eth(__u8 *data, const __u8 *mac, __u16 proto)
{
	struct ethhdr *eth = (struct ethhdr *)data;

	__builtin_memcpy(eth->h_dest, mac + 6, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	eth->h_proto = bpf_htons(proto);
}

/* Cuts the frame after the quote. */
static __always_inline int xdp_reject_trim(struct xdp_md *ctx, __u32 len)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	int extra = (int)(end - data) - (int)len;

	if (extra < 0)
		return -1;
	return extra ? bpf_xdp_adjust_tail(ctx, -extra) : 0;
}

/* Rewrites IPv4 request p into the port unreachable answer. 0, or -1 (the
 * frame may be damaged: drop it). */
static __noinline int xdp_reject4(struct xdp_md *ctx, const struct lb_pkt *p)
{
	struct iphdr *ip;
	__u8 mac[12], *data, *icmp;

	if (!p)
		return -1;
	data = xdp_reject_grow(ctx, XDP_REJECT4_PUSH, XDP_REJECT4_LEN, mac);
	if (!data)
		return -1;
	xdp_reject_eth(data, mac, ETH_P_IP);
	ip = (struct iphdr *)(data + 14);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(XDP_REJECT4_PUSH + XDP_REJECT4_QUOTE);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = p->t.daddr.ip4;
	ip->daddr = p->t.saddr.ip4;
	ip->check = csum_ipv4_header((const __u16 *)ip);

	icmp = data + 14 + 20;
	__builtin_memset(icmp, 0, 8);
	icmp[0] = CPP_ICMP_DEST_UNREACH;
	icmp[1] = 3; /* port unreachable */
	*(__u16 *)&icmp[2] = (__u16)~csum_fold32(
		xdp_sum_words(0, (const __u16 *)icmp, (8 + XDP_REJECT4_QUOTE) / 2));
	return xdp_reject_trim(ctx, XDP_REJECT4_LEN);
}

static __noinline int xdp_reject6(struct xdp_md *ctx, const struct lb_pkt *p)
{
	struct ipv6hdr *ip6;
	__u8 mac[12], *data, *icmp;
	__u64 s;

	if (!p)
		return -1;
	data = xdp_reject_grow(ctx, XDP_REJECT6_PUSH, XDP_REJECT6_LEN, mac);
	if (!data)
		return -1;
	xdp_reject_eth(data, mac, ETH_P_IPV6);
	ip6 = (struct ipv6hdr *)(data + 14);
	__builtin_memset(ip6, 0, 8);
	ip6->version = 6;
	ip6->payload_len = bpf_htons(8 + XDP_REJECT6_QUOTE);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	__builtin_memcpy(ip6->saddr.s6_addr, p->t.daddr.ip6, 16);
	__builtin_memcpy(ip6->daddr.s6_addr, p->t.saddr.ip6, 16);

	icmp = data + 14 + 40;
	__builtin_memset(icmp, 0, 8);
	icmp[0] = CPP_ICMP6_DEST_UNREACH;
	icmp[1] = 4; /* port unreachable */
	/* Pseudo header: both addresses, upper-layer length, next header. */
	s = xdp_sum_words(0, (const __u16 *)ip6->saddr.s6_addr, 16);
	s += bpf_htons(8 + XDP_REJECT6_QUOTE) + bpf_htons(IPPROTO_ICMPV6);
	s = xdp_sum_words(s, (const __u16 *)icmp, (8 + XDP_REJECT6_QUOTE) / 2);
	*(__u16 *)&icmp[2] = (__u16)~csum_fold32(s);
	return xdp_reject_trim(ctx, XDP_REJECT6_LEN);
}

#endif /* CPP_BPF_XDP_REJECT_H */
