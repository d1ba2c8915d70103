#include "agent/node_registration.h"

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/log.h"

namespace cpp::agent {

NodeRegistration::NodeRegistration(store::ResourceStore& store, std::string node_name,
                                   std::optional<IpAddr> internal_ipv4, std::optional<IpAddr> internal_ipv6)
    : store_(store) {
  fields_.name = std::move(node_name);
  fields_.internal_ipv4 = internal_ipv4;
  fields_.internal_ipv6 = internal_ipv6;
  if (auto id = read_file("/proc/sys/kernel/random/boot_id")) {
    fields_.boot_id = *id;
    while (!fields_.boot_id.empty() && (fields_.boot_id.back() == '\n' || fields_.boot_id.back() == ' '))
      fields_.boot_id.pop_back();
  }
}

NodeRegistration::~NodeRegistration() { stop(); }

void NodeRegistration::sync() {
  ipam::AgentNodeFields f;
  {
    std::lock_guard<std::mutex> l(mu_);
    f = fields_;
    dirty_ = false;
  }
  try {
    auto cur = store_.get("CiliumNode", "", f.name);
    auto obj = ipam::merge_agent_fields(cur ? &*cur : nullptr, f);
    if (!obj && cur) obj = *cur;
    bool owner_added = false;
    if (owned_by_node_ && obj && !(*obj)["metadata"].contains("ownerReferences"))
      if (auto node = store_.get("Node", "", f.name); node && (*node)["metadata"].contains("uid")) {
        (*obj)["metadata"]["ownerReferences"] = {
            {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", f.name}, {"uid", (*node)["metadata"]["uid"]}}};
        owner_added = true;
      }
    if (obj && cur && !owner_added && *obj == *cur) obj.reset();
    if (obj) {
      store_.put(*obj);
      spdlog::debug("CiliumNode {} {}", f.name, cur ? "updated" : "created");
    }
  } catch (...) {
    std::lock_guard<std::mutex> l(mu_);
    dirty_ = true;
    throw;
  }
}

std::optional<std::vector<IpPrefix>> NodeRegistration::wait_for_pod_cidrs(bool want_ipv4, bool want_ipv6,
                                                                         const std::atomic<bool>& stop,
                                                                         std::chrono::milliseconds log_every) {
  auto next_log = std::chrono::steady_clock::now();
  std::string last_problem;
  bool registered = false;
  while (!stop) {
    std::string problem;
    try {
      if (!registered) {
        sync();
        registered = true;
      }
      auto obj = store_.get("CiliumNode", "", fields_.name);
      if (!obj) {
        registered = false;
        problem = "CiliumNode " + fields_.name + " vanished; registering again";
      } else {
        std::optional<IpPrefix> v4, v6;
        for (const auto& c : ipam::pod_cidrs_of(*obj)) {
          auto& slot = c.addr.v6 ? v6 : v4;
          if (!slot) slot = c;
        }
        if ((!want_ipv4 || v4) && (!want_ipv6 || v6)) {
          std::vector<IpPrefix> out;
          if (want_ipv4) out.push_back(*v4);
          if (want_ipv6) out.push_back(*v6);
          return out;
        }
        problem = "waiting for the operator to assign PodCIDRs to CiliumNode " + fields_.name;
        if (auto err = ipam::operator_error_of(*obj); !err.empty()) problem += " (operator: " + err + ")";
      }
    } catch (const std::exception& e) {
      problem = "waiting for PodCIDRs: store unavailable: " + std::string(e.what());
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= next_log || problem != last_problem) {
      spdlog::info("{}", problem);
      next_log = now + log_every;
      last_problem = problem;
    }
    for (int i = 0; i < 5 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

void NodeRegistration::set_pod_cidrs(std::vector<IpPrefix> cidrs, bool configured) {
  std::lock_guard<std::mutex> l(mu_);
  fields_.pod_cidrs = std::move(cidrs);
  fields_.pod_cidrs_configured = configured;
  dirty_ = true;
  cv_.notify_all();
}

void NodeRegistration::set_router_ips(std::optional<IpAddr> v4, std::optional<IpAddr> v6) {
  std::lock_guard<std::mutex> l(mu_);
  fields_.router_ipv4 = v4;
  fields_.router_ipv6 = v6;
  dirty_ = true;
  cv_.notify_all();
}

void NodeRegistration::set_health_addresses(std::optional<IpAddr> v4, std::optional<IpAddr> v6) {
  std::lock_guard<std::mutex> l(mu_);
  fields_.health_ipv4 = v4;
  fields_.health_ipv6 = v6;
  dirty_ = true;
  cv_.notify_all();
}

void NodeRegistration::kick() {
  std::lock_guard<std::mutex> l(mu_);
  dirty_ = true;
  cv_.notify_all();
}

void NodeRegistration::start() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
  store::WatchOptions wo;
  wo.replay_existing = false;
  const std::string name = fields_.name;
  try {
    watch_ = store_.watch(
        "CiliumNode",
        [this, name](store::EventType, const nlohmann::json& obj) {
          if (obj["metadata"].value("name", "") == name) kick();
        },
        wo);
  } catch (const std::exception& e) {
    // The periodic re-check in loop() still repairs the object.
    spdlog::warn("CiliumNode {}: cannot watch: {}", name, e.what());
  }
}

void NodeRegistration::stop() {
  if (watch_) watch_->stop();
  watch_.reset();
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void NodeRegistration::loop() {
  auto last_warn = std::chrono::steady_clock::time_point{};
  while (true) {
    {
      std::unique_lock<std::mutex> l(mu_);
      // The periodic pass covers events missed while the store was away.
      cv_.wait_for(l, std::chrono::seconds(10), [&] { return stopping_ || dirty_; });
      if (stopping_) return;
    }
    try {
      sync();
    } catch (const std::exception& e) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_warn > std::chrono::seconds(10)) {
        spdlog::warn("CiliumNode {}: {}; retrying", fields_.name, e.what());
        last_warn = now;
      }
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::seconds(1), [&] { return stopping_; });
    }
  }
}

std::vector<IpPrefix> pod_cidrs_from_ipam_state(const std::string& path) {
  std::vector<IpPrefix> out;
  auto text = read_file(path);
  if (!text) return out;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return out;
  for (const char* k : {"ipv4-cidr", "ipv6-cidr"})
    if (j.contains(k) && j[k].is_string())
      if (auto p = IpPrefix::parse(j[k].get<std::string>())) out.push_back(*p);
  return out;
}

std::optional<PodCidrs> resolve_pod_cidrs(const config::AgentConfig& cfg, NodeRegistration& registration,
                                          const std::string& ipam_state_file, const std::atomic<bool>& stop) {
  PodCidrs out;
  if (!cfg.pod_cidrs_from_operator()) {
    std::vector<IpPrefix> used;
    if (cfg.enable_ipv4 && cfg.ipv4_range) used.push_back(*(out.ipv4 = cfg.ipv4_range));
    if (cfg.enable_ipv6 && cfg.ipv6_range) used.push_back(*(out.ipv6 = cfg.ipv6_range));
    registration.set_pod_cidrs(used, true);
    return out;
  }
  for (const auto& c : pod_cidrs_from_ipam_state(ipam_state_file)) (c.addr.v6 ? out.ipv6 : out.ipv4) = c;
  if ((!cfg.enable_ipv4 || out.ipv4) && (!cfg.enable_ipv6 || out.ipv6)) {
    if (!cfg.enable_ipv4) out.ipv4.reset();
    if (!cfg.enable_ipv6) out.ipv6.reset();
    std::vector<IpPrefix> used;
    for (const auto& c : {out.ipv4, out.ipv6})
      if (c) used.push_back(*c);
    spdlog::info("PodCIDRs from the IPAM state {}: {}{}{}", ipam_state_file, out.ipv4 ? out.ipv4->str() : "",
                 out.ipv4 && out.ipv6 ? " " : "", out.ipv6 ? out.ipv6->str() : "");
    registration.set_pod_cidrs(used);
    return out;
  }
  auto got = registration.wait_for_pod_cidrs(cfg.enable_ipv4, cfg.enable_ipv6, stop);
  if (!got) return std::nullopt;
  out = {};
  for (const auto& c : *got) (c.addr.v6 ? out.ipv6 : out.ipv4) = c;
  spdlog::info("PodCIDRs from CiliumNode {}: {}{}{}", cfg.node_name, out.ipv4 ? out.ipv4->str() : "",
               out.ipv4 && out.ipv6 ? " " : "", out.ipv6 ? out.ipv6->str() : "");
  registration.set_pod_cidrs(*got);
  return out;
}

}  // namespace cpp::agent
