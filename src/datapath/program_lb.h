#pragma once
// The one place that hands the load-balancing settings to a BPF object:
// load-time constants (each set only where the object declares it, so a
// program that does no LB needs none) and the sizes of the LB maps.
#include <bpf/libbpf.h>

#include <cstring>
#include <string>

#include "datapath/consts.h"

namespace cpp::datapath {

// Sets max_entries of every LB map the object declares to map_max
// (cpp_lb_svc, cpp_lb_be, cpp_lb_aff, cpp_lb_ct4/6, cpp_lb_skrev). Call
// between open and load; a pinned map of another size cannot be reused
// (Loader::ensure_maps replaces such pins first).
void size_lb_maps(bpf_object* obj, uint32_t map_max);

// The LB maps whose size follows bpf-lb-map-max.
const char* const* lb_sized_map_names();

template <typename Skel>
void configure_lb(Skel* s, const LbConsts& lb) {
  if constexpr (requires { s->rodata; }) {
    auto* ro = s->rodata;
    if constexpr (requires { ro->ENABLE_LB; }) ro->ENABLE_LB = lb.enabled;
    if constexpr (requires { ro->LB_NO_BACKEND_REJECT; }) ro->LB_NO_BACKEND_REJECT = lb.reject_no_backend;
    if constexpr (requires { ro->TRACE_SOCK_NOTIFY; }) ro->TRACE_SOCK_NOTIFY = lb.trace_sock;
    if constexpr (requires { ro->LB_IPV4_LOOPBACK; })
      std::memcpy(&ro->LB_IPV4_LOOPBACK, lb.loopback_ipv4.bytes.data(), 4);  // network order
    if constexpr (requires { ro->LB_IPV6_LOOPBACK; })
      std::memcpy(ro->LB_IPV6_LOOPBACK, lb.loopback_ipv6.bytes.data(), 16);
  }
  size_lb_maps(s->obj, lb.map_max);
}

}  // namespace cpp::datapath
