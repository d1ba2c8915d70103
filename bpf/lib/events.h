/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Events to user space through the cpp_events ring buffer: drops (with
 * their reason), policy verdicts for new connections (with the policy match
 * type of the deciding key), and traces of forwarded packets (lib/trace.h)
 * thinned out by MONITOR_AGGREGATION. Socket-LB translations are traced by
 * lib/trace_sock.h in a longer record (struct cpp_event_sock).
 *
 * Events are best effort: when the ring is full (no reader, or a reader
 * that falls behind) the reservation fails and the event is lost, never
 * the packet; cpp_ev_lost counts it, so loss is never silent. Events are
 * written straight into the ring (reserve, fill, submit) rather than built
 * on the stack: BPF stacks are 512 bytes for a whole call chain and the
 * policy pipeline needs most of it.
 *
 * Metrics: every drop a drop helper here reports is also counted in
 * cpp_metrics by {reason, direction}, whether or not its event fits in the
 * ring; forwarded packets are counted where they are traced (reason 0).
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

/* monitor-aggregation (CPP_MONITOR_AGG_*): how many traces the datapath
 * sends (lib/trace.h). Drops and policy verdicts are always sent. */
const volatile __u8 MONITOR_AGGREGATION = CPP_MONITOR_AGG_MEDIUM;

static __always_inline bool trace_is_receive_point(__u8 obs)
{
	return obs == CPP_OBS_FROM_ENDPOINT || obs == CPP_OBS_FROM_HOST || obs == CPP_OBS_FROM_STACK ||
	       obs == CPP_OBS_FROM_OVERLAY || obs == CPP_OBS_FROM_NETWORK;
}

/* Whether MONITOR_AGGREGATION reports a packet seen at obs; notify: the
 * conntrack (or LB) state says it starts or changes its connection. */
static __always_inline bool trace_wanted(__u8 obs, bool notify)
{
	if (MONITOR_AGGREGATION == CPP_MONITOR_AGG_NONE)
		return true;
	if (trace_is_receive_point(obs))
		return false;
	if (MONITOR_AGGREGATION == CPP_MONITOR_AGG_LOW)
		return true;
	return notify;
}

/* Out of line: its key stays off the callers' stack frames. */
static __noinline void event_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&cpp_ev_lost, &zero);

	if (n)
		*n += 1; /* this CPU's slot: nothing else writes it meanwhile */
}

/* A zeroed event in the ring, or NULL when the ring is full (counted). */
static __always_inline struct cpp_event *event_reserve(void)
{
	struct cpp_event *ev = bpf_ringbuf_reserve(&cpp_events, sizeof(*ev), 0);

	if (ev)
		__builtin_memset(ev, 0, sizeof(*ev));
	else
		event_lost();
	return ev;
}

/* CPP_DIR_* -> CPP_METRIC_* */
static __always_inline __u8 metric_dir(__u8 dir)
{
	return dir == CPP_DIR_EGRESS ? CPP_METRIC_EGRESS : CPP_METRIC_INGRESS;
}

/* Adds one packet of len bytes to cpp_metrics {reason, dir} (reason 0:
 * forwarded; dir: CPP_METRIC_*). Out of line: key and initial value stay
 * off the callers' frames. A failed insert (map full) loses the count. */
static __noinline void metrics_count(__u8 reason, __u8 dir, __u32 len)
{
	struct cpp_metrics_key k = { .reason = reason, .dir = dir };
	struct cpp_metrics_value *v, init = { .packets = 1, .bytes = len };

	v = bpf_map_lookup_elem(&cpp_metrics, &k);
	if (v) {
		/* This CPU's copy. */
		v->packets += 1;
		v->bytes += len;
		return;
	}
	bpf_map_update_elem(&cpp_metrics, &k, &init, BPF_NOEXIST);
}

