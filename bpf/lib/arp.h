/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ARP responder for a pod's device.
 *
 * A pod has a single neighbour: its router, i.e. the host side of its veth.
 * Like upstream Cilium, every ARP request the pod sends is answered with the
 * router MAC whatever address it asks for, so the pod can use its default
 * route, on-link routes or even a neighbour's address without the node
 * running proxy ARP. The reply is bounced straight back into the pod: the
 * node's ARP tables never see pod traffic.
 */
#ifndef CPP_BPF_ARP_H
#define CPP_BPF_ARP_H

#include "common.h"
#include "eth.h"

#define CPP_ARPHRD_ETHER  1
#define CPP_ARPOP_REQUEST 1
#define CPP_ARPOP_REPLY   2

/* An Ethernet frame carrying IPv4-over-Ethernet ARP (RFC 826): 42 bytes. */
struct arp_eth_frame {
	struct ethhdr eth;
	__be16 ar_hrd;
	__be16 ar_pro;
	__u8 ar_hln;
	__u8 ar_pln;
	__be16 ar_op;
	__u8 ar_sha[ETH_ALEN];
	__be32 ar_sip;
	__u8 ar_tha[ETH_ALEN];
	__be32 ar_tip;
} __attribute__((packed));

static __always_inline bool arp_is_eth_ipv4_request(const struct arp_eth_frame *f)
{
	return f->ar_hrd == bpf_htons(CPP_ARPHRD_ETHER) && f->ar_pro == bpf_htons(ETH_P_IP) &&
	       f->ar_hln == ETH_ALEN && f->ar_pln == 4 &&
	       f->ar_op == bpf_htons(CPP_ARPOP_REQUEST);
}

/* Answers the ARP request in skb with router_mac and sends the reply back
 * out of the device it came from. own_ip is the pod's address (network
 * order). Returns the tc verdict. Not inlined, for the same stack reason as
 * ndisc_respond (icmp6.h). */
static __noinline int arp_respond(struct __sk_buff *skb, const volatile __u8 *router_mac,
				       __be32 own_ip)
{
	struct arp_eth_frame f;
	__be32 target;

	if (bpf_skb_load_bytes(skb, 0, &f, sizeof(f)) < 0)
		return TC_ACT_SHOT;
	/* Replies, gratuitous ARP and other hardware types: nothing to answer
	 * and nobody else on this link to hear them. */
	if (!arp_is_eth_ipv4_request(&f))
		return TC_ACT_SHOT;
	/* A request for the pod's own address (duplicate detection, gratuitous
	 * ARP) or a probe from 0.0.0.0 (RFC 5227) must stay unanswered, or the
	 * pod would believe its address is taken. */
	target = f.ar_tip;
	if (target == own_ip || f.ar_sip == 0)
		return TC_ACT_SHOT;

	/* Turn the request into the reply in place: the asker becomes the
	 * target, the router claims the asked-for address. */
	__builtin_memcpy(f.ar_tha, f.ar_sha, ETH_ALEN);
	f.ar_tip = f.ar_sip;
	mac_copy_cfg(f.ar_sha, router_mac);
	f.ar_sip = target;
	f.ar_op = bpf_htons(CPP_ARPOP_REPLY);
	__builtin_memcpy(f.eth.h_dest, f.eth.h_source, ETH_ALEN);
	mac_copy_cfg(f.eth.h_source, router_mac);

	if (bpf_skb_store_bytes(skb, 0, &f, sizeof(f), 0) < 0)
		return TC_ACT_SHOT;
	/* From tc ingress, redirecting to the same device's egress delivers
	 * the frame to the peer end, i.e. back into the pod. */
	return bpf_redirect(skb->ifindex, 0);
}

#endif /* CPP_BPF_ARP_H */
