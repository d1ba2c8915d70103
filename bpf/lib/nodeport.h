/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NodePort / LoadBalancer / ExternalIP (and ClusterIP with
 * bpf-lb-external-clusterip) for traffic arriving from outside the
 * cluster on the node's native device: the EXT scope of lib/lb.h, SNAT
 * mode, as upstream's kube-proxy replacement.
 *
 *   local backend  (a pod of this node): DNAT only, the client's address
 *                  stays (the pod sees who connected); the stack routes
 *                  the packet via cilium_host, bpf_host runs the pod's
 *                  ingress policy. Its answers are reverse-translated by
 *                  bpf_lxc and sent out with bpf_redirect_neigh.
 *   remote backend (ipcache entry with a tunnel endpoint): DNAT and SNAT
 *                  to this node's address (the masquerading entries of
 *                  lib/nat.h, so snat_ingress finds the answer), then VXLAN
 *                  to the backend's node with VNI host (it sees
 *                  remote-node). Answers come back to node:port, through
 *                  the tunnel (bpf_overlay) or on the native device
 *                  (bpf_netdev) depending on how the backend's node routes
 *                  to us; both do snat_ingress, then the LB reverse NAT
 *                  (source = the frontend), and redirect_neigh out of the
 *                  device the request came in on (ifindex of the REV
 *                  entry).
 *   other backends (routed natively, or the node itself): DNAT and SNAT,
 *                  then the stack routes it; the answer comes back to the
 *                  native device like the remote case.
 *
 * The choice (lbN_fwd_select) and the entries (lbN_ct_commit,
 * np_snat_port) are context-free, so bpf_xdp.c makes exactly the same ones
 * and either program can handle the next packet of a flow.
 */
#ifndef CPP_BPF_NODEPORT_H
#define CPP_BPF_NODEPORT_H

#include "common.h"
#include "encap.h"
#include "endpoint.h"
#include "events.h"
#include "lb.h"
#include "nat.h"

enum np_where {
	NP_BE_LOCAL = 0, /* a pod of this node */
	NP_BE_TUNNEL,    /* behind a tunnel endpoint (tunnel routing mode) */
	NP_BE_ROUTED,    /* anything else: the stack routes it */
};

/* Where backend addr lives; *tunnel gets the endpoint for NP_BE_TUNNEL.
 * Without an overlay (ENCAP_IFINDEX 0) nothing is tunnelled. */
static __noinline int np_backend_where(__u8 family, const union cpp_addr *addr, __be32 *tunnel)
{
	const struct cpp_endpoint_info *ep;
	const struct cpp_ipcache_value *ic;

	if (!addr || !tunnel)
		return NP_BE_ROUTED;
	if (family == CPP_FAMILY_IPV4)
		ep = lookup_ip4_endpoint(addr->ip4);
	else
		ep = lookup_ip6_endpoint((const struct in6_addr *)addr->ip6);
	if (endpoint_is_local_pod(ep))
		return NP_BE_LOCAL;
	if (!ENCAP_IFINDEX)
		return NP_BE_ROUTED;
	if (family == CPP_FAMILY_IPV4)
		ic = ipcache_lookup4(addr->ip4);
	else
		ic = ipcache_lookup6((const struct in6_addr *)addr->ip6);
	*tunnel = tunnel_endpoint_of(ic);
	return *tunnel ? NP_BE_TUNNEL : NP_BE_ROUTED;
}

/* The node's address of this family (the masquerade address of lib/nat.h);
 * false when the family has none. */
static __always_inline bool np_node_addr(__u8 family, union cpp_addr *node)
{
	__u8 any = 0;

	__builtin_memset(node, 0, sizeof(*node));
	if (family == CPP_FAMILY_IPV4) {
		node->ip4 = NAT_IPV4;
		return node->ip4 != 0;
	}
#pragma unroll
	for (int i = 0; i < 16; i++) {
		node->ip6[i] = NAT_IPV6[i];
		any |= node->ip6[i];
	}
	return any != 0;
}

