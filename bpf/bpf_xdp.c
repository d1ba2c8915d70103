// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bpf_xdp: cil_xdp_entry, XDP on the node's native device
 * (bpf-lb-acceleration: native, or generic mode for best-effort). The
 * NodePort / LoadBalancer / ExternalIP fast path of lib/nodeport.h,
 * before the kernel allocates an skb:
 *
 *   local backend  -> DNAT (checksums patched by hand), XDP_PASS: the
 *                     stack and bpf_host take it from there
 *   remote backend -> DNAT + SNAT to the node, VXLAN headers pushed in
 *                     front (lib/xdp_encap.h, VNI host), XDP_TX (or a
 *                     redirect when the route to the tunnel endpoint
 *                     leaves through another device)
 *   no backend     -> ICMP/ICMPv6 port unreachable built in place
 *                     (lib/xdp_reject.h) and XDP_TX, or drop
 *                     (service-no-backend-response: drop)
 *   anything else  -> XDP_PASS untouched: tc (cil_from_netdev) still runs
 *
 * The backend choice and the entries (cpp_lb_ct SVC/REV, cpp_snat) are
 * the tc path's, so either program may handle any packet of a flow and the
 * answers take the tc reverse path. Whatever XDP cannot finish (no route
 * or neighbour towards the tunnel endpoint yet, IPv4 options, IPv6
 * extension headers, fragments, backends routed without a tunnel) is left
 * untouched to tc before anything is recorded.
 */
#include "lib/common.h"
#include "lib/config.h"
#include "lib/maps.h"
#include "lib/nodeport.h"
#include "lib/xdp_encap.h"
#include "lib/xdp_nat.h"
#include "lib/xdp_reject.h"

/* Flow hash for the outer UDP source port: the inner tuple as the backend
 * sees it, so all packets of a flow take one underlay path. */
static __always_inline __u32 xdp_flow_hash(const struct lb_pkt *p)
{
	return lb_tuple_hash(&p->t);
}

/* No backend: the port unreachable answer goes back out with XDP_TX, or
 * the request is dropped (service-no-backend-response: drop). */
static __always_inline int xdp_no_backend(struct xdp_md *ctx, __u8 family, const struct lb_pkt *p)
{
	if (LB_NO_BACKEND_REJECT) {
		if ((family == CPP_FAMILY_IPV4 ? xdp_reject4(ctx, p) : xdp_reject6(ctx, p)) == 0)
			return XDP_TX;
		return XDP_DROP;
	}
	np_event_drop(p, CPP_DROP_NO_SERVICE, ctx->ingress_ifindex, bpf_xdp_get_buff_len(ctx));
	return XDP_DROP;
}

/* Commits a new connection as the tc path does. */
static __always_inline void xdp_commit(const struct lb_pkt *p, const struct lb_sel *sel,
				       __u8 family, __u32 flags, __u32 ifindex)
{
	if (sel->existing)
		return;
	if (family == CPP_FAMILY_IPV4)
		lb4_ct_commit(p, sel, flags, ifindex);
	else
		lb6_ct_commit(p, sel, flags, ifindex);
}

/* The source becomes node:port (after np_snat_port). */
static __noinline int xdp_snat_rewrite(struct lb_pkt *p, const struct xdp_ptrs *x, __u8 family,
				       __be16 port)
{
	union cpp_addr node;

	if (!np_node_addr(family, &node))
		return -1;
	xdp_rewrite_src(p, x, family, &node, port);
	return 0;
}

static __always_inline int __xdp_nodeport(struct xdp_md *ctx, __u8 family)
{
	struct xdp_next_hop nh;
	struct np_scratch *s;
	struct xdp_ptrs x;
	__be32 tunnel = 0;
	__u32 zero = 0;
	__be16 port;
	int r;

	/* The request and its backend live in the per-CPU scratch: the port
	 * allocation under np_snat_port needs the stack. */
	s = bpf_map_lookup_elem(&cpp_np_scratch, &zero);
	if (!s)
		return XDP_PASS;
	if ((family == CPP_FAMILY_IPV4 ? xdp_parse4(ctx, &s->p, &x) : xdp_parse6(ctx, &s->p, &x)) < 0)
		return XDP_PASS;
	s->p.scope = CPP_LB_SCOPE_EXT;
	r = family == CPP_FAMILY_IPV4 ? lb4_fwd_select(&s->p, &s->sel)
				      : lb6_fwd_select(&s->p, &s->sel);
	if (r == LB_NOT_SERVICE)
		return XDP_PASS;
	if (r == LB_NO_BACKEND)
		return xdp_no_backend(ctx, family, &s->p);

	switch (np_backend_where(family, &s->sel.addr, &tunnel)) {
	case NP_BE_LOCAL:
		xdp_commit(&s->p, &s->sel, family, CPP_LB_CT_F_EXTERNAL, ctx->ingress_ifindex);
		xdp_rewrite_dst(&s->p, &x, family, &s->sel.addr, s->sel.port);
		return XDP_PASS;
	case NP_BE_TUNNEL:
		break;
	default:
		return XDP_PASS;
	}

	if (!NAT_IPV4 || xdp_fib_next_hop(ctx, NAT_IPV4, tunnel, &nh) < 0)
		return XDP_PASS;
	port = np_snat_port(ctx, family, &s->p, &s->sel);
	if (!port)
		return XDP_PASS; /* tc drops it with the reason */
	xdp_commit(&s->p, &s->sel, family, CPP_LB_CT_F_EXTERNAL | CPP_LB_CT_F_SNAT,
		   ctx->ingress_ifindex);
	xdp_rewrite_dst(&s->p, &x, family, &s->sel.addr, s->sel.port);
	if (xdp_snat_rewrite(&s->p, &x, family, port) < 0)
		return XDP_DROP;
	if (xdp_vxlan_push(ctx, &nh, NAT_IPV4, tunnel, CPP_ID_HOST, xdp_flow_hash(&s->p)) < 0)
		return XDP_DROP;
	if (nh.ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(nh.ifindex, 0);
}

static __noinline int xdp_nodeport4(struct xdp_md *ctx)
{
	return __xdp_nodeport(ctx, CPP_FAMILY_IPV4);
}

static __noinline int xdp_nodeport6(struct xdp_md *ctx)
{
	return __xdp_nodeport(ctx, CPP_FAMILY_IPV6);
}

SEC("xdp")
int cil_xdp_entry(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (!ENABLE_LB || (void *)(eth + 1) > end)
		return XDP_PASS;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		return ENABLE_IPV4 ? xdp_nodeport4(ctx) : XDP_PASS;
	case bpf_htons(ETH_P_IPV6):
		return ENABLE_IPV6 ? xdp_nodeport6(ctx) : XDP_PASS;
	default:
		return XDP_PASS;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
