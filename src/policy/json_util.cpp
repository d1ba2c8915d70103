#include "policy/json_util.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace cpp::policy {

std::string type_name(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "number";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::array: return "list";
    case nlohmann::json::value_t::object: return "mapping";
    case nlohmann::json::value_t::null: return "null";
    default: return "value";
  }
}

void expect_object(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) throw PolicyError(path, "must be a mapping (got " + type_name(j) + ")");
}

void expect_array(const nlohmann::json& j, const std::string& path) {
  if (!j.is_array()) throw PolicyError(path, "must be a list (got " + type_name(j) + ")");
}

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      char x = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i - 1])));
      char y = static_cast<char>(std::tolower(static_cast<unsigned char>(b[j - 1])));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x == y ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

void check_fields(const nlohmann::json& obj, const std::string& path, std::initializer_list<const char*> allowed) {
  for (const auto& [k, v] : obj.items()) {
    bool ok = false;
    for (const char* a : allowed)
      if (k == a) ok = true;
    if (ok) continue;
    std::string best;
    size_t best_d = 3;
    for (const char* a : allowed) {
      size_t d = edit_distance(k, a);
      std::string sa(a);
      if (k.size() >= 3 && sa.size() > k.size() && sa.compare(0, k.size(), k) == 0) d = std::min<size_t>(d, 1);
      if (d < best_d) {
        best_d = d;
        best = a;
      }
    }
    std::string p = path.empty() ? k : path + "." + k;
    throw PolicyError(p, best.empty() ? "unknown field" : "unknown field (did you mean \"" + best + "\"?)");
  }
}

const nlohmann::json* field(const nlohmann::json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string required_string(const nlohmann::json& obj, const char* name, const std::string& path) {
  const auto* f = field(obj, name);
  std::string p = path.empty() ? name : path + "." + name;
  if (!f) throw PolicyError(p, "required");
  if (!f->is_string()) throw PolicyError(p, "must be a string (got " + type_name(*f) + ")");
  return f->get<std::string>();
}

std::string optional_string(const nlohmann::json& obj, const char* name, const std::string& path) {
  const auto* f = field(obj, name);
  if (!f) return "";
  if (!f->is_string())
    throw PolicyError(path.empty() ? name : path + "." + name, "must be a string (got " + type_name(*f) + ")");
  return f->get<std::string>();
}

}  // namespace cpp::policy
