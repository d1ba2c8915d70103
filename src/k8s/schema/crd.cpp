#include "k8s/schema/crd.h"

#include "k8s/schema/validate.h"
#include "store/yaml.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cpp::k8s::schema {

namespace {

[[noreturn]] void bad(const std::string& origin, const std::string& path, const std::string& why) {
  throw std::invalid_argument(origin + ": " + path + ": " + why);
}

std::string need_string(const json& obj, const char* key, const std::string& origin, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get<std::string>().empty())
    bad(origin, path + "." + key, "required, a non-empty string");
  return it->get<std::string>();
}

std::vector<std::string> string_list(const json& obj, const char* key, const std::string& origin,
                                     const std::string& path) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (!it->is_array()) bad(origin, path + "." + key, "must be a list of strings");
  for (const auto& s : *it) {
    if (!s.is_string()) bad(origin, path + "." + key, "must be a list of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::pair<std::string, std::string> split_api_version(std::string_view av) {
  auto slash = av.find('/');
  if (slash == std::string_view::npos) return {"", std::string(av)};
  return {std::string(av.substr(0, slash)), std::string(av.substr(slash + 1))};
}

CrdVersion parse_version(const json& v, const std::string& origin, const std::string& path, const std::string& crd) {
  if (!v.is_object()) bad(origin, path, "must be a mapping");
  CrdVersion out;
  out.name = need_string(v, "name", origin, path);
  for (auto [key, field] : {std::pair{"served", &out.served}, std::pair{"storage", &out.storage}}) {
    auto it = v.find(key);
    if (it == v.end() || !it->is_boolean()) bad(origin, path + "." + key, "required, a boolean");
    *field = it->get<bool>();
  }
  if (auto sr = v.find("subresources"); sr != v.end()) {
    if (!sr->is_object()) bad(origin, path + ".subresources", "must be a mapping");
    out.status_subresource = sr->contains("status");
  }
  auto schema = v.find("schema");
  if (schema == v.end() || !schema->is_object() || !schema->contains("openAPIV3Schema"))
    bad(origin, path + ".schema.openAPIV3Schema", "required");
  out.schema = parse_schema((*schema)["openAPIV3Schema"], crd + " " + out.name + " openAPIV3Schema");
  if (out.schema.type != "object") bad(origin, path + ".schema.openAPIV3Schema.type", "must be object");
  return out;
}

}  // namespace

const CrdVersion* Crd::served_version(std::string_view version) const {
  for (const auto& v : versions)
    if (v.name == version && v.served) return &v;
  return nullptr;
}

const CrdVersion& Crd::storage_version() const {
  return *std::find_if(versions.begin(), versions.end(), [](const CrdVersion& v) { return v.storage; });
}

CrdSchemas CrdSchemas::load_dir(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) throw std::invalid_argument(dir.string() + ": not a directory");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  CrdSchemas out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) throw std::invalid_argument(f.string() + ": cannot read file");
    std::vector<store::YamlDocument> docs;
    try {
      docs = store::parse_yaml_stream(ss.str());
    } catch (const std::exception& e) {
      throw std::invalid_argument(f.string() + ": " + e.what());
    }
    for (const auto& d : docs) out.add(d.value, f.string() + ": document " + std::to_string(d.index));
  }
  return out;
}

