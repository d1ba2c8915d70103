#include "k8s/client/watch_stream.h"

#include <stdexcept>

namespace cpp::k8s {

std::vector<WatchEvent> WatchDecoder::feed(const char* data, size_t len) {
  pending_.append(data, len);
  std::vector<WatchEvent> out;
  size_t start = 0;
  for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(pending_.data() + start, nl - start);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument("watch: not JSON: " + std::string(line.substr(0, 80)));
    }
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("object") ||
        !j["object"].is_object())
      throw std::invalid_argument("watch: not a watch event: " + std::string(line.substr(0, 80)));
    out.push_back({j["type"].get<std::string>(), std::move(j["object"])});
  }
  pending_.erase(0, start);
  if (pending_.size() > (64u << 20)) throw std::invalid_argument("watch: an event of more than 64 MiB");
  return out;
}

int error_code(const WatchEvent& e) {
  const auto& c = e.object.contains("code") ? e.object["code"] : nlohmann::json();
  return c.is_number_integer() ? c.get<int>() : 0;
}

}  // namespace cpp::k8s
