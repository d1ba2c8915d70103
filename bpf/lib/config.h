/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Node-wide load-time settings (decision 1 of the brief: compile once, set
 * before load). The loader writes these into the object's .rodata through
 * the bpftool skeleton; libbpf freezes .rodata before the verifier runs, so
 * the verifier sees the real values and prunes every branch a setting turns
 * off. `volatile` only stops clang from folding the defaults below into the
 * code at build time.
 *
 * Per-endpoint settings (LXC_*) are declared by bpf_lxc.c itself: only that
 * program has an endpoint.
 */
#ifndef CPP_BPF_CONFIG_H
#define CPP_BPF_CONFIG_H

#include "common.h"

/* Address families this node serves. A disabled family is dropped at the
 * pod's device and left alone on host devices. */
const volatile __u8 ENABLE_IPV4 = 1;
const volatile __u8 ENABLE_IPV6 = 1;

/* The node's router addresses (on cilium_host): the pods' default gateway.
 * ROUTER_IPV4 is in network byte order. */
const volatile __be32 ROUTER_IPV4 = 0;
const volatile __u8 ROUTER_IPV6[16] = {};

#endif /* CPP_BPF_CONFIG_H */
