/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Service load balancing (kube-proxy replacement), the part every program
 * shares: service lookup, backend selection, the per-packet translation
 * state (cpp_lb_ct4/6) and the rewrites. The maps are in lb_maps.h, the
 * ICMP answers for a service without backends in lb_reject.h.
 *
 * Per packet (tc, struct __sk_buff):
 *
 *   forward  (client -> frontend):  lb4_xlate_fwd / lb6_xlate_fwd
 *       = lbN_fwd_select  (existing SVC entry, else service + backend)
 *       + lbN_ct_commit   (new connection: SVC and REV entries)
 *       + lbN_dnat        (destination address/port, L3+L4 checksums)
 *     Programs that must decide something between choosing the backend and
 *     committing (bpf_netdev: local or remote backend, SNAT or not) call
 *     the three steps themselves.
 *   reverse  (backend -> client):   lb4_rev_nat / lb6_rev_nat
 *       a REV entry for the packet's tuple puts the frontend back as the
 *       source; its flags (CPP_LB_CT_F_EXTERNAL) and ifindex tell the caller
 *       where the reply has to leave.
 *
 * Connections keep their backend: an SVC entry's backend is used as long
 * as cpp_lb_be still holds it with the same address and port (also when it
 * is terminating and out of every slot), so scaling a service never moves
 * an established connection. A pure SYN on a closing or expired entry is a
 * new connection and picks again; any other TCP segment revives an expired
 * entry (an idle connection is still the same connection).
 *
 * Backend choice for a new connection: a fresh affinity entry
 * (CPP_LB_F_AFFINITY) whose backend still exists and is not terminating;
 * else Maglev (CPP_LB_F_MAGLEV: lb_tuple_hash % CPP_LB_MAGLEV_M indexes the
 * service's table; the same hash on every node) or a random slot. Services
 * without a Maglev table yet fall back to random.
 *
 * Per-packet translation handles TCP and UDP whose L4 header directly
 * follows the IP header (IPv6 extension headers: not translated). SCTP is
 * not translated per packet: its CRC32c cannot be patched incrementally
 * (socket LB covers it).
 */
#ifndef CPP_BPF_LB_H
#define CPP_BPF_LB_H

#include "common.h"
#include "conntrack.h"
#include "identity.h"
#include "ipv6.h"
#include "maps.h"

/* Load-time settings (set by the loader on every program that includes
 * this header). ENABLE_LB: kube-proxy-replacement; 0 prunes every LB path.
 * LB_NO_BACKEND_REJECT: service-no-backend-response, 1 = reject (ICMP port
 * unreachable), 0 = drop (CPP_DROP_NO_SERVICE). */
const volatile __u8 ENABLE_LB = 0;
const volatile __u8 LB_NO_BACKEND_REJECT = 1;

enum lb_result {
	LB_NOT_SERVICE = 0, /* not a frontend (or not translatable): untouched */
	LB_TRANSLATED,      /* backend chosen (and, for lbN_xlate_fwd, applied) */
	LB_NO_BACKEND,      /* a frontend without backends: reject or drop */
	LB_ERROR,           /* the packet could not be rewritten: drop */
};

/* What the load balancer needs of a packet. t is the tuple as the packet
 * carries it (family, nexthdr, addresses, ports); offsets are absolute. */
struct lb_pkt {
	struct ct_tuple t;
	__u32 l3_off;   /* IP header */
	__u32 l4_off;   /* TCP/UDP header */
	__u8 tcp_flags; /* TCP only */
	__u8 scope;     /* CPP_LB_SCOPE_* to look the frontend up in */
	__u16 pad;
};

/* The backend of a connection, as lbN_fwd_select found or chose it. */
struct lb_sel {
	union cpp_addr addr; /* backend address */
	__be16 port;         /* backend port */
	__u16 svc_id;
	__u32 backend_id;
	__u32 svc_flags;     /* CPP_LB_F_* (new connections only) */
	__u32 ct_flags;      /* CPP_LB_CT_F_* of the existing entry */
	__u32 ifindex;       /* ifindex of the existing entry */
	__u8 existing;       /* 1: from a live SVC entry (already committed) */
	__u8 pad[3];
};

/* A matched REV entry: the frontend now in the packet's source, and where
 * the reply must go. */
struct lb_rev {
	union cpp_addr addr; /* frontend address */
	__be16 port;         /* frontend port */
	__u16 svc_id;
	__u32 flags;         /* CPP_LB_CT_F_* */
	__u32 ifindex;       /* CPP_LB_CT_F_EXTERNAL: the device the request came in on */
};

/* --- small pieces ------------------------------------------------------------- */

static __always_inline bool lb_proto_supported(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* Fills p from a parsed flow (lib/conntrack.h). l4_off must be where the
 * flow's L4 header is. */
static __always_inline void lb_pkt_from_flow(struct lb_pkt *p, const struct flow *f, __u32 l3_off,
					     __u32 l4_off, __u8 scope)
{
	__builtin_memcpy(&p->t, &f->tuple, sizeof(p->t));
	p->l3_off = l3_off;
	p->l4_off = l4_off;
	p->tcp_flags = f->tcp_flags;
	p->scope = scope;
	p->pad = 0;
}

static __always_inline void lb_key_init(struct cpp_lb_key *k, __u8 family,
					const union cpp_addr *addr, __be16 dport, __u8 proto,
					__u8 scope)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (family == CPP_FAMILY_IPV4)
		k->addr.ip4 = addr->ip4;
	else
		__builtin_memcpy(k->addr.ip6, addr->ip6, 16);
	k->dport = dport;
	k->proto = proto;
	k->scope = scope;
	k->family = family;
}

/* The service entry of frontend k (slot 0), or NULL. A NodePort is open on
 * every node's address, so for in-cluster traffic (INT scope) a destination
 * the ipcache knows as this node (host) or another node (remote-node) falls
 * back to the NodePort's wildcard entry (address zero), as upstream's socket
 * LB does: a pod reaching another node's NodePort is translated at its own
 * node. k is then left on the wildcard, where the slots are. */
static __always_inline const struct cpp_lb_svc_value *lb_lookup_frontend(struct cpp_lb_key *k)
{
	const struct cpp_lb_svc_value *svc = bpf_map_lookup_elem(&cpp_lb_svc, k);
	__u32 id;

	if (svc || k->scope != CPP_LB_SCOPE_INT)
		return svc;
	id = k->family == CPP_FAMILY_IPV4 ? identity_lookup4(k->addr.ip4)
					   : identity_lookup6((const struct in6_addr *)k->addr.ip6);
	if (id != CPP_ID_HOST && id != CPP_ID_REMOTE_NODE)
		return 0;
	__builtin_memset(&k->addr, 0, sizeof(k->addr));
	svc = bpf_map_lookup_elem(&cpp_lb_svc, k);
	return svc && (svc->flags & CPP_LB_F_NODEPORT) ? svc : 0;
}

static __always_inline const struct cpp_lb_backend *lb_backend(__u32 id)
{
	return bpf_map_lookup_elem(&cpp_lb_be, &id);
}

static __always_inline bool lb_addr_equal(const union cpp_addr *a, const union cpp_addr *b,
					  __u8 family)
{
	if (family == CPP_FAMILY_IPV4)
		return a->ip4 == b->ip4;
	return ipv6_equal((const struct in6_addr *)a->ip6, (const struct in6_addr *)b->ip6);
}

static __always_inline __u32 lb_rotl(__u32 v, __u32 n)
{
	return (v << n) | (v >> (32 - n));
}

static __always_inline __u32 lb_hash_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = lb_rotl(k, 15);
	k *= 0x1b873593;
	h ^= k;
	h = lb_rotl(h, 13);
	return h * 5 + 0xe6546b64;
}

