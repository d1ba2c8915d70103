/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the BPF datapath and the C++ control plane: map
 * names, key/value layouts and flag bits. Plain C with fixed-width types and
 * explicit padding so that both clang -target bpf and g++ lay the structs out
 * identically. Later features extend these structs through the reserved
 * fields and flag bits rather than changing existing offsets: pinned maps
 * outlive the agent, so a layout change is an upgrade event.
 */
#ifndef CILIUMPP_ABI_H
#define CILIUMPP_ABI_H

#include <linux/types.h>

/* Pinned map names (kernel map names are limited to 15 characters). */
#define CPP_MAP_ENDPOINTS "cpp_lxc"
#define CPP_MAP_IPCACHE   "cpp_ipcache"

#define CPP_MAP_POLICY    "cpp_policy"
#define CPP_MAP_CT4       "cpp_ct4"
#define CPP_MAP_CT6       "cpp_ct6"
#define CPP_MAP_EVENTS    "cpp_events"
#define CPP_MAP_EVENTS_LOST "cpp_ev_lost"
#define CPP_MAP_METRICS   "cpp_metrics"

#define CPP_ENDPOINTS_MAX 65535
#define CPP_IPCACHE_MAX   512000
#define CPP_POLICY_MAX    (16384 * 64) /* bpf-policy-map-max entries for 64 endpoints */
#define CPP_CT_MAX        262144
#define CPP_EVENTS_BYTES  (1 << 22)
#define CPP_METRICS_MAX   1024

/* Address family tags used inside map keys. */
#define CPP_FAMILY_IPV4 1
#define CPP_FAMILY_IPV6 2

/* An IPv4 address is stored in network byte order in the first four bytes;
 * the remaining twelve bytes are zero. */
union cpp_addr {
	__u32 ip4;
	__u8 ip6[16];
};

/* cpp_lxc: every local address the node owns, keyed by address. Pods and
 * the node's own router addresses (flag CPP_EP_F_HOST) live here, so the
 * datapath can tell "deliver locally" from "hand to the stack" in one
 * lookup. */
struct cpp_endpoint_key {
	union cpp_addr addr;
	__u8 family;
	__u8 cluster_id;
	__u16 pad;
};

#define CPP_EP_F_HOST 0x1 /* address belongs to the node itself */
/* Policy enforcement per direction: set when a policy selects the endpoint
 * in that direction (enable-policy=default) or always (enable-policy=always).
 * Kept in the map, not in load-time constants, so a policy change never
 * needs a program reload. */
#define CPP_EP_F_ENFORCE_INGRESS 0x2
#define CPP_EP_F_ENFORCE_EGRESS  0x4
/* policy-audit-mode: a would-be drop is reported (verdict AUDIT) and allowed. */
#define CPP_EP_F_AUDIT           0x8

struct cpp_endpoint_info {
	__u32 ifindex;     /* host-side lxc device */
	__u16 pad0;
	__u16 lxc_id;      /* endpoint id, 1..4095 */
	__u32 flags;       /* CPP_EP_F_* */
	__u8 mac[6];       /* pod-side (eth0) MAC */
	__u8 node_mac[6];  /* host-side (lxc) MAC, the pod's router MAC */
	__u32 sec_id;      /* security identity; 0 until identities exist */
	__u32 reserved[3]; /* policy program id, proxy hints, ... */
};

/* cpp_ipcache: longest-prefix match from an address to its security
 * identity and, for remote pods, the node that hosts them. prefixlen counts
 * the 32 bits of pad/cluster_id/family first, then the address prefix, so a
 * /24 IPv4 entry has prefixlen 32 + 24. */
struct cpp_ipcache_key {
	__u32 prefixlen;
	__u16 pad;
	__u8 cluster_id;
	__u8 family;
	union cpp_addr addr;
};

#define CPP_IPCACHE_STATIC_PREFIX_BITS 32

#define CPP_IPCACHE_F_SKIP_TUNNEL 0x1

struct cpp_ipcache_value {
	__u32 sec_identity;
	__u32 tunnel_endpoint; /* IPv4 node address, network byte order; 0 = local */
	__u32 flags;           /* CPP_IPCACHE_F_* */
	__u32 reserved;
};

