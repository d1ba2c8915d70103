#pragma once
// CustomResourceDefinitions (apiextensions.k8s.io/v1) loaded from files, and
// custom resources checked against them as kube-apiserver does: the schema
// of the object's version, strict field validation or pruning, defaults.
//
//   auto crds = CrdSchemas::load_dir("install/kubernetes/crds");
//   const Crd* crd = crds.find_plural("cilium.io", "ciliumnodes");  // routing a REST path
//   auto errors = crds.admit(body);  // empty: store `body`, defaults filled in
//   for (const auto& e : crds.validate(obj)) std::cerr << e << "\n";  // check only
#include "k8s/schema/schema.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cpp::k8s::schema {

struct CrdVersion {
  std::string name;  // "v2"
  bool served = false;
  bool storage = false;
  bool status_subresource = false;
  Schema schema;  // openAPIV3Schema
};

struct Crd {
  std::string name;  // "ciliumnodes.cilium.io"
  std::string group;
  std::string kind, list_kind, plural, singular;
  std::vector<std::string> short_names, categories;
  bool namespaced = true;
  std::vector<CrdVersion> versions;
  std::string origin;  // file it came from, for messages

  // nullptr when the CRD has no such version or does not serve it.
  const CrdVersion* served_version(std::string_view version) const;
  const CrdVersion& storage_version() const;
};

class CrdSchemas {
 public:
  // Every *.yaml, *.yml and *.json file in `dir` (not recursive), each
  // holding one or more CRDs. Throws std::invalid_argument naming the file,
  // document and field of the first malformed CRD.
  static CrdSchemas load_dir(const std::filesystem::path& dir);

  // Adds one CRD object. `origin` names it in errors. Throws
  // std::invalid_argument on a malformed CRD or a second CRD for the same
  // group and kind or plural.
  void add(const json& crd, const std::string& origin);

  const std::vector<Crd>& crds() const { return crds_; }
  // By apiVersion ("cilium.io/v2") and kind; nullptr unless that version is served.
  const Crd* find_kind(std::string_view api_version, std::string_view kind) const;
  // By group and plural, as a REST path names it; nullptr when unknown.
  const Crd* find_plural(std::string_view group, std::string_view plural) const;

  // All errors of a custom resource: no CRD for its apiVersion/kind, schema
  // violations, a missing metadata.name (and generateName), and unknown
  // fields (`unknown field "spec.foo"`) as strict field validation reports
  // them. Empty = the API server would accept it. Name syntax and the
  // namespace are left to the caller (cpp::store::validate_resource checks them).
  std::vector<std::string> validate(const json& obj) const;

  // Removes the fields the schema does not declare, as the API server
  // prunes them, and returns what was removed (same texts as validate).
  // Returns nothing and changes nothing when no CRD serves the object.
  std::vector<std::string> prune(json& obj) const;

  // A create or update body as the API server takes it: unknown fields are
  // errors (`strict`, kubectl's default) or pruned, defaults are applied,
  // then the object is validated. Returns all errors; when there are none,
  // `obj` is what the server stores.
  std::vector<std::string> admit(json& obj, bool strict = true) const;

 private:
  const CrdVersion* version_for(const json& obj, std::string* error) const;
  std::vector<Crd> crds_;
};

}  // namespace cpp::k8s::schema
