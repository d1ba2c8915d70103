// cilium-lab get: read objects back from the lab's store, as `kubectl get
// -o json` would, so tests and users see what controllers (the operator's
// LB IPAM, the EndpointSlice controller) wrote.
#include <cctype>
#include <iostream>

#include "lab/cluster.h"
#include "lab/lab.h"
#include "lab/state.h"
#include "store/resource.h"

namespace cpp::lab {

int cmd_get(const std::string& name, const std::string& kind_arg, const std::string& object, const std::string& ns) {
  LabState lab = load_lab(name);
  // As kubectl: the kind, its lower-case singular or its plural.
  const store::KindInfo* kind = store::find_kind(kind_arg);
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  if (!kind)
    for (const auto& k : store::known_kinds())
      if (k.plural == kind_arg || lower(k.kind) == kind_arg) kind = &k;
  if (!kind) {
    std::cerr << "cilium-lab get: unknown kind \"" << kind_arg << "\"\n";
    return 1;
  }
  auto store = open_lab_store(lab);
  if (object.empty()) {
    nlohmann::json list{{"apiVersion", "v1"}, {"kind", "List"}, {"items", store->list(kind->kind, ns)}};
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  auto obj = store->get(kind->kind, ns, object);
  if (!obj) {
    std::cerr << "cilium-lab get: " << kind->plural << " \"" << object << "\" not found\n";
    return 1;
  }
  std::cout << obj->dump(2) << "\n";
  return 0;
}

}  // namespace cpp::lab
