#include "k8s/client/kube_store.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "store/resource_meta.h"

namespace cpp::k8s {
namespace {

using nlohmann::json;
using store::PutOutcome;
using store::PutResult;

constexpr int kMaxAttempts = 100;

// After a Conflict: a short random pause, so writers that collided do not
// collide again in lock step.
void conflict_pause() {
  thread_local std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(1, 20)(rng)));
}

std::string ns_of(const json& o) { return o["metadata"].value("namespace", ""); }
std::string name_of(const json& o) { return o["metadata"].value("name", ""); }

bool same(const json& a, const json& b) { return store::without_server_fields(a) == store::without_server_fields(b); }

// want's value is already in have: maps key by key (have may hold more: what
// the server defaulted), lists element by element at equal length.
bool covered(const json& want, const json& have) {
  if (want.is_object()) {
    if (!have.is_object()) return false;
    for (const auto& [k, v] : want.items())
      if (!have.contains(k) || !covered(v, have[k])) return false;
    return true;
  }
  if (want.is_array()) {
    if (!have.is_array() || have.size() != want.size()) return false;
    for (size_t i = 0; i < want.size(); ++i)
      if (!covered(want[i], have[i])) return false;
    return true;
  }
  return want == have;
}

// put()'s "unchanged": the server fills in defaults (a Service's
// sessionAffinity, a Pod's status) that callers building an object from
// scratch do not write, so a plain comparison would rewrite it on every put
// and wake every watcher each time. Labels and annotations must match
// exactly; every other part the caller wrote must already be there.
bool put_unchanged(const json& want, const json& have) {
  const json empty = json::object();
  for (const char* f : {"labels", "annotations"})
    if (want["metadata"].value(f, empty) != have["metadata"].value(f, empty)) return false;
  for (const auto& [k, v] : want.items()) {
    if (k == "metadata" || k == "apiVersion" || k == "kind") continue;
    if (!have.contains(k) || !covered(v, have[k])) return false;
  }
  return true;
}

class ReflectorWatch : public store::WatchHandle {
 public:
  explicit ReflectorWatch(std::unique_ptr<Reflector> r) : r_(std::move(r)) {}
  ~ReflectorWatch() override { stop(); }
  void stop() override { r_->stop(); }

 private:
  std::unique_ptr<Reflector> r_;
};

}  // namespace

KubeStore::KubeStore(std::shared_ptr<KubeClient> client, Reflector::Options reflector_opts)
    : client_(std::move(client)), reflector_opts_(reflector_opts) {}

std::optional<json> KubeStore::get(const std::string& kind, const std::string& ns, const std::string& name) {
  const auto& info = store::kind_or_throw(kind);
  if (!store::safe_component(name) || (info.namespaced && !ns.empty() && !store::safe_component(ns)))
    return std::nullopt;
  ApiResource r = client_->resource(kind);
  try {
    json o = client_->call("GET", object_path(r, ns, name));
    o["kind"] = r.kind;
    return o;
  } catch (const ApiError& e) {
    if (e.code() == 404) return std::nullopt;
    throw;
  }
}

std::vector<json> KubeStore::list(const std::string& kind, const std::string& ns) {
  store::kind_or_throw(kind);
  ApiResource r = client_->resource(kind);
  std::vector<json> out;
  std::string cont;
  do {
    json page = client_->call("GET", collection_path(r, ns) + query({{"limit", "500"}, {"continue", cont}}));
    for (auto& o : page.value("items", json::array())) {
      o["kind"] = r.kind;
      o["apiVersion"] = r.api_version();
      out.push_back(std::move(o));
    }
    cont = page.value("metadata", json::object()).value("continue", "");
  } while (!cont.empty());
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return std::pair(ns_of(a), name_of(a)) < std::pair(ns_of(b), name_of(b));
  });
  return out;
}

bool KubeStore::remove(const std::string& kind, const std::string& ns, const std::string& name) {
  const auto& info = store::kind_or_throw(kind);
  if (!store::safe_component(name) || (info.namespaced && !ns.empty() && !store::safe_component(ns))) return false;
  ApiResource r = client_->resource(kind);
  try {
    client_->call("DELETE", object_path(r, ns, name));
    return true;
  } catch (const ApiError& e) {
    if (e.code() == 404) return false;
    throw;
  }
}

bool KubeStore::remove_version(const std::string& kind, const std::string& ns, const std::string& name,
                               const std::string& resource_version) {
  const auto& info = store::kind_or_throw(kind);
  if (!store::safe_component(name) || (info.namespaced && !ns.empty() && !store::safe_component(ns))) return false;
  ApiResource r = client_->resource(kind);
  json opts = {{"kind", "DeleteOptions"},
               {"apiVersion", "v1"},
               {"preconditions", {{"resourceVersion", resource_version}}}};
  try {
    client_->call("DELETE", object_path(r, ns, name), &opts);
    return true;
  } catch (const ApiError& e) {
    if (e.code() == 404 || e.code() == 409) return false;
    throw;
  }
}

