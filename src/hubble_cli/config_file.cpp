#include "hubble_cli/config_file.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

namespace cpp::hubble_cli {

std::string default_config_path() {
  if (const char* xdg = getenv("XDG_CONFIG_HOME"); xdg && *xdg) return std::string(xdg) + "/hubble/config.yaml";
  if (const char* home = getenv("HOME"); home && *home) return std::string(home) + "/.config/hubble/config.yaml";
  return "";
}

std::map<std::string, std::vector<std::string>> parse_config(const std::string& yaml, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("config file " + path + ": " + e.what());
  }
  std::map<std::string, std::vector<std::string>> out;
  if (root.IsNull()) return out;
  if (!root.IsMap()) throw std::runtime_error("config file " + path + ": expected a mapping of option: value");
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    auto& values = out[key];
    if (kv.second.IsSequence()) {
      for (const auto& v : kv.second)
        if (v.IsScalar()) values.push_back(v.as<std::string>());
    } else if (kv.second.IsScalar()) {
      values.push_back(kv.second.as<std::string>());
    }
  }
  return out;
}

namespace {

bool as_bool(const std::string& v, const std::string& key, const std::string& path) {
  if (v == "true" || v == "True" || v == "TRUE" || v == "1") return true;
  if (v == "false" || v == "False" || v == "FALSE" || v == "0") return false;
  throw std::runtime_error("config file " + path + ": " + key + ": '" + v + "' is not true or false");
}

}  // namespace

void apply_config(const std::map<std::string, std::vector<std::string>>& values, const std::string& path,
                  const std::function<bool(const std::string&)>& given_elsewhere, GlobalOptions& g) {
  auto take = [&](const std::string& key) -> const std::vector<std::string>* {
    auto it = values.find(key);
    if (it == values.end() || it->second.empty() || given_elsewhere(key)) return nullptr;
    return &it->second;
  };
  if (auto* v = take("server")) g.server = v->front();
  if (auto* v = take("timeout")) g.timeout = v->front();
  if (auto* v = take("tls")) g.tls.tls = as_bool(v->front(), "tls", path);
  if (auto* v = take("tls-allow-insecure")) g.tls.allow_insecure = as_bool(v->front(), "tls-allow-insecure", path);
  if (auto* v = take("tls-ca-cert-files")) g.tls.ca_cert_files = *v;
  if (auto* v = take("tls-client-cert-file")) g.tls.client_cert_file = v->front();
  if (auto* v = take("tls-client-key-file")) g.tls.client_key_file = v->front();
  if (auto* v = take("tls-server-name")) g.tls.server_name = v->front();
}

void load_config_file(GlobalOptions& g) {
  const bool chosen = !g.config.empty();
  const std::string path = chosen ? g.config : default_config_path();
  if (path.empty()) return;
  std::ifstream in(path);
  if (!in) {
    if (!chosen && errno == ENOENT) return;
    throw std::runtime_error("config file " + path + ": " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  apply_config(parse_config(ss.str(), path), path,
               [&](const std::string& key) {
                 auto it = g.given.find(key);
                 return it != g.given.end() && it->second && it->second->count() > 0;
               },
               g);
}

}  // namespace cpp::hubble_cli
