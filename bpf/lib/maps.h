/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map the datapath shares, declared once. Layouts come from
 * <ciliumpp/abi.h>, which the C++ control plane includes too.
 *
 * All maps are pinned by name (LIBBPF_PIN_BY_NAME): the loader passes the
 * agent's pin directory as libbpf's pin_root_path, so the first program
 * loaded creates <pin_dir>/<map name> and every later load (other
 * endpoints, a restarted agent) reuses the same map. Entries therefore
 * survive agent restarts and program replacement (decision 2 of the brief).
 * The C variable names must equal CPP_MAP_* in abi.h: they are the pin names.
 *
 * libbpf creates every map an object declares, referenced by code or not.
 * Both entry programs include this header, so loading either one (or
 * Loader::ensure_maps) creates and pins every map below, whichever of them
 * that program actually uses.
 */
#ifndef CPP_BPF_MAPS_H
#define CPP_BPF_MAPS_H

#include "common.h"

/* Local addresses: pods on this node and the node's own addresses
 * (CPP_EP_F_HOST). Written by the endpoint reconciler. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cpp_endpoint_key);
	__type(value, struct cpp_endpoint_info);
	__uint(max_entries, CPP_ENDPOINTS_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_lxc SEC(".maps");

/* Address/prefix -> security identity and tunnel endpoint, longest prefix
 * wins. LPM tries must not be preallocated. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct cpp_ipcache_key);
	__type(value, struct cpp_ipcache_value);
	__uint(max_entries, CPP_IPCACHE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_ipcache SEC(".maps");

/* Policy of every endpoint of the node: {endpoint, direction, peer
 * identity, protocol, port} -> allow/deny (lib/policy.h has the lookup
 * order). Written by the policy reconciler; the datapath only adds to the
 * counters. Most endpoints use a small fraction of their share, so entries
 * are allocated on insert rather than up front (the full map preallocated
 * would pin ~100 MiB). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cpp_policy_key);
	__type(value, struct cpp_policy_value);
	__uint(max_entries, CPP_POLICY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_policy SEC(".maps");

/* Connection tracking (lib/conntrack.h), one map per family for the whole
 * node. LRU: when the table is full the least recently used connection is
 * forgotten instead of new connections failing; a forgotten connection is
 * simply policed again as new. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cpp_ct_key4);
	__type(value, struct cpp_ct_value);
	__uint(max_entries, CPP_CT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_ct4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cpp_ct_key6);
	__type(value, struct cpp_ct_value);
	__uint(max_entries, CPP_CT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_ct6 SEC(".maps");

/* Drop and policy-verdict events for user space (lib/events.h). One ring
 * for the node, shared by every program, so a single reader sees the
 * events in order. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CPP_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_events SEC(".maps");

/* Events the ring had no room for (lib/events.h): one per-CPU counter,
 * key 0, summed by the agent. Per CPU: no atomic on the hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_ev_lost SEC(".maps");

/* Forwarded / dropped packets and bytes by {reason, direction}
 * (lib/events.h metrics_count), summed over CPUs by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct cpp_metrics_key);
	__type(value, struct cpp_metrics_value);
	__uint(max_entries, CPP_METRICS_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_metrics SEC(".maps");

/* Services (kube-proxy replacement): cpp_lb_svc, cpp_lb_be, cpp_lb_maglev,
 * cpp_lb_aff, cpp_lb_ct4/6, cpp_lb_skrev. */
#include "lb_maps.h"

#endif /* CPP_BPF_MAPS_H */
