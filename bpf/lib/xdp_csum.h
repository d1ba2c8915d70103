/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Checksums for XDP, where the tc helpers (bpf_l3/l4_csum_replace) do not
 * exist: incremental updates after RFC 1624 (HC' = ~(~HC + ~m + m')) over
 * 16-bit words read straight from packet memory, so byte order never
 * matters, and a full sum for headers the program writes itself.
 */
#ifndef CPP_BPF_XDP_CSUM_H
#define CPP_BPF_XDP_CSUM_H

#include "common.h"

static __always_inline __u16 csum_fold32(__u64 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* Accumulates the change of `words` 16-bit words from `from` to `to` into
 * a running difference (start at 0). */
static __always_inline __u64 csum_diff_words(__u64 acc, const __u16 *from, const __u16 *to,
					     int words)
{
#pragma unroll
	for (int i = 0; i < words; i++)
		acc += (__u16)~from[i] + (__u32)to[i];
	return acc;
}

/* The checksum field after a change summed up by csum_diff_words. */
static __always_inline __u16 csum_apply(__u16 check, __u64 diff)
{
	return (__u16)~csum_fold32((__u16)~check + diff);
}

/* UDP over IPv4 may carry no checksum (0) and must keep carrying none; a
 * computed 0 is sent as 0xffff (RFC 768). */
static __always_inline __u16 csum_apply_udp(__u16 check, __u64 diff)
{
	__u16 c;

	if (!check)
		return 0;
	c = csum_apply(check, diff);
	return c ? c : 0xffff;
}

/* Checksum of a header the program wrote (IPv4 header: 10 words). */
static __always_inline __u16 csum_ipv4_header(const __u16 *hdr)
{
	__u64 s = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		s += hdr[i];
	return (__u16)~csum_fold32(s);
}

#endif /* CPP_BPF_XDP_CSUM_H */
