// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf_host: tc egress of cilium_host.
 *
 * The node routes its PodCIDRs via cilium_host, a NOARP device, so
 * everything the node sends or forwards to a pod (replies to pods, node ->
 * pod, traffic from other nodes once tunnels exist) leaves through here with
 * cilium_host's own MAC as destination. A pod of this node is reached by
 * redirecting to the egress of its lxc device, which delivers into the pod.
 * The kernel has already done the forwarding bookkeeping (TTL) for routed
 * packets, so only the MACs change. A destination on another node (the
 * agent routes remote PodCIDRs via cilium_host too) goes into the VXLAN
 * tunnel with the source's identity from the ipcache (the node itself:
 * host, which the receiver sees as remote-node). Anything else continues
 * to cilium_net.
 *
 * Before delivery the destination pod's ingress policy runs (lib/enforce.h)
 * with the source's identity from the ipcache: the node itself (the agent
 * lists its addresses as CPP_ID_HOST), other nodes and pods, or world for
 * addresses nobody listed. Replies to connections the pod opened towards
 * the node or the world arrive here too and pass on the conntrack entry
 * its egress check created.
 *
 * With kube-proxy replacement (ENABLE_LB, lib/lb.h): a reply to a pod from
 * a service backend the node reaches through its stack (the node itself,
 * host-network pods, addresses outside the cluster) gets the frontend back
 * as its source, after the pod's ingress policy has matched it, untranslated,
 * against the pod's conntrack entry. Requests need no translation here:
 * pods' requests were translated by bpf_lxc, the node's by socket LB.
 */
#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/eth.h"
#include "lib/ipv6.h"
#include "lib/endpoint.h"
#include "lib/conntrack.h"
#include "lib/enforce.h"
#include "lib/encap.h"
#include "lib/lb.h"
#include "lib/trace.h"

static __always_inline int to_endpoint(struct __sk_buff *skb, const struct cpp_endpoint_info *ep)
{
	if (endpoint_set_l2(skb, ep) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(ep->ifindex, 0);
}

/* Delivery of a policed packet, traced as the pod's TO_ENDPOINT. */
static __always_inline int to_endpoint_traced(struct __sk_buff *skb, const struct flow *f,
					      const struct cpp_endpoint_info *ep)
{
	struct enforce_target target;
	int ret = to_endpoint(skb, ep);

	if (ret == TC_ACT_REDIRECT) {
		enforce_target_of(&target, ep);
		trace_forward(f, &target, CPP_OBS_TO_ENDPOINT, CPP_DIR_INGRESS, 0);
	}
	return ret;
}

/* The pod's ingress policy; the source identity comes from the ipcache. */
static __always_inline int police_ingress(struct flow *f, const struct cpp_endpoint_info *ep)
{
	struct enforce_target target;

	enforce_target_of(&target, ep);
	if (f->tuple.family == CPP_FAMILY_IPV4)
		return enforce_policy4(f, CPP_DIR_INGRESS, &target, 0);
	return enforce_policy6(f, CPP_DIR_INGRESS, &target, 0);
}

/* Puts the frontend back as the source of a service backend's reply to the
 * pod (and into an ICMP error about the connection, lib/lb_icmp.h). 0 to deliver, -1 to drop (the rewrite failed). */
static __noinline int host_lb_rev(struct __sk_buff *skb, const struct flow *f, __u32 l4_off)
{
	struct lb_pkt p;
	struct lb_rev rev;
	int r;

	if (!f)
		return 0;
	if (f->kind == FLOW_ICMP_ERROR)
		r = f->tuple.family == CPP_FAMILY_IPV4 ? lb4_icmp_error_rev(skb, l4_off, &rev)
						       : lb6_icmp_error_rev(skb, l4_off, &rev);
	else if (f->kind != FLOW_TRACKED || !lb_proto_supported(f->tuple.nexthdr))
		return 0;
	else {
		lb_pkt_from_flow(&p, f, sizeof(struct ethhdr), l4_off, CPP_LB_SCOPE_INT);
		r = f->tuple.family == CPP_FAMILY_IPV4 ? lb4_rev_nat(skb, &p, &rev)
						       : lb6_rev_nat(skb, &p, &rev);
	}
	return r < 0 ? -1 : 0;
}

/* Each family's path is a BPF function of its own (not inlined): a call
 * chain shares one 512-byte stack, and the policy pipeline below needs
 * most of it, so the entry function must not hold both families' packet
 * state at once. */
static __noinline int handle_ipv4(struct __sk_buff *skb)
{
	const struct cpp_endpoint_info *ep;
	struct iphdr ip4;
	struct flow f;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip4, sizeof(ip4)) < 0)
		return TC_ACT_OK;
	ep = lookup_ip4_endpoint(ip4.daddr);
	if (!endpoint_is_local_pod(ep))
		return ep ? TC_ACT_OK : encap_ipv4(skb, ip4.saddr, ip4.daddr, 0);
	/* From here on the packet is for a pod: what cannot be parsed cannot
	 * be policed, and does not go in. */
	if (flow_parse4(skb, &ip4, &f) < 0) {
		event_drop_ip4(skb, &ip4, CPP_DROP_CT_INVALID_HDR, CPP_DIR_INGRESS, ep->lxc_id,
			       ep->ifindex);
		return TC_ACT_SHOT;
	}
	if (police_ingress(&f, ep))
		return TC_ACT_SHOT;
	if (ENABLE_LB && host_lb_rev(skb, &f, sizeof(struct ethhdr) + ip4.ihl * 4) < 0)
		return TC_ACT_SHOT;
	return to_endpoint_traced(skb, &f, ep);
}

