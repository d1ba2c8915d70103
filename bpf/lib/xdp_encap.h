/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * VXLAN encapsulation written by hand in XDP (bpf-lb-acceleration): what
 * cilium_vxlan does for tc (lib/encap.h), without an skb. The frame as it
 * stands becomes the inner frame; in front go an outer Ethernet header
 * (MACs from bpf_fib_lookup towards the tunnel endpoint), IPv4 (source =
 * this node's address, TTL 64, checksum computed here), UDP to 8472 with a
 * zero checksum (RFC 7348 over IPv4) and a source port hashed from the
 * inner flow (so the underlay spreads flows as the kernel's VXLAN does,
 * udp_flow_src_port: the ephemeral range), and the VXLAN header carrying
 * the VNI (the sender's identity, as lib/encap.h).
 */
#ifndef CPP_BPF_XDP_ENCAP_H
#define CPP_BPF_XDP_ENCAP_H

#include <linux/udp.h>

#include "common.h"
#include "xdp_csum.h"

#define XDP_VXLAN_PORT      8472 /* upstream's tunnel-port, the agent's cilium_vxlan */
#define XDP_VXLAN_HDR_LEN   8
#define XDP_ENCAP_LEN       (sizeof(struct ethhdr) + sizeof(struct iphdr) + \
			     sizeof(struct udphdr) + XDP_VXLAN_HDR_LEN)
#define XDP_TUNNEL_TTL      64
#define XDP_UDP_SPORT_MIN   32768 /* the kernel's ephemeral range, as udp_flow_src_port */
#define XDP_UDP_SPORT_SPAN  28232
#define CPP_AF_INET         2

/* Where the outer frame goes: the next hop's and our MAC, and the device
 * (the ingress one means XDP_TX). */
struct xdp_next_hop {
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
	__u32 ifindex;
};

/* Resolves the next hop towards the tunnel endpoint from this node's
 * address. Fails (-1) when the kernel has no route or no neighbour entry
 * yet; the caller then leaves the packet to tc, whose path makes the
 * kernel resolve the neighbour. Out of line: the 64-byte lookup struct
 * gets its own frame. */
static __noinline int xdp_fib_next_hop(struct xdp_md *ctx, __be32 src, __be32 endpoint,
				       struct xdp_next_hop *nh)
{
	struct bpf_fib_lookup p;

	__builtin_memset(&p, 0, sizeof(p));
	p.family = CPP_AF_INET;
	p.l4_protocol = IPPROTO_UDP;
	p.ipv4_src = src;
	p.ipv4_dst = endpoint;
	p.ifindex = ctx->ingress_ifindex;
	if (bpf_fib_lookup(ctx, &p, sizeof(p), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return -1;
	__builtin_memcpy(nh->dmac, p.dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, p.smac, ETH_ALEN);
	nh->ifindex = p.ifindex;
	return 0;
}

/* Pushes the outer headers in front of the frame. Returns 0, or -1 when
 * the frame cannot grow (then it is unchanged). */
static __always_inline int xdp_vxlan_push(struct xdp_md *ctx, const struct xdp_next_hop *nh,
					  __be32 src, __be32 endpoint, __u32 vni, __u32 flow_hash)
{
	/* A helper rather than data_end - data: clang narrows that
	 * subtraction to 32-bit loads of packet pointers, which the verifier
	 * refuses to spill. */
	__u32 inner_len = bpf_xdp_get_buff_len(ctx);
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	void *data, *end;
	__u8 *vx;

	if (bpf_xdp_adjust_head(ctx, -(int)XDP_ENCAP_LEN))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + XDP_ENCAP_LEN > end)
		return -1;
	eth = data;
	ip = data + sizeof(*eth);
	udp = (void *)ip + sizeof(*ip);
	vx = (void *)udp + sizeof(*udp);

	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*udp) + XDP_VXLAN_HDR_LEN + inner_len);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = XDP_TUNNEL_TTL;
	ip->protocol = IPPROTO_UDP;
	ip->check = 0;
	ip->saddr = src;
	ip->daddr = endpoint;
	ip->check = csum_ipv4_header((const __u16 *)ip);

	udp->source = bpf_htons(XDP_UDP_SPORT_MIN + flow_hash % XDP_UDP_SPORT_SPAN);
	udp->dest = bpf_htons(XDP_VXLAN_PORT);
	udp->len = bpf_htons(sizeof(*udp) + XDP_VXLAN_HDR_LEN + inner_len);
	udp->check = 0;

	/* RFC 7348: flags with the I bit, 24 reserved bits, VNI, 8 reserved. */
	vx[0] = 0x08;
	vx[1] = vx[2] = vx[3] = 0;
	vx[4] = (vni >> 16) & 0xff;
	vx[5] = (vni >> 8) & 0xff;
	vx[6] = vni & 0xff;
	vx[7] = 0;
	return 0;
}

#endif /* CPP_BPF_XDP_ENCAP_H */