/* What the NodePort path keeps while the port allocation runs below it
 * (nat_allocate -> nat_try_port needs most of the 512 bytes one call
 * chain has): off the stack. Per CPU and not pinned; these programs run
 * in softirq context and never nest on one CPU. */
struct np_scratch {
	struct nat_tuple t;
	union cpp_addr node;
	struct lb_pkt p;   /* __nodeport_fwd's request */
	struct lb_sel sel; /* and its backend */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct np_scratch);
	__uint(max_entries, 1);
} cpp_np_scratch SEC(".maps");

/* The node port of the SNAT of request p after DNAT to sel (client ->
 * backend): the live mapping's, else a new one allocated as masquerading
 * does (same port range, same collision rules, both cpp_snatN entries), so
 * snat_ingress translates the answers. 0 when no port is free or the
 * family has no node address. ctx: skb or xdp_md (only used for the
 * node-socket lookups, which both program types have). */
static __noinline __be16 np_snat_port(void *ctx, __u8 family, const struct lb_pkt *p,
				      const struct lb_sel *sel)
{
	struct cpp_nat_value *v, ev;
	union {
		struct cpp_nat_key4 k4;
		struct cpp_nat_key6 k6;
	} key;
	struct np_scratch *s;
	__u64 now = ct_now();
	__be16 prev = 0, port;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&cpp_np_scratch, &zero);
	if (!s || !p || !sel || !np_node_addr(family, &s->node))
		return 0;
	__builtin_memset(&s->t, 0, sizeof(s->t));
	__builtin_memcpy(&s->t.saddr, &p->t.saddr, sizeof(s->t.saddr));
	__builtin_memcpy(&s->t.daddr, &sel->addr, sizeof(s->t.daddr));
	s->t.sport = p->t.sport;
	s->t.dport = sel->port;
	s->t.nexthdr = p->t.nexthdr;
	s->t.tcp_flags = p->tcp_flags;
	if (family == CPP_FAMILY_IPV4)
		nat_key4(&key.k4, s->t.saddr.ip4, s->t.daddr.ip4, s->t.sport, s->t.dport,
			 s->t.nexthdr, CPP_NAT_EGRESS);
	else
		nat_key6(&key.k6, s->t.saddr.ip6, s->t.daddr.ip6, s->t.sport, s->t.dport,
			 s->t.nexthdr, CPP_NAT_EGRESS);
	v = bpf_map_lookup_elem(nat_map(family), &key);
	if (nat_alive(v, now)) {
		__u64 deadline = v->expires_ns;

		nat_refresh(v, &s->t, now);
		port = v->to_port;
		if (v->expires_ns != deadline)
			nat_restore_reply_entry(family, &s->t, &s->node, port);
		return port;
	}
	if (v)
		prev = v->to_port;
	port = nat_allocate(ctx, family, &s->t, &s->node, prev);
	if (!port)
		return 0;
	nat_value_init(&ev, &s->t, &s->node, port, now);
	if (bpf_map_update_elem(nat_map(family), &key, &ev, BPF_ANY) < 0)
		return 0;
	return port;
}

/* A drop of a parsed request (events.h has only skb-based helpers for
 * unparsed packets). */
static __always_inline void np_event_drop(const struct lb_pkt *p, __u8 reason, __u32 ifindex,
					  __u32 len)
{
	struct cpp_event *ev;

	metrics_count(reason, CPP_METRIC_INGRESS, len);
	ev = event_reserve();
	if (!ev)
		return;
	ev->type = CPP_EVENT_DROP;
	ev->reason = reason;
	ev->direction = CPP_DIR_INGRESS;
	ev->tcp_flags = p->tcp_flags;
	ev->family = p->t.family;
	ev->protocol = p->t.nexthdr;
	__builtin_memcpy(&ev->saddr, &p->t.saddr, sizeof(ev->saddr));
	__builtin_memcpy(&ev->daddr, &p->t.daddr, sizeof(ev->daddr));
	ev->sport = p->t.sport;
	ev->dport = p->t.dport;
	ev->ifindex = ifindex;
	ev->len = len;
	event_submit(ev);
}

