#include "ipam/node_ipam.h"

#include <stdexcept>

#include "common/files.h"

namespace cpp::ipam {

NodeIpam::NodeIpam(std::optional<IpPrefix> v4, std::optional<IpPrefix> v6, std::string state_file)
    : state_file_(std::move(state_file)) {
  if (v4) v4_.emplace(*v4);
  if (v6) v6_.emplace(*v6);
}

std::vector<std::string> NodeIpam::restore() {
  std::lock_guard lock(mu_);
  std::vector<std::string> warnings;
  auto text = read_file(state_file_);
  if (!text) return warnings;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.contains("allocations") || !j["allocations"].is_object()) {
    warnings.push_back("IPAM state " + state_file_ + " is unreadable; starting empty");
    return warnings;
  }
  for (auto& [owner, rec] : j["allocations"].items()) {
    for (const char* fam : {"ipv4", "ipv6"}) {
      if (!rec.contains(fam) || !rec[fam].is_string()) continue;
      auto addr = IpAddr::parse(rec[fam].get<std::string>());
      auto& pool = std::string(fam) == "ipv4" ? v4_ : v6_;
      if (!addr || !pool || !pool->restore(owner, *addr))
        warnings.push_back("dropping IPAM record " + owner + " " + rec[fam].dump() +
                           ": outside the current PodCIDR or duplicate");
    }
  }
  return warnings;
}

Allocation NodeIpam::allocate(const std::string& owner) {
  std::lock_guard lock(mu_);
  Allocation a;
  if (v4_) {
    a.ipv4 = v4_->allocate(owner);
    if (!a.ipv4) throw std::runtime_error("IPv4 pool " + v4_->cidr().str() + " is exhausted");
  }
  if (v6_) {
    a.ipv6 = v6_->allocate(owner);
    if (!a.ipv6) {
      if (v4_) v4_->release(owner);
      throw std::runtime_error("IPv6 pool " + v6_->cidr().str() + " is exhausted");
    }
  }
  try {
    persist();
  } catch (...) {
    if (v4_) v4_->release(owner);
    if (v6_) v6_->release(owner);
    throw;
  }
  return a;
}

bool NodeIpam::release(const std::string& owner) {
  std::lock_guard lock(mu_);
  bool any = false;
  if (v4_ && v4_->release(owner)) any = true;
  if (v6_ && v6_->release(owner)) any = true;
  if (any) persist();
  return any;
}

std::optional<Allocation> NodeIpam::lookup(const std::string& owner) const {
  std::lock_guard lock(mu_);
  Allocation a;
  if (v4_) a.ipv4 = v4_->lookup(owner);
  if (v6_) a.ipv6 = v6_->lookup(owner);
  if (!a.ipv4 && !a.ipv6) return std::nullopt;
  return a;
}

std::optional<IpAddr> NodeIpam::router_ipv4() const { return v4_ ? std::optional(v4_->router()) : std::nullopt; }
std::optional<IpAddr> NodeIpam::router_ipv6() const { return v6_ ? std::optional(v6_->router()) : std::nullopt; }
std::optional<IpPrefix> NodeIpam::cidr_ipv4() const { return v4_ ? std::optional(v4_->cidr()) : std::nullopt; }
std::optional<IpPrefix> NodeIpam::cidr_ipv6() const { return v6_ ? std::optional(v6_->cidr()) : std::nullopt; }

nlohmann::json NodeIpam::to_json() const {
  std::lock_guard lock(mu_);
  return snapshot();
}

nlohmann::json NodeIpam::snapshot() const {
  nlohmann::json allocs = nlohmann::json::object();
  for (const auto* pool : {v4_ ? &*v4_ : nullptr, v6_ ? &*v6_ : nullptr}) {
    if (!pool) continue;
    const char* fam = pool->cidr().addr.v6 ? "ipv6" : "ipv4";
    for (const auto& [owner, addr] : pool->by_owner()) allocs[owner][fam] = addr.str();
  }
  nlohmann::json j{{"allocations", allocs}};
  if (v4_) j["ipv4-cidr"] = v4_->cidr().str();
  if (v6_) j["ipv6-cidr"] = v6_->cidr().str();
  return j;
}

void NodeIpam::persist() const { write_file_atomic(state_file_, snapshot().dump(2)); }

}  // namespace cpp::ipam