static __always_inline __u32 lb_hash_final(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ (h >> 16);
}

/* Hash of the 5-tuple (MurmurHash3's mixing): what Maglev indexes with.
 * Every program and every node computes the same value for a flow, so the
 * XDP and tc paths of all nodes pick the same backend. */
static __always_inline __u32 lb_tuple_hash(const struct ct_tuple *t)
{
	__u32 w[4], h = 0x5eed1b5u;

	__builtin_memcpy(w, t->saddr.ip6, 16);
	h = lb_hash_mix(h, w[0] ^ w[1] ^ w[2] ^ w[3]);
	__builtin_memcpy(w, t->daddr.ip6, 16);
	h = lb_hash_mix(h, w[0] ^ w[1] ^ w[2] ^ w[3]);
	h = lb_hash_mix(h, ((__u32)t->sport << 16) | t->dport);
	h = lb_hash_mix(h, t->nexthdr);
	return lb_hash_final(h);
}

/* --- backend selection ---------------------------------------------------------- */

static __always_inline __u32 lb_slot_backend(const struct cpp_lb_key *svc_key, __u16 slot)
{
	const struct cpp_lb_svc_value *v;
	struct cpp_lb_key k;

	__builtin_memcpy(&k, svc_key, sizeof(k));
	k.slot = slot;
	v = bpf_map_lookup_elem(&cpp_lb_svc, &k);
	return v ? v->backend_id : 0;
}