/* --- tc: the native device's ingress ---------------------------------------- */

#define NP_CONTINUE -1 /* not a frontend: the caller goes on */

/* Parses a TCP/UDP packet whose L4 header follows the IP header directly
 * (no IPv4 fragments, no IPv6 extension headers). 0 or -1. */
static __noinline int np_parse(struct __sk_buff *skb, __u8 family, struct lb_pkt *p)
{
	__u32 l3 = sizeof(struct ethhdr);
	__u8 l4[14];

	if (!p)
		return -1;
	__builtin_memset(p, 0, sizeof(*p));
	p->l3_off = l3;
	p->t.family = family;
	if (family == CPP_FAMILY_IPV4) {
		struct iphdr ip4;

		if (bpf_skb_load_bytes(skb, l3, &ip4, sizeof(ip4)) < 0 || ip4.ihl < 5 ||
		    (ip4.frag_off & bpf_htons(0x3fff)))
			return -1;
		p->t.saddr.ip4 = ip4.saddr;
		p->t.daddr.ip4 = ip4.daddr;
		p->t.nexthdr = ip4.protocol;
		p->l4_off = l3 + ip4.ihl * 4;
	} else {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, l3, &ip6, sizeof(ip6)) < 0)
			return -1;
		__builtin_memcpy(p->t.saddr.ip6, ip6.saddr.s6_addr, 16);
		__builtin_memcpy(p->t.daddr.ip6, ip6.daddr.s6_addr, 16);
		p->t.nexthdr = ip6.nexthdr;
		p->l4_off = l3 + sizeof(ip6);
	}
	if (!lb_proto_supported(p->t.nexthdr))
		return -1;
	if (bpf_skb_load_bytes(skb, p->l4_off, l4, p->t.nexthdr == IPPROTO_TCP ? 14 : 8) < 0)
		return -1;
	__builtin_memcpy(&p->t.sport, &l4[0], 2);
	__builtin_memcpy(&p->t.dport, &l4[2], 2);
	if (p->t.nexthdr == IPPROTO_TCP)
		p->tcp_flags = l4[13];
	return 0;
}

/* No backend: ICMP port unreachable back out of the device the request
 * came in on (service-no-backend-response: reject), or drop. */
static __always_inline int np_no_backend(struct __sk_buff *skb, __u8 family,
					 const struct lb_pkt *p)
{
	if (LB_NO_BACKEND_REJECT) {
		int err = family == CPP_FAMILY_IPV4 ? lb4_reject(skb, p) : lb6_reject(skb, p);

		if (err == 0)
			return bpf_redirect(skb->ifindex, 0);
		np_event_drop(p, CPP_DROP_INVALID, skb->ifindex, skb->len);
		return TC_ACT_SHOT;
	}
	np_event_drop(p, CPP_DROP_NO_SERVICE, skb->ifindex, skb->len);
	return TC_ACT_SHOT;
}

static __always_inline int np_rewrite(struct __sk_buff *skb, __u8 family, const struct lb_pkt *p,
				      bool src, const union cpp_addr *to, __be16 port)
{
	if (family == CPP_FAMILY_IPV4)
		return lb4_rewrite(skb, p, src, to->ip4, port);
	return lb6_rewrite(skb, p, src, to, port);
}

/* The source becomes node:port (after np_snat_port). */
static __noinline int np_snat_rewrite(struct __sk_buff *skb, __u8 family, const struct lb_pkt *p,
				      __be16 port)
{
	union cpp_addr node;

	if (!p || !np_node_addr(family, &node))
		return -1;
	return np_rewrite(skb, family, p, true, &node, port);
}

/* A translated request leaving at obs (CPP_OBS_*): counted as forwarded,
 * traced as MONITOR_AGGREGATION allows (a new LB entry, or FIN/RST on an
 * existing one, counts as a connection event) with the frontend it was
 * sent to as the original destination. */
