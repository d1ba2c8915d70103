#include "store/resource_meta.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <stdexcept>

namespace cpp::store {

namespace {

// Random (version 4) UUID, as the API server assigns metadata.uid.
std::string new_uid() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  uint8_t b[16];
  {
    std::lock_guard<std::mutex> g(mu);
    uint64_t a = rng(), c = rng();
    std::memcpy(b, &a, 8);
    std::memcpy(b + 8, &c, 8);
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof(out), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

json without_server_fields(json obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object()) {
    auto& md = obj["metadata"];
    for (const char* f : {"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink"})
      md.erase(f);
  }
  return obj;
}

json with_server_fields(json obj, const std::optional<json>& existing) {
  auto& md = obj["metadata"];
  auto keep = [&](const char* field, auto make) {
    if (existing && (*existing)["metadata"].contains(field))
      md[field] = (*existing)["metadata"][field];
    else if (!md.contains(field) || md[field].is_null() ||
             (md[field].is_string() && md[field].get<std::string>().empty()))
      md[field] = make();
  };
  keep("uid", new_uid);
  keep("creationTimestamp", now_rfc3339);
  int64_t generation = 1;
  if (existing) {
    generation = (*existing)["metadata"].value("generation", int64_t{1});
    if (existing->value("spec", json()) != obj.value("spec", json()) ||
        existing->value("specs", json()) != obj.value("specs", json()))
      ++generation;
  }
  md["generation"] = generation;
  md.erase("resourceVersion");
  return obj;
}

bool safe_component(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos && s.find('\0') == std::string::npos;
}

const KindInfo& kind_or_throw(const std::string& kind) {
  const KindInfo* info = find_kind(kind);
  if (!info) throw std::invalid_argument("unknown kind \"" + kind + "\"");
  return *info;
}

}  // namespace cpp::store
