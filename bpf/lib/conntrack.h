/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking: what makes a policy about *connections* out of one
 * about packets. Policy is evaluated once, for the first packet of a
 * connection; the entry created then lets the rest of the connection and
 * its replies through without another policy lookup, and a policy change
 * later never cuts an established connection (the "existing
 * allowed flows stay, new denied flows drop").
 *
 * Orientation. An entry is keyed by the tuple of the packet that opened the
 * connection plus the direction it was checked in, from the point of view
 * of the endpoint that checked it: CPP_CT_EGRESS at the client's egress,
 * CPP_CT_INGRESS at the server's ingress. A same-node connection A -> B
 * therefore has two entries, {A->B, EGRESS} (A's) and {A->B, INGRESS}
 * (B's). A packet seen in direction D with tuple T is
 *   - ESTABLISHED if {T, D} exists (more of the same connection), else
 *   - REPLY       if {reverse(T), opposite(D)} exists.
 * So B's answer B -> A is a reply at B's egress (finds B's INGRESS entry)
 * and again at A's ingress (finds A's EGRESS entry), whichever program sees
 * it. Traffic a pod sends to the node or the world leaves the datapath
 * after its egress check; the answer comes back through bpf_host, where it
 * is checked as the pod's ingress and finds the EGRESS entry.
 *
 * RELATED: an ICMP/ICMPv6 error carries the header of the packet that
 * caused it (sent in the opposite direction of the error). It is let
 * through if that embedded tuple I belongs to a tracked connection:
 * {I, opposite(D)} or {reverse(I), D}. An error that matches nothing is
 * policed like any new packet (and creates no entry).
 *
 * Timeouts and TCP state follow upstream Cilium's defaults: a TCP
 * connection that has only shown SYNs lives 60 s, one that has carried any
 * other segment 6 h, and 10 s once both sides sent FIN or either sent RST;
 * everything else 60 s. Every packet refreshes the deadline. An expired
 * entry is treated as absent (LRU eviction removes it eventually; creation
 * overwrites it). A SYN on a connection that is closing reopens it as new,
 * so the policy in force *now* decides on the reused tuple.
 *
 * Not tracked (policy does not apply): non-first IPv4/IPv6 fragments carry
 * no ports; they pass and follow the fate of their first fragment, without
 * which the receiver cannot reassemble them.
 */
#ifndef CPP_BPF_CONNTRACK_H
#define CPP_BPF_CONNTRACK_H

#include "common.h"
#include "ipv6.h"
#include "maps.h"

#define CPP_NSEC_PER_SEC 1000000000ULL
#define CT_SYN_TIMEOUT         (60ULL * CPP_NSEC_PER_SEC)
#define CT_ESTABLISHED_TIMEOUT (21600ULL * CPP_NSEC_PER_SEC)
#define CT_CLOSE_TIMEOUT       (10ULL * CPP_NSEC_PER_SEC)
#define CT_NONTCP_TIMEOUT      (60ULL * CPP_NSEC_PER_SEC)
/* Deadlines move forward only when they gain more than this: spares a
 * write to a shared cache line on most packets. */
#define CT_REFRESH_SLACK       (1ULL * CPP_NSEC_PER_SEC)

#define CPP_TCP_FIN 0x01
#define CPP_TCP_SYN 0x02
#define CPP_TCP_RST 0x04
#define CPP_TCP_ACK 0x10

#define CPP_ICMP_ECHOREPLY     0
#define CPP_ICMP_DEST_UNREACH  3
#define CPP_ICMP_ECHO          8
#define CPP_ICMP_TIME_EXCEEDED 11
#define CPP_ICMP_PARAMETERPROB 12

#define CPP_ICMP6_DEST_UNREACH  1
#define CPP_ICMP6_PKT_TOOBIG    2
#define CPP_ICMP6_TIME_EXCEED   3
#define CPP_ICMP6_PARAMPROB     4
#define CPP_ICMP6_ECHO_REQUEST  128
#define CPP_ICMP6_ECHO_REPLY    129

/* How many IPv6 extension headers are skipped looking for the L4 header. */
#define CPP_IPV6_MAX_EXTHDRS 4

enum ct_status {
	CT_NEW = 0,
	CT_ESTABLISHED,
	CT_REPLY,
	CT_RELATED,
};

/* The addresses and ports of a packet, family-neutral. IPv4 addresses use
 * the first four bytes of the union, the rest stays zero. */
struct ct_tuple {
	union cpp_addr saddr;
	union cpp_addr daddr;
	__be16 sport;  /* ICMP echo reply: the identifier */
	__be16 dport;  /* ICMP echo request: the identifier */
	__u8 nexthdr;
	__u8 family;   /* CPP_FAMILY_* */
	__u16 pad;
};

enum flow_kind {
	FLOW_TRACKED = 0, /* an ordinary packet: CT and policy apply */
	FLOW_ICMP_ERROR,  /* ICMP error: `inner` holds the embedded tuple */
	FLOW_UNTRACKED,   /* policy does not apply (NDP/MLD, non-first fragment) */
};

/* Everything conntrack, policy and events need to know about a packet. */
struct flow {
	struct ct_tuple tuple;
	struct ct_tuple inner;  /* FLOW_ICMP_ERROR only */
	__be16 policy_port;     /* what the policy matches: dport, or htons(ICMP type) */
	__u8 tcp_flags;
	__u8 kind;              /* enum flow_kind */
	__u32 len;
	/* Written by the policy pipeline (lib/enforce.h) for the events of
	 * this packet: the conntrack lookup found it a reply, and whether
	 * monitor aggregation reports it (it opened a connection, is RELATED,
	 * or first set SYN, FIN or RST in its direction). */
	__u8 ct_reply;
	__u8 ct_notify;
	__u16 pad;
};

static __always_inline bool ct_is_port_proto(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

/* Ports of a TCP/UDP/SCTP header at off (all three start with them). */
static __always_inline int ct_load_ports(struct __sk_buff *skb, __u32 off, struct ct_tuple *t)
{
	__be16 ports[2];

	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)) < 0)
		return -1;
	t->sport = ports[0];
	t->dport = ports[1];
	return 0;
}

/* The header embedded in an ICMP error is the offending packet as its
 * sender sent it; only its first 8 L4 bytes are guaranteed to be there,
 * which covers ports and the echo identifier. Fills t, or returns -1. */
static __always_inline int ct_embedded_ports(struct __sk_buff *skb, __u32 off, __u8 proto,
					     struct ct_tuple *t)
{
	__u8 icmp[8];

	if (ct_is_port_proto(proto))
		return ct_load_ports(skb, off, t);
	if (proto != IPPROTO_ICMP && proto != IPPROTO_ICMPV6)
		return 0;
	if (bpf_skb_load_bytes(skb, off, icmp, sizeof(icmp)) < 0)
		return -1;
	if (icmp[0] == CPP_ICMP_ECHO || icmp[0] == CPP_ICMP6_ECHO_REQUEST)
		__builtin_memcpy(&t->dport, &icmp[4], sizeof(t->dport));
	else if (icmp[0] == CPP_ICMP_ECHOREPLY || icmp[0] == CPP_ICMP6_ECHO_REPLY)
		__builtin_memcpy(&t->sport, &icmp[4], sizeof(t->sport));
	return 0;
}

static __always_inline int ct_embedded_ip4(struct __sk_buff *skb, __u32 off, struct ct_tuple *t)
{
	struct iphdr ip4;

	if (bpf_skb_load_bytes(skb, off, &ip4, sizeof(ip4)) < 0 || ip4.ihl < 5)
		return -1;
	t->family = CPP_FAMILY_IPV4;
	t->saddr.ip4 = ip4.saddr;
	t->daddr.ip4 = ip4.daddr;
	t->nexthdr = ip4.protocol;
	return ct_embedded_ports(skb, off + ip4.ihl * 4, ip4.protocol, t);
}

static __always_inline int ct_embedded_ip6(struct __sk_buff *skb, __u32 off, struct ct_tuple *t)
{
	struct ipv6hdr ip6;

	/* Extension headers inside the embedded packet are not walked: the
	 * tuple then has no ports and matches nothing, so the error is
	 * policed as new. */
	if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) < 0)
		return -1;
	t->family = CPP_FAMILY_IPV6;
	__builtin_memcpy(t->saddr.ip6, ip6.saddr.s6_addr, 16);
	__builtin_memcpy(t->daddr.ip6, ip6.daddr.s6_addr, 16);
	t->nexthdr = ip6.nexthdr;
	return ct_embedded_ports(skb, off + sizeof(ip6), ip6.nexthdr, t);
}