static __noinline void np_trace(struct __sk_buff *skb, const struct np_scratch *s, __u8 obs)
{
	struct cpp_event *ev;
	bool notify;

	if (!s)
		return;
	metrics_count(0, CPP_METRIC_INGRESS, skb->len);
	notify = !s->sel.existing || (s->p.tcp_flags & (CPP_TCP_FIN | CPP_TCP_RST));
	if (!trace_wanted(obs, notify))
		return;
	ev = event_reserve();
	if (!ev)
		return;
	ev->type = CPP_EVENT_TRACE;
	ev->obs_point = obs;
	ev->direction = CPP_DIR_INGRESS;
	ev->family = s->p.t.family;
	ev->protocol = s->p.t.nexthdr;
	ev->tcp_flags = s->p.tcp_flags;
	__builtin_memcpy(&ev->saddr, &s->p.t.saddr, sizeof(ev->saddr));
	__builtin_memcpy(&ev->daddr, &s->sel.addr, sizeof(ev->daddr));
	ev->sport = s->p.t.sport;
	ev->dport = s->sel.port;
	ev->flags = CPP_EVENT_F_XLATED;
	__builtin_memcpy(&ev->orig_daddr, &s->p.t.daddr, sizeof(ev->orig_daddr));
	ev->orig_dport = s->p.t.dport;
	if (s->p.t.family == CPP_FAMILY_IPV4) {
		ev->src_identity = identity_lookup4(s->p.t.saddr.ip4);
		ev->dst_identity = identity_lookup4(s->sel.addr.ip4);
	} else {
		ev->src_identity = identity_lookup6((const struct in6_addr *)s->p.t.saddr.ip6);
		ev->dst_identity = identity_lookup6((const struct in6_addr *)s->sel.addr.ip6);
	}
	ev->ifindex = skb->ifindex;
	ev->len = skb->len;
	event_submit(ev);
}

/* A request to a frontend of the EXT scope: translated and sent on, or
 * NP_CONTINUE when it is not one. */
static __always_inline int __nodeport_fwd(struct __sk_buff *skb, __u8 family)
{
	struct np_scratch *s;
	__be32 tunnel = 0;
	__be16 port = 0;
	__u32 zero = 0;
	int where, r;

	s = bpf_map_lookup_elem(&cpp_np_scratch, &zero);
	if (!s || np_parse(skb, family, &s->p) < 0)
		return NP_CONTINUE;
	s->p.scope = CPP_LB_SCOPE_EXT;
	r = family == CPP_FAMILY_IPV4 ? lb4_fwd_select(&s->p, &s->sel)
				      : lb6_fwd_select(&s->p, &s->sel);
	if (r == LB_NOT_SERVICE)
		return NP_CONTINUE;
	if (r == LB_NO_BACKEND)
		return np_no_backend(skb, family, &s->p);

	where = np_backend_where(family, &s->sel.addr, &tunnel);
	if (where != NP_BE_LOCAL) {
		port = np_snat_port(skb, family, &s->p, &s->sel);
		if (!port) {
			np_event_drop(&s->p, CPP_DROP_NAT_NO_MAPPING, skb->ifindex, skb->len);
			return TC_ACT_SHOT;
		}
	}
	if (!s->sel.existing) {
		__u32 flags = CPP_LB_CT_F_EXTERNAL;

		if (where != NP_BE_LOCAL)
			flags |= CPP_LB_CT_F_SNAT;
		if (family == CPP_FAMILY_IPV4)
			lb4_ct_commit(&s->p, &s->sel, flags, skb->ifindex);
		else
			lb6_ct_commit(&s->p, &s->sel, flags, skb->ifindex);
	}
	if (np_rewrite(skb, family, &s->p, false, &s->sel.addr, s->sel.port) < 0)
		goto invalid;
	if (where == NP_BE_LOCAL) {
		/* The stack routes it to the pod via cilium_host. */
		np_trace(skb, s, CPP_OBS_TO_STACK);
		return TC_ACT_OK;
	}
	if (np_snat_rewrite(skb, family, &s->p, port) < 0)
		goto invalid;
	if (where == NP_BE_TUNNEL) {
		r = encap_redirect(skb, tunnel, CPP_ID_HOST);
		if (r == TC_ACT_REDIRECT)
			np_trace(skb, s, CPP_OBS_TO_OVERLAY);
		return r;
	}
	np_trace(skb, s, CPP_OBS_TO_STACK);
	return TC_ACT_OK;
invalid:
	np_event_drop(&s->p, CPP_DROP_INVALID, skb->ifindex, skb->len);
	return TC_ACT_SHOT;
}