static __noinline int handle_ipv6(struct __sk_buff *skb)
{
	const struct cpp_endpoint_info *ep;
	struct ipv6hdr ip6;
	struct flow f;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip6, sizeof(ip6)) < 0)
		return TC_ACT_OK;
	ep = lookup_ip6_endpoint(&ip6.daddr);
	if (!endpoint_is_local_pod(ep)) {
		/* Link-scope traffic never leaves the link. */
		if (ep || ipv6_is_link_local(&ip6.saddr) || ipv6_is_unspecified(&ip6.saddr))
			return TC_ACT_OK;
		return encap_ipv6(skb, &ip6.saddr, &ip6.daddr, 0);
	}
	/* Link-scope sources (neighbour discovery, MLD) are link control, not
	 * subject to policy. */
	if (ipv6_is_link_local(&ip6.saddr) || ipv6_is_unspecified(&ip6.saddr))
		return to_endpoint(skb, ep);
	if (flow_parse6(skb, &ip6, &f) < 0) {
		event_drop_ip6(skb, &ip6, CPP_DROP_CT_INVALID_HDR, CPP_DIR_INGRESS, ep->lxc_id,
			       ep->ifindex);
		return TC_ACT_SHOT;
	}
	if (police_ingress(&f, ep))
		return TC_ACT_SHOT;
	/* Translated only without extension headers (lib/lb.h). */
	if (ENABLE_LB && ip6.nexthdr == f.tuple.nexthdr &&
	    host_lb_rev(skb, &f, sizeof(struct ethhdr) + sizeof(ip6)) < 0)
		return TC_ACT_SHOT;
	return to_endpoint_traced(skb, &f, ep);
}

SEC("tc")
int cil_from_host(struct __sk_buff *skb)
{
	struct ethhdr eth;

	/* The node's own traffic: never drop what we don't understand. */
	if (eth_load(skb, &eth) < 0)
		return TC_ACT_OK;

	switch (eth.h_proto) {
	case bpf_htons(ETH_P_IP):
		return ENABLE_IPV4 ? handle_ipv4(skb) : TC_ACT_OK;
	case bpf_htons(ETH_P_IPV6):
		return ENABLE_IPV6 ? handle_ipv6(skb) : TC_ACT_OK;
	default:
		return TC_ACT_OK;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
