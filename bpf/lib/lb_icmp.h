/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP errors about per-packet-translated service connections. A backend
 * (or a router between client and backend) answers a translated request
 * with an error (port unreachable, fragmentation needed / packet too big,
 * time exceeded, parameter problem) that quotes client:cport ->
 * backend:bport. The client's socket is connected to the frontend and only
 * matches a quote of client:cport -> frontend:fport, so the quoted
 * destination is put back to the frontend, and the outer source too when
 * it is the backend itself (as upstream; a router's address stays). Found
 * by the connection's REV entry, the quote reversed. Parsing and checksum
 * work: icmp_quote.h (shared with masquerading).
 */
#ifndef CPP_BPF_LB_ICMP_H
#define CPP_BPF_LB_ICMP_H

#include "common.h"
#include "icmp_quote.h"
#include "lb.h"

static __always_inline int __lb_icmp_error_rev(struct __sk_buff *skb, __u32 l4_off,
					       __be32 outer_saddr4, struct lb_rev *rev,
					       __u8 family)
{
	struct icmp_quote q;
	struct lb_pkt p;
	__u8 outer6[16];

	if (family == CPP_FAMILY_IPV4 ? !icmp4_error_quote(skb, l4_off, false, &q)
				      : !icmp6_error_quote(skb, l4_off, false, &q))
		return 0;
	__builtin_memset(&p, 0, sizeof(p));
	p.t.family = family;
	p.t.nexthdr = q.proto;
	__builtin_memcpy(&p.t.saddr, &q.daddr, sizeof(p.t.saddr));
	__builtin_memcpy(&p.t.daddr, &q.saddr, sizeof(p.t.daddr));
	p.t.sport = q.dport;
	p.t.dport = q.sport;
	if (!__lb_rev_find(&p, rev, family))
		return 0;
	if (family == CPP_FAMILY_IPV4) {
		if (outer_saddr4 == q.daddr.ip4 &&
		    icmp4_outer_set(skb, true, outer_saddr4, rev->addr.ip4) < 0)
			return -1;
		return icmp4_quote_set(skb, l4_off, &q, false, rev->addr.ip4, rev->port) < 0 ? -1
											: 1;
	}
	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + offsetof(struct ipv6hdr, saddr),
			       outer6, 16) < 0)
		return -1;
	if (ipv6_equal((const struct in6_addr *)outer6, (const struct in6_addr *)q.daddr.ip6) &&
	    icmp6_outer_set(skb, l4_off, true, outer6, rev->addr.ip6) < 0)
		return -1;
	return icmp6_quote_set(skb, l4_off, &q, false, rev->addr.ip6, rev->port) < 0 ? -1 : 1;
}

/* Reverse translation of the ICMP error at l4_off (ICMP header) sent
 * towards a client of a translated connection. 1 translated (rev holds the
 * REV entry: a CPP_LB_CT_F_EXTERNAL one tells the caller where the error
 * has to leave), 0 not about one (untouched), -1 rewrite failed (drop). */
static __noinline int lb4_icmp_error_rev(struct __sk_buff *skb, __u32 l4_off, struct lb_rev *rev)
{
	__be32 saddr;

	if (!rev || bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, saddr),
				       &saddr, 4) < 0)
		return 0;
	return __lb_icmp_error_rev(skb, l4_off, saddr, rev, CPP_FAMILY_IPV4);
}

static __noinline int lb6_icmp_error_rev(struct __sk_buff *skb, __u32 l4_off, struct lb_rev *rev)
{
	if (!rev)
		return 0;
	return __lb_icmp_error_rev(skb, l4_off, 0, rev, CPP_FAMILY_IPV6);
}

#endif /* CPP_BPF_LB_ICMP_H */
