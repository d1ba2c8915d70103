/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Masquerading: pod -> outside-the-cluster traffic leaves the node with the
 * node's address (SNAT on the native device's egress) and the answers are
 * translated back (reverse NAT on its ingress), with no iptables.
 *
 * What is masqueraded (upstream's BPF masquerading rules): a packet whose
 * source is a pod of this node (cpp_lxc entry without CPP_EP_F_HOST) and
 * whose destination is outside the cluster: its ipcache identity is world
 * (2, 9, 10), a CIDR identity (local scope bit: an address no pod or node
 * claims) or missing, and it is not inside the native-routing CIDR when one
 * is set. Everything else passes untouched: the node's own traffic, VXLAN
 * (its outer source is the node already), traffic between cluster members,
 * and a pod's answers to connections the world opened towards it (found in
 * conntrack as the pod's ingress entry). The node's own TCP/UDP flows are
 * translated only when their port collides with a pod flow's
 * (nat_node_flow_collides).
 *
 * Mapping (maps cpp_snat4/cpp_snat6, both directions, see abi.h). The
 * first packet of a flow keeps its source port if the node port is free
 * for that world peer (address, port, protocol), else tries up to
 * NAT_RETRIES random ports of NAT_PORT_MIN..NAT_PORT_MAX. A port is free if
 * nobody holds its ingress entry, or the holder's two entries have both
 * expired. Claims are made with BPF_NOEXIST, so two CPUs racing for one
 * port cannot both get it. TCP/UDP ports; ICMP/ICMPv6 echo identifiers.
 * ICMP errors about masqueraded flows are translated both ways (below);
 * other ICMP messages are not translated; other L4 protocols to the world
 * are dropped (CPP_DROP_NAT_UNSUPP), as upstream.
 * Non-first fragments carry no ports and pass untouched.
 *
 * Lifetimes follow conntrack's (lib/conntrack.h): non-TCP 60 s; TCP 60 s
 * while only SYNs were seen, 6 h once other segments were, 10 s after FIN
 * or RST; each direction's entry is refreshed by its own packets, and a SYN
 * restarts the state of a reused tuple. The maps are LRU, so a full table
 * forgets the least recently used flows instead of refusing new ones.
 */
#ifndef CPP_BPF_NAT_H
#define CPP_BPF_NAT_H

#include "common.h"
#include "conntrack.h"
#include "endpoint.h"
#include "icmp_quote.h"
#include "identity.h"
#include "ipv6.h"
#include "maps.h"

/* Load-time settings (set by the loader, see bpf/README.md). An address of
 * zero switches that family's masquerading off. */
const volatile __be32 NAT_IPV4 = 0;     /* the node's IPv4 on this device */
const volatile __u8 NAT_IPV6[16] = {};  /* the node's IPv6 on this device */
const volatile __be32 NATIVE_CIDR4 = 0; /* ipv4-native-routing-cidr, network order */
const volatile __u8 NATIVE_CIDR4_LEN = 0; /* 0: not set */
const volatile __u8 NATIVE_CIDR6[16] = {};
const volatile __u8 NATIVE_CIDR6_LEN = 0;
const volatile __u16 NAT_PORT_MIN = 32768; /* upstream's range, host order */
const volatile __u16 NAT_PORT_MAX = 60999;

#define NAT_RETRIES 32

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cpp_nat_key4);
	__type(value, struct cpp_nat_value);
	__uint(max_entries, CPP_NAT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_snat4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cpp_nat_key6);
	__type(value, struct cpp_nat_value);
	__uint(max_entries, CPP_NAT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_snat6 SEC(".maps");

/* The translatable part of a packet: addresses, "ports" (see the header
 * comment for ICMP) and where the fields to rewrite are. */
struct nat_tuple {
	union cpp_addr saddr;
	union cpp_addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 nexthdr;
	__u8 tcp_flags;
	__u16 pad;
	__u32 l4_off;    /* L4 header */
	__u32 sport_off; /* the source "port" field (egress rewrites it) */
	__u32 dport_off; /* the destination "port" field (ingress rewrites it) */
	__u32 csum_off;  /* L4 checksum */
};

enum nat_parse {
	NAT_PARSE_OK = 0,
	NAT_PARSE_SKIP,   /* nothing to translate: pass untouched */
	NAT_PARSE_UNSUPP, /* a protocol masquerading cannot translate */
	NAT_PARSE_ERROR,  /* truncated header */
};

/* The L4 part. egress: the packet leaves towards the world (an echo
 * request is translatable), else it comes back (an echo reply is). */
static __always_inline enum nat_parse nat_parse_l4(struct __sk_buff *skb, struct nat_tuple *t,
						   bool egress)
{
	__u32 off = t->l4_off;
	__u8 hdr[14];
	__u8 echo;

	switch (t->nexthdr) {
	case IPPROTO_TCP:
		if (bpf_skb_load_bytes(skb, off, hdr, sizeof(hdr)) < 0)
			return NAT_PARSE_ERROR;
		t->tcp_flags = hdr[13];
		t->csum_off = off + 16;
		break;
	case IPPROTO_UDP:
		if (bpf_skb_load_bytes(skb, off, hdr, 8) < 0)
			return NAT_PARSE_ERROR;
		t->csum_off = off + 6;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (bpf_skb_load_bytes(skb, off, hdr, 8) < 0)
			return NAT_PARSE_ERROR;
		if (t->nexthdr == IPPROTO_ICMP)
			echo = egress ? CPP_ICMP_ECHO : CPP_ICMP_ECHOREPLY;
		else
			echo = egress ? CPP_ICMP6_ECHO_REQUEST : CPP_ICMP6_ECHO_REPLY;
		if (hdr[0] != echo)
			return NAT_PARSE_SKIP;
		t->csum_off = off + 2;
		t->sport_off = off + 4;
		t->dport_off = off + 4;
		if (egress)
			__builtin_memcpy(&t->sport, &hdr[4], 2);
		else
			__builtin_memcpy(&t->dport, &hdr[4], 2);
		return NAT_PARSE_OK;
	default:
		return NAT_PARSE_UNSUPP;
	}
	__builtin_memcpy(&t->sport, &hdr[0], 2);
	__builtin_memcpy(&t->dport, &hdr[2], 2);
	t->sport_off = off;
	t->dport_off = off + 2;
	return NAT_PARSE_OK;
}

static __always_inline enum nat_parse nat_parse4(struct __sk_buff *skb, const struct iphdr *ip4,
						 struct nat_tuple *t, bool egress)
{
	__builtin_memset(t, 0, sizeof(*t));
	if (ip4->ihl < 5)
		return NAT_PARSE_ERROR;
	if (ip4->frag_off & bpf_htons(0x1fff))
		return NAT_PARSE_SKIP;
	t->saddr.ip4 = ip4->saddr;
	t->daddr.ip4 = ip4->daddr;
	t->nexthdr = ip4->protocol;
	t->l4_off = sizeof(struct ethhdr) + ip4->ihl * 4;
	return nat_parse_l4(skb, t, egress);
}

/* Extension headers are not walked: outbound, a packet with one counts as
 * an unsupported protocol; inbound it is not one of ours. */
static __always_inline enum nat_parse nat_parse6(struct __sk_buff *skb,
						 const struct ipv6hdr *ip6, struct nat_tuple *t,
						 bool egress)
{
	__builtin_memset(t, 0, sizeof(*t));
	__builtin_memcpy(t->saddr.ip6, ip6->saddr.s6_addr, 16);
	__builtin_memcpy(t->daddr.ip6, ip6->daddr.s6_addr, 16);
	t->nexthdr = ip6->nexthdr;
	t->l4_off = sizeof(struct ethhdr) + sizeof(struct ipv6hdr);
	if (t->nexthdr == IPPROTO_ICMP)
		return NAT_PARSE_UNSUPP; /* ICMPv4 inside IPv6 */
	return nat_parse_l4(skb, t, egress);
}

/* --- which packets ----------------------------------------------------------- */

/* Is NAT_IPV6 set (IPv6 masquerading on)? */
static __always_inline bool nat_ipv6_set(void)
{
	__u8 any = 0;

#pragma unroll
	for (int i = 0; i < 16; i++)
		any |= NAT_IPV6[i];
	return any;
}

static __always_inline bool nat_identity_is_outside(__u32 id)
{
	return id == CPP_ID_WORLD || id == CPP_ID_WORLD_IPV4 || id == CPP_ID_WORLD_IPV6 ||
	       (id & CPP_ID_LOCAL_SCOPE);
}

static __always_inline bool nat_in_native_cidr4(__be32 addr)
{
	__u32 len = NATIVE_CIDR4_LEN;
	__u32 mask;

	if (len == 0)
		return false;
	mask = len >= 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	return (bpf_ntohl(addr) & mask) == (bpf_ntohl(NATIVE_CIDR4) & mask);
}

static __always_inline bool nat_in_native_cidr6(const __u8 *addr)
{
	__u32 len = NATIVE_CIDR6_LEN;
	__u8 diff = 0;

	if (len == 0)
		return false;
#pragma unroll
	for (int i = 0; i < 16; i++) {
		__u32 bits = len > i * 8 ? len - i * 8 : 0;
		__u8 mask = bits >= 8 ? 0xff : (__u8)(0xff00 >> bits);

		diff |= (addr[i] ^ NATIVE_CIDR6[i]) & mask;
	}
	return diff == 0;
}

/* --- entries ------------------------------------------------------------------ */

static __always_inline __u64 nat_lifetime(__u8 nexthdr, __u16 flags)
{
	if (nexthdr != IPPROTO_TCP)
		return CT_NONTCP_TIMEOUT;
	if (flags & CPP_NAT_F_CLOSING)
		return CT_CLOSE_TIMEOUT;
	if (flags & CPP_NAT_F_ESTABLISHED)
		return CT_ESTABLISHED_TIMEOUT;
	return CT_SYN_TIMEOUT;
}

/* TCP state after a segment with tcp_flags, starting from flags. A SYN
 * starts over: the tuple is being reused by a new connection. */
static __always_inline __u16 nat_tcp_state(__u16 flags, __u8 tcp_flags)
{
	if (tcp_flags & CPP_TCP_SYN)
		flags = 0;
	else
		flags |= CPP_NAT_F_ESTABLISHED;
	if (tcp_flags & (CPP_TCP_FIN | CPP_TCP_RST))
		flags |= CPP_NAT_F_CLOSING;
	return flags;
}

static __always_inline bool nat_alive(const struct cpp_nat_value *v, __u64 now)
{
	return v && v->expires_ns > now;
}

/* Accounts a packet of the entry's direction: TCP state and deadline. */
static __always_inline void nat_refresh(struct cpp_nat_value *v, const struct nat_tuple *t,
					__u64 now)
{
	__u16 flags = v->flags;
	__u64 deadline;

	if (t->nexthdr == IPPROTO_TCP) {
		flags = nat_tcp_state(flags, t->tcp_flags);
		if (flags != v->flags)
			v->flags = flags;
	}
	deadline = now + nat_lifetime(t->nexthdr, flags);
	if (deadline > v->expires_ns + CT_REFRESH_SLACK || deadline < v->expires_ns)
		v->expires_ns = deadline;
}

static __always_inline void nat_value_init(struct cpp_nat_value *v, const struct nat_tuple *t,
					   const union cpp_addr *to_addr, __be16 to_port, __u64 now)
{
	__builtin_memset(v, 0, sizeof(*v));
	v->to_addr = *to_addr;
	v->to_port = to_port;
	v->created_ns = now;
	if (t->nexthdr == IPPROTO_TCP)
		v->flags = nat_tcp_state(0, t->tcp_flags);
	v->expires_ns = now + nat_lifetime(t->nexthdr, v->flags);
}

/* Keys. The family is a constant at every call site, so each copy keeps
 * only one family's code (as in lib/conntrack.h). */
static __always_inline void nat_key4(struct cpp_nat_key4 *k, __be32 s, __be32 d, __be16 sp,
				     __be16 dp, __u8 proto, __u8 dir)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->saddr = s;
	k->daddr = d;
	k->sport = sp;
	k->dport = dp;
	k->nexthdr = proto;
	k->dir = dir;
}

