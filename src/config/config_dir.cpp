#include "config/config_dir.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "common/files.h"
#include "config/key_rules.h"

namespace cpp::config {
namespace fs = std::filesystem;

namespace {
std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}
}  // namespace

void validate_key(const std::string& key, const std::string& value, ConfigDir& into) {
  auto rule = find_rule(key);
  if (!rule) {
    into.unknown_keys.push_back(key);
    into.values[key] = value;
    return;
  }
  if (auto err = check_value(*rule, value))
    throw std::invalid_argument("invalid value for config key '" + key + "': \"" + value + "\": " + *err);
  into.values[key] = value;
}

ConfigDir read_config_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::invalid_argument("config dir " + dir + " is not a directory");
  ConfigDir out;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (!fs::is_regular_file(entry.path(), ec)) continue;  // follows symlinks
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto content = read_file(f.string());
    if (!content) throw std::invalid_argument("cannot read config file " + f.string());
    validate_key(f.filename().string(), trim(*content), out);
  }
  return out;
}

}  // namespace cpp::config
