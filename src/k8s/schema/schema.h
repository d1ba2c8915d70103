#pragma once
// One node of a Kubernetes structural schema (the openAPIV3Schema of a CRD
// version, apiextensions.k8s.io/v1), parsed once so validation never
// re-reads JSON or recompiles a pattern. Only the keywords Kubernetes allows
// in CRD schemas are accepted; anything else (e.g. $ref) is a load error.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace cpp::k8s::schema {

using json = nlohmann::json;

struct Schema {
  std::string type;  // object, array, string, integer, number, boolean; "" = any (int-or-string, preserve)
  bool nullable = false;
  std::string format;

  std::map<std::string, Schema> properties;
  std::vector<std::string> required;
  std::shared_ptr<Schema> additional_properties;  // a schema every map value must match
  bool additional_properties_any = false;         // additionalProperties: true
  std::shared_ptr<Schema> items;

  std::vector<json> enum_values;
  std::string pattern;
  std::shared_ptr<std::regex> pattern_re;
  std::optional<double> minimum, maximum;
  bool exclusive_minimum = false, exclusive_maximum = false;
  std::optional<double> multiple_of;
  std::optional<uint64_t> min_length, max_length, min_items, max_items, min_properties, max_properties;
  bool unique_items = false;

  std::vector<Schema> one_of, any_of, all_of;
  std::shared_ptr<Schema> not_;

  std::string list_type;                   // x-kubernetes-list-type: atomic, set or map
  std::vector<std::string> list_map_keys;  // x-kubernetes-list-map-keys (list-type map)

  bool int_or_string = false;            // x-kubernetes-int-or-string
  bool preserve_unknown_fields = false;  // x-kubernetes-preserve-unknown-fields
  bool embedded_resource = false;        // x-kubernetes-embedded-resource
  std::optional<json> default_value;
};

// Parses a schema node. `where` names the node in errors, e.g.
// "ciliumnodes.cilium.io v2 openAPIV3Schema.properties.spec". Throws
// std::invalid_argument("<where>.<keyword>: <reason>") on a keyword
// Kubernetes does not allow (or not at that place: the structural schema
// rules), a wrong keyword type, a bad pattern or a default that does not
// validate against its own schema.
Schema parse_schema(const json& node, const std::string& where);

}  // namespace cpp::k8s::schema
