/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * service-no-backend-response: reject. The request to a frontend without
 * backends is turned, in place, into the answer a host without a listener
 * would give: ICMP destination unreachable / port unreachable (IPv4 type 3
 * code 3, RFC 792) or ICMPv6 destination unreachable / port unreachable
 * (type 1 code 4, RFC 4443), from the frontend to the client, both MACs
 * swapped. Upstream answers TCP the same way. The caller sends the result
 * back where the request came from (bpf_redirect to the lxc's egress, or
 * out of the device it arrived on).
 *
 * Quoted: IPv4, the original IP header and the first 8 bytes of its
 * payload; IPv6, as much of the original packet as keeps the answer within
 * the minimum MTU of 1280 bytes. The message is assembled in a per-CPU
 * scratch buffer (an IPv6 quote is up to 1232 bytes, far beyond the
 * stack), written over the packet and the packet cut to its length.
 * bpf_csum_diff takes at most 512 bytes at a time, hence the chunks.
 *
 * A request the stack sent with CHECKSUM_PARTIAL (a pod's TCP SYN) keeps
 * that mark; the receiving stack then skips verifying the ICMP checksum,
 * which is nonetheless written correctly.
 */
#ifndef CPP_BPF_LB_REJECT_H
#define CPP_BPF_LB_REJECT_H

#include "common.h"
#include "lb.h"

#define LB_ICMP4_HDRS      (20 + 8)       /* new IPv4 header + ICMP header */
#define LB_ICMP6_HDRS      (40 + 8)
#define LB_ICMP6_QUOTE_MAX (1280 - LB_ICMP6_HDRS)
#define LB_CSUM_CHUNK      512
#define LB_SCRATCH_BYTES   (40 + 3 * LB_CSUM_CHUNK) /* every chunk window stays inside */

struct lb_scratch {
	__u8 b[LB_SCRATCH_BYTES];
};

/* Not pinned: scratch space, private to each program object. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct lb_scratch);
	__uint(max_entries, 1);
} cpp_lb_scratch SEC(".maps");

static __always_inline __u16 lb_csum_fold(__s64 csum)
{
	__u32 s = (__u32)csum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* Swaps the frame's MACs: the answer goes back to whoever sent the request. */
static __always_inline int lb_swap_macs(struct __sk_buff *skb)
{
	__u8 macs[12], sw[12];

	if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)) < 0)
		return -1;
	__builtin_memcpy(sw, macs + 6, 6);
	__builtin_memcpy(sw + 6, macs, 6);
	return bpf_skb_store_bytes(skb, 0, sw, sizeof(sw), 0);
}

/* Rewrites IPv4 TCP/UDP request p into an ICMP port unreachable from its
 * destination (the frontend) to its source. 0, or -1 (the packet may be
 * damaged: drop it). */
static __noinline int lb4_reject(struct __sk_buff *skb, const struct lb_pkt *p)
{
	struct lb_scratch *s;
	struct iphdr *ip;
	__u32 zero = 0, quote, len;
	__u8 *icmp;
	__u8 ihl;

	if (!p)
		return -1;
	s = bpf_map_lookup_elem(&cpp_lb_scratch, &zero);
	if (!s)
		return -1;
	if (bpf_skb_load_bytes(skb, p->l3_off, &ihl, 1) < 0)
		return -1;
	/* The original IP header (options included) and 8 bytes. */
	quote = (ihl & 0x0f) * 4 + 8;
	if (quote < 28 || quote > 68 || skb->len < p->l3_off + quote)
		return -1;
	if (bpf_skb_load_bytes(skb, p->l3_off, &s->b[LB_ICMP4_HDRS], quote) < 0)
		return -1;

	ip = (struct iphdr *)s->b;
	__builtin_memset(ip, 0, LB_ICMP4_HDRS);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = bpf_htons(LB_ICMP4_HDRS + quote);
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = p->t.daddr.ip4;
	ip->daddr = p->t.saddr.ip4;
	ip->check = lb_csum_fold(bpf_csum_diff(0, 0, (__be32 *)s->b, 20, 0));

	icmp = &s->b[20];
	icmp[0] = CPP_ICMP_DEST_UNREACH;
	icmp[1] = 3; /* port unreachable */
	/* The quote is a multiple of 4 bytes (ihl * 4 + 8). */
	len = 8 + quote;
	if (len > 76)
		return -1;
	*(__u16 *)&icmp[2] = lb_csum_fold(bpf_csum_diff(0, 0, (__be32 *)icmp, len, 0));

	len = LB_ICMP4_HDRS + quote;
	if (len > 96)
		return -1;
	if (bpf_skb_change_tail(skb, p->l3_off + len, 0) < 0 ||
	    bpf_skb_store_bytes(skb, p->l3_off, s->b, len, 0) < 0)
		return -1;
	return lb_swap_macs(skb);
}

