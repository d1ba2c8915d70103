#pragma once
// What a reflector knows of one kind: the objects of its last complete list
// plus the watch events since. A relist replaces the contents and says what
// changed, so objects deleted while the watch was down are reported as
// deleted; nothing else ever removes an object (an error is not an empty
// list). Pure.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace cpp::k8s {

struct CacheEvent {
  store::EventType type;
  nlohmann::json object;
};

class ObjectCache {
 public:
  // The complete list: Added for new objects, Modified for changed ones
  // (resourceVersion differs), Deleted (with the last object seen) for those
  // it lacks. Sorted by namespace/name.
  std::vector<CacheEvent> replace(const std::vector<nlohmann::json>& items);
  // One watch event of type ADDED, MODIFIED or DELETED; nullopt when it changes
  // nothing the cache did not already know (a replay of a known version).
  std::optional<CacheEvent> apply(const std::string& type, const nlohmann::json& object);
  std::vector<nlohmann::json> objects() const;  // by namespace/name
  size_t size() const { return objects_.size(); }

 private:
  std::map<std::string, nlohmann::json> objects_;  // "ns/name"
};

}  // namespace cpp::k8s
