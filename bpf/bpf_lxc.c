// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf_lxc: tc ingress of a pod's host-side veth (lxc*), i.e. every packet
 * the pod sends. One copy per endpoint, told apart only by the LXC_*
 * constants below, which the loader sets before load.
 *
 *   ARP request           -> reply with the router MAC, back into the pod
 *   IPv6 Neighbour Sol.   -> Neighbour Advertisement, back into the pod
 *   spoofed source        -> drop
 *   this pod's egress policy (conntrack, then cpp_policy for new connections)
 *   to a pod on this node -> that pod's ingress policy, then rewrite MACs,
 *                            count the hop, redirect_peer
 *   to a pod/CIDR on another node (ipcache tunnel endpoint)
 *                         -> VXLAN to that node, VNI = this pod's identity
 *                            (lib/encap.h); the receiver polices ingress
 *   anything else         -> the node's stack routes it; its replies come
 *                            back through bpf_host, which knows them from
 *                            the conntrack entry made here
 *
 * With kube-proxy replacement (ENABLE_LB, lib/lb.h), before anything else
 * (sources other than the pod's own address excepted, anti-spoofing drops
 * them later): a TCP/UDP packet to a ClusterIP-style frontend
 * (INT scope) is DNATed to its connection's backend, so policy, delivery
 * and encapsulation all see the backend (as upstream); a frontend without
 * backends is answered with an ICMP port unreachable bounced back into
 * the pod, or dropped (CPP_DROP_NO_SERVICE). After the egress policy, a
 * reply this pod sends as a backend gets the frontend back as its source;
 * if the request came from outside the node (NodePort, CPP_LB_CT_F_EXTERNAL)
 * the reply leaves through the device the request arrived on
 * (bpf_redirect_neigh) instead of being routed: its source is the node's.
 * A request whose backend is the pod itself is hairpinned (lib/lb_hairpin.h):
 * both directions go straight back into the pod. ICMP errors the pod sends
 * as a backend are reverse-translated like its replies (lib/lb_icmp.h).
 */
#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/eth.h"
#include "lib/ipv6.h"
#include "lib/l3.h"
#include "lib/arp.h"
#include "lib/icmp6.h"
#include "lib/endpoint.h"
#include "lib/conntrack.h"
#include "lib/events.h"
#include "lib/enforce.h"
#include "lib/encap.h"
#include "lib/lb.h"
#include "lib/trace.h"

/* The endpoint this copy of the program serves. */
const volatile __u16 LXC_ID = 0;       /* endpoint id */
const volatile __u32 LXC_IFINDEX = 0;  /* host-side lxc device */
const volatile __u8 LXC_MAC[6] = {};   /* host-side lxc MAC = the pod's router MAC */
const volatile __be32 LXC_IPV4 = 0;    /* the pod's IPv4 address, network order */
const volatile __u8 LXC_IPV6[16] = {}; /* the pod's IPv6 address */
const volatile __u32 SECLABEL = 0;     /* the pod's security identity (policy) */

/* This endpoint, as the policy sees it. Its enforcement flags are read
 * from its own cpp_lxc entry (by the packet's source, which anti-spoofing
 * made the pod's own address) on every new connection, so the agent turns
 * policy on and off without reloading the program. Without an entry (the
 * agent has not written it yet) nothing is enforced. */
static __always_inline void lxc_self(struct enforce_target *t)
{
	t->ep_id = LXC_ID;
	t->flags = ENFORCE_FLAGS_FROM_SOURCE;
	t->identity = SECLABEL;
	t->ifindex = LXC_IFINDEX;
}

/* Moves a packet from this pod straight into another pod on the node,
 * skipping both stacks: ingress of the destination's eth0 via its veth
 * peer. The kernel's forwarding is bypassed, so do its hop accounting. */
