#include "service/json_read.h"

#include <stdexcept>

namespace cpp::service::json_read {

void fail(const std::string& path, const std::string& what) { throw std::invalid_argument(path + ": " + what); }

std::string type_name(const nlohmann::json& j) {
  if (j.is_string()) return "string";
  if (j.is_number()) return "number";
  if (j.is_boolean()) return "boolean";
  if (j.is_array()) return "list";
  if (j.is_object()) return "mapping";
  return "null";
}

void expect_object(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "expected a mapping, got " + type_name(j));
}

void expect_array(const nlohmann::json& j, const std::string& path) {
  if (!j.is_array()) fail(path, "expected a list, got " + type_name(j));
}

const nlohmann::json* member(const nlohmann::json& obj, const char* name, const std::string& path) {
  expect_object(obj, path.empty() ? "object" : path);
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

static std::string child(const std::string& path, const char* name) {
  return path.empty() ? name : path + "." + name;
}

std::string get_string(const nlohmann::json& j, const std::string& path) {
  if (!j.is_string()) fail(path, "expected a string, got " + type_name(j));
  return j.get<std::string>();
}

std::optional<std::string> opt_string(const nlohmann::json& obj, const char* name, const std::string& path) {
  auto* m = member(obj, name, path);
  if (!m) return std::nullopt;
  return get_string(*m, child(path, name));
}

std::optional<bool> opt_bool(const nlohmann::json& obj, const char* name, const std::string& path) {
  auto* m = member(obj, name, path);
  if (!m) return std::nullopt;
  if (!m->is_boolean()) fail(child(path, name), "expected a boolean, got " + type_name(*m));
  return m->get<bool>();
}

std::optional<int64_t> opt_int(const nlohmann::json& obj, const char* name, const std::string& path) {
  auto* m = member(obj, name, path);
  if (!m) return std::nullopt;
  if (!m->is_number_integer()) fail(child(path, name), "expected an integer, got " + type_name(*m));
  return m->get<int64_t>();
}

std::map<std::string, std::string> string_map(const nlohmann::json& obj, const char* name, const std::string& path) {
  std::map<std::string, std::string> out;
  auto* m = member(obj, name, path);
  if (!m) return out;
  std::string p = child(path, name);
  expect_object(*m, p);
  for (auto& [k, v] : m->items()) out[k] = get_string(v, p + "." + k);
  return out;
}

IpAddr get_ip(const nlohmann::json& j, const std::string& path) {
  std::string s = get_string(j, path);
  auto a = IpAddr::parse(s);
  if (!a) fail(path, "invalid IP address \"" + s + "\"");
  return *a;
}

uint16_t port_number(int64_t v, const std::string& path) {
  if (v < 1 || v > 65535) fail(path, "must be 1..65535, got " + std::to_string(v));
  return static_cast<uint16_t>(v);
}

}  // namespace cpp::service::json_read
