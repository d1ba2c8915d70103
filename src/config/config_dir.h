#pragma once
#include <map>
#include <string>
#include <vector>

namespace cpp::config {

struct ConfigDir {
  std::map<std::string, std::string> values;  // validated known keys
  std::vector<std::string> unknown_keys;      // reported once by the caller, never fatal
};

// Reads a mounted-ConfigMap style directory: one file per key, the file's
// content is the value (surrounding whitespace trimmed). Kubernetes' "..data"
// bookkeeping entries are skipped. Throws std::invalid_argument naming the
// first invalid key, its value and what was expected.
ConfigDir read_config_dir(const std::string& dir);

// Validates one key=value pair the same way (used for command-line overrides).
void validate_key(const std::string& key, const std::string& value, ConfigDir& into);

}  // namespace cpp::config