/* L4 part of flow extraction, shared by both families. off is the L4
 * header's offset. Returns 0, or -1 for a header too short to hold what its
 * protocol promises (a drop: CPP_DROP_CT_INVALID_HDR). */
static __always_inline int flow_parse_l4(struct __sk_buff *skb, __u32 off, struct flow *f)
{
	struct ct_tuple *t = &f->tuple;
	__u8 hdr[14];

	switch (t->nexthdr) {
	case IPPROTO_TCP:
		/* Ports, sequence and ack numbers, data offset, flags. */
		if (bpf_skb_load_bytes(skb, off, hdr, sizeof(hdr)) < 0)
			return -1;
		__builtin_memcpy(&t->sport, &hdr[0], 2);
		__builtin_memcpy(&t->dport, &hdr[2], 2);
		f->tcp_flags = hdr[13];
		f->policy_port = t->dport;
		return 0;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (ct_load_ports(skb, off, t) < 0)
			return -1;
		f->policy_port = t->dport;
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		break;
	default:
		/* Other protocols are tracked by address pair only. */
		return 0;
	}

	/* ICMP and ICMPv6: type, code, checksum, then identifier/sequence for
	 * echoes. The policy matches the type. Like upstream, the echo
	 * identifier is the request's destination "port" and the reply's
	 * source port, so the reply is the reversed tuple of its request. */
	if (bpf_skb_load_bytes(skb, off, hdr, 8) < 0)
		return -1;
	f->policy_port = bpf_htons(hdr[0]);
	if (t->nexthdr == IPPROTO_ICMP) {
		switch (hdr[0]) {
		case CPP_ICMP_ECHO:
			__builtin_memcpy(&t->dport, &hdr[4], 2);
			return 0;
		case CPP_ICMP_ECHOREPLY:
			__builtin_memcpy(&t->sport, &hdr[4], 2);
			return 0;
		case CPP_ICMP_DEST_UNREACH: /* includes "fragmentation needed" */
		case CPP_ICMP_TIME_EXCEEDED:
		case CPP_ICMP_PARAMETERPROB:
			/* An unparsable embedded header: no RELATED match, the
			 * error is policed as an ordinary ICMP packet. */
			if (ct_embedded_ip4(skb, off + 8, &f->inner) == 0)
				f->kind = FLOW_ICMP_ERROR;
			return 0;
		default:
			return 0;
		}
	}
	switch (hdr[0]) {
	case CPP_ICMP6_ECHO_REQUEST:
		__builtin_memcpy(&t->dport, &hdr[4], 2);
		return 0;
	case CPP_ICMP6_ECHO_REPLY:
		__builtin_memcpy(&t->sport, &hdr[4], 2);
		return 0;
	case CPP_ICMP6_DEST_UNREACH:
	case CPP_ICMP6_PKT_TOOBIG:
	case CPP_ICMP6_TIME_EXCEED:
	case CPP_ICMP6_PARAMPROB:
		if (ct_embedded_ip6(skb, off + 8, &f->inner) == 0)
			f->kind = FLOW_ICMP_ERROR;
		return 0;
	case 130: /* MLD query, report, done */
	case 131:
	case 132:
	case 143: /* MLDv2 report */
	case 133: /* router solicitation/advertisement, neighbour sol./adv., redirect */
	case 134:
	case 135:
	case 136:
	case 137:
		/* Link control, as upstream: never subject to policy. */
		f->kind = FLOW_UNTRACKED;
		return 0;
	default:
		return 0;
	}
}