/* The service frontend of the packet being handled, when a per-packet LB
 * translation (bpf_lxc) changed its destination earlier in the same run:
 * the events about the translated packet carry it (CPP_EVENT_F_XLATED).
 * Per CPU, private to each object (not pinned): tc programs run to
 * completion on one CPU, and the program resets it for every packet it
 * may translate (event_xlate_reset). */
struct event_xlate {
	__u8 flags;   /* CPP_EVENT_F_XLATED or 0 */
	__u8 pad;
	__be16 orig_dport;
	union cpp_addr orig_daddr;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct event_xlate);
	__uint(max_entries, 1);
} cpp_ev_xlate SEC(".maps");

static __always_inline void event_xlate_reset(void)
{
	__u32 zero = 0;
	struct event_xlate *x = bpf_map_lookup_elem(&cpp_ev_xlate, &zero);

	if (x)
		x->flags = 0;
}

static __always_inline void event_xlate_set(const union cpp_addr *frontend, __be16 port)
{
	__u32 zero = 0;
	struct event_xlate *x = bpf_map_lookup_elem(&cpp_ev_xlate, &zero);

	if (!x)
		return;
	x->flags = CPP_EVENT_F_XLATED;
	x->orig_dport = port;
	__builtin_memcpy(&x->orig_daddr, frontend, sizeof(x->orig_daddr));
}

/* Copies the frontend of this run's translation, if any, into ev. */
static __always_inline void event_add_xlate(struct cpp_event *ev)
{
	__u32 zero = 0;
	struct event_xlate *x = bpf_map_lookup_elem(&cpp_ev_xlate, &zero);

	if (!x || !(x->flags & CPP_EVENT_F_XLATED))
		return;
	ev->flags |= CPP_EVENT_F_XLATED;
	ev->orig_dport = x->orig_dport;
	__builtin_memcpy(&ev->orig_daddr, &x->orig_daddr, sizeof(ev->orig_daddr));
}

/* The reader is woken only once this much is waiting: a wake-up per
 * event (the default whenever the reader has caught up) costs the sending
 * CPU an irq_work, several times the event itself. The reader also polls
 * (src/datapath/event_reader.cpp), so a trickle of events arrives within
 * its poll interval. */
#define CPP_EVENTS_WAKEUP_BYTES (64 * 1024)

static __always_inline void event_submit(struct cpp_event *ev)
{
	__u64 flags = bpf_ringbuf_query(&cpp_events, BPF_RB_AVAIL_DATA) >= CPP_EVENTS_WAKEUP_BYTES
			      ? BPF_RB_FORCE_WAKEUP
			      : BPF_RB_NO_WAKEUP;

	ev->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(ev, flags);
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
	ev->tcp_flags = f->tcp_flags; /* 0 unless TCP */
	if (f->ct_reply)
		ev->flags |= CPP_EVENT_F_REPLY;
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
	struct cpp_event *ev;

	metrics_count(reason, metric_dir(dir), skb->len);
	ev = event_reserve();
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
 * and the rule that decided (0 if none) with the kind of key it matched. */
struct event_subject {
	__u16 ep_id;
	__u8 dir;        /* CPP_DIR_* */
	__u8 match_type; /* CPP_MATCH_*, policy verdicts only */
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
	if (type == CPP_EVENT_DROP)
		metrics_count(reason, metric_dir(s->dir), f->len);
	ev = event_reserve();
	if (!ev)
		return -1;
	event_init_flow(ev, f);
	event_add_xlate(ev);
	ev->type = type;
	ev->verdict = verdict;
	ev->reason = reason;
	ev->direction = s->dir;
	ev->ep_id = s->ep_id;
	ev->src_identity = s->src_identity;
	ev->dst_identity = s->dst_identity;
	ev->cookie = s->cookie;
	ev->ifindex = s->ifindex;
	if (type == CPP_EVENT_POLICY_VERDICT)
		ev->pad = s->match_type;
	event_submit(ev);
	return 0;
}

#endif /* CPP_BPF_EVENTS_H */
