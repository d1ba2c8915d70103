#include "k8s/client/api_paths.h"

#include <algorithm>
#include <stdexcept>

namespace cpp::k8s {

ApiResource resource_for(const std::string& kind, const std::optional<std::string>& version) {
  const store::KindInfo* info = store::find_kind(kind);
  if (!info) throw std::invalid_argument("kubernetes: unknown kind \"" + kind + "\"");
  ApiResource r;
  r.kind = info->kind;
  r.group = info->group();
  r.plural = info->plural;
  r.namespaced = info->namespaced;
  std::string av = info->api_versions.front();
  auto slash = av.find('/');
  r.version = version ? *version : (slash == std::string::npos ? av : av.substr(slash + 1));
  return r;
}

std::optional<std::string> pick_version(const store::KindInfo& kind, const std::vector<std::string>& served,
                                        const std::string& preferred) {
  auto version_of = [](const std::string& av) {
    auto slash = av.find('/');
    return slash == std::string::npos ? av : av.substr(slash + 1);
  };
  std::vector<std::string> ours;
  for (const auto& av : kind.api_versions) ours.push_back(version_of(av));
  if (std::find(ours.begin(), ours.end(), preferred) != ours.end() &&
      std::find(served.begin(), served.end(), preferred) != served.end())
    return preferred;
  for (const auto& v : ours)
    if (std::find(served.begin(), served.end(), v) != served.end()) return v;
  return std::nullopt;
}

std::string collection_path(const ApiResource& r, const std::string& ns) {
  std::string p = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) p += "/namespaces/" + url_encode(ns);
  return p + "/" + r.plural;
}

std::string object_path(const ApiResource& r, const std::string& ns, const std::string& name) {
  return collection_path(r, r.namespaced ? (ns.empty() ? "default" : ns) : "") + "/" + url_encode(name);
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string query(const std::map<std::string, std::string>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    q += (q.empty() ? "?" : "&") + url_encode(k) + "=" + url_encode(v);
  }
  return q;
}

}  // namespace cpp::k8s