static __always_inline int deliver_ipv4(struct __sk_buff *skb, const struct iphdr *ip4,
					const struct cpp_endpoint_info *ep)
{
	if (ipv4_dec_ttl(skb, sizeof(struct ethhdr), ip4) < 0) {
		if (ip4->ttl <= 1)
			event_drop_ip4(skb, ip4, CPP_DROP_TTL_EXCEEDED, CPP_DIR_EGRESS, LXC_ID,
				       LXC_IFINDEX);
		return TC_ACT_SHOT;
	}
	if (endpoint_set_l2(skb, ep) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect_peer(ep->ifindex, 0);
}

static __always_inline int deliver_ipv6(struct __sk_buff *skb, const struct ipv6hdr *ip6,
					const struct cpp_endpoint_info *ep)
{
	if (ipv6_dec_hoplimit(skb, sizeof(struct ethhdr), ip6) < 0) {
		if (ip6->hop_limit <= 1)
			event_drop_ip6(skb, ip6, CPP_DROP_TTL_EXCEEDED, CPP_DIR_EGRESS, LXC_ID,
				       LXC_IFINDEX);
		return TC_ACT_SHOT;
	}
	if (endpoint_set_l2(skb, ep) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect_peer(ep->ifindex, 0);
}

/* A request to a frontend without backends: the ICMP answer goes back
 * into the pod (service-no-backend-response: reject) or the request is
 * dropped; either way it is reported as CPP_DROP_NO_SERVICE. */
static __always_inline int lxc_no_backend(struct __sk_buff *skb, const struct lb_pkt *p)
{
	struct cpp_event *ev;
	int err;

	ev = event_drop_start(skb, CPP_DROP_NO_SERVICE, CPP_DIR_EGRESS, LXC_ID, LXC_IFINDEX,
			      p->t.family, p->t.nexthdr);
	if (ev) {
		__builtin_memcpy(&ev->saddr, &p->t.saddr, sizeof(ev->saddr));
		__builtin_memcpy(&ev->daddr, &p->t.daddr, sizeof(ev->daddr));
		ev->sport = p->t.sport;
		ev->dport = p->t.dport;
		ev->src_identity = SECLABEL;
		event_submit(ev);
	}
	if (!LB_NO_BACKEND_REJECT)
		return TC_ACT_SHOT;
	err = p->t.family == CPP_FAMILY_IPV4 ? lb4_reject(skb, p) : lb6_reject(skb, p);
	if (err < 0)
		return TC_ACT_SHOT;
	/* The lxc's egress is the pod's ingress. */
	return bpf_redirect(LXC_IFINDEX, 0);
}

/* The L4 part of p (ports, TCP flags) from the header at p->l4_off. */
static __always_inline int lxc_lb_ports(struct __sk_buff *skb, struct lb_pkt *p)
{
	__u8 hdr[14];

	if (bpf_skb_load_bytes(skb, p->l4_off, hdr, p->t.nexthdr == IPPROTO_TCP ? 14 : 8) < 0)
		return -1;
	__builtin_memcpy(&p->t.sport, &hdr[0], 2);
	__builtin_memcpy(&p->t.dport, &hdr[2], 2);
	p->tcp_flags = p->t.nexthdr == IPPROTO_TCP ? hdr[13] : 0;
	return 0;
}

/* A hairpin packet (lib/lb_hairpin.h), both ends rewritten: back into the
 * pod, as if the router had sent it. */
static __always_inline int lxc_hairpin_deliver(struct __sk_buff *skb)
{
	if (lb_swap_macs(skb) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(LXC_IFINDEX, 0);
}

/* Forward translation of a new or known connection to backend sel. */
static __always_inline int lxc_lb_translate(struct __sk_buff *skb, const struct lb_pkt *p,
					    const struct lb_sel *sel)
{
	int err;

	/* The events of this packet name the service it was sent to. */
	event_xlate_set(&p->t.daddr, p->t.dport);
	if (lb_addr_equal(&sel->addr, &p->t.saddr, p->t.family))
		return lb_hairpin_fwd(skb, p, sel) < 0 ? TC_ACT_SHOT : lxc_hairpin_deliver(skb);
	if (p->t.family == CPP_FAMILY_IPV4) {
		/* A failed commit only means the next packet chooses again. */
		if (!sel->existing)
			lb4_ct_commit(p, sel, 0, 0);
		err = lb4_dnat(skb, p, sel);
	} else {
		if (!sel->existing)
			lb6_ct_commit(p, sel, 0, 0);
		err = lb6_dnat(skb, p, sel);
	}
	return err < 0 ? TC_ACT_SHOT : -1;
}

/* Applies the translation to what the pod sends. Returns -1 to go on with
 * the (possibly translated) packet, or the final verdict. */
static __always_inline int lxc_lb_apply(struct __sk_buff *skb, struct lb_pkt *p)
{
	union cpp_addr self;
	struct lb_sel sel;
	enum lb_result r;
	int ret;

	if (lxc_lb_ports(skb, p) < 0)
		return -1; /* truncated: handle_ipv* reports it */
	if (lb_to_loopback(p)) {
		__builtin_memcpy(&self, &p->t.saddr, sizeof(self));
		ret = lb_hairpin_rev(skb, p, &self);
		if (ret < 0)
			return TC_ACT_SHOT;
		if (ret > 0)
			return lxc_hairpin_deliver(skb);
		return -1;
	}
	if (p->t.family == CPP_FAMILY_IPV4)
		r = lb4_fwd_select(p, &sel);
	else
		r = lb6_fwd_select(p, &sel);
	switch (r) {
	case LB_TRANSLATED:
		return lxc_lb_translate(skb, p, &sel);
	case LB_NOT_SERVICE:
		return -1;
	case LB_NO_BACKEND:
		return lxc_no_backend(skb, p);
	default:
		return TC_ACT_SHOT;
	}
}

/* Per-packet service translation (INT scope) of a packet the pod sends,
 * before handle_ipv4/6 reads it: policy, delivery and encapsulation then
 * see the backend. Its own stage (not called from handle_ipv*) so that its
 * frames never sit on the stack under the policy pipeline. Only TCP/UDP
 * from the pod's own address, unfragmented and (IPv6) without extension
 * headers; everything else is left to handle_ipv*. */
static __noinline int lxc_lb_fwd4(struct __sk_buff *skb)
{
	struct iphdr ip4;
	struct lb_pkt p;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip4, sizeof(ip4)) < 0 ||
	    ip4.version != 4 || ip4.ihl < 5 || ip4.saddr != LXC_IPV4 ||
	    (ip4.frag_off & bpf_htons(0x3fff)) || !lb_proto_supported(ip4.protocol))
		return -1;
	__builtin_memset(&p, 0, sizeof(p));
	p.t.family = CPP_FAMILY_IPV4;
	p.t.nexthdr = ip4.protocol;
	p.t.saddr.ip4 = ip4.saddr;
	p.t.daddr.ip4 = ip4.daddr;
	p.l3_off = sizeof(struct ethhdr);
	p.l4_off = sizeof(struct ethhdr) + ip4.ihl * 4;
	p.scope = CPP_LB_SCOPE_INT;
	return lxc_lb_apply(skb, &p);
}

static __noinline int lxc_lb_fwd6(struct __sk_buff *skb)
{
	struct ipv6hdr ip6;
	struct lb_pkt p;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip6, sizeof(ip6)) < 0 ||
	    ip6.version != 6 || !ipv6_equal_cfg(&ip6.saddr, LXC_IPV6) ||
	    !lb_proto_supported(ip6.nexthdr))
		return -1;
	__builtin_memset(&p, 0, sizeof(p));
	p.t.family = CPP_FAMILY_IPV6;
	p.t.nexthdr = ip6.nexthdr;
	__builtin_memcpy(p.t.saddr.ip6, ip6.saddr.s6_addr, 16);
	__builtin_memcpy(p.t.daddr.ip6, ip6.daddr.s6_addr, 16);
	p.l3_off = sizeof(struct ethhdr);
	p.l4_off = sizeof(struct ethhdr) + sizeof(ip6);
	p.scope = CPP_LB_SCOPE_INT;
	return lxc_lb_apply(skb, &p);
}