/* cpp_policy: one hash for every endpoint of the node. The datapath looks
 * up, for a new connection, the six keys from most to least specific:
 *   {identity, proto, dport} {identity, proto, 0} {identity, 0, 0}
 *   {0, proto, dport}        {0, proto, 0}        {0, 0, 0}
 * (identity 0 = any peer, proto 0 = any protocol, dport 0 = any port).
 * Any matching entry with CPP_POLICY_F_DENY denies; otherwise any match
 * allows; no match is a drop when the direction is enforced. Deny therefore
 * always wins without the control plane having to shadow entries.
 * For ICMP/ICMPv6 the dport field holds the ICMP type (network order,
 * type in the low byte of the host-order value). */
#define CPP_DIR_INGRESS 0
#define CPP_DIR_EGRESS  1

struct cpp_policy_key {
	__u16 ep_id;     /* endpoint the entry belongs to */
	__u8 direction;  /* CPP_DIR_* */
	__u8 protocol;   /* IPPROTO_*; 0 = any */
	__u32 identity;  /* peer security identity; 0 = any */
	__u16 dport;     /* network byte order; 0 = any */
	__u16 pad;
};

#define CPP_POLICY_F_DENY 0x1

struct cpp_policy_value {
	__u8 flags;        /* CPP_POLICY_F_* */
	__u8 pad0;
	__u16 proxy_port;  /* network byte order; 0 = no L7 redirect (reserved for the L7 proxy) */
	__u32 cookie;      /* identifies the rule, for events and `policy trace` */
	__u64 packets;     /* updated with atomic adds by the datapath */
	__u64 bytes;
};

/* Connection tracking, one LRU map per family for the whole node. An entry
 * is created when a new connection is allowed, keyed by the original tuple
 * and the direction in which it was checked (a same-node connection has an
 * egress entry for the client and an ingress entry for the server). Replies
 * match the reversed tuple. */
#define CPP_CT_EGRESS  0
#define CPP_CT_INGRESS 1

struct cpp_ct_key4 {
	__u32 saddr;  /* network byte order */
	__u32 daddr;
	__u16 sport;  /* network byte order; ICMP echo: the identifier */
	__u16 dport;
	__u8 nexthdr;
	__u8 dir;     /* CPP_CT_* */
	__u16 pad;
};

struct cpp_ct_key6 {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 nexthdr;
	__u8 dir;
	__u16 pad;
};

#define CPP_CT_F_SYN_SEEN    0x1
#define CPP_CT_F_ESTABLISHED 0x2
#define CPP_CT_F_FIN_TX      0x4
#define CPP_CT_F_FIN_RX      0x8
#define CPP_CT_F_RST         0x10
#define CPP_CT_F_SYN_RX      0x20 /* a SYN from the reply side (SYN-ACK): monitor aggregation */

struct cpp_ct_value {
	__u64 expires_ns;   /* bpf_ktime_get_ns() deadline */
	__u32 flags;        /* CPP_CT_F_* */
	__u32 src_identity; /* identity of the connection's originator */
	__u16 ep_id;        /* endpoint that owns the entry */
	__u16 proxy_port;   /* reserved for the L7 proxy */
	__u32 cookie;       /* policy rule that allowed the connection */
	__u64 packets;
	__u64 bytes;
};

/* Events to user space through the cpp_events ring buffer. */
#define CPP_EVENT_DROP           1
#define CPP_EVENT_POLICY_VERDICT 2
#define CPP_EVENT_TRACE          3
#define CPP_EVENT_TRACE_SOCK     4 /* struct cpp_event_sock: socket-LB translation (bpf_sock_lb) */

/* Where a trace event saw the packet: upstream Hubble's
 * TraceObservationPoint numbering. */
#define CPP_OBS_TO_HOST       2
#define CPP_OBS_TO_STACK      3
#define CPP_OBS_TO_OVERLAY    4
#define CPP_OBS_FROM_ENDPOINT 5
#define CPP_OBS_FROM_HOST     7
#define CPP_OBS_FROM_STACK    8
#define CPP_OBS_FROM_OVERLAY  9
#define CPP_OBS_FROM_NETWORK  10
#define CPP_OBS_TO_NETWORK    11
#define CPP_OBS_TO_ENDPOINT   101

