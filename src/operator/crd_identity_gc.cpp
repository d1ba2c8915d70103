#include "operator/crd_identity_gc.h"

#include <set>

#include "common/log.h"
#include "store/store.h"

namespace cpp::op {

using nlohmann::json;

namespace {

// The id a CiliumEndpoint uses, as the decimal name of its CiliumIdentity;
// "" when it has none (yet).
std::string endpoint_identity(const json& cep) {
  auto st = cep.find("status");
  if (st == cep.end() || !st->is_object()) return "";
  auto idt = st->find("identity");
  if (idt == st->end() || !idt->is_object()) return "";
  auto id = idt->find("id");
  if (id == idt->end()) return "";
  if (id->is_number_unsigned() || id->is_number_integer()) return std::to_string(id->get<int64_t>());
  if (id->is_string()) return id->get<std::string>();
  return "";
}

}  // namespace

std::vector<identity::NumericIdentity> run_crd_identity_gc(store::ResourceStore& store, CrdIdentityGcState& state,
                                                           std::chrono::steady_clock::time_point now, size_t* alive) {
  // Endpoints first: an identity created after this list is new to the
  // heartbeats below and gets a full grace period.
  std::set<std::string> used;
  for (const auto& cep : store.list("CiliumEndpoint"))
    if (auto id = endpoint_identity(cep); !id.empty()) used.insert(id);
  auto identities = store.list("CiliumIdentity");

  std::map<std::string, CrdIdentityGcState::Heartbeat> next;
  std::vector<std::pair<std::string, std::string>> expired;  // name, the resourceVersion found unused
  for (const auto& obj : identities) {
    const json& md = obj["metadata"];
    std::string name = md.value("name", ""), rv = md.value("resourceVersion", "");
    if (name.empty() || name.size() > 10 || name.find_first_not_of("0123456789") != std::string::npos) {
      spdlog::warn("identity GC: CiliumIdentity \"{}\" has no numeric name; left alone", name);
      continue;
    }
    auto it = state.heartbeats.find(name);
    CrdIdentityGcState::Heartbeat hb{rv, now};
    const bool in_use = used.count(name) > 0;
    if (!in_use && it != state.heartbeats.end() && it->second.resource_version == rv) hb.last = it->second.last;
    if (!in_use && now - hb.last >= state.grace)
      expired.emplace_back(name, rv);
    else
      next[name] = hb;
  }
  state.heartbeats = std::move(next);

  std::vector<identity::NumericIdentity> deleted;
  for (const auto& [name, rv] : expired) {
    // An agent that re-created or touched the identity since the list keeps it.
    if (!store.remove_version("CiliumIdentity", "", name, rv)) continue;
    spdlog::info("identity GC: deleted CiliumIdentity {}: no endpoint used it for the grace period", name);
    deleted.push_back(static_cast<identity::NumericIdentity>(std::stoul(name)));
  }
  if (alive) *alive = identities.size() - deleted.size();
  return deleted;
}

}  // namespace cpp::op
