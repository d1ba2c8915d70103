#include "endpoint/manager.h"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "common/files.h"
#include "common/log.h"

namespace cpp::endpoint {
namespace fs = std::filesystem;

Manager::Manager(std::string state_dir, EndpointDatapath& dp, EndpointObserver observer)
    : dir_(std::move(state_dir) + "/endpoints"), dp_(dp), observer_(std::move(observer)) {
  make_dirs(dir_);
}

std::string Manager::record_path(uint16_t id) const { return dir_ + "/" + std::to_string(id) + ".json"; }

Manager::RestoreResult Manager::restore() {
  std::lock_guard lock(mu_);
  RestoreResult res;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.path().extension() != ".json") continue;
    auto text = read_file(entry.path().string());
    nlohmann::json j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    Endpoint ep;
    try {
      if (j.is_discarded() || j.is_null()) throw std::invalid_argument("not JSON");
      ep = Endpoint::from_json(j);
    } catch (const std::exception& e) {
      res.warnings.push_back("skipping endpoint record " + entry.path().string() + ": " + e.what());
      continue;
    }
    if (!ids_.reserve(ep.id)) {
      res.warnings.push_back("skipping endpoint record " + entry.path().string() + ": id " +
                             std::to_string(ep.id) + " invalid or duplicate");
      continue;
    }
    if (!dp_.link_exists(ep)) {
      ids_.release(ep.id);
      dp_.detach(ep);
      ::unlink(entry.path().c_str());
      res.dropped.push_back(ep);
      continue;
    }
    endpoints_[ep.id] = ep;
  }
  std::vector<Endpoint> live;
  for (auto& [id, ep] : endpoints_) live.push_back(ep);
  // Prune before re-attaching: entries of live endpoints are rewritten with
  // the same values, never removed, so established traffic keeps flowing.
  dp_.prune(live);
  for (auto& ep : live) {
    try {
      dp_.attach(ep);
      res.restored.push_back(ep);
      if (observer_) observer_(ep, false);
    } catch (const std::exception& e) {
      res.warnings.push_back("endpoint " + std::to_string(ep.id) + ": re-attach failed: " + e.what());
    }
  }
  return res;
}

Endpoint Manager::upsert(Endpoint req) {
  std::lock_guard lock(mu_);
  std::optional<uint16_t> existing;
  for (const auto& [id, ep] : endpoints_)
    if (ep.container_id == req.container_id && ep.ifname == req.ifname) existing = id;
  bool fresh = !existing;
  if (existing) {
    req.id = *existing;
  } else {
    auto id = ids_.allocate();
    if (!id) throw std::runtime_error("no free endpoint id (all 4095 in use)");
    req.id = *id;
  }
  try {
    dp_.attach(req);
    write_file_atomic(record_path(req.id), req.to_json().dump(2));
  } catch (...) {
    if (fresh) {
      dp_.detach(req);
      ids_.release(req.id);
    }
    throw;
  }
  endpoints_[req.id] = req;
  if (observer_) observer_(req, false);
  return req;
}

std::optional<Endpoint> Manager::remove_locked(uint16_t id) {
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) return std::nullopt;
  Endpoint ep = it->second;
  dp_.detach(ep);
  ::unlink(record_path(id).c_str());
  endpoints_.erase(it);
  ids_.release(id);
  if (observer_) observer_(ep, true);
  return ep;
}

std::optional<Endpoint> Manager::remove(uint16_t id) {
  std::lock_guard lock(mu_);
  return remove_locked(id);
}

std::optional<Endpoint> Manager::remove_by_container(const std::string& container_id) {
  std::lock_guard lock(mu_);
  for (const auto& [id, ep] : endpoints_)
    if (ep.container_id == container_id) return remove_locked(id);
  return std::nullopt;
}

std::optional<Endpoint> Manager::get(uint16_t id) const {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) return std::nullopt;
  return it->second;
}

std::optional<Endpoint> Manager::get_by_container(const std::string& container_id) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, ep] : endpoints_)
    if (ep.container_id == container_id) return ep;
  return std::nullopt;
}

std::vector<Endpoint> Manager::list() const {
  std::lock_guard lock(mu_);
  std::vector<Endpoint> out;
  for (const auto& [id, ep] : endpoints_) out.push_back(ep);
  return out;
}

}  // namespace cpp::endpoint
