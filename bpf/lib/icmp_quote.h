/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP errors about translated flows, the part masquerading (nat.h) and
 * service load balancing (lb_icmp.h) share: recognising an error
 * (unreachable, fragmentation needed / packet too big, time exceeded,
 * parameter problem), reading the packet it quotes, and rewriting the
 * quoted and the outer addresses and ports with every checksum kept valid.
 *
 * The quote is the offending packet as it was when it caused the error;
 * only its IP header and first 8 L4 bytes are guaranteed, which covers
 * ports and the echo identifier. The quoted L4 checksum is left alone:
 * receivers match quotes by addresses and ports and never verify it (the
 * quote may be truncated anyway).
 */
#ifndef CPP_BPF_ICMP_QUOTE_H
#define CPP_BPF_ICMP_QUOTE_H

#include "common.h"
#include "conntrack.h"

/* The quoted packet: addresses, "ports" (TCP/UDP ports; an echo request's
 * identifier as source and destination) and where they are. */
struct icmp_quote {
	union cpp_addr saddr;
	union cpp_addr daddr;
	__u32 off;                  /* quoted IP header */
	__u32 sport_off, dport_off; /* the "port" fields */
	__be16 sport, dport;
	__u8 proto;
	__u8 pad[3];
};

static __always_inline bool icmp4_is_error(__u8 type)
{
	return type == CPP_ICMP_DEST_UNREACH || type == CPP_ICMP_TIME_EXCEEDED ||
	       type == CPP_ICMP_PARAMETERPROB;
}

static __always_inline bool icmp6_is_error(__u8 type)
{
	return type == CPP_ICMP6_DEST_UNREACH || type == CPP_ICMP6_PKT_TOOBIG ||
	       type == CPP_ICMP6_TIME_EXCEED || type == CPP_ICMP6_PARAMPROB;
}

/* The quoted packet's ports at off. TCP and UDP always; an echo request
 * (its identifier is its source "port") only if echo_ok. */
static __always_inline bool icmp_quote_ports(struct __sk_buff *skb, __u32 off, bool echo_ok,
					     struct icmp_quote *q)
{
	__u8 l4[8];

	if (bpf_skb_load_bytes(skb, off, l4, sizeof(l4)) < 0)
		return false;
	if (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP) {
		__builtin_memcpy(&q->sport, &l4[0], 2);
		__builtin_memcpy(&q->dport, &l4[2], 2);
		q->sport_off = off;
		q->dport_off = off + 2;
		return true;
	}
	if (echo_ok && ((q->proto == IPPROTO_ICMP && l4[0] == CPP_ICMP_ECHO) ||
			(q->proto == IPPROTO_ICMPV6 && l4[0] == CPP_ICMP6_ECHO_REQUEST))) {
		__builtin_memcpy(&q->sport, &l4[4], 2);
		q->dport = 0;
		q->sport_off = off + 4;
		q->dport_off = off + 4;
		return true;
	}
	return false;
}

/* Is the ICMPv4 message at l4_off an error with a translatable quote?
 * Fills q. */
static __always_inline bool icmp4_error_quote(struct __sk_buff *skb, __u32 l4_off, bool echo_ok,
					      struct icmp_quote *q)
{
	struct iphdr in;
	__u8 type;

	__builtin_memset(q, 0, sizeof(*q));
	if (bpf_skb_load_bytes(skb, l4_off, &type, 1) < 0 || !icmp4_is_error(type))
		return false;
	q->off = l4_off + 8;
	if (bpf_skb_load_bytes(skb, q->off, &in, sizeof(in)) < 0 || in.ihl < 5)
		return false;
	q->saddr.ip4 = in.saddr;
	q->daddr.ip4 = in.daddr;
	q->proto = in.protocol;
	return icmp_quote_ports(skb, q->off + in.ihl * 4, echo_ok, q);
}

/* ICMPv6. Extension headers inside the quote are not walked. */
static __always_inline bool icmp6_error_quote(struct __sk_buff *skb, __u32 l4_off, bool echo_ok,
					      struct icmp_quote *q)
{
	struct ipv6hdr in;
	__u8 type;

	__builtin_memset(q, 0, sizeof(*q));
	if (bpf_skb_load_bytes(skb, l4_off, &type, 1) < 0 || !icmp6_is_error(type))
		return false;
	q->off = l4_off + 8;
	if (bpf_skb_load_bytes(skb, q->off, &in, sizeof(in)) < 0)
		return false;
	__builtin_memcpy(q->saddr.ip6, in.saddr.s6_addr, 16);
	__builtin_memcpy(q->daddr.ip6, in.daddr.s6_addr, 16);
	q->proto = in.nexthdr;
	return icmp_quote_ports(skb, q->off + sizeof(in), echo_ok, q);
}