static __always_inline void nat_key6(struct cpp_nat_key6 *k, const __u8 *s, const __u8 *d,
				     __be16 sp, __be16 dp, __u8 proto, __u8 dir)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->saddr, s, 16);
	__builtin_memcpy(k->daddr, d, 16);
	k->sport = sp;
	k->dport = dp;
	k->nexthdr = proto;
	k->dir = dir;
}

static __always_inline void *nat_map(__u8 family)
{
	return family == CPP_FAMILY_IPV4 ? (void *)&cpp_snat4 : (void *)&cpp_snat6;
}

/* The key a reply to egress tuple t would have if its source were
 * translated to (node, port). */
static __always_inline void nat_reply_key(void *key, __u8 family, const struct nat_tuple *t,
					  const union cpp_addr *node, __be16 port)
{
	if (family == CPP_FAMILY_IPV4)
		nat_key4(key, t->daddr.ip4, node->ip4, t->dport, port, t->nexthdr, CPP_NAT_INGRESS);
	else
		nat_key6(key, t->daddr.ip6, node->ip6, t->dport, port, t->nexthdr, CPP_NAT_INGRESS);
}

/* The egress entry that goes with ingress entry `in` (key `ik`): the pod's
 * original tuple. */
static __always_inline struct cpp_nat_value *nat_partner(__u8 family, const void *ik,
							 const struct cpp_nat_value *in)
{
	if (family == CPP_FAMILY_IPV4) {
		const struct cpp_nat_key4 *k = ik;
		struct cpp_nat_key4 ek;

		nat_key4(&ek, in->to_addr.ip4, k->saddr, in->to_port, k->sport, k->nexthdr,
			 CPP_NAT_EGRESS);
		return bpf_map_lookup_elem(&cpp_snat4, &ek);
	} else {
		const struct cpp_nat_key6 *k = ik;
		struct cpp_nat_key6 ek;

		nat_key6(&ek, in->to_addr.ip6, k->saddr, in->to_port, k->sport, k->nexthdr,
			 CPP_NAT_EGRESS);
		return bpf_map_lookup_elem(&cpp_snat6, &ek);
	}
}

