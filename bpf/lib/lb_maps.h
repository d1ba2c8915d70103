/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The load-balancing maps (layouts and semantics: the "Load balancing"
 * section of <ciliumpp/abi.h>). Included from maps.h, so every program
 * declares them and any load creates and pins them, like the other maps.
 *
 * The sizes below are the defaults; the loader resizes every map of this
 * file except cpp_lb_maglev to bpf-lb-map-max before load
 * (bpf_map__set_max_entries), on every program of the node alike: libbpf
 * refuses to reuse a pinned map whose size differs from the declaration.
 */
#ifndef CPP_BPF_LB_MAPS_H
#define CPP_BPF_LB_MAPS_H

#include "common.h"

/* Frontends: {addr, port, proto, scope, slot 0} -> service, slots 1..count
 * -> backend ids. Written by the agent only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cpp_lb_key);
	__type(value, struct cpp_lb_svc_value);
	__uint(max_entries, CPP_LB_MAP_MAX_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_lb_svc SEC(".maps");

/* Backend id (__u32, host order) -> address, port, state. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct cpp_lb_backend);
	__uint(max_entries, CPP_LB_MAP_MAX_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_lb_be SEC(".maps");

/* The inner map of cpp_lb_maglev: one element (key 0), the service's whole
 * Maglev table of CPP_LB_MAGLEV_M backend ids. One array per service, so
 * the agent replaces a table by inserting a new inner map (atomic for
 * readers) instead of rewriting 16381 entries in place. */
struct cpp_lb_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32[CPP_LB_MAGLEV_M]);
};

/* Service id (__u16, host order, = cpp_lb_svc_value.svc_id) -> inner map
 * (fd of a cpp_lb_maglev_inner-shaped array on update). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u16);
	__uint(max_entries, CPP_LB_MAGLEV_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct cpp_lb_maglev_inner); /* must be the last member */
} cpp_lb_maglev SEC(".maps");

/* sessionAffinity ClientIP: {client or netns cookie, svc id} -> backend
 * and last use. LRU: a full table forgets the stalest clients. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cpp_lb_affinity_key);
	__type(value, struct cpp_lb_affinity_value);
	__uint(max_entries, CPP_LB_MAP_MAX_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_lb_aff SEC(".maps");

/* Per-packet translations (SVC and REV entries, key.dir = CPP_LB_CT_*),
 * written by the datapath. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cpp_ct_key4);
	__type(value, struct cpp_lb_ct_value);
	__uint(max_entries, CPP_LB_MAP_MAX_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_lb_ct4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cpp_ct_key6);
	__type(value, struct cpp_lb_ct_value);
	__uint(max_entries, CPP_LB_MAP_MAX_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_lb_ct6 SEC(".maps");

/* Socket LB: {socket cookie, backend} -> frontend, for recvmsg and
 * getpeername of translated sockets (bpf_sock.c). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cpp_lb_skrev_key);
	__type(value, struct cpp_lb_skrev_value);
	__uint(max_entries, CPP_LB_MAP_MAX_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cpp_lb_skrev SEC(".maps");

#endif /* CPP_BPF_LB_MAPS_H */