void CrdSchemas::add(const json& obj, const std::string& origin) {
  if (!obj.is_object()) bad(origin, "(root)", "must be a mapping");
  if (obj.value("apiVersion", "") != "apiextensions.k8s.io/v1")
    bad(origin, "apiVersion", "must be apiextensions.k8s.io/v1");
  if (obj.value("kind", "") != "CustomResourceDefinition") bad(origin, "kind", "must be CustomResourceDefinition");
  Crd crd;
  crd.origin = origin;
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) bad(origin, "metadata", "required");
  crd.name = need_string(obj["metadata"], "name", origin, "metadata");
  if (!obj.contains("spec") || !obj["spec"].is_object()) bad(origin, "spec", "required");
  const json& spec = obj["spec"];
  crd.group = need_string(spec, "group", origin, "spec");
  if (!spec.contains("names") || !spec["names"].is_object()) bad(origin, "spec.names", "required");
  const json& names = spec["names"];
  crd.kind = need_string(names, "kind", origin, "spec.names");
  crd.plural = need_string(names, "plural", origin, "spec.names");
  crd.list_kind = names.contains("listKind") ? need_string(names, "listKind", origin, "spec.names") : crd.kind + "List";
  crd.singular = names.contains("singular") ? need_string(names, "singular", origin, "spec.names") : "";
  crd.short_names = string_list(names, "shortNames", origin, "spec.names");
  crd.categories = string_list(names, "categories", origin, "spec.names");
  if (crd.name != crd.plural + "." + crd.group)
    bad(origin, "metadata.name",
        "must be spec.names.plural + \".\" + spec.group (" + crd.plural + "." + crd.group + ")");
  std::string scope = need_string(spec, "scope", origin, "spec");
  if (scope != "Namespaced" && scope != "Cluster") bad(origin, "spec.scope", "must be Namespaced or Cluster");
  crd.namespaced = scope == "Namespaced";
  if (!spec.contains("versions") || !spec["versions"].is_array() || spec["versions"].empty())
    bad(origin, "spec.versions", "required, a non-empty list");
  for (size_t i = 0; i < spec["versions"].size(); ++i)
    crd.versions.push_back(
        parse_version(spec["versions"][i], origin, "spec.versions[" + std::to_string(i) + "]", crd.name));
  if (std::count_if(crd.versions.begin(), crd.versions.end(), [](const CrdVersion& v) { return v.storage; }) != 1)
    bad(origin, "spec.versions", "exactly one version must be the storage version");
  for (const auto& c : crds_)
    if (c.group == crd.group && (c.kind == crd.kind || c.plural == crd.plural))
      bad(origin, "spec.names", "group " + crd.group + " kind " + crd.kind + " is already defined by " + c.origin);
  crds_.push_back(std::move(crd));
}

const Crd* CrdSchemas::find_kind(std::string_view api_version, std::string_view kind) const {
  auto [group, version] = split_api_version(api_version);
  for (const auto& c : crds_)
    if (c.group == group && c.kind == kind && c.served_version(version)) return &c;
  return nullptr;
}

const Crd* CrdSchemas::find_plural(std::string_view group, std::string_view plural) const {
  for (const auto& c : crds_)
    if (c.group == group && c.plural == plural) return &c;
  return nullptr;
}

const CrdVersion* CrdSchemas::version_for(const json& obj, std::string* error) const {
  if (!obj.is_object()) {
    *error = "<root>: Invalid value: \"" + std::string(obj.type_name()) + "\": must be an object";
    return nullptr;
  }
  auto av = obj.find("apiVersion");
  auto kd = obj.find("kind");
  if (av == obj.end() || !av->is_string() || kd == obj.end() || !kd->is_string()) {
    *error = std::string(av == obj.end() || !av->is_string() ? "apiVersion" : "kind") + ": Required value";
    return nullptr;
  }
  const Crd* crd = find_kind(av->get<std::string>(), kd->get<std::string>());
  if (!crd) {
    *error = "no CustomResourceDefinition serves kind \"" + kd->get<std::string>() + "\" in version \"" +
             av->get<std::string>() + "\"";
    return nullptr;
  }
  return crd->served_version(split_api_version(av->get<std::string>()).second);
}

std::vector<std::string> CrdSchemas::validate(const json& obj) const {
  std::string error;
  const CrdVersion* v = version_for(obj, &error);
  if (!v) return {error};
  auto errors = validate_value(v->schema, obj);
  // ObjectMeta is checked by the API server, not by the CRD's schema; the
  // name (or generateName) is the one part every object needs.
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object() || (!md->contains("name") && !md->contains("generateName")))
    errors.push_back("metadata.name: Required value: name or generateName is required");
  json copy = obj;
  auto unknown = unknown_fields(v->schema, copy, false);
  errors.insert(errors.end(), unknown.begin(), unknown.end());
  return errors;
}

std::vector<std::string> CrdSchemas::admit(json& obj, bool strict) const {
  std::string error;
  const CrdVersion* v = version_for(obj, &error);
  if (!v) return {error};
  if (!strict) unknown_fields(v->schema, obj, true);
  apply_defaults(v->schema, obj);
  return validate(obj);  // strict: the unknown fields are among the errors
}

std::vector<std::string> CrdSchemas::prune(json& obj) const {
  std::string error;
  const CrdVersion* v = version_for(obj, &error);
  if (!v) return {};
  return unknown_fields(v->schema, obj, true);
}

}  // namespace cpp::k8s::schema
