#include "datapath/program_lb.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <ciliumpp/abi.h>

namespace cpp::datapath {

const char* const* lb_sized_map_names() {
  static const char* const names[] = {CPP_MAP_LB_SVC, CPP_MAP_LB_BACKENDS, CPP_MAP_LB_AFFINITY,
                                      CPP_MAP_LB_CT4, CPP_MAP_LB_CT6,      CPP_MAP_LB_SK_REV, nullptr};
  return names;
}

void size_lb_maps(bpf_object* obj, uint32_t map_max) {
  if (map_max == 0) throw std::invalid_argument("bpf-lb-map-max must be positive");
  for (auto* n = lb_sized_map_names(); *n; ++n) {
    bpf_map* m = bpf_object__find_map_by_name(obj, *n);
    if (!m) continue;  // not every object declares every LB map
    if (int err = bpf_map__set_max_entries(m, map_max))
      throw std::runtime_error(std::string("size map ") + *n + ": " + std::strerror(-err));
  }
}

}  // namespace cpp::datapath
