/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One direction of one endpoint's policy for one packet: the pipeline both
 * entry programs run (bpf_lxc for the sender's egress and a same-node
 * receiver's ingress, bpf_host for a receiver's ingress).
 *
 *   conntrack: established / reply / related      -> pass, no policy, no event
 *   new: peer identity (given, or from the ipcache)
 *        direction not enforced                   -> pass (tracked)
 *        policy allows                            -> pass (tracked), ALLOWED event
 *        policy denies, audit mode                -> pass (tracked), AUDIT event
 *        policy denies                            -> DENIED event + drop event
 *
 * Connections are tracked whether or not the direction is enforced: the
 * other side's policy needs the entry to recognise the replies, and
 * switching enforcement on must not cut connections already open.
 * Enforcement flags live in the endpoint's cpp_lxc entry, so turning policy
 * on or off is a map write, not a program reload.
 */
#ifndef CPP_BPF_ENFORCE_H
#define CPP_BPF_ENFORCE_H

#include "common.h"
#include "conntrack.h"
#include "endpoint.h"
#include "events.h"
#include "identity.h"
#include "policy.h"

/* enforce_target.flags when the caller has not read them: the pipeline
 * reads the endpoint's cpp_lxc entry (by the packet's source address: only
 * for a sending pod's egress) once it knows a policy decision is needed.
 * Most packets belong to tracked connections and never need it. */
#define ENFORCE_FLAGS_FROM_SOURCE 0x80000000u

/* The endpoint a check is made for. */
struct enforce_target {
	__u16 ep_id;
	__u32 flags;     /* its cpp_lxc flags: CPP_EP_F_ENFORCE_*, CPP_EP_F_AUDIT */
	__u32 identity;  /* its own security identity (events only) */
	__u32 ifindex;   /* its lxc device (events only) */
};

/* The target for a local pod found in cpp_lxc. */
static __always_inline void enforce_target_of(struct enforce_target *t,
					      const struct cpp_endpoint_info *ep)
{
	t->ep_id = ep->lxc_id;
	t->flags = ep->flags;
	t->identity = ep->sec_id;
	t->ifindex = ep->ifindex;
}

/* Peer identity of a new connection: the source for ingress, the
 * destination for egress. */
static __always_inline __u32 enforce_peer_identity(const struct flow *f, __u8 family, __u8 dir)
{
	const union cpp_addr *a = dir == CPP_DIR_EGRESS ? &f->tuple.daddr : &f->tuple.saddr;

	if (family == CPP_FAMILY_IPV4)
		return identity_lookup4(a->ip4);
	return identity_lookup6((const struct in6_addr *)a->ip6);
}