/* The backend id at hash's position of the service's Maglev table, 0 if
 * the service has no table (yet). */
static __always_inline __u32 lb_maglev_backend(__u16 svc_id, __u32 hash)
{
	__u32 zero = 0, idx = hash % CPP_LB_MAGLEV_M;
	__u16 key = svc_id;
	__u32 *table;
	void *inner;

	inner = bpf_map_lookup_elem(&cpp_lb_maglev, &key);
	if (!inner)
		return 0;
	table = bpf_map_lookup_elem(inner, &zero);
	/* clang knows the modulo is in range and would drop the check; the
	 * verifier does not track modulo results and needs it. */
	asm volatile("" : "+r"(idx));
	if (!table || idx >= CPP_LB_MAGLEV_M)
		return 0;
	return table[idx];
}

static __always_inline bool lb_backend_active(__u32 id)
{
	const struct cpp_lb_backend *be = lb_backend(id);

	return be && !(be->flags & CPP_LB_BE_F_TERMINATING);
}

/* Picks the backend for a new connection to the service svc (its slot-0
 * entry; svc_key its key, any slot). hash: lb_tuple_hash for per-packet
 * LB, anything flow-specific for socket LB. Affinity is keyed by client
 * (per-packet) or netns_cookie (socket LB; client NULL). Returns the
 * backend id, 0 when there is none. */
static __noinline __u32 lb_select_backend(const struct cpp_lb_key *svc_key,
					  const struct cpp_lb_svc_value *svc, __u32 hash,
					  const union cpp_addr *client, __u64 netns_cookie)
{
	struct cpp_lb_affinity_value *av;
	struct cpp_lb_affinity_key ak;
	struct cpp_lb_affinity_value nv;
	__u32 count, id = 0;
	__u64 now = 0;

	if (!svc_key || !svc)
		return 0;
	count = svc->count;
	if (!count)
		return 0;

	if (svc->flags & CPP_LB_F_AFFINITY) {
		__builtin_memset(&ak, 0, sizeof(ak));
		if (client)
			__builtin_memcpy(&ak.client, client, sizeof(ak.client));
		ak.netns_cookie = netns_cookie;
		ak.svc_id = svc->svc_id;
		ak.family = svc_key->family;
		now = bpf_ktime_get_ns();
		av = bpf_map_lookup_elem(&cpp_lb_aff, &ak);
		if (av && now - av->last_used_ns <= (__u64)svc->affinity_timeout * CPP_NSEC_PER_SEC &&
		    lb_backend_active(av->backend_id)) {
			av->last_used_ns = now;
			return av->backend_id;
		}
	}

	if (svc->flags & CPP_LB_F_MAGLEV)
		id = lb_maglev_backend(svc->svc_id, hash);
	if (!id)
		id = lb_slot_backend(svc_key, (__u16)(bpf_get_prandom_u32() % count + 1));

	if (id && (svc->flags & CPP_LB_F_AFFINITY)) {
		nv.last_used_ns = now;
		nv.backend_id = id;
		nv.pad = 0;
		bpf_map_update_elem(&cpp_lb_aff, &ak, &nv, BPF_ANY);
	}
	return id;
}

