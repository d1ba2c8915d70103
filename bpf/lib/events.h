/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Events to user space through the cpp_events ring buffer: drops (with
 * their reason) and policy verdicts for new connections. Established
 * traffic never produces an event; that would turn every packet into a
 * ring buffer write.
 *
 * Events are best effort: when the ring is full (no reader, or a reader
 * that falls behind) the reservation fails and the event is lost, never
 * the packet. Events are written straight into the ring (reserve, fill,
 * submit) rather than built on the stack: BPF stacks are 512 bytes for a
 * whole call chain and the policy pipeline needs most of it.
 *
 * Ports are the connection-tracking tuple's (network order), except for
 * ICMP/ICMPv6, where sport is the echo identifier (0 for other types) and
 * dport the ICMP type encoded as in the policy key (htons(type)), i.e. what
 * the policy matched.
 */
#ifndef CPP_BPF_EVENTS_H
#define CPP_BPF_EVENTS_H

#include "common.h"
#include "maps.h"
#include "conntrack.h"

/* A zeroed event in the ring, or NULL when the ring is full. */
static __always_inline struct cpp_event *event_reserve(void)
{
	struct cpp_event *ev = bpf_ringbuf_reserve(&cpp_events, sizeof(*ev), 0);

	if (ev)
		__builtin_memset(ev, 0, sizeof(*ev));
	return ev;
}

static __always_inline void event_submit(struct cpp_event *ev)
{
	ev->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(ev, 0);
}

/* Addresses, protocol, ports and length of a parsed packet. */
static __always_inline void event_init_flow(struct cpp_event *ev, const struct flow *f)
{
	const struct ct_tuple *t = &f->tuple;

	ev->family = t->family;
	ev->protocol = t->nexthdr;
	__builtin_memcpy(&ev->saddr, &t->saddr, sizeof(ev->saddr));
	__builtin_memcpy(&ev->daddr, &t->daddr, sizeof(ev->daddr));
	ev->len = f->len;
	if (t->nexthdr == IPPROTO_ICMP || t->nexthdr == IPPROTO_ICMPV6) {
		ev->sport = t->sport | t->dport; /* the identifier, wherever it sits */
		ev->dport = f->policy_port;
	} else {
		ev->sport = t->sport;
		ev->dport = t->dport;
	}
}

/* The fields every drop event carries; the caller adds the addresses and
 * submits. NULL when the ring is full (the event is lost, not the packet). */
static __always_inline struct cpp_event *event_drop_start(struct __sk_buff *skb, __u8 reason, __u8 dir,
							   __u16 ep_id, __u32 ifindex, __u8 family,
							   __u8 protocol)
{
	struct cpp_event *ev = event_reserve();

	if (!ev)
		return 0;
	ev->type = CPP_EVENT_DROP;
	ev->reason = reason;
	ev->direction = dir;
	ev->ep_id = ep_id;
	ev->family = family;
	ev->protocol = protocol;
	ev->ifindex = ifindex;
	ev->len = skb->len;
	return ev;
}

/* A drop of a packet not (yet) parsed beyond its IP header. */
static __always_inline void event_drop_ip4(struct __sk_buff *skb, const struct iphdr *ip4,
					   __u8 reason, __u8 dir, __u16 ep_id, __u32 ifindex)
{
	struct cpp_event *ev = event_drop_start(skb, reason, dir, ep_id, ifindex, CPP_FAMILY_IPV4,
						ip4->protocol);

	if (!ev)
		return;
	ev->saddr.ip4 = ip4->saddr;
	ev->daddr.ip4 = ip4->daddr;
	event_submit(ev);
}

static __always_inline void event_drop_ip6(struct __sk_buff *skb, const struct ipv6hdr *ip6,
					   __u8 reason, __u8 dir, __u16 ep_id, __u32 ifindex)
{
	struct cpp_event *ev = event_drop_start(skb, reason, dir, ep_id, ifindex, CPP_FAMILY_IPV6,
						ip6->nexthdr);

	if (!ev)
		return;
	__builtin_memcpy(ev->saddr.ip6, ip6->saddr.s6_addr, 16);
	__builtin_memcpy(ev->daddr.ip6, ip6->daddr.s6_addr, 16);
	event_submit(ev);
}

/* Who an event is about: endpoint, direction, both identities, interface,
 * and the rule that decided (0 if none). */
struct event_subject {
	__u16 ep_id;
	__u8 dir;      /* CPP_DIR_* */
	__u8 pad;
	__u32 src_identity;
	__u32 dst_identity;
	__u32 ifindex;
	__u32 cookie;
};

/* A global (separately verified) function: called from several places of
 * the policy pipeline, checked by the verifier once. */
__attribute__((noinline)) int event_flow(const struct flow *f, const struct event_subject *s,
					 __u8 type, __u8 verdict, __u8 reason)
{
	struct cpp_event *ev;

	if (!f || !s)
		return -1;
	ev = event_reserve();
	if (!ev)
		return -1;
	event_init_flow(ev, f);
	ev->type = type;
	ev->verdict = verdict;
	ev->reason = reason;
	ev->direction = s->dir;
	ev->ep_id = s->ep_id;
	ev->src_identity = s->src_identity;
	ev->dst_identity = s->dst_identity;
	ev->cookie = s->cookie;
	ev->ifindex = s->ifindex;
	event_submit(ev);
	return 0;
}

#endif /* CPP_BPF_EVENTS_H */
