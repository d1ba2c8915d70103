#include "operator/lbipam_controller.h"

#include "common/log.h"
#include "operator/lbipam_conditions.h"
#include "service/lbipam.h"
#include "service/model.h"

namespace cpp::op {

using json = nlohmann::json;
namespace lbipam = service::lbipam;

namespace {

constexpr const char* kPoolKind = "CiliumLoadBalancerIPPool";

// The object without what the store assigns, for "would this write change anything".
json content(json obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object())
    for (const char* k : {"resourceVersion", "generation", "uid", "creationTimestamp"}) obj["metadata"].erase(k);
  return obj;
}

int64_t generation_of(const json& obj) {
  const auto& md = obj.value("metadata", json::object());
  auto it = md.find("generation");
  return it != md.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
}

// The annotations that steer LB IPAM, as one comparable string.
std::string lbipam_annotations(const json& obj) {
  const auto& ann = obj.value("metadata", json::object()).value("annotations", json::object());
  std::string out;
  for (const char* k : {lbipam::kIPsAnnotation, lbipam::kIPsAnnotationAlias, lbipam::kSharingKeyAnnotation,
                        lbipam::kSharingKeyAnnotationAlias}) {
    auto it = ann.find(k);
    out += (it != ann.end() && it->is_string() ? it->get<std::string>() : "") + '\n';
  }
  return out;
}

std::string name_of(const json& obj) {
  const auto& md = obj.value("metadata", json::object());
  std::string ns = md.value("namespace", "");
  return (ns.empty() ? "" : ns + "/") + md.value("name", "");
}

// status.<field>, or null when status or the field is missing or malformed.
json status_field(const json& obj, const char* field) {
  auto st = obj.find("status");
  if (st == obj.end() || !st->is_object()) return json();
  return st->value(field, json());
}

// A service of ours (it carries our condition) whose spec stopped parsing:
// its IPs stay its own and it is told why, instead of being let go.
std::optional<lbipam::ServiceRequest> held_by_invalid(const json& obj, const std::string& why) {
  if (!find_condition(status_field(obj, "conditions"), lbipam::kRequestSatisfied)) return std::nullopt;
  lbipam::ServiceRequest r;
  r.key = name_of(obj);
  r.error = why;
  json lb = status_field(obj, "loadBalancer");
  json ingress = lb.is_object() ? lb.value("ingress", json::array()) : json::array();
  if (ingress.is_array())
    for (const auto& e : ingress)
      if (auto ip = IpAddr::parse(e.is_object() && e.value("ip", json()).is_string() ? e["ip"].get<std::string>() : "");
          ip)
        r.current.push_back(*ip);
  return r;
}

json& status_of(json& obj) {
  if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = json::object();
  return obj["status"];
}

// status.loadBalancer.ingress for ips, keeping fields of existing entries
// (ipMode, ports) for IPs that stay.
json ingress_for(const json& old_status, const std::vector<IpAddr>& ips) {
  json old = json::array();
  if (old_status.is_object() && old_status.contains("loadBalancer") && old_status["loadBalancer"].is_object())
    old = old_status["loadBalancer"].value("ingress", json::array());
  json out = json::array();
  for (const auto& ip : ips) {
    json entry = {{"ip", ip.str()}};
    if (old.is_array())
      for (const auto& e : old)
        if (e.is_object() && e.value("ip", "") == ip.str()) entry = e;
    out.push_back(entry);
  }
  return out;
}

// The service with our result applied (nullopt result: LB IPAM let go of it).
json service_with(const json& obj, const lbipam::ServiceResult* r, const std::string& now) {
  json desired = obj;
  json& st = status_of(desired);
  json ingress = r ? ingress_for(obj.value("status", json::object()), r->ips) : json::array();
  if (ingress.empty()) {
    if (st.contains("loadBalancer") && st["loadBalancer"].is_object()) {
      st["loadBalancer"].erase("ingress");
      if (st["loadBalancer"].empty()) st.erase("loadBalancer");
    }
  } else {
    st["loadBalancer"]["ingress"] = ingress;
  }
  json conds = r ? with_condition(st.value("conditions", json()), r->condition, generation_of(obj), now)
                 : without_condition(st.value("conditions", json()), lbipam::kRequestSatisfied);
  if (conds.empty())
    st.erase("conditions");
  else
    st["conditions"] = conds;
  if (st.empty()) desired.erase("status");
  return desired;
}

json pool_with(const json& obj, const std::vector<lbipam::Condition>& conditions, const std::string& now) {
  json desired = obj;
  json& st = status_of(desired);
  json conds = st.value("conditions", json());
  for (const auto& c : conditions) conds = with_condition(conds, c, generation_of(obj), now);
  st["conditions"] = conds;
  return desired;
}

}  // namespace

LbIpamController::LbIpamController(store::ResourceStore& store, bool ipv4_enabled, bool ipv6_enabled,
                                   std::chrono::milliseconds resync)
    : store_(store), ipv4_(ipv4_enabled), ipv6_(ipv6_enabled), resync_(resync) {}

LbIpamController::~LbIpamController() { stop(); }

void LbIpamController::start() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = false;
    dirty_ = true;
  }
  thread_ = std::thread([this] { worker(); });
  store::WatchOptions wo;
  wo.replay_existing = false;  // the first pass lists everything anyway
  pool_watch_ = store_.watch(kPoolKind, [this](store::EventType, const json&) { trigger(); }, wo);
  svc_watch_ = store_.watch("Service", [this](store::EventType, const json&) { trigger(); }, wo);
}