static __noinline int nodeport_fwd4(struct __sk_buff *skb)
{
	return __nodeport_fwd(skb, CPP_FAMILY_IPV4);
}

static __noinline int nodeport_fwd6(struct __sk_buff *skb)
{
	return __nodeport_fwd(skb, CPP_FAMILY_IPV6);
}

/* A packet np_parse did not take (p: family, protocol, L4 offset): an ICMP
 * error about a translated connection is reverse-translated like an answer
 * (lib/lb_icmp.h). 1, 0 (not one), -1 (drop). */
static __always_inline int np_icmp_error_rev(struct __sk_buff *skb, const struct lb_pkt *p,
					     struct lb_rev *rev)
{
	if (p->t.family == CPP_FAMILY_IPV4 && p->t.nexthdr == IPPROTO_ICMP)
		return lb4_icmp_error_rev(skb, p->l4_off, rev);
	if (p->t.family == CPP_FAMILY_IPV6 && p->t.nexthdr == IPPROTO_ICMPV6)
		return lb6_icmp_error_rev(skb, p->l4_off, rev);
	return 0;
}

/* An answer (or ICMP error) whose destination snat_ingress already restored
 * (or any other packet for this node): if it answers an external request, the source
 * becomes the frontend again and it leaves through the device the request
 * came in on. The kernel would not forward a packet whose source is one of
 * its own addresses, hence the redirect. Returns a tc verdict. */
static __always_inline int __nodeport_rev(struct __sk_buff *skb, __u8 family)
{
	struct lb_pkt p;
	struct lb_rev rev;
	int r;

	if (np_parse(skb, family, &p) < 0)
		r = np_icmp_error_rev(skb, &p, &rev);
	else
		r = family == CPP_FAMILY_IPV4 ? lb4_rev_nat(skb, &p, &rev)
					      : lb6_rev_nat(skb, &p, &rev);
	if (r < 0) {
		np_event_drop(&p, CPP_DROP_INVALID, skb->ifindex, skb->len);
		return TC_ACT_SHOT;
	}
	if (r == 0 || !(rev.flags & CPP_LB_CT_F_EXTERNAL) || !rev.ifindex)
		return TC_ACT_OK;
	return bpf_redirect_neigh(rev.ifindex, 0, 0, 0);
}

static __noinline int nodeport_rev4(struct __sk_buff *skb)
{
	return __nodeport_rev(skb, CPP_FAMILY_IPV4);
}

static __noinline int nodeport_rev6(struct __sk_buff *skb)
{
	return __nodeport_rev(skb, CPP_FAMILY_IPV6);
}

/* The tunnel side (bpf_overlay): a packet for this node's stack that
 * answers a remote-backend NodePort flow gets its client back
 * (snat_ingress: an entry exists only for node:port). 0 when it was
 * translated, NP_CONTINUE when it is no such answer (it then goes to the
 * stack as before), TC_ACT_SHOT. No address check: the SNAT lookup is the
 * check, and bpf_overlay needs no node address. */
static __always_inline int __np_tunnel_snat(struct __sk_buff *skb, __u8 family)
{
	struct nat_tuple t;
	int r;

	if (family == CPP_FAMILY_IPV4) {
		struct iphdr ip4;

		if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip4, sizeof(ip4)) < 0)
			return NP_CONTINUE;
		r = nat_parse4(skb, &ip4, &t, false);
	} else {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip6, sizeof(ip6)) < 0)
			return NP_CONTINUE;
		r = nat_parse6(skb, &ip6, &t, false);
	}
	if (r != NAT_PARSE_OK || !lb_proto_supported(t.nexthdr))
		return NP_CONTINUE;
	return snat_ingress(skb, family, &t) == NAT_PASS ? 0 : TC_ACT_SHOT;
}

