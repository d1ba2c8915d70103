#pragma once
// The body of a watch: one JSON object per line, {"type": ADDED|MODIFIED|
// DELETED|BOOKMARK|ERROR, "object": ...}, arriving in arbitrary chunks. Pure.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpp::k8s {

struct WatchEvent {
  std::string type;
  nlohmann::json object;
};

class WatchDecoder {
 public:
  // Appends a chunk; returns the events it completed. Throws
  // std::invalid_argument for a line that is not a watch event.
  std::vector<WatchEvent> feed(const char* data, size_t len);

 private:
  std::string pending_;
};

// For an ERROR event: the Status code (410 when the resourceVersion is too old).
int error_code(const WatchEvent& e);

}  // namespace cpp::k8s
