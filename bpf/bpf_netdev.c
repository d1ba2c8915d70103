// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf_netdev: the node's native (underlay) device, the one carrying the
 * node's address towards the world.
 *
 *   cil_to_netdev   tc egress:  pod -> world packets (and pods' ICMP errors
 *                               about answers to them) are masqueraded to
 *                               the node's address (lib/nat.h); the
 *                               node's own flows only when their port
 *                               collides with a pod flow's; all else passes
 *   cil_from_netdev tc ingress: answers to masqueraded flows (and ICMP
 *                               errors about them) get the pod's address
 *                               and port back, then continue into
 *                               the node's stack, which routes the PodCIDR
 *                               via cilium_host, where bpf_host runs the
 *                               pod's ingress pipeline (conntrack knows the
 *                               answer as a reply to the pod's egress)
 *
 * Going through the stack instead of redirecting to the pod keeps one
 * place (bpf_host) for delivery and the pod's ingress policy, and lets the
 * kernel do the forwarding bookkeeping (TTL, neighbours). Both programs
 * never drop what they do not translate: this is the node's own device.
 *
 * With kube-proxy replacement (ENABLE_LB), cil_from_netdev first looks the
 * packet up as a NodePort / LoadBalancer / ExternalIP frontend (EXT scope,
 * lib/nodeport.h): local backends are DNATed into the stack, remote ones
 * DNATed, SNATed to the node and sent into the tunnel, a frontend without
 * backends answers ICMP port unreachable (or drops). After snat_ingress,
 * an answer of such a SNATed flow gets the frontend back as source and
 * leaves through the device the request came in on.
 */
#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/eth.h"
#include "lib/ipv6.h"
#include "lib/nat.h"
#include "lib/events.h"
#include "lib/nodeport.h"

/* enable-ipv4-masquerade / enable-ipv6-masquerade (with enable-bpf-masquerade).
 * A family that is off passes cil_to_netdev untouched, while NAT_IPV4/6 still
 * name the node's address for NodePort SNAT (lib/nodeport.h). */
const volatile __u8 MASQUERADE_IPV4 = 1;
const volatile __u8 MASQUERADE_IPV6 = 1;

static __noinline int to_netdev_ipv4(struct __sk_buff *skb)
{
	struct nat_tuple t;
	struct iphdr ip4;
	int reason;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip4, sizeof(ip4)) < 0)
		return TC_ACT_OK;
	if (NAT_IPV4 && ip4.saddr == NAT_IPV4) {
		/* The node's own packet: translated only on a port collision. */
		if ((ip4.protocol != IPPROTO_TCP && ip4.protocol != IPPROTO_UDP) ||
		    nat_parse4(skb, &ip4, &t, true) != NAT_PARSE_OK ||
		    !nat_node_flow_collides(CPP_FAMILY_IPV4, &t))
			return TC_ACT_OK;
		reason = snat_egress(skb, CPP_FAMILY_IPV4, &t);
		if (reason == NAT_PASS)
			return TC_ACT_OK;
		goto drop;
	}
	if (!snat_wanted4(&ip4))
		return TC_ACT_OK;
	switch (nat_parse4(skb, &ip4, &t, true)) {
	case NAT_PARSE_OK:
		break;
	case NAT_PARSE_SKIP:
		/* Not an echo request; an error about an answer to one of our
		 * flows? */
		if (t.nexthdr == IPPROTO_ICMP && nat_icmp_error4(skb, t.l4_off, true) != NAT_PASS) {
			reason = CPP_DROP_INVALID;
			goto drop;
		}
		return TC_ACT_OK;
	case NAT_PARSE_UNSUPP:
		reason = CPP_DROP_NAT_UNSUPP;
		goto drop;
	default:
		reason = CPP_DROP_CT_INVALID_HDR;
		goto drop;
	}
	reason = snat_egress(skb, CPP_FAMILY_IPV4, &t);
	if (reason == NAT_PASS)
		return TC_ACT_OK;
drop:
	event_drop_ip4(skb, &ip4, reason, CPP_DIR_EGRESS, 0, skb->ifindex);
	return TC_ACT_SHOT;
}

static __noinline int to_netdev_ipv6(struct __sk_buff *skb)
{
	struct nat_tuple t;
	struct ipv6hdr ip6;
	int reason;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip6, sizeof(ip6)) < 0)
		return TC_ACT_OK;
	if (ipv6_equal_cfg(&ip6.saddr, NAT_IPV6) && !ipv6_is_unspecified(&ip6.saddr)) {
		if ((ip6.nexthdr != IPPROTO_TCP && ip6.nexthdr != IPPROTO_UDP) ||
		    nat_parse6(skb, &ip6, &t, true) != NAT_PARSE_OK ||
		    !nat_node_flow_collides(CPP_FAMILY_IPV6, &t))
			return TC_ACT_OK;
		reason = snat_egress(skb, CPP_FAMILY_IPV6, &t);
		if (reason == NAT_PASS)
			return TC_ACT_OK;
		goto drop;
	}
	if (!snat_wanted6(&ip6))
		return TC_ACT_OK;
	switch (nat_parse6(skb, &ip6, &t, true)) {
	case NAT_PARSE_OK:
		break;
	case NAT_PARSE_SKIP:
		if (t.nexthdr == IPPROTO_ICMPV6 && nat_icmp_error6(skb, t.l4_off, true) != NAT_PASS) {
			reason = CPP_DROP_INVALID;
			goto drop;
		}
		return TC_ACT_OK;
	case NAT_PARSE_UNSUPP:
		reason = CPP_DROP_NAT_UNSUPP;
		goto drop;
	default:
		reason = CPP_DROP_CT_INVALID_HDR;
		goto drop;
	}
	reason = snat_egress(skb, CPP_FAMILY_IPV6, &t);
	if (reason == NAT_PASS)
		return TC_ACT_OK;