/* Parsing is out of line (like handle_ipv* in the entry programs) so that
 * its scratch buffers do not sit on the stack under the policy pipeline. */
static __noinline int flow_parse4(struct __sk_buff *skb, const struct iphdr *ip4, struct flow *f)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->len = skb->len;
	f->tuple.family = CPP_FAMILY_IPV4;
	f->tuple.saddr.ip4 = ip4->saddr;
	f->tuple.daddr.ip4 = ip4->daddr;
	f->tuple.nexthdr = ip4->protocol;
	if (ip4->ihl < 5)
		return -1;
	/* Fragment offset other than 0: no L4 header in this packet. */
	if (ip4->frag_off & bpf_htons(0x1fff)) {
		f->kind = FLOW_UNTRACKED;
		return 0;
	}
	return flow_parse_l4(skb, sizeof(struct ethhdr) + ip4->ihl * 4, f);
}

/* Walks up to CPP_IPV6_MAX_EXTHDRS extension headers to the L4 header. */
static __noinline int flow_parse6(struct __sk_buff *skb, const struct ipv6hdr *ip6,
				  struct flow *f)
{
	__u32 off = sizeof(struct ethhdr) + sizeof(struct ipv6hdr);
	__u8 nh = ip6->nexthdr;
	__u8 ext[4];