static __noinline int np_tunnel_snat4(struct __sk_buff *skb)
{
	return __np_tunnel_snat(skb, CPP_FAMILY_IPV4);
}

static __noinline int np_tunnel_snat6(struct __sk_buff *skb)
{
	return __np_tunnel_snat(skb, CPP_FAMILY_IPV6);
}

/* An ICMP error out of the tunnel about a flow SNATed to this node: the
 * quote gets the client back (nat_icmp_error*; the entry lookup is the
 * check). 0 (translated, or not about one), NP_CONTINUE (no ICMP error),
 * TC_ACT_SHOT. Frames kept small: nat_icmp_error* sits right below. */
static __noinline int np_tunnel_icmp4(struct __sk_buff *skb)
{
	struct iphdr ip4;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip4, sizeof(ip4)) < 0 || ip4.ihl < 5 ||
	    ip4.protocol != IPPROTO_ICMP || (ip4.frag_off & bpf_htons(0x1fff)))
		return NP_CONTINUE;
	return nat_icmp_error4(skb, sizeof(struct ethhdr) + ip4.ihl * 4, false) == NAT_PASS
		       ? 0
		       : TC_ACT_SHOT;
}

static __noinline int np_tunnel_icmp6(struct __sk_buff *skb)
{
	__u8 nexthdr;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + offsetof(struct ipv6hdr, nexthdr),
			       &nexthdr, 1) < 0 ||
	    nexthdr != IPPROTO_ICMPV6)
		return NP_CONTINUE;
	return nat_icmp_error6(skb, sizeof(struct ethhdr) + sizeof(struct ipv6hdr), false) ==
			       NAT_PASS
		       ? 0
		       : TC_ACT_SHOT;
}

/* The ICMP error's or snat_ingress's translation, then __nodeport_rev: the redirect back to the client, or
 * TC_ACT_OK (the stack's), NP_CONTINUE, TC_ACT_SHOT. Inline so the two
 * steps are sibling calls: their stack frames never add up. */
static __always_inline int nodeport_tunnel_reply4(struct __sk_buff *skb)
{
	int r = np_tunnel_icmp4(skb);

	if (r == NP_CONTINUE)
		r = np_tunnel_snat4(skb);

	return r ? r : nodeport_rev4(skb);
}

static __always_inline int nodeport_tunnel_reply6(struct __sk_buff *skb)
{
	int r = np_tunnel_icmp6(skb);

	if (r == NP_CONTINUE)
		r = np_tunnel_snat6(skb);

	return r ? r : nodeport_rev6(skb);
}

/* A packet from the tunnel about to be delivered into a local pod: if it
 * answers a per-packet ClusterIP translation that pod's request got
 * (bpf_lxc, backend on another node), the source becomes the frontend the
 * pod asked for; an ICMP error about such a connection gets the frontend
 * back in its quote (lib/lb_icmp.h). 0, or -1 when the rewrite failed
 * (drop). */
static __always_inline int __nodeport_rev_pod(struct __sk_buff *skb, __u8 family)
{
	struct lb_pkt p;
	struct lb_rev rev;

	if (np_parse(skb, family, &p) < 0)
		return np_icmp_error_rev(skb, &p, &rev) < 0 ? -1 : 0;
	return (family == CPP_FAMILY_IPV4 ? lb4_rev_nat(skb, &p, &rev)
					  : lb6_rev_nat(skb, &p, &rev)) < 0 ? -1 : 0;
}

static __noinline int nodeport_rev_pod4(struct __sk_buff *skb)
{
	return __nodeport_rev_pod(skb, CPP_FAMILY_IPV4);
}

static __noinline int nodeport_rev_pod6(struct __sk_buff *skb)
{
	return __nodeport_rev_pod(skb, CPP_FAMILY_IPV6);
}

#endif /* CPP_BPF_NODEPORT_H */
