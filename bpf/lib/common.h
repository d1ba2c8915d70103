/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The includes every datapath program needs, in one place. Only UAPI headers
 * from linux-libc-dev and libbpf's helper headers: the programs touch packet
 * bytes, never kernel structures, so no vmlinux.h and no CO-RE.
 */
#ifndef CPP_BPF_COMMON_H
#define CPP_BPF_COMMON_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <ciliumpp/abi.h>

#endif /* CPP_BPF_COMMON_H */
