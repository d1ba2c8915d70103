// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only stand-in for the kernel's VXLAN receive path: BPF_PROG_TEST_RUN
 * builds a bare skb without tunnel metadata, so this program attaches the
 * metadata a decapsulated packet would carry (VNI from shim_vni) and tail
 * calls the program under test (slot 0 of shim_target, cil_from_overlay).
 * Never part of the agent.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} shim_target SEC(".maps");

__u32 shim_vni = 0;
__u32 shim_without_key = 0;

#define SHIM_TAIL_CALL_FAILED 99

SEC("tc")
int overlay_shim(struct __sk_buff *skb)
{
	struct bpf_tunnel_key key;

	__builtin_memset(&key, 0, sizeof(key));
	key.tunnel_id = shim_vni;
	key.remote_ipv4 = 0xc0000202; /* 192.0.2.2, the "sending node" */
	if (!shim_without_key && bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0) < 0)
		return SHIM_TAIL_CALL_FAILED;
	bpf_tail_call(skb, &shim_target, 0);
	return SHIM_TAIL_CALL_FAILED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