void LbIpamController::stop() {
  for (auto* w : {&pool_watch_, &svc_watch_}) {
    if (*w) (*w)->stop();
    w->reset();
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void LbIpamController::trigger() {
  std::lock_guard<std::mutex> l(mu_);
  dirty_ = true;
  cv_.notify_all();
}

void LbIpamController::worker() {
  while (true) {
    {
      std::unique_lock<std::mutex> l(mu_);
      // The periodic pass repairs a change a watch missed.
      cv_.wait_for(l, resync_, [&] { return stopping_ || dirty_; });
      if (stopping_) return;
      dirty_ = false;
    }
    try {
      auto stats = reconcile();
      if (observer_) observer_(stats);
    } catch (const std::exception& e) {
      spdlog::warn("LB IPAM: {}; will retry", e.what());
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(500), [&] { return stopping_; });
      dirty_ = true;
    }
  }
}

LbIpamStats LbIpamController::reconcile() {
  LbIpamStats stats;
  const std::string now = rfc3339_now();

  std::vector<lbipam::Pool> pools;
  std::map<std::string, json> pool_objs;
  std::map<std::string, std::string> invalid;  // pool name -> why
  for (auto& obj : store_.list(kPoolKind)) {
    std::string name = obj["metadata"].value("name", "");
    try {
      pools.push_back(lbipam::parse_pool(obj));
    } catch (const std::invalid_argument& e) {
      invalid[name] = e.what();
    }
    pool_objs[name] = std::move(obj);
  }
  stats.pools = pools.size();
  stats.invalid_pools = invalid.size();

  std::vector<lbipam::ServiceRequest> requests;
  std::map<std::string, json> svc_objs;  // every service that has or had our attention
  std::map<std::string, std::string> annotations;
  for (auto& obj : store_.list("Service")) {
    std::optional<lbipam::ServiceRequest> req;
    try {
      req = lbipam::request_for(service::parse_service(obj), ipv4_, ipv6_);
    } catch (const std::invalid_argument& e) {
      req = held_by_invalid(obj, e.what());
      if (!req) {
        spdlog::debug("LB IPAM: service {} skipped: {}", name_of(obj), e.what());
        continue;
      }
    }
    const json conditions = status_field(obj, "conditions");
    const json* ours = find_condition(conditions, lbipam::kRequestSatisfied);
    if (!req && !ours) continue;
    std::string key = req ? req->key : name_of(obj);
    if (req) {
      std::string ann = lbipam_annotations(obj);
      auto seen = seen_annotations_.find(key);
      req->changed = !ours || !ours->contains("observedGeneration") ||
                     !(*ours)["observedGeneration"].is_number_integer() ||
                     (*ours)["observedGeneration"].get<int64_t>() != generation_of(obj) ||
                     (seen != seen_annotations_.end() && seen->second != ann);
      annotations[key] = std::move(ann);
      requests.push_back(std::move(*req));
    }
    svc_objs[key] = std::move(obj);
  }
  stats.services = requests.size();

  auto result = lbipam::allocate(pools, requests);
  stats.conflicting_pools = invalid.size();
  for (const auto& [name, p] : result.pools) {
    if (p.conflicting) stats.conflicting_pools++;
    auto num = [](const std::string& v) { return v.empty() ? 0.0 : std::stod(v); };
    stats.pool_ips[name] = {num(p.available), num(p.used)};
  }
  for (const auto& [key, r] : result.services)
    if (r.condition.status != "True") stats.services_unsatisfied++;

  for (const auto& [key, obj] : svc_objs) {
    auto it = result.services.find(key);
    json desired = service_with(obj, it == result.services.end() ? nullptr : &it->second, now);
    if (content(desired) == content(obj)) continue;
    if (it == result.services.end()) {
      spdlog::info("LB IPAM: service {} is no longer ours; released its IPs", key);
    } else {
      std::string ips;
      for (const auto& ip : it->second.ips) ips += (ips.empty() ? "" : ",") + ip.str();
      const auto& c = it->second.condition;
      if (c.status == "True")
        spdlog::info("LB IPAM: service {}: {}", key, ips);
      else
        spdlog::warn("LB IPAM: service {}: {} ({}){}", key, c.message, c.reason, ips.empty() ? "" : "; keeps " + ips);
    }
    store_.put(desired);
    stats.services_written++;
  }

  for (const auto& [name, obj] : pool_objs) {
    std::vector<lbipam::Condition> conds;
    if (auto bad = invalid.find(name); bad != invalid.end()) {
      conds.push_back({lbipam::kPoolConflict, "True", "invalid_spec", "Pool is invalid: " + bad->second});
    } else if (auto it = result.pools.find(name); it != result.pools.end()) {
      conds = it->second.conditions;
    } else {
      continue;
    }
    json desired = pool_with(obj, conds, now);
    if (content(desired) == content(obj)) continue;
    for (const auto& c : conds)
      if (c.type == lbipam::kPoolConflict && c.status == "True") spdlog::warn("LB IPAM: pool {}: {}", name, c.message);
    store_.put(desired);
    stats.pools_written++;
  }
  seen_annotations_ = std::move(annotations);  // only once every write went through
  return stats;
}

}  // namespace cpp::op