/* The same for IPv6: ICMPv6 port unreachable, quoting as much of the
 * request as fits in 1280 bytes. */
static __noinline int lb6_reject(struct __sk_buff *skb, const struct lb_pkt *p)
{
	struct lb_scratch *s;
	struct ipv6hdr *ip6;
	__u32 zero = 0, quote, padded, pseudo[2];
	__s64 sum;

	if (!p)
		return -1;
	s = bpf_map_lookup_elem(&cpp_lb_scratch, &zero);
	if (!s)
		return -1;
	if (skb->len <= p->l3_off + sizeof(struct ipv6hdr))
		return -1;
	quote = skb->len - p->l3_off;
	if (quote > LB_ICMP6_QUOTE_MAX)
		quote = LB_ICMP6_QUOTE_MAX;
	if (quote < 1)
		return -1;
	if (bpf_skb_load_bytes(skb, p->l3_off, &s->b[LB_ICMP6_HDRS], quote) < 0)
		return -1;
	/* Zero up to the next 4-byte boundary: the checksum runs over whole
	 * words, and zeros add nothing. */
	padded = LB_ICMP6_HDRS + quote;
	if (padded > LB_SCRATCH_BYTES - 4)
		return -1;
	*(__u32 *)&s->b[padded] = 0;
	padded = (quote + 3) & ~3u;

	ip6 = (struct ipv6hdr *)s->b;
	__builtin_memset(ip6, 0, LB_ICMP6_HDRS);
	ip6->version = 6;
	ip6->payload_len = bpf_htons(8 + quote);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	__builtin_memcpy(ip6->saddr.s6_addr, p->t.daddr.ip6, 16);
	__builtin_memcpy(ip6->daddr.s6_addr, p->t.saddr.ip6, 16);
	s->b[40] = CPP_ICMP6_DEST_UNREACH;
	s->b[41] = 4; /* port unreachable */

	/* Pseudo header: both addresses (contiguous in the header), the
	 * upper-layer length and the next header. */
	pseudo[0] = bpf_htonl(8 + quote);
	pseudo[1] = bpf_htonl(IPPROTO_ICMPV6);
	sum = bpf_csum_diff(0, 0, (__be32 *)&s->b[8], 32, 0);
	sum = bpf_csum_diff(0, 0, pseudo, sizeof(pseudo), sum);
	padded += 8;
	for (__u32 c = 0; c < 3; c++) {
		__u32 off = LB_ICMP6_HDRS - 8 + c * LB_CSUM_CHUNK;
		__u32 n;

		if (padded <= c * LB_CSUM_CHUNK)
			break;
		n = padded - c * LB_CSUM_CHUNK;
		if (n > LB_CSUM_CHUNK)
			n = LB_CSUM_CHUNK;
		if (off > LB_SCRATCH_BYTES - LB_CSUM_CHUNK)
			return -1;
		sum = bpf_csum_diff(0, 0, (__be32 *)&s->b[off], n & ~3u, sum);
	}
	*(__u16 *)&s->b[42] = lb_csum_fold(sum);

	padded = LB_ICMP6_HDRS + quote;
	if (padded > 1280)
		return -1;
	if (bpf_skb_change_tail(skb, p->l3_off + padded, 0) < 0 ||
	    bpf_skb_store_bytes(skb, p->l3_off, s->b, padded, 0) < 0)
		return -1;
	return lb_swap_macs(skb);
}

#endif /* CPP_BPF_LB_REJECT_H */