/* --- translation state (cpp_lb_ct4 / cpp_lb_ct6) -------------------------------- */

/* The entry of dir (CPP_LB_CT_*) for tuple t; reverse swaps both ends.
 * family is a constant at every call site (one copy per family). */
static __always_inline struct cpp_lb_ct_value *lb_ct_get(const union cpp_addr *saddr,
							  const union cpp_addr *daddr, __be16 sport,
							  __be16 dport, __u8 proto, __u8 family,
							  __u8 dir)
{
	if (family == CPP_FAMILY_IPV4) {
		struct cpp_ct_key4 k;

		__builtin_memset(&k, 0, sizeof(k));
		k.saddr = saddr->ip4;
		k.daddr = daddr->ip4;
		k.sport = sport;
		k.dport = dport;
		k.nexthdr = proto;
		k.dir = dir;
		return bpf_map_lookup_elem(&cpp_lb_ct4, &k);
	} else {
		struct cpp_ct_key6 k;

		__builtin_memset(&k, 0, sizeof(k));
		__builtin_memcpy(k.saddr, saddr->ip6, 16);
		__builtin_memcpy(k.daddr, daddr->ip6, 16);
		k.sport = sport;
		k.dport = dport;
		k.nexthdr = proto;
		k.dir = dir;
		return bpf_map_lookup_elem(&cpp_lb_ct6, &k);
	}
}

static __always_inline int lb_ct_put(const union cpp_addr *saddr, const union cpp_addr *daddr,
				     __be16 sport, __be16 dport, __u8 proto, __u8 family, __u8 dir,
				     const struct cpp_lb_ct_value *v)
{
	if (family == CPP_FAMILY_IPV4) {
		struct cpp_ct_key4 k;

		__builtin_memset(&k, 0, sizeof(k));
		k.saddr = saddr->ip4;
		k.daddr = daddr->ip4;
		k.sport = sport;
		k.dport = dport;
		k.nexthdr = proto;
		k.dir = dir;
		return bpf_map_update_elem(&cpp_lb_ct4, &k, v, BPF_ANY);
	} else {
		struct cpp_ct_key6 k;

		__builtin_memset(&k, 0, sizeof(k));
		__builtin_memcpy(k.saddr, saddr->ip6, 16);
		__builtin_memcpy(k.daddr, daddr->ip6, 16);
		k.sport = sport;
		k.dport = dport;
		k.nexthdr = proto;
		k.dir = dir;
		return bpf_map_update_elem(&cpp_lb_ct6, &k, v, BPF_ANY);
	}
}

static __always_inline bool lb_is_pure_syn(__u8 proto, __u8 tcp_flags)
{
	return proto == IPPROTO_TCP && (tcp_flags & (CPP_TCP_SYN | CPP_TCP_ACK)) == CPP_TCP_SYN;
}

/* Lifetimes as lib/conntrack.h: TCP 60 s around SYNs, 6 h otherwise, 10 s
 * once FIN or RST was seen; everything else 60 s. */
static __always_inline __u64 lb_ct_lifetime(__u8 proto, __u32 flags, __u8 tcp_flags)
{
	if (proto != IPPROTO_TCP)
		return CT_NONTCP_TIMEOUT;
	if (flags & CPP_LB_CT_F_CLOSING)
		return CT_CLOSE_TIMEOUT;
	if (tcp_flags & CPP_TCP_SYN)
		return CT_SYN_TIMEOUT;
	return CT_ESTABLISHED_TIMEOUT;
}

