#include "k8s/client/object_cache.h"

#include <stdexcept>

namespace cpp::k8s {
namespace {

std::string key_of(const nlohmann::json& o) {
  const auto& md = o.contains("metadata") ? o["metadata"] : nlohmann::json::object();
  return md.value("namespace", "") + "/" + md.value("name", "");
}

std::string version_of(const nlohmann::json& o) {
  return o.contains("metadata") ? o["metadata"].value("resourceVersion", "") : "";
}

}  // namespace

std::vector<CacheEvent> ObjectCache::replace(const std::vector<nlohmann::json>& items) {
  std::map<std::string, nlohmann::json> next;
  for (const auto& o : items) next[key_of(o)] = o;
  std::vector<CacheEvent> events;
  for (const auto& [k, o] : objects_)
    if (!next.count(k)) events.push_back({store::EventType::Deleted, o});
  for (const auto& [k, o] : next) {
    auto it = objects_.find(k);
    if (it == objects_.end())
      events.push_back({store::EventType::Added, o});
    else if (version_of(it->second) != version_of(o))
      events.push_back({store::EventType::Modified, o});
  }
  objects_ = std::move(next);
  return events;
}

std::optional<CacheEvent> ObjectCache::apply(const std::string& type, const nlohmann::json& object) {
  const std::string k = key_of(object);
  auto it = objects_.find(k);
  if (type == "DELETED") {
    if (it == objects_.end()) return std::nullopt;
    objects_.erase(it);
    return CacheEvent{store::EventType::Deleted, object};
  }
  if (type != "ADDED" && type != "MODIFIED") throw std::invalid_argument("watch: unexpected event type " + type);
  if (it != objects_.end() && version_of(it->second) == version_of(object)) return std::nullopt;
  bool known = it != objects_.end();
  objects_[k] = object;
  return CacheEvent{known ? store::EventType::Modified : store::EventType::Added, object};
}

std::vector<nlohmann::json> ObjectCache::objects() const {
  std::vector<nlohmann::json> out;
  for (const auto& [k, o] : objects_) out.push_back(o);
  return out;
}

}  // namespace cpp::k8s