	__builtin_memset(f, 0, sizeof(*f));
	f->len = skb->len;
	f->tuple.family = CPP_FAMILY_IPV6;
	__builtin_memcpy(f->tuple.saddr.ip6, ip6->saddr.s6_addr, 16);
	__builtin_memcpy(f->tuple.daddr.ip6, ip6->daddr.s6_addr, 16);

#pragma unroll
	for (int i = 0; i < CPP_IPV6_MAX_EXTHDRS; i++) {
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS &&
		    nh != IPPROTO_FRAGMENT && nh != IPPROTO_AH)
			break;
		if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)) < 0)
			return -1;
		if (nh == IPPROTO_FRAGMENT) {
			/* Offset is the upper 13 bits of bytes 2-3. */
			if ((ext[2] << 5 | ext[3] >> 3) != 0) {
				f->tuple.nexthdr = ext[0];
				f->kind = FLOW_UNTRACKED;
				return 0;
			}
			off += 8;
		} else if (nh == IPPROTO_AH) {
			off += (ext[1] + 2) * 4;
		} else {
			off += (ext[1] + 1) * 8;
		}
		nh = ext[0];
	}
	f->tuple.nexthdr = nh;
	return flow_parse_l4(skb, off, f);
}

/* --- the maps --------------------------------------------------------------- */

/* The clock of expires_ns: CLOCK_MONOTONIC at tick resolution. Timeouts are
 * seconds to hours, so a tick is plenty, and reading the coarse clock is a
 * fraction of the cost of the precise one on every packet. */
static __always_inline __u64 ct_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

static __always_inline __u8 ct_opposite(__u8 dir)
{
	return dir == CPP_CT_EGRESS ? CPP_CT_INGRESS : CPP_CT_EGRESS;
}

/* The entry of tuple t (reversed if asked) checked in direction dir.
 *
 * `family` is passed as a constant by every caller rather than read from
 * the tuple: the code is written once for both families and the compiler
 * keeps only one of them in each copy, which keeps the verifier from
 * walking IPv4 and IPv6 paths for every packet. */