/* Accounts a packet to entry e: closing state and deadline. Returns true
 * when the deadline moved (at most about once a second). */
static __always_inline bool lb_ct_touch(struct cpp_lb_ct_value *e, __u8 proto, __u8 tcp_flags,
					__u64 now)
{
	__u32 flags = e->flags;
	__u64 deadline;

	if (proto == IPPROTO_TCP && (tcp_flags & (CPP_TCP_FIN | CPP_TCP_RST)) &&
	    !(flags & CPP_LB_CT_F_CLOSING)) {
		__sync_fetch_and_or(&e->flags, CPP_LB_CT_F_CLOSING);
		flags |= CPP_LB_CT_F_CLOSING;
	}
	deadline = now + lb_ct_lifetime(proto, flags, tcp_flags);
	if (deadline > e->expires_ns + CT_REFRESH_SLACK || deadline < e->expires_ns) {
		e->expires_ns = deadline;
		return true;
	}
	return false;
}

/* An existing SVC entry e of packet p moved its deadline: keep the REV
 * entry at least as long (a one-way UDP stream never refreshes it from
 * replies), and put it back if the LRU dropped it. Out of line: its key
 * and value stay off the stack of the selection path. */
static __noinline void lb_ct_keep_rev(const struct lb_pkt *p, const struct cpp_lb_ct_value *e)
{
	struct cpp_lb_ct_value *r, v;
	__u8 family;

	if (!p || !e)
		return;
	family = p->t.family == CPP_FAMILY_IPV4 ? CPP_FAMILY_IPV4 : CPP_FAMILY_IPV6;
	r = lb_ct_get(&e->addr, &p->t.saddr, e->port, p->t.sport, p->t.nexthdr, family,
		      CPP_LB_CT_REV);
	if (r) {
		if (r->expires_ns < e->expires_ns)
			r->expires_ns = e->expires_ns;
		return;
	}
	__builtin_memcpy(&v, e, sizeof(v));
	__builtin_memcpy(&v.addr, &p->t.daddr, sizeof(v.addr));
	v.port = p->t.dport;
	lb_ct_put(&e->addr, &p->t.saddr, e->port, p->t.sport, p->t.nexthdr, family, CPP_LB_CT_REV,
		  &v);
}

/* --- forward: choose, commit, rewrite ---------------------------------------------- */

static __always_inline enum lb_result __lb_fwd_select(const struct lb_pkt *p, struct lb_sel *sel,
						      __u8 family)
{
	const struct cpp_lb_svc_value *svc;
	const struct cpp_lb_backend *be;
	struct cpp_lb_ct_value *e;
	struct cpp_lb_key k;
	__u64 now;
	__u32 id;

	__builtin_memset(sel, 0, sizeof(*sel));
	if (!lb_proto_supported(p->t.nexthdr))
		return LB_NOT_SERVICE;
	lb_key_init(&k, family, &p->t.daddr, p->t.dport, p->t.nexthdr, p->scope);
	svc = lb_lookup_frontend(&k);
	if (!svc)
		return LB_NOT_SERVICE;

	now = ct_now();
	e = lb_ct_get(&p->t.saddr, &p->t.daddr, p->t.sport, p->t.dport, p->t.nexthdr, family,
		      CPP_LB_CT_SVC);
	if (e) {
		bool alive = e->expires_ns > now;
		bool syn = lb_is_pure_syn(p->t.nexthdr, p->tcp_flags);
		bool keep = alive ? !(syn && (e->flags & CPP_LB_CT_F_CLOSING))
				  : (p->t.nexthdr == IPPROTO_TCP && !syn);

		be = keep ? lb_backend(e->backend_id) : 0;
		if (be && lb_addr_equal(&be->addr, &e->addr, family) && be->port == e->port) {
			__builtin_memcpy(&sel->addr, &e->addr, sizeof(sel->addr));
			sel->port = e->port;
			sel->svc_id = e->svc_id;
			sel->backend_id = e->backend_id;
			sel->ct_flags = e->flags;
			sel->ifindex = e->ifindex;
			sel->existing = 1;
			if (lb_ct_touch(e, p->t.nexthdr, p->tcp_flags, now))
				lb_ct_keep_rev(p, e);
			return LB_TRANSLATED;
		}
	}

	sel->svc_id = svc->svc_id;
	sel->svc_flags = svc->flags;
	id = lb_select_backend(&k, svc, lb_tuple_hash(&p->t), &p->t.saddr, 0);
	be = id ? lb_backend(id) : 0;
	if (!be)
		return LB_NO_BACKEND;
	__builtin_memcpy(&sel->addr, &be->addr, sizeof(sel->addr));
	sel->port = be->port;
	sel->backend_id = id;
	return LB_TRANSLATED;
}