/* The other direction's entry of the flow entry `v` (key `key`) belongs
 * to. */
static __always_inline struct cpp_nat_value *nat_partner_of(__u8 family, const void *key,
							    const struct cpp_nat_value *v)
{
	if (family == CPP_FAMILY_IPV4) {
		const struct cpp_nat_key4 *k = key;
		struct cpp_nat_key4 ik;

		if (k->dir == CPP_NAT_INGRESS)
			return nat_partner(family, key, v);
		nat_key4(&ik, k->daddr, v->to_addr.ip4, k->dport, v->to_port, k->nexthdr,
			 CPP_NAT_INGRESS);
		return bpf_map_lookup_elem(&cpp_snat4, &ik);
	} else {
		const struct cpp_nat_key6 *k = key;
		struct cpp_nat_key6 ik;

		if (k->dir == CPP_NAT_INGRESS)
			return nat_partner(family, key, v);
		nat_key6(&ik, k->daddr, v->to_addr.ip6, k->dport, v->to_port, k->nexthdr,
			 CPP_NAT_INGRESS);
		return bpf_map_lookup_elem(&cpp_snat6, &ik);
	}
}

static __always_inline bool nat_addr_equal(__u8 family, const union cpp_addr *a,
					   const union cpp_addr *b)
{
	if (family == CPP_FAMILY_IPV4)
		return a->ip4 == b->ip4;
	return ipv6_equal((const struct in6_addr *)a->ip6, (const struct in6_addr *)b->ip6);
}

