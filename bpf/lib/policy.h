/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Policy lookup in cpp_policy for the first packet of a connection.
 *
 * The control plane writes, per endpoint and direction, entries keyed by
 * (peer identity, protocol, port) where 0 means "any" in each field. The
 * datapath tries the six combinations abi.h lists, most specific first:
 *
 *   {id, proto, port} {id, proto, *} {id, *, *} {*, proto, port} {*, proto, *} {*, *, *}
 *
 * A matching entry with CPP_POLICY_F_DENY decides at once (deny wins over
 * any allow, however specific). Otherwise the most specific allow decides;
 * since a deny could still hide in a less specific key, all six are tried
 * before allowing. Nothing matching is a drop, when the direction is
 * enforced at all (lib/enforce.h). Cost: at most six hash lookups (and one
 * more for an allow, to count on the deciding entry), only for new
 * connections; the table size does not enter into it.
 *
 * The verdict names which of the six keys decided (CPP_MATCH_*, upstream's
 * policy match type) for the policy-verdict event.
 *
 * Counters of the deciding entry are bumped atomically: the map is shared
 * by all CPUs and all endpoints' programs. They count policy decisions,
 * i.e. first packets of connections (established traffic never reaches the
 * policy, see lib/conntrack.h).
 */
#ifndef CPP_BPF_POLICY_H
#define CPP_BPF_POLICY_H

#include "common.h"
#include "maps.h"

enum policy_result {
	POLICY_ALLOW = 0,
	POLICY_DENY,     /* an entry said deny: CPP_DROP_POLICY_DENY */
	POLICY_NO_MATCH, /* nothing allowed it: CPP_DROP_POLICY */
};

struct policy_verdict {
	enum policy_result result;
	__u32 cookie;      /* rule of the deciding entry, 0 without one */
	__u16 proxy_port;  /* reserved for the L7 proxy, network order */
	__u8 match_type;   /* CPP_MATCH_* of the deciding key, CPP_MATCH_NONE without one */
};

/* The CPP_MATCH_* of a key: which of identity, protocol, port it names. */
static __always_inline __u8 policy_match_type(__u32 identity, __u8 proto, __be16 dport)
{
	if (identity)
		return dport ? CPP_MATCH_L3_L4 : proto ? CPP_MATCH_L3_PROTO : CPP_MATCH_L3_ONLY;
	return dport ? CPP_MATCH_L4_ONLY : proto ? CPP_MATCH_PROTO_ONLY : CPP_MATCH_ALL;
}

static __always_inline struct cpp_policy_value *policy_get(struct cpp_policy_key *k,
							   __u32 identity, __u8 proto,
							   __be16 dport)
{
	k->identity = identity;
	k->protocol = proto;
	k->dport = dport;
	return bpf_map_lookup_elem(&cpp_policy, k);
}

static __always_inline void policy_account(struct cpp_policy_value *v, __u32 len)
{
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, len);
}

/* The decision so far. The most specific allow is remembered by its key
 * fields, not by a pointer to its value: plain numbers let the verifier
 * merge the paths through the six lookups, a pointer per candidate would
 * multiply them. */
struct policy_scan {
	__u32 identity;
	__be16 dport;
	__u8 proto;
	__u8 found;        /* an allow matched */
	__u32 cookie;
	__u16 proxy_port;
};

/* Tries one key. Returns true if it denies, which decides at once (its
 * counters are bumped and its cookie reported). */
static __always_inline bool policy_try(struct cpp_policy_key *k, struct policy_scan *scan,
				       struct policy_verdict *out, __u32 identity, __u8 proto,
				       __be16 dport, __u32 len)
{
	struct cpp_policy_value *v = policy_get(k, identity, proto, dport);

	if (!v)
		return false;
	if (v->flags & CPP_POLICY_F_DENY) {
		policy_account(v, len);
		out->result = POLICY_DENY;
		out->cookie = v->cookie;
		out->proxy_port = 0;
		out->match_type = policy_match_type(identity, proto, dport);
		return true;
	}
	if (!scan->found) {
		scan->found = 1;
		scan->identity = identity;
		scan->proto = proto;
		scan->dport = dport;
		scan->cookie = v->cookie;
		scan->proxy_port = v->proxy_port;
	}
	return false;
}

/* What is asked: the policy of endpoint ep_id in direction dir (CPP_DIR_*)
 * for a packet from/to a peer of `identity`, protocol proto, port dport
 * (network order; the ICMP type for ICMP, as the control plane encodes
 * it), len bytes long (for the counters). */
struct policy_query {
	__u16 ep_id;
	__u8 dir;
	__u8 proto;
	__u32 identity;
	__be16 dport;
	__u16 pad;
	__u32 len;
};

static __always_inline struct policy_verdict __policy_lookup(const struct policy_query *q)
{
	struct policy_verdict out = { .result = POLICY_NO_MATCH };
	struct policy_scan scan = {};
	struct cpp_policy_value *v;
	struct cpp_policy_key k;
	__u32 identity = q->identity, len = q->len;
	__be16 dport = q->dport;
	__u8 proto = q->proto;

	__builtin_memset(&k, 0, sizeof(k));
	k.ep_id = q->ep_id;
	k.direction = q->dir;

	/* Port 0 means "any": a packet without a port would look the same
	 * key up twice, so its port rows are skipped. */
	if (dport && policy_try(&k, &scan, &out, identity, proto, dport, len))
		return out;
	if (policy_try(&k, &scan, &out, identity, proto, 0, len))
		return out;
	if (policy_try(&k, &scan, &out, identity, 0, 0, len))
		return out;
	if (dport && policy_try(&k, &scan, &out, 0, proto, dport, len))
		return out;
	if (policy_try(&k, &scan, &out, 0, proto, 0, len))
		return out;
	if (policy_try(&k, &scan, &out, 0, 0, 0, len))
		return out;
	if (!scan.found)
		return out;

	out.result = POLICY_ALLOW;
	out.cookie = scan.cookie;
	out.proxy_port = scan.proxy_port;
	out.match_type = policy_match_type(scan.identity, scan.proto, scan.dport);
	/* Count on the entry that allowed. It may have been removed since;
	 * the packet is allowed by the snapshot seen above either way. */
	v = policy_get(&k, scan.identity, scan.proto, scan.dport);
	if (v)
		policy_account(v, len);
	return out;
}

/* A global (separately verified) BPF function, see lib/enforce.h. Fills
 * *out; returns its result. */
__attribute__((noinline)) int policy_lookup(const struct policy_query *q,
					    struct policy_verdict *out)
{
	if (!q || !out)
		return POLICY_NO_MATCH;
	*out = __policy_lookup(q);
	return out->result;
}

#endif /* CPP_BPF_POLICY_H */