/* Where a trace-sock event saw the socket's destination (obs_point of a
 * CPP_EVENT_TRACE_SOCK): upstream's sock_xlate_point numbering. FWD: the
 * application's connect()/sendmsg() address before (PRE) and after (POST)
 * translation; REV: the peer recvmsg()/getpeername() reports, before (the
 * backend) and after (the frontend) reverse translation. */
#define CPP_XLATE_PRE_FWD  1
#define CPP_XLATE_POST_FWD 2
#define CPP_XLATE_PRE_REV  3
#define CPP_XLATE_POST_REV 4

/* Which policy key decided a policy verdict (cpp_event.pad of a
 * CPP_EVENT_POLICY_VERDICT): upstream's policy match type numbering.
 * 0: nothing matched (a default deny). */
#define CPP_MATCH_NONE       0
#define CPP_MATCH_L3_ONLY    1 /* {id, *, *} */
#define CPP_MATCH_L3_L4      2 /* {id, proto, port} */
#define CPP_MATCH_L4_ONLY    3 /* {*, proto, port} */
#define CPP_MATCH_ALL        4 /* {*, *, *} */
#define CPP_MATCH_L3_PROTO   5 /* {id, proto, *} */
#define CPP_MATCH_PROTO_ONLY 6 /* {*, proto, *} */

/* cpp_event.flags */
#define CPP_EVENT_F_REPLY  0x1 /* the packet belongs to the reply direction of its connection */
#define CPP_EVENT_F_XLATED 0x2 /* orig_daddr/orig_dport: the service frontend the packet was sent to */

/* Load-time constant MONITOR_AGGREGATION (`monitor-aggregation`). Drops
 * and policy verdicts are always reported; the level thins out traces. */
#define CPP_MONITOR_AGG_NONE    0 /* a trace event for every forwarded packet */
#define CPP_MONITOR_AGG_LOW     1 /* no traces at receive points (FROM_*) */
#define CPP_MONITOR_AGG_MEDIUM  2 /* low, and only packets that open a connection
				   * or first set SYN, FIN or RST in a direction */
#define CPP_MONITOR_AGG_MAXIMUM 3 /* medium (no finer level yet) */

#define CPP_VERDICT_ALLOWED 1
#define CPP_VERDICT_DENIED  2
#define CPP_VERDICT_AUDIT   3

/* Drop reasons, upstream Cilium's numbering. */
#define CPP_DROP_INVALID_SIP     132
#define CPP_DROP_POLICY          133
#define CPP_DROP_INVALID         134
#define CPP_DROP_CT_INVALID_HDR  135
#define CPP_DROP_UNKNOWN_L3      150
#define CPP_DROP_TTL_EXCEEDED    196
#define CPP_DROP_POLICY_DENY     181

struct cpp_event {
	__u8 type;          /* CPP_EVENT_* */
	__u8 verdict;       /* CPP_VERDICT_* (policy verdicts) */
	__u8 reason;        /* CPP_DROP_* (drops) */
	__u8 direction;     /* CPP_DIR_* */
	__u16 ep_id;        /* endpoint the event is about */
	__u8 family;        /* CPP_FAMILY_* */
	__u8 protocol;
	__u32 src_identity;
	__u32 dst_identity;
	__u32 cookie;       /* policy rule, 0 if none */
	__u16 sport;        /* network byte order */
	__u16 dport;
	union cpp_addr saddr;
	union cpp_addr daddr;
	__u32 ifindex;
	__u32 len;          /* original packet length */
	__u64 ts_ns;        /* bpf_ktime_get_ns() */
	__u8 obs_point;     /* CPP_OBS_* (trace events) */
	__u8 tcp_flags;     /* TCP header flags byte (FIN 0x01 .. CWR 0x80), 0 for other protocols */
	__u8 flags;         /* CPP_EVENT_F_* */
	__u8 pad;           /* policy verdicts: CPP_MATCH_* of the deciding key */
	__u16 orig_dport;   /* network byte order, with CPP_EVENT_F_XLATED */
	__u16 pad2;
	union cpp_addr orig_daddr; /* with CPP_EVENT_F_XLATED */
};

