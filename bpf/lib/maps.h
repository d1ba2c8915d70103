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
 * Loader::ensure_maps) creates and pins cpp_ipcache even before any program
 * reads it; the policy code will be its first reader.
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

#endif /* CPP_BPF_MAPS_H */
