#include "operator/lbipam_conditions.h"

#include <ctime>

namespace cpp::op {

using json = nlohmann::json;

const json* find_condition(const json& conditions, const std::string& type) {
  if (!conditions.is_array()) return nullptr;
  for (const auto& c : conditions)
    if (c.is_object() && c.value("type", "") == type) return &c;
  return nullptr;
}

json without_condition(const json& conditions, const std::string& type) {
  json out = json::array();
  if (!conditions.is_array()) return out;
  for (const auto& c : conditions)
    if (!c.is_object() || c.value("type", "") != type) out.push_back(c);
  return out;
}

json with_condition(const json& conditions, const Condition& c, int64_t observed_generation, const std::string& now) {
  const json* old = find_condition(conditions, c.type);
  json entry = {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}};
  if (observed_generation >= 0) entry["observedGeneration"] = observed_generation;
  bool same_status = old && old->value("status", "") == c.status && old->contains("lastTransitionTime");
  entry["lastTransitionTime"] = same_status ? (*old)["lastTransitionTime"] : json(now);
  json out = json::array();
  bool placed = false;
  if (conditions.is_array())
    for (const auto& e : conditions) {
      if (e.is_object() && e.value("type", "") == c.type) {
        if (!placed) out.push_back(entry);  // keeps the entry's position; drops duplicates of the type
        placed = true;
      } else {
        out.push_back(e);
      }
    }
  if (!placed) out.push_back(entry);
  return out;
}

std::string rfc3339_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace cpp::op
