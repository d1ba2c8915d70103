// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf_overlay: tc ingress of cilium_vxlan, i.e. every packet another node
 * sent this one through the VXLAN tunnel, after the kernel took the outer
 * headers off (the device is external/collect_md, so the VNI and the outer
 * addresses arrive as tunnel metadata).
 *
 * The VNI is the sender's security identity (lib/encap.h). A remote node's
 * own traffic carries host (1), which is only "host" on the node that sent
 * it: here it is remote-node (6), as upstream Cilium maps it.
 *
 *   to a pod of this node -> that pod's ingress policy with the VNI
 *                            identity as source, then rewrite MACs, count
 *                            the hop, redirect_peer into the pod
 *   anything else         -> this node's stack (router IPs, the node's
 *                            addresses, whatever it routes onwards); the
 *                            frame is marked PACKET_HOST because its
 *                            destination MAC is the sender's choice
 *
 * With kube-proxy replacement (ENABLE_LB, lib/nodeport.h): an answer of a
 * remote NodePort backend to this node's SNAT address gets the client and
 * the frontend back and leaves through the native device the request
 * came in on (bpf_redirect_neigh); an answer to a local pod's per-packet
 * ClusterIP request gets the frontend back as source after the pod's
 * ingress policy.
 *
 * Identities from the VNI are trusted as the upstream datapath trusts them
 * without encryption: the underlay is the cluster's own network.
 */
#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/eth.h"
#include "lib/ipv6.h"
#include "lib/l3.h"
#include "lib/endpoint.h"
#include "lib/conntrack.h"
#include "lib/events.h"
#include "lib/enforce.h"
#include "lib/nodeport.h"
#include "lib/trace.h"

#define CPP_PACKET_HOST 0 /* PACKET_HOST of <linux/if_packet.h> */

/* The sender's identity from the tunnel metadata; 0 when the packet has
 * none (it did not come out of the tunnel). Out of line: the tunnel key
 * must not sit on the stack under the policy pipeline. */
static __noinline __u32 tunnel_source_identity(struct __sk_buff *skb)
{
	struct bpf_tunnel_key key;
	__u32 id;

	if (bpf_skb_get_tunnel_key(skb, &key, sizeof(key), 0) < 0)
		return 0;
	id = key.tunnel_id;
	if (id == CPP_ID_HOST)
		return CPP_ID_REMOTE_NODE;
	/* VNI 0: a sender that does not label its traffic is outside the
	 * cluster as far as policy goes. */
	return id ? id : CPP_ID_WORLD;
}

static __always_inline int to_stack(struct __sk_buff *skb)
{
	bpf_skb_change_type(skb, CPP_PACKET_HOST);
	return TC_ACT_OK;
}

/* Not for a local pod: a NodePort answer to send back out (ENABLE_LB), or
 * the stack's. */
static __always_inline int not_for_pod(struct __sk_buff *skb, int nodeport)
{
	if (nodeport == NP_CONTINUE || nodeport == TC_ACT_OK)
		return to_stack(skb);
	return nodeport;
}

/* Into the pod, traced as its TO_ENDPOINT with the tunnel's identity. */
static __always_inline int deliver_traced(struct __sk_buff *skb, const struct flow *f,
					  const struct enforce_target *target, __u32 src_identity,
					  const struct cpp_endpoint_info *ep)
{
	int ret;

	if (endpoint_set_l2(skb, ep) < 0)
		return TC_ACT_SHOT;
	ret = bpf_redirect_peer(ep->ifindex, 0);
	if (ret == TC_ACT_REDIRECT)
		trace_forward(f, target, CPP_OBS_TO_ENDPOINT, CPP_DIR_INGRESS, src_identity);
	return ret;
}