/* Finds the backend of packet p (scope p->scope): a live SVC entry's
 * (refreshed; sel->existing = 1) or a new choice. LB_NOT_SERVICE,
 * LB_TRANSLATED (sel filled) or LB_NO_BACKEND. Nothing is rewritten. */
static __noinline enum lb_result lb4_fwd_select(const struct lb_pkt *p, struct lb_sel *sel)
{
	return __lb_fwd_select(p, sel, CPP_FAMILY_IPV4);
}

static __noinline enum lb_result lb6_fwd_select(const struct lb_pkt *p, struct lb_sel *sel)
{
	return __lb_fwd_select(p, sel, CPP_FAMILY_IPV6);
}

static __always_inline int __lb_ct_commit(const struct lb_pkt *p, const struct lb_sel *sel,
					  __u32 ct_flags, __u32 ifindex, __u8 family)
{
	struct cpp_lb_ct_value v;

	__builtin_memset(&v, 0, sizeof(v));
	v.expires_ns = ct_now() + lb_ct_lifetime(p->t.nexthdr, 0, p->tcp_flags);
	__builtin_memcpy(&v.addr, &sel->addr, sizeof(v.addr));
	v.port = sel->port;
	v.svc_id = sel->svc_id;
	v.backend_id = sel->backend_id;
	v.flags = ct_flags;
	v.ifindex = ifindex;
	if (lb_ct_put(&p->t.saddr, &p->t.daddr, p->t.sport, p->t.dport, p->t.nexthdr, family,
		      CPP_LB_CT_SVC, &v) < 0)
		return -1;
	__builtin_memcpy(&v.addr, &p->t.daddr, sizeof(v.addr));
	v.port = p->t.dport;
	return lb_ct_put(&sel->addr, &p->t.saddr, sel->port, p->t.sport, p->t.nexthdr, family,
			 CPP_LB_CT_REV, &v);
}

/* Records a new connection of packet p to backend sel: the SVC entry
 * {client, frontend} and the REV entry {backend, client}. ct_flags
 * (CPP_LB_CT_F_EXTERNAL, _SNAT) and ifindex go into both. The REV key uses
 * the client's own address even when the caller source-NATs the request:
 * the reply's destination is translated back before rev-NAT runs.
 * 0, or <0 when a map update failed. */
static __noinline int lb4_ct_commit(const struct lb_pkt *p, const struct lb_sel *sel,
				    __u32 ct_flags, __u32 ifindex)
{
	return __lb_ct_commit(p, sel, ct_flags, ifindex, CPP_FAMILY_IPV4);
}

static __noinline int lb6_ct_commit(const struct lb_pkt *p, const struct lb_sel *sel,
				    __u32 ct_flags, __u32 ifindex)
{
	return __lb_ct_commit(p, sel, ct_flags, ifindex, CPP_FAMILY_IPV6);
}

static __always_inline __u32 lb_csum_off(const struct lb_pkt *p)
{
	return p->l4_off + (p->t.nexthdr == IPPROTO_TCP ? 16 : 6);
}