/* Reverse translation of a reply (or an ICMP error, lib/lb_icmp.h) this
 * pod sends as a service backend, after its egress policy (which, like the receiver's ingress policy, matches
 * the untranslated tuple in conntrack: f stays as it is). Returns -1 to go
 * on, or the final verdict. */
static __noinline int lxc_lb_rev(struct __sk_buff *skb, const struct flow *f, __u32 l4_off)
{
	struct lb_pkt p;
	struct lb_rev rev;
	int r;

	if (!f)
		return -1;
	if (f->kind == FLOW_ICMP_ERROR)
		r = f->tuple.family == CPP_FAMILY_IPV4 ? lb4_icmp_error_rev(skb, l4_off, &rev)
						       : lb6_icmp_error_rev(skb, l4_off, &rev);
	else if (f->kind != FLOW_TRACKED || !lb_proto_supported(f->tuple.nexthdr))
		return -1;
	else {
		lb_pkt_from_flow(&p, f, sizeof(struct ethhdr), l4_off, CPP_LB_SCOPE_INT);
		r = f->tuple.family == CPP_FAMILY_IPV4 ? lb4_rev_nat(skb, &p, &rev)
						       : lb6_rev_nat(skb, &p, &rev);
	}
	if (r < 0)
		return TC_ACT_SHOT;
	/* A reply to an outside client has the frontend (a node address) as
	 * its source now; the node's stack would drop it as a martian, so it
	 * leaves straight through the device the request came in on. */
	if (r > 0 && (rev.flags & CPP_LB_CT_F_EXTERNAL))
		return bpf_redirect_neigh(rev.ifindex, 0, 0, 0);
	return -1;
}