static __always_inline struct cpp_ct_value *ct_get(const struct ct_tuple *t, __u8 family,
						   __u8 dir, bool reverse)
{
	if (family == CPP_FAMILY_IPV4) {
		struct cpp_ct_key4 k;

		__builtin_memset(&k, 0, sizeof(k));
		k.saddr = reverse ? t->daddr.ip4 : t->saddr.ip4;
		k.daddr = reverse ? t->saddr.ip4 : t->daddr.ip4;
		k.sport = reverse ? t->dport : t->sport;
		k.dport = reverse ? t->sport : t->dport;
		k.nexthdr = t->nexthdr;
		k.dir = dir;
		return bpf_map_lookup_elem(&cpp_ct4, &k);
	} else {
		struct cpp_ct_key6 k;

		__builtin_memset(&k, 0, sizeof(k));
		__builtin_memcpy(k.saddr, reverse ? t->daddr.ip6 : t->saddr.ip6, 16);
		__builtin_memcpy(k.daddr, reverse ? t->saddr.ip6 : t->daddr.ip6, 16);
		k.sport = reverse ? t->dport : t->sport;
		k.dport = reverse ? t->sport : t->dport;
		k.nexthdr = t->nexthdr;
		k.dir = dir;
		return bpf_map_lookup_elem(&cpp_ct6, &k);
	}
}

static __always_inline bool ct_alive(const struct cpp_ct_value *e, __u64 now)
{
	return e && e->expires_ns > now;
}

static __always_inline bool ct_closing(__u32 flags)
{
	return (flags & CPP_CT_F_RST) ||
	       (flags & (CPP_CT_F_FIN_TX | CPP_CT_F_FIN_RX)) == (CPP_CT_F_FIN_TX | CPP_CT_F_FIN_RX);
}

/* TCP state bits a segment adds, seen from the entry's side: `forward`
 * means sent by the connection's originator. */
static __always_inline __u32 ct_tcp_flags(__u8 tcp_flags, bool forward)
{
	__u32 add = 0;

	if (tcp_flags & CPP_TCP_SYN)
		add |= forward ? CPP_CT_F_SYN_SEEN : CPP_CT_F_SYN_SEEN | CPP_CT_F_SYN_RX;
	else
		add |= CPP_CT_F_ESTABLISHED;
	if (tcp_flags & CPP_TCP_FIN)
		add |= forward ? CPP_CT_F_FIN_TX : CPP_CT_F_FIN_RX;
	if (tcp_flags & CPP_TCP_RST)
		add |= CPP_CT_F_RST;
	return add;
}

static __always_inline __u64 ct_lifetime(__u8 nexthdr, __u32 flags)
{
	if (nexthdr != IPPROTO_TCP)
		return CT_NONTCP_TIMEOUT;
	if (ct_closing(flags))
		return CT_CLOSE_TIMEOUT;
	if (flags & CPP_CT_F_ESTABLISHED)
		return CT_ESTABLISHED_TIMEOUT;
	return CT_SYN_TIMEOUT;
}

/* The TCP state bits monitor aggregation reports the first time they are
 * set, per direction (SYN and SYN-ACK, FIN each way, RST). */
#define CT_NOTIFY_FLAGS (CPP_CT_F_SYN_SEEN | CPP_CT_F_SYN_RX | CPP_CT_F_FIN_TX | CPP_CT_F_FIN_RX | \
			 CPP_CT_F_RST)

/* Accounts a packet to a live entry: counters, TCP state, deadline.
 * Returns true when the packet set one of CT_NOTIFY_FLAGS first. */
static __always_inline bool ct_update(struct cpp_ct_value *e, const struct flow *f, bool forward,
				      __u64 now)
{
	__u32 flags = e->flags;
	bool notify = false;
	__u64 deadline;

	if (f->tuple.nexthdr == IPPROTO_TCP) {
		__u32 add = ct_tcp_flags(f->tcp_flags, forward);

		notify = (add & ~flags & CT_NOTIFY_FLAGS) != 0;
		if ((flags & add) != add) {
			__sync_fetch_and_or(&e->flags, add);
			flags |= add;
		}
	}
	__sync_fetch_and_add(&e->packets, 1);
	__sync_fetch_and_add(&e->bytes, f->len);

	deadline = now + ct_lifetime(f->tuple.nexthdr, flags);
	/* Forward by more than the slack, or backward (closing). */
	if (deadline > e->expires_ns + CT_REFRESH_SLACK || deadline < e->expires_ns)
		e->expires_ns = deadline;
	return notify;
}

