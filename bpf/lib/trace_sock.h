/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Trace-sock events (upstream's socket-LB tracing): what bpf_sock_lb did to
 * a socket's destination, so that flows translated at the socket, which the
 * per-packet programs only ever see addressed to the backend, still name
 * the service and the client. Four points (CPP_XLATE_*), as upstream:
 *
 *   connect/sendmsg       PRE_FWD (the frontend), POST_FWD (the backend)
 *   recvmsg/getpeername   PRE_REV (the backend),  POST_REV (the frontend)
 *
 * Each event carries the socket cookie, the caller's cgroup id and its
 * network namespace cookie: pods here are namespaces, not cgroups, so the
 * agent names the client by the netns cookie it recorded for each endpoint.
 *
 * TRACE_SOCK_NOTIFY (the agent's `trace-sock`, on by default as upstream)
 * compiles the events out when 0. Like every event they are best effort:
 * a full ring counts the event in cpp_ev_lost and never fails the call.
 */
#ifndef CPP_BPF_TRACE_SOCK_H
#define CPP_BPF_TRACE_SOCK_H

#include "common.h"
#include "events.h"

const volatile __u8 TRACE_SOCK_NOTIFY = 1;

/* The destination a socket operation names, family-neutral. */
struct sock_dst {
	union cpp_addr addr;
	__be16 port;
	__u8 family;  /* CPP_FAMILY_* of addr (IPv4 for an IPv4-mapped v6 address) */
	__u8 proto;
};

/* One translation point (CPP_XLATE_*) of the socket of ctx: fe is the
 * frontend (and names family and protocol), dst/dport (network order)
 * where the destination is at that point. Out of line: one copy of the
 * body for all four points. */
static __noinline void trace_sock(void *ctx, const struct sock_dst *fe, __u8 point,
				  const union cpp_addr *dst, __be16 dport)
{
	struct cpp_event_sock *e;

	if (!TRACE_SOCK_NOTIFY || !ctx || !fe || !dst)
		return;
	e = bpf_ringbuf_reserve(&cpp_events, sizeof(*e), 0);
	if (!e) {
		event_lost();
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ev.type = CPP_EVENT_TRACE_SOCK;
	e->ev.obs_point = point;
	e->ev.family = fe->family;
	e->ev.protocol = fe->proto;
	__builtin_memcpy(&e->ev.daddr, dst, sizeof(e->ev.daddr));
	e->ev.dport = dport;
	e->ev.flags = CPP_EVENT_F_XLATED;
	__builtin_memcpy(&e->ev.orig_daddr, &fe->addr, sizeof(e->ev.orig_daddr));
	e->ev.orig_dport = fe->port;
	e->sock_cookie = bpf_get_socket_cookie(ctx);
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->netns_cookie = bpf_get_netns_cookie(ctx);
	event_submit(&e->ev);
}

#endif /* CPP_BPF_TRACE_SOCK_H */