/* A CPP_EVENT_TRACE_SOCK record (upstream's trace-sock notification): a
 * cpp_event with obs_point = CPP_XLATE_*, family, protocol (IPPROTO_*),
 * daddr/dport = the destination at that point (the frontend before forward
 * translation, the backend after it; the backend before reverse
 * translation, the frontend after it), CPP_EVENT_F_XLATED with
 * orig_daddr/orig_dport = the frontend at every point; the other fields 0.
 * The tail names the socket and its owner: readers that only know struct
 * cpp_event read a valid prefix. */
struct cpp_event_sock {
	struct cpp_event ev;
	__u64 sock_cookie;  /* bpf_get_socket_cookie() */
	__u64 cgroup_id;    /* bpf_get_current_cgroup_id() of the calling task */
	__u64 netns_cookie; /* bpf_get_netns_cookie(): the client pod's namespace (SO_NETNS_COOKIE) */
};

/* cpp_ev_lost: per-CPU array with one __u64, the events the ring buffer had
 * no room for. The agent reports it as lost events, never silently. */

/* cpp_metrics: per-CPU hash of packet counters (upstream's metrics map):
 * reason 0 counts forwarded packets, a CPP_DROP_* reason dropped ones. */
#define CPP_METRIC_INGRESS 1
#define CPP_METRIC_EGRESS  2

struct cpp_metrics_key {
	__u8 reason;
	__u8 dir;  /* CPP_METRIC_* */
	__u16 pad;
};

struct cpp_metrics_value {
	__u64 packets;
	__u64 bytes;
};

/* Reserved security identities (upstream Cilium numbering). */
#define CPP_ID_UNKNOWN     0
#define CPP_ID_HOST        1
#define CPP_ID_WORLD       2
#define CPP_ID_UNMANAGED   3
#define CPP_ID_HEALTH      4
#define CPP_ID_INIT        5
#define CPP_ID_REMOTE_NODE 6
#define CPP_ID_KUBE_APISERVER 7
#define CPP_ID_INGRESS     8
#define CPP_ID_WORLD_IPV4  9
#define CPP_ID_WORLD_IPV6  10
/* Cluster identities are allocated from here; CIDR identities are
 * node-local and carry the local scope bit. */
#define CPP_ID_CLUSTER_MIN 256
#define CPP_ID_LOCAL_SCOPE (1u << 24)

/* --- Masquerading (BPF SNAT to the node's address) --------------------------
 * cpp_snat4 / cpp_snat6 (LRU, whole node) hold both directions of every
 * masqueraded flow, as upstream's SNAT maps do:
 *   CPP_NAT_EGRESS  {pod, world, pod port, world port}   -> node addr/port
 *   CPP_NAT_INGRESS {world, node, world port, node port} -> pod addr/port
 * The ingress entry is what reserves a node port for one world peer
 * (address, port, protocol). "Ports" of ICMP/ICMPv6 echoes: the request
 * carries the identifier as sport, the reply as dport, so a reply is the
 * reversed request. Written only by the datapath; the agent reads them. */
#define CPP_MAP_SNAT4 "cpp_snat4"
#define CPP_MAP_SNAT6 "cpp_snat6"
#define CPP_NAT_MAX   131072

#define CPP_NAT_EGRESS  0
#define CPP_NAT_INGRESS 1

struct cpp_nat_key4 {
	__u32 saddr;  /* network byte order */
	__u32 daddr;
	__u16 sport;  /* network byte order */
	__u16 dport;
	__u8 nexthdr;
	__u8 dir;     /* CPP_NAT_* */
	__u16 pad;
};

struct cpp_nat_key6 {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 nexthdr;
	__u8 dir;
	__u16 pad;
};

/* TCP state seen in the entry's direction; decides its lifetime. */
#define CPP_NAT_F_ESTABLISHED 0x1 /* a segment without SYN */
#define CPP_NAT_F_CLOSING     0x2 /* FIN or RST */