/* A packet delivered to another pod of the node: this pod's egress and
 * the receiver's ingress, traced as the receiver's TO_ENDPOINT. */
static __always_inline void lxc_trace_local(const struct flow *f, const struct enforce_target *to)
{
	metrics_count(0, CPP_METRIC_EGRESS, f->len);
	trace_forward(f, to, CPP_OBS_TO_ENDPOINT, CPP_DIR_INGRESS, SECLABEL);
}

/* Each family's path is a BPF function of its own (not inlined): a call
 * chain shares one 512-byte stack, and the policy pipeline below needs
 * most of it, so the entry function must not hold both families' packet
 * state at once. */
static __noinline int handle_ipv4(struct __sk_buff *skb)
{
	const struct cpp_endpoint_info *ep;
	struct enforce_target target;
	struct iphdr ip4;
	struct flow f;
	int ret;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip4, sizeof(ip4)) < 0)
		return TC_ACT_SHOT;
	if (ip4.version != 4 || ip4.ihl < 5)
		return TC_ACT_SHOT;
	/* Anti-spoofing: a pod only ever sends from its own address (and a
	 * pod without an IPv4 address sends no IPv4 at all). */
	if (LXC_IPV4 == 0 || ip4.saddr != LXC_IPV4) {
		event_drop_ip4(skb, &ip4, CPP_DROP_INVALID_SIP, CPP_DIR_EGRESS, LXC_ID, LXC_IFINDEX);
		return TC_ACT_SHOT;
	}
	if (flow_parse4(skb, &ip4, &f) < 0) {
		event_drop_ip4(skb, &ip4, CPP_DROP_CT_INVALID_HDR, CPP_DIR_EGRESS, LXC_ID,
			       LXC_IFINDEX);
		return TC_ACT_SHOT;
	}

	lxc_self(&target);
	if (enforce_policy4(&f, CPP_DIR_EGRESS, &target, 0))
		return TC_ACT_SHOT;
	if (ENABLE_LB) {
		ret = lxc_lb_rev(skb, &f, sizeof(struct ethhdr) + ip4.ihl * 4);
		if (ret >= 0) {
			if (ret == TC_ACT_REDIRECT)
				trace_forward(&f, &target, CPP_OBS_TO_NETWORK, CPP_DIR_EGRESS, 0);
			return ret;
		}
	}

	ep = lookup_ip4_endpoint(ip4.daddr);
	if (!endpoint_is_local_pod(ep)) {
		ret = ep ? TC_ACT_OK : encap_ipv4(skb, ip4.saddr, ip4.daddr, SECLABEL);
		if (ret != TC_ACT_SHOT)
			trace_forward(&f, &target,
				      ret == TC_ACT_REDIRECT ? CPP_OBS_TO_OVERLAY : CPP_OBS_TO_STACK,
				      CPP_DIR_EGRESS, 0);
		return ret;
	}
	/* Same-node delivery skips bpf_host: the receiver's ingress policy is
	 * checked here, with this pod's identity as the source. */
	enforce_target_of(&target, ep);
	if (enforce_policy4(&f, CPP_DIR_INGRESS, &target, SECLABEL))
		return TC_ACT_SHOT;
	ret = deliver_ipv4(skb, &ip4, ep);
	if (ret == TC_ACT_REDIRECT)
		lxc_trace_local(&f, &target);
	return ret;
}

