#include "agent/service_subsystem.h"

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "common/files.h"
#include "common/log.h"

namespace cpp::agent {
namespace {

std::string object_key(const nlohmann::json& obj) {
  const auto& m = obj["metadata"];
  return m.value("namespace", std::string()) + "/" + m.value("name", std::string());
}

bool is_api_key(const std::string& key) { return key.rfind("api/", 0) == 0; }

}  // namespace

using datapath::LbFrontendKey;

ServiceSubsystem::ServiceSubsystem(store::ResourceStore& store, datapath::LbMaps& maps, Options opts)
    : store_(store), maps_(maps), opts_(std::move(opts)), reconciler_(maps, {opts_.maglev, opts_.map_max}) {}

ServiceSubsystem::~ServiceSubsystem() { stop(); }

void ServiceSubsystem::start() {
  for (const auto& w : reconciler_.restore()) spdlog::warn("services: {}", w);
  if (!opts_.state_dir.empty()) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(opts_.state_dir, ec)) {
      if (e.path().extension() != ".json") continue;
      try {
        auto text = read_file(e.path().string());
        if (!text) continue;
        auto s = api_service_from_json(nlohmann::json::parse(*text));
        api_[s.id] = s;
        changed_.insert(s.key());
      } catch (const std::exception& ex) {
        spdlog::warn("services: {}: skipping an API service: {}", e.path().string(), ex.what());
      }
    }
  }
  for (const char* kind : {"Service", "EndpointSlice"})
    watches_.push_back(store_.watch(kind, [this, kind](store::EventType t, const nlohmann::json& obj) {
      on_event(kind, t, obj);
    }));
  {
    // The replay above only recorded objects: the first pass sees them all,
    // so a restart never removes a service it is about to program again.
    std::lock_guard lock(mu_);
    synced_ = true;
    reconcile_locked();
  }
  worker_ = std::thread([this] { run(); });
}

void ServiceSubsystem::stop() {
  for (auto& w : watches_) w->stop();
  watches_.clear();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ServiceSubsystem::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return dirty_ || stopping_; });
    if (stopping_) return;
    dirty_ = false;
    reconcile_locked();
  }
}

void ServiceSubsystem::on_event(const std::string& kind, store::EventType t, const nlohmann::json& obj) {
  std::string key = object_key(obj);
  std::lock_guard lock(mu_);
  bool deleted = t == store::EventType::Deleted;
  auto note_bad = [&](const std::string& what, const std::string& err) {
    auto& last = bad_objects_[what];
    if (last != err) spdlog::warn("services: {} {} is ignored: {}", kind, key, err);
    last = err;
  };
  if (kind == "Service") {
    services_.erase(key);
    changed_.insert(key);
    bad_objects_.erase("Service " + key);
    if (!deleted) {
      try {
        services_[key] = service::parse_service(obj);
      } catch (const std::exception& e) {
        note_bad("Service " + key, e.what());
      }
    }
  } else {
    if (auto it = slices_.find(key); it != slices_.end()) {
      std::string owner = it->second.ns + "/" + it->second.service_name;
      slices_of_[owner].erase(key);
      if (slices_of_[owner].empty()) slices_of_.erase(owner);
      changed_.insert(owner);
      slices_.erase(it);
    }
    bad_objects_.erase("EndpointSlice " + key);
    if (!deleted) {
      try {
        auto s = service::parse_endpoint_slice(obj);
        std::string owner = s.ns + "/" + s.service_name;
        if (!s.service_name.empty()) {
          slices_of_[owner].insert(key);
          changed_.insert(owner);
          slices_[key] = std::move(s);
        }
      } catch (const std::exception& e) {
        note_bad("EndpointSlice " + key, e.what());
      }
    }
  }
  if (synced_) {
    dirty_ = true;
    cv_.notify_all();
  }
}

std::optional<service::ServiceFrontends> ServiceSubsystem::compute_locked(const std::string& key) {
  if (is_api_key(key)) {
    auto api = api_.find(static_cast<uint16_t>(std::stoul(key.substr(4))));
    if (api == api_.end()) return std::nullopt;
    return service::ServiceFrontends{key, "", api_frontends(api->second, opts_.node.external_cluster_ip)};
  }
  auto svc = services_.find(key);
  if (svc == services_.end()) return std::nullopt;
  std::vector<service::EndpointSlice> slices;
  if (auto it = slices_of_.find(key); it != slices_of_.end())
    for (const auto& s : it->second) slices.push_back(slices_.at(s));
  try {
    return service::ServiceFrontends{key, svc->second.creation_timestamp,
                                     service::frontends_of(svc->second, slices, opts_.node)};
  } catch (const std::exception& e) {
    spdlog::warn("services: Service {}: {}", key, e.what());
    return std::nullopt;
  }
}