/* The quoted port at off changes: the ICMP checksum covers it. */
static __always_inline int icmp_quote_set_port(struct __sk_buff *skb, __u32 l4_off, __u32 off,
					       __be16 old, __be16 to)
{
	if (old == to)
		return 0;
	if (bpf_l4_csum_replace(skb, l4_off + 2, old, to, 2) < 0 ||
	    bpf_skb_store_bytes(skb, off, &to, 2, 0) < 0)
		return -1;
	return 0;
}

/* IPv4: the quoted source (src) or destination becomes to:to_port. The
 * quote's header checksum changes by the opposite amount of its address,
 * so the ICMP checksum over both stays valid. 0 or -1. */
static __always_inline int icmp4_quote_set(struct __sk_buff *skb, __u32 l4_off,
					   const struct icmp_quote *q, bool src, __be32 to,
					   __be16 to_port)
{
	__be32 old = src ? q->saddr.ip4 : q->daddr.ip4;
	__u32 addr_off = q->off + (src ? offsetof(struct iphdr, saddr)
				       : offsetof(struct iphdr, daddr));

	if (old != to &&
	    (bpf_l3_csum_replace(skb, q->off + offsetof(struct iphdr, check), old, to, 4) < 0 ||
	     bpf_skb_store_bytes(skb, addr_off, &to, 4, 0) < 0))
		return -1;
	return icmp_quote_set_port(skb, l4_off, src ? q->sport_off : q->dport_off,
				   src ? q->sport : q->dport, to_port);
}

/* IPv4: the outer source (src) or destination changes from old to to;
 * ICMPv4's checksum has no pseudo header. 0 or -1. */
static __always_inline int icmp4_outer_set(struct __sk_buff *skb, bool src, __be32 old, __be32 to)
{
	__u32 l3 = sizeof(struct ethhdr);
	__u32 off = l3 + (src ? offsetof(struct iphdr, saddr) : offsetof(struct iphdr, daddr));

	if (old == to)
		return 0;
	if (bpf_l3_csum_replace(skb, l3 + offsetof(struct iphdr, check), old, to, 4) < 0 ||
	    bpf_skb_store_bytes(skb, off, &to, 4, 0) < 0)
		return -1;
	return 0;
}

/* IPv6 address at off from old to to; pseudo: the address is in the
 * pseudo header (outer) rather than in the checksummed data (quote). */
static __always_inline int icmp6_set_addr(struct __sk_buff *skb, __u32 l4_off, __u32 off,
					  const __u8 *old, const __u8 *to, bool pseudo)
{
	__u32 o[4], n[4];
	__s64 diff;

	__builtin_memcpy(o, old, 16);
	__builtin_memcpy(n, to, 16);
	if (o[0] == n[0] && o[1] == n[1] && o[2] == n[2] && o[3] == n[3])
		return 0;
	diff = bpf_csum_diff(o, sizeof(o), n, sizeof(n), 0);
	if (diff < 0 ||
	    bpf_l4_csum_replace(skb, l4_off + 2, 0, diff, pseudo ? BPF_F_PSEUDO_HDR : 0) < 0 ||
	    bpf_skb_store_bytes(skb, off, n, 16, 0) < 0)
		return -1;
	return 0;
}

/* IPv6: the quoted source (src) or destination becomes to:to_port. 0 or -1. */
static __always_inline int icmp6_quote_set(struct __sk_buff *skb, __u32 l4_off,
					   const struct icmp_quote *q, bool src, const __u8 *to,
					   __be16 to_port)
{
	__u32 addr_off = q->off + (src ? offsetof(struct ipv6hdr, saddr)
				       : offsetof(struct ipv6hdr, daddr));

	if (icmp6_set_addr(skb, l4_off, addr_off, src ? q->saddr.ip6 : q->daddr.ip6, to, false) < 0)
		return -1;
	return icmp_quote_set_port(skb, l4_off, src ? q->sport_off : q->dport_off,
				   src ? q->sport : q->dport, to_port);
}

/* IPv6: the outer source (src) or destination changes from old to to. */
static __always_inline int icmp6_outer_set(struct __sk_buff *skb, __u32 l4_off, bool src,
					   const __u8 *old, const __u8 *to)
{
	__u32 off = sizeof(struct ethhdr) +
		    (src ? offsetof(struct ipv6hdr, saddr) : offsetof(struct ipv6hdr, daddr));

	return icmp6_set_addr(skb, l4_off, off, old, to, true);
}

#endif /* CPP_BPF_ICMP_QUOTE_H */
