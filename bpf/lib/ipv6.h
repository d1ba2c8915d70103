/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* IPv6 address predicates. */
#ifndef CPP_BPF_IPV6_H
#define CPP_BPF_IPV6_H

#include "common.h"

/* Compares a packet address with an address held in .rodata (volatile, so
 * byte by byte; clang unrolls it). */
static __always_inline bool ipv6_equal_cfg(const struct in6_addr *a, const volatile __u8 *cfg)
{
	__u8 diff = 0;

#pragma unroll
	for (int i = 0; i < 16; i++)
		diff |= a->s6_addr[i] ^ cfg[i];
	return diff == 0;
}

static __always_inline bool ipv6_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	return ((a->s6_addr32[0] ^ b->s6_addr32[0]) | (a->s6_addr32[1] ^ b->s6_addr32[1]) |
		(a->s6_addr32[2] ^ b->s6_addr32[2]) | (a->s6_addr32[3] ^ b->s6_addr32[3])) == 0;
}

static __always_inline bool ipv6_is_unspecified(const struct in6_addr *a)
{
	return (a->s6_addr32[0] | a->s6_addr32[1] | a->s6_addr32[2] | a->s6_addr32[3]) == 0;
}

/* fe80::/10 */
static __always_inline bool ipv6_is_link_local(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

/* ff00::/8 */
static __always_inline bool ipv6_is_multicast(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xff;
}

#endif /* CPP_BPF_IPV6_H */