/* Tries to reserve node port `port` for tuple t: claims the ingress entry
 * if nobody holds it, the holder is t itself, or the holder is dead. Out
 * of line: its keys and values must not sit on the stack under
 * snat_egress's (one 512-byte stack for the whole call chain). */
static __noinline bool nat_try_port(__u8 family, const struct nat_tuple *t,
					 const union cpp_addr *node, __be16 port, __u64 now)
{
	struct cpp_nat_value in, *cur;
	union {
		struct cpp_nat_key4 k4;
		struct cpp_nat_key6 k6;
	} key;
	void *map = nat_map(family);

	nat_reply_key(&key, family, t, node, port);
	nat_value_init(&in, t, &t->saddr, t->sport, now);
	/* The reply is the first the ingress entry sees: it starts as "SYN
	 * seen" like the egress one. */
	if (bpf_map_update_elem(map, &key, &in, BPF_NOEXIST) == 0)
		return true;
	cur = bpf_map_lookup_elem(map, &key);
	if (cur && !(cur->to_port == t->sport && nat_addr_equal(family, &cur->to_addr, &t->saddr))) {
		if (nat_alive(cur, now) || nat_alive(nat_partner(family, &key, cur), now))
			return false;
	}
	return bpf_map_update_elem(map, &key, &in, BPF_ANY) == 0;
}

static __always_inline __be16 nat_random_port(void)
{
	__u32 span = (__u32)NAT_PORT_MAX - NAT_PORT_MIN + 1;

	return bpf_htons((__u16)(NAT_PORT_MIN + bpf_get_prandom_u32() % span));
}

/* Does a socket of the node itself own node:port towards t's peer (a
 * connection, or a listener / unconnected socket on that port)? Then the
 * peer's packets to it are the node's, and a pod flow must not take the
 * port. Only this direction is guarded: a connection the node opens later
 * can still pick a port a pod flow holds towards the same peer, since the
 * node's own traffic is not translated (bpf/README.md). */
