/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv6 neighbour discovery responder for a pod's device: the IPv6 twin of
 * arp.h. Every Neighbour Solicitation the pod sends for an address other
 * than its own is answered with a Neighbour Advertisement carrying the
 * router MAC (RFC 4861 section 7.2.4), and bounced back into the pod.
 */
#ifndef CPP_BPF_ICMP6_H
#define CPP_BPF_ICMP6_H

#include "common.h"
#include "eth.h"
#include "ipv6.h"

#define CPP_NDISC_NS 135
#define CPP_NDISC_NA 136
#define CPP_ND_OPT_TARGET_LL_ADDR 2
#define CPP_ND_HOP_LIMIT 255

/* NA flags word, host order: Router, Solicited, Override. */
#define CPP_NA_F_ROUTER    0x80000000U
#define CPP_NA_F_SOLICITED 0x40000000U
#define CPP_NA_F_OVERRIDE  0x20000000U

/* The ICMPv6 part of a Neighbour Solicitation up to its target. */
struct ndisc_ns {
	struct icmp6hdr hdr; /* type, code, checksum, reserved word */
	struct in6_addr target;
};

/* The Neighbour Advertisement we send: 86 bytes, ICMPv6 part 32 bytes. */
struct ndisc_na_frame {
	struct ethhdr eth;
	struct ipv6hdr ip6;
	struct icmp6hdr icmp6; /* flags live in the fourth 32-bit word */
	struct in6_addr target;
	__u8 opt_type; /* target link-layer address option */
	__u8 opt_len;  /* in units of 8 bytes */
	__u8 opt_mac[ETH_ALEN];
} __attribute__((packed));

#define CPP_NA_ICMP6_LEN (sizeof(struct ndisc_na_frame) - sizeof(struct ethhdr) - \
			  sizeof(struct ipv6hdr))

/* The IPv6 pseudo header of the upper-layer checksum (RFC 8200 8.1). */
struct ipv6_pseudo_hdr {
	struct in6_addr saddr;
	struct in6_addr daddr;
	__be32 len;
	__be32 nexthdr; /* three zero bytes, then the next header value */
};

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* ICMPv6 checksum of the NA in f (its checksum field must be zero). */
static __always_inline int ndisc_na_csum(struct ndisc_na_frame *f)
{
	struct ipv6_pseudo_hdr ph;
	__s64 sum;

	__builtin_memcpy(&ph.saddr, &f->ip6.saddr, sizeof(ph.saddr));
	__builtin_memcpy(&ph.daddr, &f->ip6.daddr, sizeof(ph.daddr));
	ph.len = bpf_htonl(CPP_NA_ICMP6_LEN);
	ph.nexthdr = bpf_htonl(IPPROTO_ICMPV6);

	/* bpf_csum_diff with no "from" buffer is a plain one's complement sum
	 * of "to"; chaining it through the seed adds the two parts. */
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	if (sum < 0)
		return -1;
	sum = bpf_csum_diff(NULL, 0,
			    (__be32 *)((__u8 *)f + offsetof(struct ndisc_na_frame, icmp6)),
			    CPP_NA_ICMP6_LEN, (__u32)sum);
	if (sum < 0)
		return -1;
	f->icmp6.icmp6_cksum = csum_fold32((__u32)sum);
	return 0;
}

/* Answers the Neighbour Solicitation in skb (ip6 is a copy of its IPv6
 * header, already known to carry ICMPv6 type 135) with router_mac. own_ip is
 * the pod's address. Returns the tc verdict.
 *
 * Not inlined: the advertisement is built on the stack, and a BPF call
 * chain shares one 512-byte stack; out of line, this frame never adds to
 * the policy pipeline's. */
static __noinline int ndisc_respond(struct __sk_buff *skb, const struct ipv6hdr *ip6,
					 const volatile __u8 *router_mac,
					 const volatile __u8 *own_ip)
{
	const __u32 ns_off = sizeof(struct ethhdr) + sizeof(struct ipv6hdr);
	struct ndisc_na_frame f;
	struct ndisc_ns ns;
	struct ethhdr eth;

	if (eth_load(skb, &eth) < 0 || bpf_skb_load_bytes(skb, ns_off, &ns, sizeof(ns)) < 0)
		return TC_ACT_SHOT;

	/* RFC 4861 7.1.1 validity: sent on-link (hop limit 255), code 0, long
	 * enough, unicast target. Anything else is not a real solicitation. */
	if (ip6->hop_limit != CPP_ND_HOP_LIMIT || ns.hdr.icmp6_code != 0 ||
	    bpf_ntohs(ip6->payload_len) < sizeof(ns) || ipv6_is_multicast(&ns.target))
		return TC_ACT_SHOT;

	/* An unspecified source means Duplicate Address Detection: the pod is
	 * probing an address it is about to use (typically its own link-local
	 * one). Answering would make the pod's DAD fail, so stay silent; the
	 * router never owns a pod's tentative address. */
	if (ipv6_is_unspecified(&ip6->saddr))
		return TC_ACT_SHOT;
	/* The pod resolving itself: not ours to answer. */
	if (ipv6_equal_cfg(&ns.target, own_ip))
		return TC_ACT_SHOT;
	/* Only answer solicitations sent from the pod's own or link-local
	 * address, so a spoofed source can't aim replies elsewhere. */
	if (!ipv6_is_link_local(&ip6->saddr) && !ipv6_equal_cfg(&ip6->saddr, own_ip))
		return TC_ACT_SHOT;

	__builtin_memset(&f, 0, sizeof(f));
	__builtin_memcpy(f.eth.h_dest, eth.h_source, ETH_ALEN);
	mac_copy_cfg(f.eth.h_source, router_mac);
	f.eth.h_proto = bpf_htons(ETH_P_IPV6);

	f.ip6.version = 6;
	f.ip6.payload_len = bpf_htons(CPP_NA_ICMP6_LEN);
	f.ip6.nexthdr = IPPROTO_ICMPV6;
	f.ip6.hop_limit = CPP_ND_HOP_LIMIT;
	/* The router answers for the target, so the target is the source. */
	__builtin_memcpy(&f.ip6.saddr, &ns.target, sizeof(f.ip6.saddr));
	__builtin_memcpy(&f.ip6.daddr, &ip6->saddr, sizeof(f.ip6.daddr));

	f.icmp6.icmp6_type = CPP_NDISC_NA;
	f.icmp6.icmp6_dataun.un_data32[0] =
		bpf_htonl(CPP_NA_F_ROUTER | CPP_NA_F_SOLICITED | CPP_NA_F_OVERRIDE);
	__builtin_memcpy(&f.target, &ns.target, sizeof(f.target));
	f.opt_type = CPP_ND_OPT_TARGET_LL_ADDR;
	f.opt_len = 1;
	mac_copy_cfg(f.opt_mac, router_mac);

	if (ndisc_na_csum(&f) < 0)
		return TC_ACT_SHOT;

	/* The solicitation may be shorter (no source link-layer option) or
	 * longer (nonce and other options) than the advertisement. */
	if (skb->len != sizeof(f) && bpf_skb_change_tail(skb, sizeof(f), 0) < 0)
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, 0, &f, sizeof(f), 0) < 0)
		return TC_ACT_SHOT;
	/* Back out of the device it came in on: into the pod. */
	return bpf_redirect(skb->ifindex, 0);
}

#endif /* CPP_BPF_ICMP6_H */