/* BPF_F_MARK_MANGLED_0: a UDP checksum of 0 (none, IPv4) stays 0, and a
 * computed 0 is written as 0xffff. */
static __always_inline __u64 lb_l4_csum_flags(const struct lb_pkt *p)
{
	return p->t.nexthdr == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

/* Rewrites the source (src) or destination address and port of an IPv4
 * TCP/UDP packet, checksums included. 0 or -1. */
static __noinline int lb4_rewrite(struct __sk_buff *skb, const struct lb_pkt *p, bool src,
				  __be32 to, __be16 to_port)
{
	__u32 addr_off = p->l3_off + (src ? offsetof(struct iphdr, saddr)
					  : offsetof(struct iphdr, daddr));
	__u32 port_off = p->l4_off + (src ? 0 : 2);
	__be32 from = src ? p->t.saddr.ip4 : p->t.daddr.ip4;
	__be16 from_port = src ? p->t.sport : p->t.dport;
	__u32 csum_off = lb_csum_off(p);
	__u64 mangled = lb_l4_csum_flags(p);

	if (from != to) {
		if (bpf_l3_csum_replace(skb, p->l3_off + offsetof(struct iphdr, check), from, to,
					sizeof(to)) < 0 ||
		    bpf_l4_csum_replace(skb, csum_off, from, to,
					BPF_F_PSEUDO_HDR | mangled | sizeof(to)) < 0 ||
		    bpf_skb_store_bytes(skb, addr_off, &to, sizeof(to), 0) < 0)
			return -1;
	}
	if (from_port != to_port) {
		if (bpf_l4_csum_replace(skb, csum_off, from_port, to_port,
					mangled | sizeof(to_port)) < 0 ||
		    bpf_skb_store_bytes(skb, port_off, &to_port, sizeof(to_port), 0) < 0)
			return -1;
	}
	return 0;
}

static __noinline int lb6_rewrite(struct __sk_buff *skb, const struct lb_pkt *p, bool src,
				  const union cpp_addr *to, __be16 to_port)
{
	__u32 addr_off = p->l3_off + (src ? offsetof(struct ipv6hdr, saddr)
					  : offsetof(struct ipv6hdr, daddr));
	const union cpp_addr *from = src ? &p->t.saddr : &p->t.daddr;
	__be16 from_port = src ? p->t.sport : p->t.dport;
	__u32 csum_off = lb_csum_off(p);
	__u64 mangled = lb_l4_csum_flags(p);

	if (!to)
		return -1;
	/* Straight from the callers' memory: this sits at the end of deep
	 * call chains, its frame must stay small. */
	if (!ipv6_equal((const struct in6_addr *)from->ip6, (const struct in6_addr *)to->ip6)) {
		/* IPv6 has no header checksum; only the pseudo header changes. */
		if (bpf_l4_csum_replace(skb, csum_off, 0,
					bpf_csum_diff((__be32 *)from->ip6, 16, (__be32 *)to->ip6,
						      16, 0),
					BPF_F_PSEUDO_HDR | mangled) < 0 ||
		    bpf_skb_store_bytes(skb, addr_off, to->ip6, 16, 0) < 0)
			return -1;
	}
	if (from_port != to_port) {
		if (bpf_l4_csum_replace(skb, csum_off, from_port, to_port,
					mangled | sizeof(to_port)) < 0 ||
		    bpf_skb_store_bytes(skb, p->l4_off + (src ? 0 : 2), &to_port, sizeof(to_port),
					0) < 0)
			return -1;
	}
	return 0;
}

/* DNAT of packet p to backend sel (destination address and port). 0 or -1. */
static __always_inline int lb4_dnat(struct __sk_buff *skb, const struct lb_pkt *p,
				    const struct lb_sel *sel)
{
	return lb4_rewrite(skb, p, false, sel->addr.ip4, sel->port);
}

static __always_inline int lb6_dnat(struct __sk_buff *skb, const struct lb_pkt *p,
				    const struct lb_sel *sel)
{
	return lb6_rewrite(skb, p, false, &sel->addr, sel->port);
}

/* The whole forward step: select, commit a new connection (ct_flags and
 * ifindex into its entries), DNAT. On LB_TRANSLATED the packet carries the
 * backend as destination and sel says which; the caller's copy of the
 * tuple (p) still has the frontend. */
static __always_inline enum lb_result lb4_xlate_fwd(struct __sk_buff *skb, const struct lb_pkt *p,
						    __u32 ct_flags, __u32 ifindex, struct lb_sel *sel)
{
	enum lb_result r = lb4_fwd_select(p, sel);

	if (r != LB_TRANSLATED)
		return r;
	/* A failed commit only means the next packet chooses again. */
	if (!sel->existing)
		lb4_ct_commit(p, sel, ct_flags, ifindex);
	return lb4_dnat(skb, p, sel) < 0 ? LB_ERROR : LB_TRANSLATED;
}

static __always_inline enum lb_result lb6_xlate_fwd(struct __sk_buff *skb, const struct lb_pkt *p,
						    __u32 ct_flags, __u32 ifindex, struct lb_sel *sel)
{
	enum lb_result r = lb6_fwd_select(p, sel);

	if (r != LB_TRANSLATED)
		return r;
	if (!sel->existing)
		lb6_ct_commit(p, sel, ct_flags, ifindex);
	return lb6_dnat(skb, p, sel) < 0 ? LB_ERROR : LB_TRANSLATED;
}

/* --- reverse ---------------------------------------------------------------------- */

static __always_inline int __lb_rev_find(const struct lb_pkt *p, struct lb_rev *rev, __u8 family)
{
	struct cpp_lb_ct_value *e;
	__u64 now;

	if (!lb_proto_supported(p->t.nexthdr))
		return 0;
	e = lb_ct_get(&p->t.saddr, &p->t.daddr, p->t.sport, p->t.dport, p->t.nexthdr, family,
		      CPP_LB_CT_REV);
	if (!e)
		return 0;
	now = ct_now();
	/* An expired entry still belongs to an idle TCP connection unless
	 * this is a new one starting. */
	if (e->expires_ns <= now &&
	    (p->t.nexthdr != IPPROTO_TCP || (p->tcp_flags & CPP_TCP_SYN)))
		return 0;
	lb_ct_touch(e, p->t.nexthdr, p->tcp_flags, now);
	__builtin_memcpy(&rev->addr, &e->addr, sizeof(rev->addr));
	rev->port = e->port;
	rev->svc_id = e->svc_id;
	rev->flags = e->flags;
	rev->ifindex = e->ifindex;
	return 1;
}

/* Reverse NAT of a packet p from a backend: if a REV entry matches its
 * tuple, the source becomes the frontend (checksums patched) and rev says
 * what the entry holds. 1 applied, 0 no entry (untouched), -1 rewrite
 * failed (drop). The caller sends a CPP_LB_CT_F_EXTERNAL reply out with
 * bpf_redirect_neigh(rev->ifindex, NULL, 0, 0). */
static __noinline int lb4_rev_nat(struct __sk_buff *skb, const struct lb_pkt *p, struct lb_rev *rev)
{
	if (!p || !rev || !__lb_rev_find(p, rev, CPP_FAMILY_IPV4))
		return 0;
	return lb4_rewrite(skb, p, true, rev->addr.ip4, rev->port) < 0 ? -1 : 1;
}

static __noinline int lb6_rev_nat(struct __sk_buff *skb, const struct lb_pkt *p, struct lb_rev *rev)
{
	if (!p || !rev || !__lb_rev_find(p, rev, CPP_FAMILY_IPV6))
		return 0;
	return lb6_rewrite(skb, p, true, &rev->addr, rev->port) < 0 ? -1 : 1;
}

#include "lb_reject.h"
#include "lb_icmp.h"
#include "lb_hairpin.h"

#endif /* CPP_BPF_LB_H */