drop:
	event_drop_ip6(skb, &ip6, reason, CPP_DIR_EGRESS, 0, skb->ifindex);
	return TC_ACT_SHOT;
}

static __noinline int from_netdev_ipv4(struct __sk_buff *skb)
{
	struct nat_tuple t;
	struct iphdr ip4;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip4, sizeof(ip4)) < 0)
		return TC_ACT_OK;
	if (!NAT_IPV4 || ip4.daddr != NAT_IPV4)
		return TC_ACT_OK;
	switch (nat_parse4(skb, &ip4, &t, false)) {
	case NAT_PARSE_OK:
		break;
	case NAT_PARSE_SKIP:
		/* Not an echo reply; an ICMP error about one of our flows?
		 * About a NodePort flow, it then goes back to the client. */
		if (t.nexthdr != IPPROTO_ICMP)
			return TC_ACT_OK;
		if (nat_icmp_error4(skb, t.l4_off, false) != NAT_PASS)
			goto drop;
		return ENABLE_LB ? nodeport_rev4(skb) : TC_ACT_OK;
	default:
		return TC_ACT_OK;
	}
	if (snat_ingress(skb, CPP_FAMILY_IPV4, &t) != NAT_PASS) {
drop:
		event_drop_ip4(skb, &ip4, CPP_DROP_INVALID, CPP_DIR_INGRESS, 0, skb->ifindex);
		return TC_ACT_SHOT;
	}
	return ENABLE_LB ? nodeport_rev4(skb) : TC_ACT_OK;
}

static __noinline int from_netdev_ipv6(struct __sk_buff *skb)
{
	struct nat_tuple t;
	struct ipv6hdr ip6;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip6, sizeof(ip6)) < 0)
		return TC_ACT_OK;
	if (!ipv6_equal_cfg(&ip6.daddr, NAT_IPV6) || ipv6_is_unspecified(&ip6.daddr))
		return TC_ACT_OK;
	switch (nat_parse6(skb, &ip6, &t, false)) {
	case NAT_PARSE_OK:
		break;
	case NAT_PARSE_SKIP:
		if (t.nexthdr != IPPROTO_ICMPV6)
			return TC_ACT_OK;
		if (nat_icmp_error6(skb, t.l4_off, false) != NAT_PASS)
			goto drop;
		return ENABLE_LB ? nodeport_rev6(skb) : TC_ACT_OK;
	default:
		return TC_ACT_OK;
	}
	if (snat_ingress(skb, CPP_FAMILY_IPV6, &t) != NAT_PASS) {
drop:
		event_drop_ip6(skb, &ip6, CPP_DROP_INVALID, CPP_DIR_INGRESS, 0, skb->ifindex);
		return TC_ACT_SHOT;
	}
	return ENABLE_LB ? nodeport_rev6(skb) : TC_ACT_OK;
}

SEC("tc")
int cil_to_netdev(struct __sk_buff *skb)
{
	struct ethhdr eth;

	if (eth_load(skb, &eth) < 0)
		return TC_ACT_OK;
	switch (eth.h_proto) {
	case bpf_htons(ETH_P_IP):
		return ENABLE_IPV4 && MASQUERADE_IPV4 ? to_netdev_ipv4(skb) : TC_ACT_OK;
	case bpf_htons(ETH_P_IPV6):
		return ENABLE_IPV6 && MASQUERADE_IPV6 ? to_netdev_ipv6(skb) : TC_ACT_OK;
	default:
		return TC_ACT_OK;
	}
}

SEC("tc")
int cil_from_netdev(struct __sk_buff *skb)
{
	struct ethhdr eth;
	int ret;

	if (eth_load(skb, &eth) < 0)
		return TC_ACT_OK;
	switch (eth.h_proto) {
	case bpf_htons(ETH_P_IP):
		if (!ENABLE_IPV4)
			return TC_ACT_OK;
		/* Frontends first: the reverse path below then never sees a
		 * request to one (node ports are outside the SNAT range). */
		if (ENABLE_LB && (ret = nodeport_fwd4(skb)) != NP_CONTINUE)
			return ret;
		return from_netdev_ipv4(skb);
	case bpf_htons(ETH_P_IPV6):
		if (!ENABLE_IPV6)
			return TC_ACT_OK;
		if (ENABLE_LB && (ret = nodeport_fwd6(skb)) != NP_CONTINUE)
			return ret;
		return from_netdev_ipv6(skb);
	default:
		return TC_ACT_OK;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