static __noinline int handle_ipv4(struct __sk_buff *skb, __u32 src_identity)
{
	const struct cpp_endpoint_info *ep;
	struct enforce_target target;
	struct iphdr ip4;
	struct flow f;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip4, sizeof(ip4)) < 0)
		return TC_ACT_SHOT;
	if (ip4.version != 4 || ip4.ihl < 5)
		return TC_ACT_SHOT;
	ep = lookup_ip4_endpoint(ip4.daddr);
	if (!endpoint_is_local_pod(ep))
		return not_for_pod(skb, ENABLE_LB ? nodeport_tunnel_reply4(skb) : NP_CONTINUE);
	if (flow_parse4(skb, &ip4, &f) < 0) {
		event_drop_ip4(skb, &ip4, CPP_DROP_CT_INVALID_HDR, CPP_DIR_INGRESS, ep->lxc_id,
			       ep->ifindex);
		return TC_ACT_SHOT;
	}
	enforce_target_of(&target, ep);
	if (enforce_policy4(&f, CPP_DIR_INGRESS, &target, src_identity))
		return TC_ACT_SHOT;
	/* After policy, which sees the backend the pod's request went to. */
	if (ENABLE_LB && nodeport_rev_pod4(skb) < 0)
		return TC_ACT_SHOT;
	/* This node is the one router hop between the two pods. */
	if (ipv4_dec_ttl(skb, sizeof(struct ethhdr), &ip4) < 0) {
		if (ip4.ttl <= 1)
			event_drop_ip4(skb, &ip4, CPP_DROP_TTL_EXCEEDED, CPP_DIR_INGRESS,
				       ep->lxc_id, ep->ifindex);
		return TC_ACT_SHOT;
	}
	return deliver_traced(skb, &f, &target, src_identity, ep);
}

static __noinline int handle_ipv6(struct __sk_buff *skb, __u32 src_identity)
{
	const struct cpp_endpoint_info *ep;
	struct enforce_target target;
	struct ipv6hdr ip6;
	struct flow f;

	if (bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip6, sizeof(ip6)) < 0)
		return TC_ACT_SHOT;
	if (ip6.version != 6)
		return TC_ACT_SHOT;
	ep = lookup_ip6_endpoint(&ip6.daddr);
	if (!endpoint_is_local_pod(ep))
		return not_for_pod(skb, ENABLE_LB ? nodeport_tunnel_reply6(skb) : NP_CONTINUE);
	if (flow_parse6(skb, &ip6, &f) < 0) {
		event_drop_ip6(skb, &ip6, CPP_DROP_CT_INVALID_HDR, CPP_DIR_INGRESS, ep->lxc_id,
			       ep->ifindex);
		return TC_ACT_SHOT;
	}
	enforce_target_of(&target, ep);
	if (enforce_policy6(&f, CPP_DIR_INGRESS, &target, src_identity))
		return TC_ACT_SHOT;
	if (ENABLE_LB && nodeport_rev_pod6(skb) < 0)
		return TC_ACT_SHOT;
	if (ipv6_dec_hoplimit(skb, sizeof(struct ethhdr), &ip6) < 0) {
		if (ip6.hop_limit <= 1)
			event_drop_ip6(skb, &ip6, CPP_DROP_TTL_EXCEEDED, CPP_DIR_INGRESS,
				       ep->lxc_id, ep->ifindex);
		return TC_ACT_SHOT;
	}
	return deliver_traced(skb, &f, &target, src_identity, ep);
}

SEC("tc")
int cil_from_overlay(struct __sk_buff *skb)
{
	struct ethhdr eth;
	__u32 src_identity;

	/* Only decapsulated traffic belongs here; anything without tunnel
	 * metadata would be unlabelled and is not ours to pass on. */
	src_identity = tunnel_source_identity(skb);
	if (!src_identity)
		return TC_ACT_SHOT;
	if (eth_load(skb, &eth) < 0)
		return TC_ACT_SHOT;

	switch (eth.h_proto) {
	case bpf_htons(ETH_P_IP):
		return ENABLE_IPV4 ? handle_ipv4(skb, src_identity) : TC_ACT_SHOT;
	case bpf_htons(ETH_P_IPV6):
		return ENABLE_IPV6 ? handle_ipv6(skb, src_identity) : TC_ACT_SHOT;
	default:
		/* No ARP over the tunnel: senders encapsulate IP only. */
		return TC_ACT_SHOT;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
