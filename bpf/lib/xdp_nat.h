/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Address/port rewriting in XDP (DNAT to a backend, SNAT to the node) with
 * the checksums patched by hand (lib/xdp_csum.h): the IPv4 header checksum,
 * and the TCP/UDP checksum, whose pseudo header covers the addresses.
 * The parser accepts only what these rewrites handle: IPv4 without options
 * or fragments, IPv6 without extension headers, TCP and UDP; anything else
 * is left to tc.
 */
#ifndef CPP_BPF_XDP_NAT_H
#define CPP_BPF_XDP_NAT_H

#include <linux/tcp.h>
#include <linux/udp.h>

#include "common.h"
#include "xdp_csum.h"
#include "lb.h"

/* Where the rewritable fields of a parsed frame are: pointers into the
 * packet, valid until it is resized. The tuple itself lives in the
 * struct lb_pkt the parser fills (lib/lb.h), so the LB code reads it
 * unchanged. */
struct xdp_ptrs {
	void *l3;
	__be16 *ports; /* source port; the destination port follows */
	__u16 *l4_csum;
};

/* The L4 part of the parse. Returns 0 when the packet is TCP/UDP with
 * complete headers. */
static __always_inline int xdp_parse_l4(struct xdp_md *ctx, struct lb_pkt *p, struct xdp_ptrs *x,
					void *l4)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	p->l4_off = l4 - data;
	x->ports = l4;
	if (p->t.nexthdr == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end)
			return -1;
		p->t.sport = th->source;
		p->t.dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		x->l4_csum = &th->check;
		return 0;
	}
	if (p->t.nexthdr == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end)
			return -1;
		p->t.sport = uh->source;
		p->t.dport = uh->dest;
		x->l4_csum = &uh->check;
		return 0;
	}
	return -1;
}

static __always_inline int xdp_parse4(struct xdp_md *ctx, struct lb_pkt *p, struct xdp_ptrs *x)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);

	__builtin_memset(p, 0, sizeof(*p));
	if ((void *)(ip + 1) > end)
		return -1;
	if (ip->version != 4 || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return -1;
	x->l3 = ip;
	p->l3_off = sizeof(struct ethhdr);
	p->t.family = CPP_FAMILY_IPV4;
	p->t.nexthdr = ip->protocol;
	p->t.saddr.ip4 = ip->saddr;
	p->t.daddr.ip4 = ip->daddr;
	return xdp_parse_l4(ctx, p, x, ip + 1);
}

static __always_inline int xdp_parse6(struct xdp_md *ctx, struct lb_pkt *p, struct xdp_ptrs *x)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

	__builtin_memset(p, 0, sizeof(*p));
	if ((void *)(ip6 + 1) > end)
		return -1;
	if (ip6->version != 6)
		return -1;
	x->l3 = ip6;
	p->l3_off = sizeof(struct ethhdr);
	p->t.family = CPP_FAMILY_IPV6;
	p->t.nexthdr = ip6->nexthdr;
	__builtin_memcpy(p->t.saddr.ip6, ip6->saddr.s6_addr, 16);
	__builtin_memcpy(p->t.daddr.ip6, ip6->daddr.s6_addr, 16);
	return xdp_parse_l4(ctx, p, x, ip6 + 1);
}

/* Rewrites the source (src) or destination address and port of a parsed
 * packet, fixing the checksums, and the tuple in p with it. Out of line:
 * its own stack frame, off the port allocation's call chain. family is a
 * constant argument: the verifier must know which header it is. */
static __always_inline void __xdp_rewrite(struct lb_pkt *p, const struct xdp_ptrs *x, __u8 family,
					  bool src, const union cpp_addr *addr, __be16 port)
{
	__be16 *pp;
	__u16 *csum;
	__u64 l4diff;

	if (!p || !x || !addr)
		return;
	pp = x->ports + (src ? 0 : 1);
	csum = x->l4_csum;

	l4diff = csum_diff_words(0, (const __u16 *)pp, (const __u16 *)&port, 1);
	*pp = port;
	if (family == CPP_FAMILY_IPV4) {
		struct iphdr *ip = x->l3;
		__be32 *a = src ? &ip->saddr : &ip->daddr;
		__u64 d = csum_diff_words(0, (const __u16 *)a, (const __u16 *)&addr->ip4, 2);

		ip->check = csum_apply(ip->check, d);
		*a = addr->ip4;
		l4diff += d;
		if (p->t.nexthdr == IPPROTO_UDP)
			*csum = csum_apply_udp(*csum, l4diff);
		else
			*csum = csum_apply(*csum, l4diff);
		if (src)
			p->t.saddr.ip4 = addr->ip4;
		else
			p->t.daddr.ip4 = addr->ip4;
	} else {
		struct ipv6hdr *ip6 = x->l3;
		__u16 *a = src ? (__u16 *)ip6->saddr.s6_addr : (__u16 *)ip6->daddr.s6_addr;

		l4diff = csum_diff_words(l4diff, a, (const __u16 *)addr->ip6, 8);
		__builtin_memcpy(a, addr->ip6, 16);
		/* UDP over IPv6 always carries a checksum. */
		*csum = csum_apply(*csum, l4diff);
		__builtin_memcpy(src ? p->t.saddr.ip6 : p->t.daddr.ip6, addr->ip6, 16);
	}
	if (src)
		p->t.sport = port;
	else
		p->t.dport = port;
}

static __noinline void xdp_rewrite_dst(struct lb_pkt *p, const struct xdp_ptrs *x, __u8 family,
				       const union cpp_addr *addr, __be16 port)
{
	__xdp_rewrite(p, x, family, false, addr, port);
}

static __noinline void xdp_rewrite_src(struct lb_pkt *p, const struct xdp_ptrs *x, __u8 family,
				       const union cpp_addr *addr, __be16 port)
{
	__xdp_rewrite(p, x, family, true, addr, port);
}

#endif /* CPP_BPF_XDP_NAT_H */