/* Looks the packet up for direction dir (CPP_CT_*). Live entries found are
 * updated; *notify tells whether an established or reply packet first set
 * a TCP flag of CT_NOTIFY_FLAGS. Returns the status; CT_NEW means policy
 * decides. */
static __always_inline enum ct_status ct_lookup(const struct flow *f, __u8 family, __u8 dir,
						__u64 now, bool *notify)
{
	struct cpp_ct_value *e;

	if (f->kind == FLOW_ICMP_ERROR) {
		e = ct_get(&f->inner, family, ct_opposite(dir), false);
		if (!ct_alive(e, now))
			e = ct_get(&f->inner, family, dir, true);
		if (!ct_alive(e, now))
			return CT_NEW;
		__sync_fetch_and_add(&e->packets, 1);
		__sync_fetch_and_add(&e->bytes, f->len);
		return CT_RELATED;
	}

	e = ct_get(&f->tuple, family, dir, false);
	if (ct_alive(e, now)) {
		/* A new SYN on a tuple that is being torn down (or was reset)
		 * is a new connection: police it again. */
		if (f->tuple.nexthdr == IPPROTO_TCP && ct_closing(e->flags) &&
		    (f->tcp_flags & (CPP_TCP_SYN | CPP_TCP_ACK)) == CPP_TCP_SYN)
			return CT_NEW;
		*notify = ct_update(e, f, true, now);
		return CT_ESTABLISHED;
	}
	e = ct_get(&f->tuple, family, ct_opposite(dir), true);
	if (ct_alive(e, now)) {
		*notify = ct_update(e, f, false, now);
		return CT_REPLY;
	}
	return CT_NEW;
}

/* An allowed new connection to record: the entry's direction (CPP_CT_*),
 * owner, the identity of the originator (the endpoint itself for egress,
 * the peer for ingress) and the rule that allowed it (0: no policy). */
struct ct_new {
	__u64 now;
	__u32 src_identity;
	__u32 cookie;
	__u16 ep_id;
	__u8 dir;
	__u8 family;
};

/* Records an allowed new connection. Out of line so that its key and value
 * are not on the stack during the policy lookup (see flow_parse4). A
 * failed insert only means the next packet is policed again. */
static __noinline void ct_create(const struct flow *f, const struct ct_new *n)
{
	struct cpp_ct_value v;
	const struct ct_tuple *t = &f->tuple;

	__builtin_memset(&v, 0, sizeof(v));
	if (t->nexthdr == IPPROTO_TCP)
		v.flags = ct_tcp_flags(f->tcp_flags, true);
	v.expires_ns = n->now + ct_lifetime(t->nexthdr, v.flags);
	v.src_identity = n->src_identity;
	v.ep_id = n->ep_id;
	v.cookie = n->cookie;
	v.packets = 1;
	v.bytes = f->len;

	if (n->family == CPP_FAMILY_IPV4) {
		struct cpp_ct_key4 k;

		__builtin_memset(&k, 0, sizeof(k));
		k.saddr = t->saddr.ip4;
		k.daddr = t->daddr.ip4;
		k.sport = t->sport;
		k.dport = t->dport;
		k.nexthdr = t->nexthdr;
		k.dir = n->dir;
		bpf_map_update_elem(&cpp_ct4, &k, &v, BPF_ANY);
	} else {
		struct cpp_ct_key6 k;

		__builtin_memset(&k, 0, sizeof(k));
		__builtin_memcpy(k.saddr, t->saddr.ip6, 16);
		__builtin_memcpy(k.daddr, t->daddr.ip6, 16);
		k.sport = t->sport;
		k.dport = t->dport;
		k.nexthdr = t->nexthdr;
		k.dir = n->dir;
		bpf_map_update_elem(&cpp_ct6, &k, &v, BPF_ANY);
	}
}

#endif /* CPP_BPF_CONNTRACK_H */
