#include "agent/bgp_subsystem.h"

#include <chrono>
#include <set>

#include "bgp/bgp_format.h"
#include "bgp/policy_status.h"
#include "common/base64.h"
#include "common/log.h"
#include "service/model.h"

namespace cpp::agent {
namespace {

// Kinds whose changes can change what the node announces or to whom.
const char* const kWatched[] = {"CiliumBGPPeeringPolicy", "Node", "Service", "EndpointSlice", "Secret"};

std::map<std::string, std::string> string_map(const nlohmann::json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object())
    for (auto& [k, v] : j.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

bgp::BgpNode node_of(const std::optional<nlohmann::json>& obj, const std::string& name,
                     const std::vector<IpPrefix>& pod_cidrs) {
  bgp::BgpNode n;
  n.name = name;
  n.pod_cidrs = pod_cidrs;
  if (!obj) return n;
  // operator[] on a const json with a missing key is undefined behaviour (a
  // Node often has no annotations; the agent crashed on it): value() instead.
  const auto md = obj->value("metadata", nlohmann::json::object());
  n.labels = string_map(md.value("labels", nlohmann::json::object()));
  n.annotations = string_map(md.value("annotations", nlohmann::json::object()));
  const auto addrs = obj->value("status", nlohmann::json::object()).value("addresses", nlohmann::json::array());
  if (addrs.is_array())
    for (const auto& a : addrs)
      if (a.value("type", "") == "InternalIP")
        if (auto ip = IpAddr::parse(a.value("address", ""))) n.internal_ips.push_back(*ip);
  return n;
}

// Secret name -> password (key "password", as upstream reads authSecretRef).
std::map<std::string, std::string> secrets_of(const std::vector<nlohmann::json>& objs) {
  std::map<std::string, std::string> out;
  for (const auto& s : objs) {
    std::string name = s["metadata"].value("name", "");
    if (s.contains("stringData") && s["stringData"].contains("password"))
      out[name] = s["stringData"].value("password", "");
    else if (s.contains("data") && s["data"].contains("password") && s["data"]["password"].is_string())
      if (auto v = base64_decode(s["data"]["password"].get<std::string>())) out[name] = *v;
  }
  return out;
}

}  // namespace

BgpSubsystem::BgpSubsystem(store::ResourceStore& store, Options opts)
    : store_(store), opts_(std::move(opts)), speaker_(bgp::make_speaker(opts_.restarting)) {}

BgpSubsystem::~BgpSubsystem() { stop(); }

void BgpSubsystem::start() {
  for (const char* kind : kWatched)
    watches_.push_back(store_.watch(kind, [this](store::EventType, const nlohmann::json&) { mark_dirty(); }));
  worker_ = std::thread([this] { run(); });
}

void BgpSubsystem::stop() {
  for (auto& w : watches_) w->stop();
  watches_.clear();
  {
    std::lock_guard l(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  speaker_->stop(/*keep_routes=*/true);
}

void BgpSubsystem::mark_dirty() {
  {
    std::lock_guard l(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

void BgpSubsystem::run() {
  std::unique_lock l(mu_);
  while (!stopping_) {
    // Sessions change state on their own (a peer goes away, a NOTIFICATION
    // arrives): the status follows them once a second.
    if (!cv_.wait_for(l, std::chrono::seconds(1), [this] { return dirty_ || stopping_; })) {
      l.unlock();
      sync_status();
      l.lock();
      continue;
    }
    if (stopping_) break;
    // Changes come in bursts (a Service and its EndpointSlice): let a burst
    // settle so it becomes one UPDATE.
    cv_.wait_for(l, std::chrono::milliseconds(100), [this] { return stopping_; });
    dirty_ = false;
    l.unlock();
    try {
      reconcile();
      // The change may have been to a policy's status (a re-apply drops it):
      // compare with the stored objects again.
      written_.clear();
      sync_status();
    } catch (const std::exception& e) {
      spdlog::warn("bgp: {}", e.what());
      std::lock_guard g(mu_);
      last_error_ = e.what();
    }
    l.lock();
  }
}

void BgpSubsystem::reconcile() {
  std::vector<bgp::ParsedPolicy> policies;
  for (const auto& p : store_.list("CiliumBGPPeeringPolicy")) policies.push_back(bgp::parse_policy_object(p));
  std::vector<service::Service> services;
  for (const auto& s : store_.list("Service")) {
    try {
      services.push_back(service::parse_service(s));
    } catch (const std::exception&) {
      // The service subsystem reports bad Services; they announce nothing.
    }
  }
  std::vector<service::EndpointSlice> slices;
  for (const auto& s : store_.list("EndpointSlice")) {
    try {
      slices.push_back(service::parse_endpoint_slice(s));
    } catch (const std::exception&) {
    }
  }
  auto node = node_of(store_.get("Node", "", opts_.node_name), opts_.node_name, opts_.pod_cidrs);
  auto desired = bgp::desired_state(policies, node, services,
                                    bgp::services_with_local_backends(slices, opts_.node_name),
                                    secrets_of(store_.list("Secret", opts_.secrets_namespace)));
  // Announce the node's own underlay address of each family as next hop, so
  // IPv6 routes travel over an IPv4 session too (RFC 2545 global next hop).
  for (auto& r : desired.config.routers)
    for (auto& route : r.routes)
      if (!route.next_hop) route.next_hop = route.prefix.addr.v6 ? opts_.node_ipv6 : opts_.node_ipv4;
  log_new_errors(desired.policies);
  bool have = !desired.config.routers.empty();
  {
    std::lock_guard l(mu_);
    statuses_ = desired.policies;
    last_error_.clear();
  }
  if (have) {
    speaker_->apply(desired.config);
  } else if (applied_) {
    // No policy applies any more: end every session (router ID stays valid).
    bgp::SpeakerConfig none;
    none.router_id = 1;
    speaker_->apply(none);
  }
  applied_ = have || applied_;
}

void BgpSubsystem::log_new_errors(const std::vector<bgp::PolicyStatus>& now) {
  std::set<std::pair<std::string, std::string>> before;
  {
    std::lock_guard l(mu_);
    for (const auto& s : statuses_)
      for (const auto& e : s.errors) before.emplace(s.policy, e);
  }
  for (const auto& s : now)
    for (const auto& e : s.errors)
      if (!before.count({s.policy, e})) spdlog::warn("bgp: CiliumBGPPeeringPolicy {}: {}", s.policy, e);
}

void BgpSubsystem::sync_status() {
  std::vector<bgp::PolicyStatus> statuses;
  {
    std::lock_guard l(mu_);
    statuses = statuses_;
  }
  auto peers = speaker_->peers();
  std::map<std::string, nlohmann::json> now;
  for (const auto& s : statuses) {
    if (s.policy.empty()) continue;  // nameless: nothing to write to
    auto entry = bgp::node_status_entry(opts_.node_name, s, peers);
    now[s.policy] = entry ? *entry : nlohmann::json();
  }
  for (const auto& [policy, entry] : now) {
    auto it = written_.find(policy);
    if (it != written_.end() && it->second == entry) continue;
    std::optional<nlohmann::json> want;
    if (!entry.is_null()) want = entry;
    try {
      store_.update("CiliumBGPPeeringPolicy", "", policy,
                    [&](nlohmann::json& obj) { return bgp::set_node_status(obj, opts_.node_name, want); });
      written_[policy] = entry;
    } catch (const std::exception& e) {
      spdlog::warn("bgp: status of CiliumBGPPeeringPolicy {}: {}", policy, e.what());
    }
  }
  // Policies that are gone take their status with them.
  for (auto it = written_.begin(); it != written_.end();)
    it = now.count(it->first) ? std::next(it) : written_.erase(it);
}

nlohmann::json BgpSubsystem::peers_json() const { return bgp::peers_json(speaker_->peers()); }

nlohmann::json BgpSubsystem::routes_json(bool advertised) const {
  return bgp::routes_json(advertised ? speaker_->advertised() : speaker_->available());
}

nlohmann::json BgpSubsystem::policies_json() const {
  std::lock_guard l(mu_);
  auto out = nlohmann::json::array();
  for (const auto& s : statuses_)
    out.push_back({{"policy", s.policy}, {"state", bgp::to_string(s.state)}, {"errors", s.errors}});
  return {{"policies", out}, {"last-error", last_error_}};
}

}  // namespace cpp::agent
