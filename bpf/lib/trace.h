/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Trace events and forward counters for packets the datapath sends on
 * (upstream's trace notifications). Called where a program decides where
 * a packet goes, after the policy pipeline has run for it:
 *
 *   bpf_lxc      same-node pod -> TO_ENDPOINT (the receiver's event),
 *                stack -> TO_STACK, tunnel -> TO_OVERLAY, reply to an
 *                external client -> TO_NETWORK
 *   bpf_host     -> TO_ENDPOINT
 *   bpf_overlay  -> TO_ENDPOINT
 *   bpf_netdev   NodePort requests (lib/nodeport.h np_trace)
 *
 * Every call counts the packet as forwarded in cpp_metrics; the event is
 * sent as MONITOR_AGGREGATION allows (CPP_MONITOR_AGG_*):
 *   none     every packet
 *   low      no receive points (FROM_*)
 *   medium   and only packets the conntrack lookup reports: those that
 *   maximum  opened a connection, are RELATED, or first set SYN, FIN or
 *            RST in their direction (flow.ct_notify). No extra map: the
 *            CT entry's TCP state bits tell.
 */
#ifndef CPP_BPF_TRACE_H
#define CPP_BPF_TRACE_H

#include "common.h"
#include "conntrack.h"
#include "enforce.h"
#include "events.h"

/* Packet f, about to leave at observation point obs (CPP_OBS_*), for
 * endpoint t seen in direction dir (CPP_DIR_*); peer_identity is the
 * other side's (0: resolved from the ipcache, only when an event is
 * sent). A global function: verified once, its frame beside (not under)
 * the policy pipeline's. */
__attribute__((noinline)) int trace_forward(const struct flow *f, const struct enforce_target *t,
					    __u8 obs, __u8 dir, __u32 peer_identity)
{
	struct cpp_event *ev;

	if (!f || !t)
		return -1;
	metrics_count(0, metric_dir(dir), f->len);
	if (!trace_wanted(obs, f->ct_notify))
		return 0;
	if (!peer_identity)
		peer_identity = enforce_peer_identity(f, f->tuple.family, dir);
	ev = event_reserve();
	if (!ev)
		return -1;
	event_init_flow(ev, f);
	event_add_xlate(ev);
	ev->type = CPP_EVENT_TRACE;
	ev->obs_point = obs;
	ev->direction = dir;
	ev->ep_id = t->ep_id;
	ev->src_identity = dir == CPP_DIR_EGRESS ? t->identity : peer_identity;
	ev->dst_identity = dir == CPP_DIR_EGRESS ? peer_identity : t->identity;
	ev->ifindex = t->ifindex;
	event_submit(ev);
	return 0;
}

#endif /* CPP_BPF_TRACE_H */