void ServiceSubsystem::reconcile_locked() {
  auto t0 = std::chrono::steady_clock::now();
  size_t changed = changed_.size();
  std::set<LbFrontendKey> touched = std::move(retry_);
  retry_.clear();
  for (const auto& key : changed_) {
    if (auto old = computed_.find(key); old != computed_.end()) {
      for (const auto& f : old->second.frontends) {
        auto k = frontend_key(f.addr, f.scope);
        touched.insert(k);
        if (auto c = claims_.find(k); c != claims_.end() && c->second.erase(key) && c->second.empty()) claims_.erase(c);
      }
      computed_.erase(old);
    }
    auto now = compute_locked(key);
    if (!now) continue;
    for (const auto& f : now->frontends) {
      auto k = frontend_key(f.addr, f.scope);
      touched.insert(k);
      claims_[k].insert(key);
    }
    computed_[key] = std::move(*now);
  }
  changed_.clear();
  if (first_pass_) {
    // Entries a previous run left that nothing asks for any more.
    for (const auto& k : reconciler_.applied_keys()) touched.insert(k);
    first_pass_ = false;
  }

  // Per touched frontend, the model's rule picks the service that keeps it.
  std::vector<service::Frontend> upserts;
  std::vector<LbFrontendKey> removals;
  for (const auto& k : touched) {
    for (auto& [svc, msgs] : conflicts_) msgs.erase(k);
    auto c = claims_.find(k);
    if (c == claims_.end()) {
      removals.push_back(k);
      continue;
    }
    std::vector<service::ServiceFrontends> claimants;
    for (const auto& svc : c->second) {
      const auto& sf = computed_.at(svc);
      for (const auto& f : sf.frontends)
        if (frontend_key(f.addr, f.scope) == k) claimants.push_back({svc, sf.creation_timestamp, {f}});
    }
    auto merged = service::merge_frontends(claimants);
    for (const auto& [svc, msgs] : merged.errors) {
      auto& slot = conflicts_[svc][k];
      if (slot != msgs.front()) spdlog::warn("services: {}: {}; that frontend is left out", svc, msgs.front());
      slot = msgs.front();
    }
    upserts.insert(upserts.end(), merged.accepted.begin(), merged.accepted.end());
  }
  for (auto it = conflicts_.begin(); it != conflicts_.end();)
    it = it->second.empty() ? conflicts_.erase(it) : std::next(it);

  // API services own their id on their first frontend.
  for (const auto& f : upserts) {
    if (!is_api_key(f.service)) continue;
    auto id = static_cast<uint16_t>(std::stoul(f.service.substr(4)));
    const auto& s = api_.at(id);
    auto primary = api_frontends(s, opts_.node.external_cluster_ip).front();
    if (frontend_key(primary.addr, primary.scope) != frontend_key(f.addr, f.scope)) continue;
    try {
      reconciler_.reserve(frontend_key(f.addr, f.scope), id);
    } catch (const std::exception& e) {
      spdlog::warn("services: API service {}: {}", id, e.what());
    }
  }
  auto errors = reconciler_.update(upserts, removals);
  for (const auto& e : errors) spdlog::warn("services: {}", e);
  if (!errors.empty()) retry_ = touched;  // tried again with the next change

  for (const auto& k : touched) {
    auto it = programmed_ids_.find(k);
    if (it == programmed_ids_.end()) continue;
    if (auto p = programmed_.find(it->second); p != programmed_.end() && frontend_key(p->second.addr, p->second.scope) == k)
      programmed_.erase(p);
    programmed_ids_.erase(it);
  }
  for (auto& f : upserts) {
    auto k = frontend_key(f.addr, f.scope);
    if (auto id = reconciler_.service_id(k)) {
      programmed_ids_[k] = *id;
      programmed_[*id] = std::move(f);
    }
  }
  spdlog::debug("services: {} changed services, {} frontends touched, {} programmed in {} ms", changed,
                touched.size(), programmed_.size(),
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
}

void ServiceSubsystem::save_api_locked(uint16_t id) const {
  if (opts_.state_dir.empty()) return;
  std::string path = opts_.state_dir + "/" + std::to_string(id) + ".json";
  auto it = api_.find(id);
  if (it == api_.end()) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return;
  }
  make_dirs(opts_.state_dir);
  write_file_atomic(path, api_service_json(it->second).dump(2));
}