static __always_inline int __enforce_policy(struct flow *f, __u8 family, __u8 dir,
					    const struct enforce_target *ep, __u32 peer_identity)
{
	__u8 ct_dir = dir == CPP_DIR_EGRESS ? CPP_CT_EGRESS : CPP_CT_INGRESS;
	__u32 enforce_flag = dir == CPP_DIR_EGRESS ? CPP_EP_F_ENFORCE_EGRESS : CPP_EP_F_ENFORCE_INGRESS;
	struct policy_verdict v = { .result = POLICY_ALLOW };
	const struct cpp_endpoint_info *self;
	__u32 flags = ep->flags;
	struct policy_query q;
	struct event_subject s;
	enum ct_status status;
	bool notify = false;
	__u8 reason;
	__u64 now;

	if (f->kind == FLOW_UNTRACKED)
		return 0;
	now = ct_now();
	status = ct_lookup(f, family, ct_dir, now, &notify);
	/* For the events of this packet; with two checks (same-node
	 * delivery) the later one's reply status and either's notify. */
	f->ct_reply = status == CT_REPLY;
	if (notify || status == CT_NEW || status == CT_RELATED)
		f->ct_notify = 1;
	if (status != CT_NEW)
		return 0;

	if (flags & ENFORCE_FLAGS_FROM_SOURCE) {
		/* No entry (yet): the agent has not published the endpoint,
		 * nothing to enforce. */
		if (family == CPP_FAMILY_IPV4)
			self = lookup_ip4_endpoint(f->tuple.saddr.ip4);
		else
			self = lookup_ip6_endpoint((const struct in6_addr *)f->tuple.saddr.ip6);
		flags = self ? self->flags : 0;
	}

	if (!peer_identity)
		peer_identity = enforce_peer_identity(f, family, dir);
	__builtin_memset(&s, 0, sizeof(s));
	s.ep_id = ep->ep_id;
	s.dir = dir;
	s.src_identity = dir == CPP_DIR_EGRESS ? ep->identity : peer_identity;
	s.dst_identity = dir == CPP_DIR_EGRESS ? peer_identity : ep->identity;
	s.ifindex = ep->ifindex;

	if (flags & enforce_flag) {
		__builtin_memset(&q, 0, sizeof(q));
		q.ep_id = ep->ep_id;
		q.dir = dir;
		q.proto = f->tuple.nexthdr;
		q.identity = peer_identity;
		q.dport = f->policy_port;
		q.len = f->len;
		policy_lookup(&q, &v);
		s.cookie = v.cookie;
		s.match_type = v.match_type;
		if (v.result == POLICY_ALLOW) {
			event_flow(f, &s, CPP_EVENT_POLICY_VERDICT, CPP_VERDICT_ALLOWED, 0);
		} else {
			reason = v.result == POLICY_DENY ? CPP_DROP_POLICY_DENY : CPP_DROP_POLICY;
			if (!(flags & CPP_EP_F_AUDIT)) {
				event_flow(f, &s, CPP_EVENT_POLICY_VERDICT, CPP_VERDICT_DENIED, reason);
				event_flow(f, &s, CPP_EVENT_DROP, CPP_VERDICT_DENIED, reason);
				return reason;
			}
			event_flow(f, &s, CPP_EVENT_POLICY_VERDICT, CPP_VERDICT_AUDIT, reason);
		}
	}

	/* An ICMP error that relates to nothing was allowed as a packet, it
	 * does not open a connection. */
	if (f->kind != FLOW_ICMP_ERROR) {
		struct ct_new n = {
			.now = now,
			.src_identity = s.src_identity,
			.cookie = v.cookie,
			.ep_id = ep->ep_id,
			.dir = ct_dir,
			.family = family,
		};

		ct_create(f, &n);
	}
	return 0;
}

/* Runs the pipeline for the packet f (IPv4 / IPv6) in direction dir
 * (CPP_DIR_*) of endpoint `ep`. peer_identity 0 means "resolve it from the
 * ipcache". Returns 0 to let the packet go on, or the CPP_DROP_* reason to
 * drop it (the drop event is already sent).
 *
 * These are global (non-static, not inlined) BPF functions: the verifier
 * checks each once on its own instead of once per call site and path,
 * which keeps the load time of an endpoint's program in milliseconds. The
 * price is that it cannot assume the pointers are valid. The pipeline
 * writes the conntrack result into f (ct_reply, ct_notify) for the trace
 * event the caller may send (lib/trace.h). */
__attribute__((noinline)) int enforce_policy4(struct flow *f, __u8 dir,
					      const struct enforce_target *ep, __u32 peer_identity)
{
	if (!f || !ep)
		return CPP_DROP_INVALID;
	return __enforce_policy(f, CPP_FAMILY_IPV4, dir, ep, peer_identity);
}

__attribute__((noinline)) int enforce_policy6(struct flow *f, __u8 dir,
					      const struct enforce_target *ep, __u32 peer_identity)
{
	if (!f || !ep)
		return CPP_DROP_INVALID;
	return __enforce_policy(f, CPP_FAMILY_IPV6, dir, ep, peer_identity);
}

#endif /* CPP_BPF_ENFORCE_H */
