/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Hairpin: a pod reaching a frontend whose chosen backend is the pod
 * itself (per-packet LB in bpf_lxc). Translated only at the destination,
 * the request would carry the pod's address at both ends and the pod's
 * stack would take its own reply for a local packet. As upstream, the
 * source is also translated, to the service loopback address
 * (ipv4-service-loopback-address 169.254.42.1, ipv6-service-loopback-address
 * fe80::1 by default), and the request goes straight back into the pod:
 *
 *   request  pod:c -> fe:f        becomes  loopback:c -> pod:b
 *   reply    pod:b -> loopback:c  becomes  fe:f -> pod:c
 *
 * The connection's SVC and REV entries carry CPP_LB_CT_F_LOOPBACK; the REV
 * key is {pod:b, pod:c} (client and backend are the same address), which a
 * reply matches with its loopback destination replaced by the pod's own
 * address. Neither direction passes policy: a pod talking to itself is
 * not subject to it (as upstream's loopback flows).
 */
#ifndef CPP_BPF_LB_HAIRPIN_H
#define CPP_BPF_LB_HAIRPIN_H

#include "common.h"
#include "lb.h"

/* Load-time settings (bpf_lxc only reads them; the loader sets them from
 * the two options above). Network order. */
const volatile __be32 LB_IPV4_LOOPBACK = bpf_htonl(0xa9fe2a01); /* 169.254.42.1 */
const volatile __u8 LB_IPV6_LOOPBACK[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0,
					     0, 0, 0, 0, 0, 0, 0, 1}; /* fe80::1 */

static __always_inline void lb_loopback_addr(union cpp_addr *a, __u8 family)
{
	__builtin_memset(a, 0, sizeof(*a));
	if (family == CPP_FAMILY_IPV4) {
		a->ip4 = LB_IPV4_LOOPBACK;
		return;
	}
#pragma unroll
	for (int i = 0; i < 16; i++)
		a->ip6[i] = LB_IPV6_LOOPBACK[i];
}

/* Does packet p (from the pod) go to the service loopback address? */
static __always_inline bool lb_to_loopback(const struct lb_pkt *p)
{
	union cpp_addr lo;

	lb_loopback_addr(&lo, p->t.family);
	return lb_addr_equal(&p->t.daddr, &lo, p->t.family);
}

/* The request p (frontend as destination) whose backend sel is its own
 * source: commits a new connection as loopback, rewrites both ends. The
 * caller sends it back into the pod. 0 or -1 (drop). */
static __noinline int lb_hairpin_fwd(struct __sk_buff *skb, const struct lb_pkt *p,
				     const struct lb_sel *sel)
{
	union cpp_addr lo;

	if (!p || !sel)
		return -1;
	lb_loopback_addr(&lo, p->t.family);
	if (p->t.family == CPP_FAMILY_IPV4) {
		if (!sel->existing)
			lb4_ct_commit(p, sel, CPP_LB_CT_F_LOOPBACK, 0);
		if (lb4_dnat(skb, p, sel) < 0 || lb4_rewrite(skb, p, true, lo.ip4, p->t.sport) < 0)
			return -1;
		return 0;
	}
	if (!sel->existing)
		lb6_ct_commit(p, sel, CPP_LB_CT_F_LOOPBACK, 0);
	if (lb6_dnat(skb, p, sel) < 0 || lb6_rewrite(skb, p, true, &lo, p->t.sport) < 0)
		return -1;
	return 0;
}

/* A packet p the pod sends to the loopback address: if it is the reply of
 * a hairpin connection (self: the pod's address), the frontend becomes its
 * source and the pod its destination. 1 translated (the caller sends it
 * back into the pod), 0 not one (untouched), -1 rewrite failed (drop). */
static __noinline int lb_hairpin_rev(struct __sk_buff *skb, struct lb_pkt *p,
				     const union cpp_addr *self)
{
	union cpp_addr lo;
	struct lb_rev rev;
	int found;

	if (!p || !self)
		return 0;
	__builtin_memcpy(&lo, &p->t.daddr, sizeof(lo));
	__builtin_memcpy(&p->t.daddr, self, sizeof(p->t.daddr));
	found = p->t.family == CPP_FAMILY_IPV4 ? __lb_rev_find(p, &rev, CPP_FAMILY_IPV4)
					       : __lb_rev_find(p, &rev, CPP_FAMILY_IPV6);
	__builtin_memcpy(&p->t.daddr, &lo, sizeof(p->t.daddr));
	if (!found || !(rev.flags & CPP_LB_CT_F_LOOPBACK))
		return 0;
	if (p->t.family == CPP_FAMILY_IPV4) {
		if (lb4_rewrite(skb, p, true, rev.addr.ip4, rev.port) < 0 ||
		    lb4_rewrite(skb, p, false, self->ip4, p->t.dport) < 0)
			return -1;
		return 1;
	}
	if (lb6_rewrite(skb, p, true, &rev.addr, rev.port) < 0 ||
	    lb6_rewrite(skb, p, false, self, p->t.dport) < 0)
		return -1;
	return 1;
}

#endif /* CPP_BPF_LB_HAIRPIN_H */