static __noinline int handle_ipv6(struct __sk_buff *skb)
{
	const struct cpp_endpoint_info *ep;
	struct enforce_target target;
	struct ipv6hdr ip6;
	__u8 icmp6_type;
	struct flow f;
	int ret;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip6, sizeof(ip6)) < 0)
		return TC_ACT_SHOT;
	if (ip6.version != 6)
		return TC_ACT_SHOT;

	if (ip6.nexthdr == IPPROTO_ICMPV6 &&
	    bpf_skb_load_bytes(skb, sizeof(struct ethhdr) + sizeof(ip6), &icmp6_type,
			       sizeof(icmp6_type)) == 0 &&
	    icmp6_type == CPP_NDISC_NS)
		return ndisc_respond(skb, &ip6, LXC_MAC, LXC_IPV6);

	/* Link-scope control traffic (router solicitations, unsolicited
	 * advertisements, MLD reports, DAD) is sent from a link-local or the
	 * unspecified address. It is meant for the host side of the link, and
	 * the kernel never forwards such a source beyond the link, so let the
	 * stack have it rather than break neighbour discovery. */
	if (ipv6_is_link_local(&ip6.saddr) || ipv6_is_unspecified(&ip6.saddr))
		return TC_ACT_OK;
	/* Anti-spoofing. */
	if (!ipv6_equal_cfg(&ip6.saddr, LXC_IPV6)) {
		event_drop_ip6(skb, &ip6, CPP_DROP_INVALID_SIP, CPP_DIR_EGRESS, LXC_ID, LXC_IFINDEX);
		return TC_ACT_SHOT;
	}
	if (flow_parse6(skb, &ip6, &f) < 0) {
		event_drop_ip6(skb, &ip6, CPP_DROP_CT_INVALID_HDR, CPP_DIR_EGRESS, LXC_ID,
			       LXC_IFINDEX);
		return TC_ACT_SHOT;
	}

	lxc_self(&target);
	if (enforce_policy6(&f, CPP_DIR_EGRESS, &target, 0))
		return TC_ACT_SHOT;
	/* Translated only without extension headers (lib/lb.h). */
	if (ENABLE_LB && ip6.nexthdr == f.tuple.nexthdr) {
		ret = lxc_lb_rev(skb, &f, sizeof(struct ethhdr) + sizeof(ip6));
		if (ret >= 0) {
			if (ret == TC_ACT_REDIRECT)
				trace_forward(&f, &target, CPP_OBS_TO_NETWORK, CPP_DIR_EGRESS, 0);
			return ret;
		}
	}

	ep = lookup_ip6_endpoint(&ip6.daddr);
	if (!endpoint_is_local_pod(ep)) {
		ret = ep ? TC_ACT_OK : encap_ipv6(skb, &ip6.saddr, &ip6.daddr, SECLABEL);
		if (ret != TC_ACT_SHOT)
			trace_forward(&f, &target,
				      ret == TC_ACT_REDIRECT ? CPP_OBS_TO_OVERLAY : CPP_OBS_TO_STACK,
				      CPP_DIR_EGRESS, 0);
		return ret;
	}
	enforce_target_of(&target, ep);
	if (enforce_policy6(&f, CPP_DIR_INGRESS, &target, SECLABEL))
		return TC_ACT_SHOT;
	ret = deliver_ipv6(skb, &ip6, ep);
	if (ret == TC_ACT_REDIRECT)
		lxc_trace_local(&f, &target);
	return ret;
}

SEC("tc")
int cil_from_container(struct __sk_buff *skb)
{
	struct ethhdr eth;
	int ret;

	if (eth_load(skb, &eth) < 0)
		return TC_ACT_SHOT;

	/* A pod speaks IPv4, IPv6 and ARP to its router, nothing else; a
	 * family the node doesn't serve is dropped like any other. */
	switch (eth.h_proto) {
	case bpf_htons(ETH_P_ARP):
		if (!ENABLE_IPV4)
			return TC_ACT_SHOT;
		return arp_respond(skb, LXC_MAC, LXC_IPV4);
	case bpf_htons(ETH_P_IP):
		if (!ENABLE_IPV4)
			return TC_ACT_SHOT;
		if (ENABLE_LB) {
			event_xlate_reset();
			ret = lxc_lb_fwd4(skb);
			if (ret >= 0)
				return ret;
		}
		return handle_ipv4(skb);
	case bpf_htons(ETH_P_IPV6):
		if (!ENABLE_IPV6)
			return TC_ACT_SHOT;
		if (ENABLE_LB) {
			event_xlate_reset();
			ret = lxc_lb_fwd6(skb);
			if (ret >= 0)
				return ret;
		}
		return handle_ipv6(skb);
	default:
		return TC_ACT_SHOT;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