nlohmann::json ServiceSubsystem::entry_json_locked(uint16_t id) const {
  const auto& f = programmed_.at(id);
  std::string ns, name;
  if (is_api_key(f.service)) {
    auto api = api_.find(static_cast<uint16_t>(std::stoul(f.service.substr(4))));
    if (api != api_.end()) ns = api->second.ns, name = api->second.name;
  } else {
    auto slash = f.service.find('/');
    ns = f.service.substr(0, slash);
    name = slash == std::string::npos ? "" : f.service.substr(slash + 1);
  }
  return service_entry_json(id, f, ns, name);
}

nlohmann::json ServiceSubsystem::list() const {
  std::lock_guard lock(mu_);
  auto out = nlohmann::json::array();
  for (const auto& [id, _] : programmed_) out.push_back(entry_json_locked(id));
  return out;
}

std::optional<std::string> ServiceSubsystem::service_of(const IpAddr& addr, uint16_t port, uint8_t protocol) const {
  service::L4Addr l4{addr, port, static_cast<service::Protocol>(protocol)};
  std::lock_guard lock(mu_);
  for (auto scope : {service::Scope::Internal, service::Scope::External}) {
    auto id = programmed_ids_.find(frontend_key(l4, scope));
    if (id == programmed_ids_.end()) continue;
    auto fe = programmed_.find(id->second);
    if (fe != programmed_.end()) return fe->second.service;
  }
  return std::nullopt;
}

std::optional<nlohmann::json> ServiceSubsystem::get(uint16_t id) const {
  std::lock_guard lock(mu_);
  if (!programmed_.count(id)) return std::nullopt;
  return entry_json_locked(id);
}

bool ServiceSubsystem::put(const nlohmann::json& spec, uint16_t id) {
  ApiService s = parse_service_spec(spec, id);
  std::lock_guard lock(mu_);
  auto fes = api_frontends(s, opts_.node.external_cluster_ip);
  auto primary = frontend_key(fes.front().addr, fes.front().scope);
  auto old = api_.find(id);
  for (const auto& f : fes) {
    auto other = reconciler_.service_id(frontend_key(f.addr, f.scope));
    if (!other) continue;
    auto p = programmed_.find(*other);
    if (p != programmed_.end() && p->second.service != s.key())
      throw std::invalid_argument("frontend-address: " + f.addr.str() + " is already used by service " +
                                  p->second.service + " (id " + std::to_string(*other) + ")");
  }
  if (auto owner = reconciler_.id_owner(id); owner && *owner != primary) {
    auto p = programmed_.find(id);
    bool ours = p != programmed_.end() && p->second.service == s.key();
    if (!ours)
      throw std::invalid_argument("id: " + std::to_string(id) + " is used by frontend " + owner->str() +
                                  (p != programmed_.end() ? " of service " + p->second.service : ""));
    reconciler_.release(*owner);  // this API service moves to another frontend
  }
  bool created = old == api_.end();
  api_[id] = s;
  changed_.insert(s.key());
  reconcile_locked();
  save_api_locked(id);
  return created;
}

bool ServiceSubsystem::remove(uint16_t id) {
  std::lock_guard lock(mu_);
  if (!api_.count(id)) {
    auto p = programmed_.find(id);
    if (p == programmed_.end()) return false;
    throw std::invalid_argument("service " + std::to_string(id) + " comes from " +
                                (is_api_key(p->second.service) ? "API service " : "the Kubernetes Service ") +
                                p->second.service + "; delete that instead");
  }
  changed_.insert(api_.at(id).key());
  api_.erase(id);
  reconcile_locked();
  save_api_locked(id);
  return true;
}

nlohmann::json ServiceSubsystem::status() const {
  std::lock_guard lock(mu_);
  nlohmann::json c = nlohmann::json::object();
  for (const auto& [svc, msgs] : conflicts_) {
    auto& l = c[svc] = nlohmann::json::array();
    for (const auto& [_, m] : msgs) l.push_back(m);
  }
  return {{"frontends", programmed_.size()},
          {"backends", reconciler_.backend_count()},
          {"api-services", api_.size()},
          {"conflicts", c}};
}

}  // namespace cpp::agent