struct cpp_nat_value {
	__u64 expires_ns;       /* bpf_ktime_get_coarse_ns() deadline */
	__u64 created_ns;
	union cpp_addr to_addr; /* egress: the node's address; ingress: the pod's */
	__u16 to_port;          /* network byte order */
	__u16 flags;            /* CPP_NAT_F_* */
	__u32 pad;
};

/* Upstream's drop reasons for NAT. */
#define CPP_DROP_NAT_NO_MAPPING 167
#define CPP_DROP_NAT_UNSUPP     168

/* --- Load balancing (services, kube-proxy replacement) ----------------------
 * One set of maps for both families (the family is part of every key).
 *
 * cpp_lb_svc: {frontend address, port, protocol, scope, slot}. Slot 0 is the
 * service entry (count of active backends, service id, flags); slots
 * 1..count name the backends new connections may pick, in a stable order.
 * Scope: a frontend has one entry set per scope it serves, each with the
 * backends its traffic policy allows (externalTrafficPolicy for EXT,
 * internalTrafficPolicy for INT). Programs facing the outside (bpf_netdev,
 * bpf_xdp) look up EXT; programs facing pods and the node (bpf_lxc,
 * bpf_sock, bpf_host) look up INT. A frontend not reachable from outside
 * (a ClusterIP without bpf-lb-external-clusterip) has no EXT entries.
 * A NodePort also has an INT entry at the wildcard address (all zero): a
 * pod or the node reaching any node's address at that port is translated
 * where it starts (lb_lookup_frontend in bpf/lib/lb.h).
 * Written by the agent only: it writes slots before the service entry and
 * shrinks the count before removing slots, so a reader never sees a slot
 * index above count pointing at nothing.
 *
 * cpp_lb_be: backend id -> address, port, protocol, state. A terminating
 * backend stays here (established connections keep it) but leaves the slots.
 *
 * cpp_lb_maglev: service id -> inner array with one value, the service's
 * Maglev lookup table of CPP_LB_MAGLEV_M backend ids (bpf-lb-algorithm:
 * maglev); only services with CPP_LB_F_MAGLEV have one.
 *
 * cpp_lb_aff: sessionAffinity ClientIP, {client, service id} -> backend id
 * and last use; an entry older than the service's timeout is ignored.
 *
 * cpp_lb_ct4 / cpp_lb_ct6 (LRU, datapath-written): per-packet translations.
 *   CPP_LB_CT_SVC {client, frontend, cport, fport}: the backend chosen for
 *                 the connection (later packets keep it even when the slots
 *                 change);
 *   CPP_LB_CT_REV {backend, client, bport, cport} (the reply as the backend
 *                 sends it): the frontend to put back as the source.
 * Keys reuse the conntrack key layout; dir holds CPP_LB_CT_*.
 *
 * cpp_lb_skrev (LRU, bpf_sock): {socket cookie, backend, port} -> frontend,
 * so recvmsg/getpeername of a socket that socket LB translated show the
 * address the application asked for. */
#define CPP_MAP_LB_SVC      "cpp_lb_svc"
#define CPP_MAP_LB_BACKENDS "cpp_lb_be"
#define CPP_MAP_LB_MAGLEV   "cpp_lb_maglev"
#define CPP_MAP_LB_AFFINITY "cpp_lb_aff"
#define CPP_MAP_LB_CT4      "cpp_lb_ct4"
#define CPP_MAP_LB_CT6      "cpp_lb_ct6"
#define CPP_MAP_LB_SK_REV   "cpp_lb_skrev"

/* bpf-lb-map-max default (upstream's); the loader sizes cpp_lb_svc,
 * cpp_lb_be, cpp_lb_aff, cpp_lb_ct* and cpp_lb_skrev with the configured value. */
#define CPP_LB_MAP_MAX_DEFAULT 65536
#define CPP_LB_MAGLEV_M        16381 /* Maglev table size (prime), upstream's default */
#define CPP_LB_MAGLEV_MAX      4096  /* services with a Maglev table */

#define CPP_LB_SCOPE_EXT 0 /* traffic from outside the cluster */
#define CPP_LB_SCOPE_INT 1 /* traffic from the cluster's pods and nodes */