std::optional<PutResult> KubeStore::write(const json& wanted, const std::optional<json>& existing) {
  ApiResource r = client_->resource(wanted["kind"]);
  const std::string ns = ns_of(wanted), name = name_of(wanted);
  json body = wanted;
  body["metadata"].erase("resourceVersion");
  json stored;
  try {
    if (existing) {
      body["metadata"]["resourceVersion"] = (*existing)["metadata"].value("resourceVersion", "");
      stored = client_->call("PUT", object_path(r, ns, name), &body);
    } else {
      stored = client_->call("POST", collection_path(r, ns), &body);
    }
    // Where status is a subresource the main write ignored it.
    if (wanted.contains("status") && stored.value("status", json()) != wanted["status"]) {
      json status_body = stored;
      status_body["status"] = wanted["status"];
      try {
        stored = client_->call("PUT", object_path(r, ns, name) + "/status", &status_body);
      } catch (const ApiError& e) {
        if (e.code() != 404 && e.code() != 405) throw;  // no status subresource: the main write was all
      }
    }
  } catch (const ApiError& e) {
    if (e.code() == 409) return std::nullopt;
    if (e.code() == 422 || e.code() == 400)
      throw std::invalid_argument(store::display_name(wanted) + ": " + e.what());
    throw;
  }
  stored["kind"] = r.kind;
  return PutResult{stored, existing ? PutOutcome::Updated : PutOutcome::Created};
}

PutResult KubeStore::put(json obj) {
  obj = store::normalize_resource(std::move(obj));
  ApiResource r = client_->resource(obj["kind"]);
  obj["apiVersion"] = r.api_version();
  const std::string ns = ns_of(obj), name = name_of(obj);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto existing = get(r.kind, ns, name);
    if (existing && put_unchanged(obj, *existing)) return {*existing, PutOutcome::Unchanged};
    if (auto res = write(obj, existing)) return *res;
    conflict_pause();
  }
  throw std::runtime_error("kubernetes: put " + store::display_name(obj) + ": gave up after " +
                           std::to_string(kMaxAttempts) + " conflicts with other writers");
}

bool KubeStore::create(json obj) {
  obj = store::normalize_resource(std::move(obj));
  obj["apiVersion"] = client_->resource(obj["kind"]).api_version();
  return write(obj, std::nullopt).has_value();  // nullopt: 409 AlreadyExists
}

std::optional<PutResult> KubeStore::update(const std::string& kind, const std::string& ns, const std::string& name,
                                           const store::Mutator& mutate) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto existing = get(kind, ns, name);
    if (!existing) return std::nullopt;
    json obj = *existing;
    if (!mutate(obj)) return PutResult{*existing, PutOutcome::Unchanged};
    obj = store::normalize_resource(std::move(obj));
    if (store::key_of(obj).str() != store::key_of(*existing).str())
      throw std::invalid_argument("update " + store::key_of(*existing).str() +
                                  ": the mutation changed the object's identity");
    if (same(*existing, obj)) return PutResult{*existing, PutOutcome::Unchanged};
    if (auto res = write(obj, existing)) return *res;
    conflict_pause();
  }
  throw std::runtime_error("kubernetes: update " + kind + " " + name + ": gave up after " +
                           std::to_string(kMaxAttempts) + " conflicts with other writers");
}

std::optional<json> KubeStore::merge_patch(const std::string& kind, const std::string& ns, const std::string& name,
                                           const json& patch, bool status) {
  const auto& info = store::kind_or_throw(kind);
  if (!store::safe_component(name) || (info.namespaced && !ns.empty() && !store::safe_component(ns)))
    return std::nullopt;
  ApiResource r = client_->resource(kind);
  try {
    json o = client_->call("PATCH", object_path(r, ns, name) + (status ? "/status" : ""), &patch,
                           "application/merge-patch+json");
    o["kind"] = r.kind;
    return o;
  } catch (const ApiError& e) {
    if (e.code() == 404) return std::nullopt;
    if (e.code() == 422 || e.code() == 400) throw std::invalid_argument(kind + " " + name + ": " + e.what());
    throw;
  }
}

std::unique_ptr<store::WatchHandle> KubeStore::watch(const std::string& kind, store::WatchCallback cb,
                                                     store::WatchOptions opts) {
  store::kind_or_throw(kind);
  auto r = std::make_unique<Reflector>(
      *client_, kind, opts.ns, [cb](const CacheEvent& e) { cb(e.type, e.object); }, reflector_opts_);
  r->list_now(opts.replay_existing);
  r->start();
  return std::make_unique<ReflectorWatch>(std::move(r));
}

}  // namespace cpp::k8s