static __noinline bool nat_port_used_by_node(struct __sk_buff *skb, __u8 family,
					     const struct nat_tuple *t,
					     const union cpp_addr *node, __be16 port)
{
	struct bpf_sock_tuple st;
	struct bpf_sock *sk;
	__u32 size;

	if (t->nexthdr != IPPROTO_TCP && t->nexthdr != IPPROTO_UDP)
		return false;
	__builtin_memset(&st, 0, sizeof(st));
	if (family == CPP_FAMILY_IPV4) {
		st.ipv4.saddr = t->daddr.ip4;
		st.ipv4.daddr = node->ip4;
		st.ipv4.sport = t->dport;
		st.ipv4.dport = port;
		size = sizeof(st.ipv4);
	} else {
		__builtin_memcpy(st.ipv6.saddr, t->daddr.ip6, 16);
		__builtin_memcpy(st.ipv6.daddr, node->ip6, 16);
		st.ipv6.sport = t->dport;
		st.ipv6.dport = port;
		size = sizeof(st.ipv6);
	}
	if (t->nexthdr == IPPROTO_TCP)
		sk = bpf_skc_lookup_tcp(skb, &st, size, BPF_F_CURRENT_NETNS, 0);
	else
		sk = bpf_sk_lookup_udp(skb, &st, size, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return false;
	bpf_sk_release(sk);
	return true;
}

/* One candidate: free of node sockets, then claimed in the map. */
static __always_inline bool nat_take_port(struct __sk_buff *skb, __u8 family,
					  const struct nat_tuple *t, const union cpp_addr *node,
					  __be16 port)
{
	return !nat_port_used_by_node(skb, family, t, node, port) &&
	       nat_try_port(family, t, node, port, ct_now());
}

/* Finds a node port for the egress tuple t: `prev` (the port an expired
 * mapping of t used, 0 if none) first, then t's own source port, then
 * random ports. Returns the port, or 0 when every try was taken. Out of
 * line: the loop is verified once. */
static __noinline __be16 nat_allocate(struct __sk_buff *skb, __u8 family,
				      const struct nat_tuple *t, const union cpp_addr *node,
				      __be16 prev)
{
	__be16 port;

	if (prev && nat_take_port(skb, family, t, node, prev))
		return prev;
	if (t->sport && nat_take_port(skb, family, t, node, t->sport))
		return t->sport;
	for (int i = 0; i < NAT_RETRIES; i++) {
		port = nat_random_port();
		if (nat_take_port(skb, family, t, node, port))
			return port;
	}
	return 0;
}

/* Did the world open this connection to the pod? Then the pod's packet is
 * an answer and must leave with the pod's own address. The pod's ingress
 * check (bpf_host) created {world -> pod, INGRESS}. */
static __always_inline bool nat_is_inbound_reply(__u8 family, const struct nat_tuple *t,
						 __u64 now)
{
	struct cpp_ct_value *e;

	if (t->nexthdr != IPPROTO_TCP && t->nexthdr != IPPROTO_UDP)
		return false;
	if (family == CPP_FAMILY_IPV4) {
		struct cpp_ct_key4 k;

		__builtin_memset(&k, 0, sizeof(k));
		k.saddr = t->daddr.ip4;
		k.daddr = t->saddr.ip4;
		k.sport = t->dport;
		k.dport = t->sport;
		k.nexthdr = t->nexthdr;
		k.dir = CPP_CT_INGRESS;
		e = bpf_map_lookup_elem(&cpp_ct4, &k);
	} else {
		struct cpp_ct_key6 k;

		__builtin_memset(&k, 0, sizeof(k));
		__builtin_memcpy(k.saddr, t->daddr.ip6, 16);
		__builtin_memcpy(k.daddr, t->saddr.ip6, 16);
		k.sport = t->dport;
		k.dport = t->sport;
		k.nexthdr = t->nexthdr;
		k.dir = CPP_CT_INGRESS;
		e = bpf_map_lookup_elem(&cpp_ct6, &k);
	}
	return ct_alive(e, now);
}

/* --- rewriting ---------------------------------------------------------------- */

static __always_inline __u64 nat_l4_csum_flags(__u8 nexthdr)
{
	/* A UDP checksum of 0 means "none" and must stay so. */
	return nexthdr == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

/* Replaces the "port" at off (source or destination) with port. */
static __always_inline int nat_rewrite_port(struct __sk_buff *skb, const struct nat_tuple *t,
					    __u32 off, __be16 old, __be16 port)
{
	if (old == port)
		return 0;
	if (bpf_l4_csum_replace(skb, t->csum_off, old, port,
				nat_l4_csum_flags(t->nexthdr) | sizeof(port)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, off, &port, sizeof(port), 0);
}

/* Replaces the IPv4 address at ip offset addr_off (saddr or daddr). */
static __always_inline int nat_rewrite_addr4(struct __sk_buff *skb, const struct nat_tuple *t,
					     __u32 addr_off, __be32 old, __be32 addr)
{
	__u32 l3 = sizeof(struct ethhdr);

	if (bpf_l3_csum_replace(skb, l3 + offsetof(struct iphdr, check), old, addr, sizeof(addr)) < 0)
		return -1;
	/* ICMPv4's checksum has no pseudo header. */
	if (t->nexthdr != IPPROTO_ICMP &&
	    bpf_l4_csum_replace(skb, t->csum_off, old, addr,
				nat_l4_csum_flags(t->nexthdr) | BPF_F_PSEUDO_HDR | sizeof(addr)) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, l3 + addr_off, &addr, sizeof(addr), 0);
}

/* IPv6 has no header checksum; every L4 checksum (ICMPv6's too) covers
 * the pseudo header. */
static __always_inline int nat_rewrite_addr6(struct __sk_buff *skb, const struct nat_tuple *t,
					     __u32 addr_off, const __u8 *old, const __u8 *addr)
{
	__u32 o[4], n[4];
	__s64 diff;

	__builtin_memcpy(o, old, 16);
	__builtin_memcpy(n, addr, 16);
	diff = bpf_csum_diff(o, sizeof(o), n, sizeof(n), 0);
	if (diff < 0)
		return -1;
	if (bpf_l4_csum_replace(skb, t->csum_off, 0, diff,
				nat_l4_csum_flags(t->nexthdr) | BPF_F_PSEUDO_HDR) < 0)
		return -1;
	return bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + addr_off, n, sizeof(n), 0);
}

/* An alive egress entry whose ingress entry the LRU evicted would send the
 * flow's answers to the node instead of the pod, for as long as the pod
 * keeps the flow alive. Called when the egress entry's deadline moves (at
 * most about once a second per flow, CT_REFRESH_SLACK): puts the ingress
 * entry back if the port is still free. Out of line: own stack frame. */
static __noinline void nat_restore_reply_entry(__u8 family, const struct nat_tuple *t,
					       const union cpp_addr *node, __be16 port)
{
	struct cpp_nat_value in;
	union {
		struct cpp_nat_key4 k4;
		struct cpp_nat_key6 k6;
	} key;
	__u64 now = ct_now();

	nat_reply_key(&key, family, t, node, port);
	if (bpf_map_lookup_elem(nat_map(family), &key))
		return;
	nat_value_init(&in, t, &t->saddr, t->sport, now);
	bpf_map_update_elem(nat_map(family), &key, &in, BPF_NOEXIST);
}

/* --- the two directions ------------------------------------------------------- */

/* Result of a translation step: pass (translated or not) or drop. */
#define NAT_PASS 0

/* SNAT of a packet leaving the node through the native device. family is
 * a constant at both call sites. Returns NAT_PASS or a CPP_DROP_* reason.
 * Out of line (like nat_allocate): its keys and values get a stack frame of
 * their own instead of sitting under the port allocation's. */
static __noinline int snat_egress(struct __sk_buff *skb, __u8 family, struct nat_tuple *t)
{
	union cpp_addr node;
	struct cpp_nat_value *v, ev;
	union {
		struct cpp_nat_key4 k4;
		struct cpp_nat_key6 k6;
	} key;
	__be16 prev = 0, port;
	__u64 now = ct_now();
	int ret;

	__builtin_memset(&node, 0, sizeof(node));
	if (family == CPP_FAMILY_IPV4) {
		node.ip4 = NAT_IPV4;
		nat_key4(&key.k4, t->saddr.ip4, t->daddr.ip4, t->sport, t->dport, t->nexthdr,
			 CPP_NAT_EGRESS);
	} else {
#pragma unroll
		for (int i = 0; i < 16; i++)
			node.ip6[i] = NAT_IPV6[i];
		nat_key6(&key.k6, t->saddr.ip6, t->daddr.ip6, t->sport, t->dport, t->nexthdr,
			 CPP_NAT_EGRESS);
	}

	v = bpf_map_lookup_elem(nat_map(family), &key);
	if (nat_alive(v, now)) {
		__u64 deadline = v->expires_ns;

		nat_refresh(v, t, now);
		port = v->to_port;
		if (v->expires_ns != deadline)
			nat_restore_reply_entry(family, t, &node, port);
	} else {
		if (nat_is_inbound_reply(family, t, now))
			return NAT_PASS;
		if (v)
			prev = v->to_port;
		port = nat_allocate(skb, family, t, &node, prev);
		if (!port)
			return CPP_DROP_NAT_NO_MAPPING;
		nat_value_init(&ev, t, &node, port, now);
		if (bpf_map_update_elem(nat_map(family), &key, &ev, BPF_ANY) < 0)
			return CPP_DROP_NAT_NO_MAPPING;
	}

	if (family == CPP_FAMILY_IPV4)
		ret = nat_rewrite_addr4(skb, t, offsetof(struct iphdr, saddr), t->saddr.ip4, node.ip4);
	else
		ret = nat_rewrite_addr6(skb, t, offsetof(struct ipv6hdr, saddr), t->saddr.ip6,
					node.ip6);
	if (ret < 0 || nat_rewrite_port(skb, t, t->sport_off, t->sport, port) < 0)
		return CPP_DROP_INVALID;
	return NAT_PASS;
}

/* Reverse NAT of a packet for the node's address: if it answers a
 * masqueraded flow, restore the pod's address and port. Anything else is
 * the node's own traffic and passes untouched. */
static __always_inline int snat_ingress(struct __sk_buff *skb, __u8 family, struct nat_tuple *t)
{
	struct cpp_nat_value *v;
	union {
		struct cpp_nat_key4 k4;
		struct cpp_nat_key6 k6;
	} key;
	union cpp_addr to;
	__be16 to_port;
	__u64 now = ct_now();
	int ret;

	if (family == CPP_FAMILY_IPV4)
		nat_key4(&key.k4, t->saddr.ip4, t->daddr.ip4, t->sport, t->dport, t->nexthdr,
			 CPP_NAT_INGRESS);
	else
		nat_key6(&key.k6, t->saddr.ip6, t->daddr.ip6, t->sport, t->dport, t->nexthdr,
			 CPP_NAT_INGRESS);
	v = bpf_map_lookup_elem(nat_map(family), &key);
	if (!v)
		return NAT_PASS;
	/* Expired in this direction but the pod still sends: still its flow. */
	if (!nat_alive(v, now) && !nat_alive(nat_partner(family, &key, v), now))
		return NAT_PASS;
	nat_refresh(v, t, now);
	to = v->to_addr;
	to_port = v->to_port;

	if (family == CPP_FAMILY_IPV4)
		ret = nat_rewrite_addr4(skb, t, offsetof(struct iphdr, daddr), t->daddr.ip4, to.ip4);
	else
		ret = nat_rewrite_addr6(skb, t, offsetof(struct ipv6hdr, daddr), t->daddr.ip6,
					to.ip6);
	if (ret < 0 || nat_rewrite_port(skb, t, t->dport_off, t->dport, to_port) < 0)
		return CPP_DROP_INVALID;
	return NAT_PASS;
}

/* --- ICMP errors about masqueraded flows ------------------------------------------
 * (Parsing and rewriting: icmp_quote.h.)
 *
 * Inbound: a router or the world answers a masqueraded packet with an
 * error addressed to the node and quoting source node:port. The pod only
 * recognises it with its own address and port in both places, so the outer
 * destination, the quoted source address and the quoted source port are
 * translated back. Outbound: a pod's error about an answer it received
 * (quoting world -> pod:port) gets the node's address as outer source and
 * quoted destination, and the node port as quoted destination port, so the
 * world can match it. Either way the key is the quote reversed:
 * {quote.daddr, quote.saddr, quote.dport, quote.sport} in direction
 * INGRESS (inbound) or EGRESS (outbound). Inbound quotes may be TCP, UDP or
 * an echo request; outbound ones TCP or UDP. */

/* The live entry for key, or NULL. */
static __always_inline struct cpp_nat_value *nat_quote_entry(__u8 family, void *key, __u64 now)
{
	struct cpp_nat_value *v = bpf_map_lookup_elem(nat_map(family), key);

	if (!v || (!nat_alive(v, now) && !nat_alive(nat_partner_of(family, key, v), now)))
		return NULL;
	return v;
}

/* IPv4. l4_off: the ICMP header. Inbound, a quote from another source than
 * NAT_IPV4 is not ours; without NAT_IPV4 (bpf_overlay: NodePort answers from
 * the tunnel) the entry lookup alone decides. Returns NAT_PASS (translated
 * or not ours) or CPP_DROP_INVALID. */
static __noinline int nat_icmp_error4(struct __sk_buff *skb, __u32 l4_off, bool egress)
{
	struct cpp_nat_value *v;
	struct cpp_nat_key4 k;
	struct icmp_quote q;

	if (!icmp4_error_quote(skb, l4_off, !egress, &q))
		return NAT_PASS;
	if (!egress && NAT_IPV4 && q.saddr.ip4 != NAT_IPV4)
		return NAT_PASS;
	nat_key4(&k, q.daddr.ip4, q.saddr.ip4, q.dport, q.sport, q.proto,
		 egress ? CPP_NAT_EGRESS : CPP_NAT_INGRESS);
	v = nat_quote_entry(CPP_FAMILY_IPV4, &k, ct_now());
	if (!v)
		return NAT_PASS;
	if (icmp4_outer_set(skb, egress, egress ? q.daddr.ip4 : q.saddr.ip4, v->to_addr.ip4) < 0 ||
	    icmp4_quote_set(skb, l4_off, &q, !egress, v->to_addr.ip4, v->to_port) < 0)
		return CPP_DROP_INVALID;
	return NAT_PASS;
}

/* IPv6. ICMPv6's checksum covers the pseudo header (the outer address)
 * and the quote (which has no header checksum). */
static __noinline int nat_icmp_error6(struct __sk_buff *skb, __u32 l4_off, bool egress)
{
	struct cpp_nat_value *v;
	struct cpp_nat_key6 k;
	struct icmp_quote q;

	if (!icmp6_error_quote(skb, l4_off, !egress, &q))
		return NAT_PASS;
	if (!egress && nat_ipv6_set() &&
	    !ipv6_equal_cfg((const struct in6_addr *)q.saddr.ip6, NAT_IPV6))
		return NAT_PASS;
	nat_key6(&k, q.daddr.ip6, q.saddr.ip6, q.dport, q.sport, q.proto,
		 egress ? CPP_NAT_EGRESS : CPP_NAT_INGRESS);
	v = nat_quote_entry(CPP_FAMILY_IPV6, &k, ct_now());
	if (!v)
		return NAT_PASS;
	if (icmp6_outer_set(skb, l4_off, egress, egress ? q.daddr.ip6 : q.saddr.ip6,
			    v->to_addr.ip6) < 0 ||
	    icmp6_quote_set(skb, l4_off, &q, !egress, v->to_addr.ip6, v->to_port) < 0)
		return CPP_DROP_INVALID;
	return NAT_PASS;
}

/* A TCP/UDP packet of the node itself (source = the masquerade address):
 * must it be translated too? Only when its port collides with a pod flow,
 * i.e. a masqueraded pod flow holds this node port towards this very peer
 * (the node opened its connection after the pod's, and the kernel, which
 * knows only its own sockets, picked the same port), or when an earlier
 * packet of it was remapped for that reason. Then it gets another node
 * port like a pod flow (snat_egress), and its answers are translated back
 * to its own port. Everything else of the node passes untouched, at the
 * cost of two hash lookups. */
static __noinline bool nat_node_flow_collides(__u8 family, const struct nat_tuple *t)
{
	struct cpp_nat_value *v;
	union {
		struct cpp_nat_key4 k4;
		struct cpp_nat_key6 k6;
	} key;
	__u64 now = ct_now();

	if (family == CPP_FAMILY_IPV4)
		nat_key4(&key.k4, t->saddr.ip4, t->daddr.ip4, t->sport, t->dport, t->nexthdr,
			 CPP_NAT_EGRESS);
	else
		nat_key6(&key.k6, t->saddr.ip6, t->daddr.ip6, t->sport, t->dport, t->nexthdr,
			 CPP_NAT_EGRESS);
	if (nat_alive(bpf_map_lookup_elem(nat_map(family), &key), now))
		return true;
	nat_reply_key(&key, family, t, &t->saddr, t->sport);
	v = bpf_map_lookup_elem(nat_map(family), &key);
	if (!v || (v->to_port == t->sport && nat_addr_equal(family, &v->to_addr, &t->saddr)))
		return false;
	return nat_alive(v, now) || nat_alive(nat_partner(family, &key, v), now);
}

/* Should this packet (leaving through the native device) be masqueraded?
 * Source a pod of this node, destination outside the cluster. Out of line
 * for the same reason as nat_try_port. */
static __noinline bool snat_wanted4(const struct iphdr *ip4)
{
	if (!NAT_IPV4 || ip4->saddr == NAT_IPV4)
		return false;
	if (!endpoint_is_local_pod(lookup_ip4_endpoint(ip4->saddr)))
		return false;
	if (nat_in_native_cidr4(ip4->daddr))
		return false;
	return nat_identity_is_outside(identity_lookup4(ip4->daddr));
}

static __noinline bool snat_wanted6(const struct ipv6hdr *ip6)
{
	if (!nat_ipv6_set() || ipv6_is_link_local(&ip6->saddr) || ipv6_is_multicast(&ip6->daddr))
		return false;
	if (!endpoint_is_local_pod(lookup_ip6_endpoint(&ip6->saddr)))
		return false;
	if (nat_in_native_cidr6(ip6->daddr.s6_addr))
		return false;
	return nat_identity_is_outside(identity_lookup6(&ip6->daddr));
}

#endif /* CPP_BPF_NAT_H */
