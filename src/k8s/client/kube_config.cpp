#include "k8s/client/kube_config.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "common/base64.h"
#include "common/files.h"
#include "store/yaml.h"

namespace cpp::k8s {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& file, const std::string& field, const std::string& why) {
  throw std::invalid_argument(file + ": " + field + ": " + why);
}

std::string read_or_throw(const std::string& file, const std::string& field, const std::string& path) {
  auto text = cpp::read_file(path);
  if (!text) bad(file, field, "cannot read " + path);
  return *text;
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  return p.empty() || p.front() == '/' ? p : (std::filesystem::path(base_dir) / p).string();
}

// The entry of a named list (clusters, users, contexts) with this name.
const json& named(const json& doc, const std::string& file, const char* list, const std::string& name,
                  const char* inner) {
  if (doc.contains(list) && doc[list].is_array())
    for (size_t i = 0; i < doc[list].size(); ++i) {
      const auto& e = doc[list][i];
      if (e.is_object() && e.value("name", "") == name) {
        if (!e.contains(inner) || !e[inner].is_object())
          bad(file, std::string(list) + "[" + std::to_string(i) + "]." + inner, "missing");
        return e[inner];
      }
    }
  bad(file, list, "no entry named \"" + name + "\"");
}

// PEM from "<field>-data" (base64) or "<field>" (a file).
std::string pem(const json& section, const std::string& file, const std::string& where, const std::string& field,
                const std::string& base_dir) {
  if (section.contains(field + "-data") && section[field + "-data"].is_string()) {
    auto d = cpp::base64_decode(section[field + "-data"].get<std::string>());
    if (!d) bad(file, where + "." + field + "-data", "not base64");
    return *d;
  }
  if (section.contains(field) && section[field].is_string())
    return read_or_throw(file, where + "." + field, resolve(base_dir, section[field].get<std::string>()));
  return "";
}

}  // namespace

KubeConfig load_kubeconfig(const std::string& path, const std::string& context) {
  auto text = cpp::read_file(path);
  if (!text) throw std::invalid_argument("kubeconfig " + path + ": cannot read");
  json doc;
  try {
    auto docs = store::parse_yaml_documents(*text);
    if (docs.empty() || !docs[0].is_object()) bad(path, "(root)", "not a mapping");
    doc = docs[0];
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("kubeconfig " + path + ": " + e.what());
  }
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  std::string ctx_name = context.empty() ? doc.value("current-context", "") : context;
  if (ctx_name.empty()) bad(path, "current-context", "not set and no context given");
  const json& ctx = named(doc, path, "contexts", ctx_name, "context");
  KubeConfig c;
  const std::string cluster_name = ctx.value("cluster", "");
  const json& cluster = named(doc, path, "clusters", cluster_name, "cluster");
  c.server = cluster.value("server", "");
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    bad(path, "clusters[" + cluster_name + "].cluster.server", "\"" + c.server + "\" is not an http(s) URL");
  while (c.server.size() > 8 && c.server.back() == '/') c.server.pop_back();
  c.insecure_skip_tls_verify = cluster.value("insecure-skip-tls-verify", false);
  c.ca_pem = pem(cluster, path, "clusters[" + cluster_name + "].cluster", "certificate-authority", base_dir);
  if (ctx.contains("namespace") && ctx["namespace"].is_string()) c.ns = ctx["namespace"].get<std::string>();
  if (std::string user_name = ctx.value("user", ""); !user_name.empty()) {
    const json& user = named(doc, path, "users", user_name, "user");
    const std::string where = "users[" + user_name + "].user";
    c.token = user.value("token", "");
    if (user.contains("tokenFile") && user["tokenFile"].is_string()) {
      c.token_file = resolve(base_dir, user["tokenFile"].get<std::string>());
      if (c.token.empty()) c.token = read_or_throw(path, where + ".tokenFile", c.token_file);
    }
    c.client_cert_pem = pem(user, path, where, "client-certificate", base_dir);
    c.client_key_pem = pem(user, path, where, "client-key", base_dir);
    if (c.client_cert_pem.empty() != c.client_key_pem.empty())
      bad(path, where, "client-certificate and client-key go together");
  }
  while (!c.token.empty() && (c.token.back() == '\n' || c.token.back() == '\r')) c.token.pop_back();
  return c;
}

std::optional<KubeConfig> load_in_cluster(const std::string& root) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host) return std::nullopt;
  if (!port || !*port) throw std::invalid_argument("in-cluster config: KUBERNETES_SERVICE_PORT is not set");
  KubeConfig c;
  std::string h = host;
  c.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  c.token_file = root + "/token";
  auto token = cpp::read_file(c.token_file);
  if (!token) throw std::invalid_argument("in-cluster config: cannot read " + c.token_file);
  c.token = *token;
  while (!c.token.empty() && (c.token.back() == '\n' || c.token.back() == '\r')) c.token.pop_back();
  auto ca = cpp::read_file(root + "/ca.crt");
  if (!ca) throw std::invalid_argument("in-cluster config: cannot read " + root + "/ca.crt");
  c.ca_pem = *ca;
  if (auto ns = cpp::read_file(root + "/namespace")) c.ns = *ns;
  while (!c.ns.empty() && (c.ns.back() == '\n' || c.ns.back() == '\r')) c.ns.pop_back();
  return c;
}

}  // namespace cpp::k8s
