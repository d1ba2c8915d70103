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
 * packets, so only the MACs change. Anything else continues to cilium_net.
 */
#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/eth.h"
#include "lib/endpoint.h"

static __always_inline int to_endpoint(struct __sk_buff *skb, const struct cpp_endpoint_info *ep)
{
	if (!endpoint_is_local_pod(ep))
		return TC_ACT_OK;
	if (endpoint_set_l2(skb, ep) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(ep->ifindex, 0);
}

static __always_inline int handle_ipv4(struct __sk_buff *skb)
{
	struct iphdr ip4;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip4, sizeof(ip4)) < 0)
		return TC_ACT_OK;
	return to_endpoint(skb, lookup_ip4_endpoint(ip4.daddr));
}

static __always_inline int handle_ipv6(struct __sk_buff *skb)
{
	struct ipv6hdr ip6;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip6, sizeof(ip6)) < 0)
		return TC_ACT_OK;
	return to_endpoint(skb, lookup_ip6_endpoint(&ip6.daddr));
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