struct cpp_lb_key {
	union cpp_addr addr; /* frontend address */
	__u16 dport;         /* frontend port, network byte order */
	__u16 slot;          /* 0: the service entry; 1..count: backend slots (host order) */
	__u8 proto;          /* IPPROTO_TCP / IPPROTO_UDP / IPPROTO_SCTP */
	__u8 scope;          /* CPP_LB_SCOPE_* */
	__u8 family;         /* CPP_FAMILY_* */
	__u8 pad;
};

/* Frontend kinds (upstream's service types) and behaviour, slot 0 only. */
#define CPP_LB_F_CLUSTERIP    0x1
#define CPP_LB_F_NODEPORT     0x2
#define CPP_LB_F_EXTERNAL_IP  0x4
#define CPP_LB_F_LOADBALANCER 0x8
#define CPP_LB_F_AFFINITY     0x10 /* sessionAffinity: ClientIP */
#define CPP_LB_F_MAGLEV       0x20 /* pick from the cpp_lb_maglev table, not at random */
#define CPP_LB_F_LOCAL        0x40 /* this scope's traffic policy is Local */

struct cpp_lb_svc_value {
	__u32 backend_id;       /* slot > 0: the backend in this slot */
	__u16 count;            /* slot 0: number of backend slots (0: no backend) */
	__u16 svc_id;           /* slot 0: service id (upstream's rev-NAT index), 1..65535 */
	__u32 flags;            /* slot 0: CPP_LB_F_* */
	__u32 affinity_timeout; /* slot 0: seconds, with CPP_LB_F_AFFINITY */
};

#define CPP_LB_BE_F_TERMINATING 0x1 /* not in any slot; kept for established connections */

struct cpp_lb_backend {
	union cpp_addr addr;
	__u16 port;   /* network byte order */
	__u8 proto;
	__u8 flags;   /* CPP_LB_BE_F_* */
	__u8 family;
	__u8 pad[3];
};

struct cpp_lb_affinity_key {
	union cpp_addr client; /* per-packet LB: the client's address (zero for socket LB) */
	__u64 netns_cookie;    /* socket LB: the client's network namespace (0 for per-packet LB) */
	__u16 svc_id;
	__u8 family;
	__u8 pad[5];
};

struct cpp_lb_affinity_value {
	__u64 last_used_ns; /* bpf_ktime_get_ns() */
	__u32 backend_id;
	__u32 pad;
};

#define CPP_LB_CT_SVC 0
#define CPP_LB_CT_REV 1

#define CPP_LB_CT_F_EXTERNAL 0x1 /* request came in from outside (bpf_netdev/bpf_xdp) */
#define CPP_LB_CT_F_SNAT     0x2 /* and was also source-NATed to the node (remote backend) */
#define CPP_LB_CT_F_CLOSING  0x4 /* FIN or RST seen */
#define CPP_LB_CT_F_LOOPBACK 0x8 /* hairpin: the client is its own backend (lib/lb_hairpin.h) */

struct cpp_lb_ct_value {
	__u64 expires_ns;    /* bpf_ktime_get_ns() deadline; lifetimes as lib/conntrack.h */
	union cpp_addr addr; /* SVC: the backend's address; REV: the frontend's */
	__u16 port;          /* SVC: the backend's port; REV: the frontend's (network order) */
	__u16 svc_id;
	__u32 backend_id;
	__u32 flags;         /* CPP_LB_CT_F_* */
	__u32 ifindex;       /* REV of an external request: the device it came in on;
			      * the reply leaves there (bpf_redirect_neigh) */
};

struct cpp_lb_skrev_key {
	__u64 cookie;        /* bpf_get_socket_cookie() */
	union cpp_addr addr; /* backend address */
	__u16 port;          /* backend port, network order */
	__u8 family;
	__u8 pad[5];
};

struct cpp_lb_skrev_value {
	union cpp_addr addr; /* frontend address */
	__u16 port;          /* frontend port, network order */
	__u16 svc_id;
	__u32 pad;
};

/* Upstream's drop reason for a service without backends
 * (service-no-backend-response: drop; reject answers instead). */
#define CPP_DROP_NO_SERVICE 158

#endif /* CILIUMPP_ABI_H */
