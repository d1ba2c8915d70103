#include "agent/overlay_subsystem.h"

#include <sys/socket.h>

#include <algorithm>
#include <set>

#include "common/log.h"

namespace cpp::agent {
namespace {

std::string object_key(const nlohmann::json& obj) {
  const auto& m = obj["metadata"];
  return m.value("namespace", std::string()) + "/" + m.value("name", std::string());
}

std::vector<nlohmann::json> values(const std::map<std::string, nlohmann::json>& m) {
  std::vector<nlohmann::json> out;
  out.reserve(m.size());
  for (const auto& [_, v] : m) out.push_back(v);
  return out;
}

}  // namespace

OverlaySubsystem::OverlaySubsystem(store::ResourceStore& store, IpcacheWriter& ipcache, Netlink& nl, Options opts)
    : store_(store), ipcache_(ipcache), nl_(nl), opts_(std::move(opts)) {}

OverlaySubsystem::~OverlaySubsystem() { stop(); }

void OverlaySubsystem::start() {
  for (const char* kind : {"CiliumNode", "CiliumEndpoint"}) {
    // Replay is synchronous: the first reconcile sees every object.
    watches_.push_back(store_.watch(kind, [this, kind](store::EventType t, const nlohmann::json& obj) {
      on_event(kind, t, obj);
    }));
  }
  remove_stale_routes();
}

void OverlaySubsystem::stop() {
  for (auto& w : watches_) w->stop();
  watches_.clear();
}

OverlayState OverlaySubsystem::applied() const {
  std::lock_guard lock(mu_);
  return applied_;
}

void OverlaySubsystem::on_event(const std::string& kind, store::EventType t, const nlohmann::json& obj) {
  std::lock_guard lock(mu_);
  auto& objs = kind == "CiliumNode" ? nodes_ : endpoints_;
  if (t == store::EventType::Deleted)
    objs.erase(object_key(obj));
  else
    objs[object_key(obj)] = obj;
  reconcile_locked();
}

std::optional<Route> OverlaySubsystem::route_for(const IpPrefix& cidr) const {
  const auto& router = cidr.addr.v6 ? opts_.router6 : opts_.router4;
  if (!router) return std::nullopt;
  Route r;
  r.dst = cidr;
  r.dev = opts_.host_dev;
  r.src = *router;
  r.mtu = opts_.mtu;
  // Same shapes as the local PodCIDR route (host_devices.cpp): IPv4 "via
  // the router IP", IPv6 a device route (a local gateway is refused).
  if (!router->v6) r.via = *router;
  return r;
}

void OverlaySubsystem::reconcile_locked() {
  OverlayState want = compute_overlay_state(opts_.self, values(nodes_), values(endpoints_));
  for (const auto& w : want.warnings)
    if (std::find(applied_.warnings.begin(), applied_.warnings.end(), w) == applied_.warnings.end())
      spdlog::warn("overlay: {}", w);

  // Claims first, then routes: a route must never lead into the tunnel
  // before the ipcache knows where the tunnel ends.
  for (const auto& [key, claim] : want.ipcache) {
    auto it = applied_.ipcache.find(key);
    if (it != applied_.ipcache.end() && it->second == claim) continue;
    try {
      ipcache_.claim(key.first, key.second, claim);
    } catch (const std::exception& e) {
      spdlog::warn("overlay: ipcache {}: {}", key.first.str(), e.what());
    }
  }
  std::set<IpPrefix> routes;
  for (const auto& cidr : want.routes) {
    auto r = route_for(cidr);
    if (!r) continue;
    try {
      if (!applied_.routes.count(cidr)) nl_.replace_route(*r);
      routes.insert(cidr);
    } catch (const std::exception& e) {
      spdlog::warn("overlay: {}", e.what());
    }
  }
  for (const auto& cidr : applied_.routes) {
    if (want.routes.count(cidr)) continue;
    try {
      if (auto r = route_for(cidr)) nl_.remove_route(*r);
    } catch (const std::exception& e) {
      spdlog::warn("overlay: {}", e.what());
      routes.insert(cidr);  // still there: try again next time
    }
  }
  for (const auto& [key, _] : applied_.ipcache)
    if (!want.ipcache.count(key)) ipcache_.release(key.first, key.second);
  applied_.ipcache = std::move(want.ipcache);
  applied_.routes = std::move(routes);
  applied_.warnings = std::move(want.warnings);
}

void OverlaySubsystem::remove_stale_routes() {
  std::lock_guard lock(mu_);
  for (int family : {AF_INET, AF_INET6}) {
    std::vector<Route> routes;
    try {
      routes = nl_.list_routes(family);
    } catch (const std::exception& e) {
      spdlog::warn("overlay: {}", e.what());
      continue;
    }
    for (const auto& r : routes) {
      if (r.dev != opts_.host_dev || r.dst.len == r.dst.addr.bits() || applied_.routes.count(r.dst)) continue;
      // Kept: the node's own PodCIDRs and the link-local prefix.
      bool own = r.dst.addr.v6 && r.dst.addr.bytes[0] == 0xfe && (r.dst.addr.bytes[1] & 0xc0) == 0x80;
      for (const auto& c : opts_.self.pod_cidrs) own = own || c == r.dst;
      if (own) continue;
      spdlog::info("overlay: removing stale route {}", r.str());
      try {
        nl_.remove_route(r);
      } catch (const std::exception& e) {
        spdlog::warn("overlay: {}", e.what());
      }
    }
  }
}

}  // namespace cpp::agent
