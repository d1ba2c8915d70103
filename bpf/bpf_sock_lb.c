// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf_sock_lb: socket-level load balancing (bpf-lb-sock); upstream's
 * bpf_sock.c, renamed because a skeleton is named after its file and
 * "bpf_sock" is already the kernel's struct bpf_sock. cgroup sock_addr
 * hooks, attached by the agent to the node's cgroup (cgroup-root, never the
 * root cgroup), translate a service frontend into a backend where the
 * application names the address, once per connect() (or per sendmsg() of an
 * unconnected UDP socket) instead of once per packet: east-west traffic of
 * the processes in that cgroup is never NATed in the datapath.
 *
 *   connect4/6, sendmsg4/6  frontend (INT scope) -> backend: rewrite the
 *                           address the socket uses, remember
 *                           {socket cookie, backend} -> frontend (cpp_lb_skrev)
 *   recvmsg4/6, getpeername4/6
 *                           a backend a translated socket talks to is shown
 *                           as the frontend the application asked for
 *
 * Backend choice: lib/lb.h's lb_select_backend; affinity (ClientIP) is
 * keyed by the client's network namespace (bpf_get_netns_cookie), the
 * socket-level notion of "one client"; Maglev hashes the socket cookie.
 * No backend: service-no-backend-response reject makes connect()/sendmsg()
 * fail with ECONNREFUSED (bpf_set_retval; what a closed port answers),
 * drop with EPERM (the cgroup hook's refusal).
 *
 * Trace-sock events (lib/trace_sock.h): every translation, forward and
 * reverse, is reported before and after, with the socket cookie and the
 * caller's cgroup and network namespace.
 *
 * IPv6 sockets: an IPv4-mapped address (::ffff:a.b.c.d, a v6 socket
 * talking IPv4) is looked up as the IPv4 frontend and translated to the
 * IPv4-mapped backend.
 */
#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/lb.h"
#include "lib/trace_sock.h"

#define SYS_REJECT  0
#define SYS_PROCEED 1
#define CPP_ECONNREFUSED 111

static __always_inline bool sock_proto_ok(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

static __always_inline void sock_dst4(const struct bpf_sock_addr *ctx, struct sock_dst *d)
{
	__builtin_memset(d, 0, sizeof(*d));
	d->addr.ip4 = ctx->user_ip4;
	d->port = (__be16)ctx->user_port;
	d->family = CPP_FAMILY_IPV4;
	d->proto = ctx->protocol;
}

/* ::ffff:0:0/96 */
static __always_inline bool sock_v4_mapped(const __u32 *w)
{
	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

static __always_inline void sock_dst6(const struct bpf_sock_addr *ctx, struct sock_dst *d)
{
	__u32 w[4];

	w[0] = ctx->user_ip6[0];
	w[1] = ctx->user_ip6[1];
	w[2] = ctx->user_ip6[2];
	w[3] = ctx->user_ip6[3];
	__builtin_memset(d, 0, sizeof(*d));
	if (sock_v4_mapped(w)) {
		d->addr.ip4 = w[3];
		d->family = CPP_FAMILY_IPV4;
	} else {
		__builtin_memcpy(d->addr.ip6, w, 16);
		d->family = CPP_FAMILY_IPV6;
	}
	d->port = (__be16)ctx->user_port;
	d->proto = ctx->protocol;
}

static __always_inline void sock_store4(struct bpf_sock_addr *ctx, const union cpp_addr *a,
					__be16 port)
{
	ctx->user_ip4 = a->ip4;
	ctx->user_port = port;
}

static __always_inline void sock_store6(struct bpf_sock_addr *ctx, __u8 family,
					const union cpp_addr *a, __be16 port)
{
	__u32 w[4];

	if (family == CPP_FAMILY_IPV4) {
		w[0] = 0;
		w[1] = 0;
		w[2] = bpf_htonl(0xffff);
		w[3] = a->ip4;
	} else {
		__builtin_memcpy(w, a->ip6, 16);
	}
	ctx->user_ip6[0] = w[0];
	ctx->user_ip6[1] = w[1];
	ctx->user_ip6[2] = w[2];
	ctx->user_ip6[3] = w[3];
	ctx->user_port = port;
}

static __always_inline void sock_skrev_key(struct cpp_lb_skrev_key *k, __u64 cookie,
					   const union cpp_addr *be, __be16 port, __u8 family)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->cookie = cookie;
	__builtin_memcpy(&k->addr, be, sizeof(k->addr));
	k->port = port;
	k->family = family;
}

/* Translates destination d in place when it is a frontend. Returns
 * SYS_PROCEED (translated or not a frontend) or SYS_REJECT (no backend;
 * the error is set). */
static __noinline int sock_fwd(struct bpf_sock_addr *ctx, struct sock_dst *d)
{
	const struct cpp_lb_svc_value *svc;
	const struct cpp_lb_backend *be;
	struct cpp_lb_skrev_value rv, *old;
	struct cpp_lb_skrev_key rk;
	struct cpp_lb_key k;
	__u64 cookie;
	__u32 id;

	if (!d || !sock_proto_ok(d->proto))
		return SYS_PROCEED;
	lb_key_init(&k, d->family, &d->addr, d->port, d->proto, CPP_LB_SCOPE_INT);
	svc = lb_lookup_frontend(&k);
	if (!svc)
		return SYS_PROCEED;
	cookie = bpf_get_socket_cookie(ctx);
	trace_sock(ctx, d, CPP_XLATE_PRE_FWD, &d->addr, d->port);
	id = lb_select_backend(&k, svc, lb_hash_final((__u32)cookie ^ (__u32)(cookie >> 32)), 0,
			       bpf_get_netns_cookie(ctx));
	be = id ? lb_backend(id) : 0;
	if (!be || be->family != d->family) {
		if (LB_NO_BACKEND_REJECT)
			bpf_set_retval(-CPP_ECONNREFUSED);
		return SYS_REJECT;
	}

	/* Only written when it changes: a UDP socket sending many datagrams
	 * to one service mostly finds its entry in place. */
	sock_skrev_key(&rk, cookie, &be->addr, be->port, d->family);
	old = bpf_map_lookup_elem(&cpp_lb_skrev, &rk);
	if (!old || !lb_addr_equal(&old->addr, &d->addr, d->family) || old->port != d->port) {
		__builtin_memset(&rv, 0, sizeof(rv));
		__builtin_memcpy(&rv.addr, &d->addr, sizeof(rv.addr));
		rv.port = d->port;
		rv.svc_id = svc->svc_id;
		bpf_map_update_elem(&cpp_lb_skrev, &rk, &rv, BPF_ANY);
	}
	trace_sock(ctx, d, CPP_XLATE_POST_FWD, &be->addr, be->port);
	__builtin_memcpy(&d->addr, &be->addr, sizeof(d->addr));
	d->port = be->port;
	return SYS_PROCEED;
}

/* The frontend a translated socket's peer d stands for: d is rewritten
 * (and true returned) when the socket has an entry for it. */
static __noinline bool sock_rev(struct bpf_sock_addr *ctx, struct sock_dst *d)
{
	const struct cpp_lb_skrev_value *rv;
	struct cpp_lb_skrev_key rk;
	struct sock_dst be;

	if (!d)
		return false;
	sock_skrev_key(&rk, bpf_get_socket_cookie(ctx), &d->addr, d->port, d->family);
	rv = bpf_map_lookup_elem(&cpp_lb_skrev, &rk);
	if (!rv)
		return false;
	__builtin_memcpy(&be, d, sizeof(be));
	__builtin_memcpy(&d->addr, &rv->addr, sizeof(d->addr));
	d->port = rv->port;
	trace_sock(ctx, d, CPP_XLATE_PRE_REV, &be.addr, be.port);
	trace_sock(ctx, d, CPP_XLATE_POST_REV, &d->addr, d->port);
	return true;
}

static __always_inline int sock4_fwd(struct bpf_sock_addr *ctx)
{
	struct sock_dst d;

	if (!ENABLE_IPV4)
		return SYS_PROCEED;
	sock_dst4(ctx, &d);
	if (sock_fwd(ctx, &d) == SYS_REJECT)
		return SYS_REJECT;
	sock_store4(ctx, &d.addr, d.port);
	return SYS_PROCEED;
}

static __always_inline int sock6_fwd(struct bpf_sock_addr *ctx)
{
	struct sock_dst d;

	sock_dst6(ctx, &d);
	if (d.family == CPP_FAMILY_IPV4 ? !ENABLE_IPV4 : !ENABLE_IPV6)
		return SYS_PROCEED;
	if (sock_fwd(ctx, &d) == SYS_REJECT)
		return SYS_REJECT;
	sock_store6(ctx, d.family, &d.addr, d.port);
	return SYS_PROCEED;
}

static __always_inline int sock4_rev(struct bpf_sock_addr *ctx)
{
	struct sock_dst d;

	sock_dst4(ctx, &d);
	if (sock_rev(ctx, &d))
		sock_store4(ctx, &d.addr, d.port);
	return SYS_PROCEED;
}

static __always_inline int sock6_rev(struct bpf_sock_addr *ctx)
{
	struct sock_dst d;

	sock_dst6(ctx, &d);
	if (sock_rev(ctx, &d))
		sock_store6(ctx, d.family, &d.addr, d.port);
	return SYS_PROCEED;
}

SEC("cgroup/connect4")
int cil_sock4_connect(struct bpf_sock_addr *ctx)
{
	return sock4_fwd(ctx);
}

SEC("cgroup/sendmsg4")
int cil_sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	return sock4_fwd(ctx);
}

SEC("cgroup/recvmsg4")
int cil_sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	return sock4_rev(ctx);
}

SEC("cgroup/getpeername4")
int cil_sock4_getpeername(struct bpf_sock_addr *ctx)
{
	return sock4_rev(ctx);
}

SEC("cgroup/connect6")
int cil_sock6_connect(struct bpf_sock_addr *ctx)
{
	return sock6_fwd(ctx);
}

SEC("cgroup/sendmsg6")
int cil_sock6_sendmsg(struct bpf_sock_addr *ctx)
{
	return sock6_fwd(ctx);
}

SEC("cgroup/recvmsg6")
int cil_sock6_recvmsg(struct bpf_sock_addr *ctx)
{
	return sock6_rev(ctx);
}

SEC("cgroup/getpeername6")
int cil_sock6_getpeername(struct bpf_sock_addr *ctx)
{
	return sock6_rev(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
