#include "k8s/schema/schema.h"

#include "k8s/schema/validate.h"

#include <set>
#include <stdexcept>

namespace cpp::k8s::schema {

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& why) {
  throw std::invalid_argument(where + ": " + why);
}

// Documentation-only keywords and the map-type hint: accepted, no effect on
// validation.
const std::set<std::string> kIgnored = {"description",           "title",   "example", "externalDocs",
                                        "x-kubernetes-map-type", "$schema", "id"};

const std::set<std::string> kTypes = {"object", "array", "string", "integer", "number", "boolean"};

bool get_bool(const json& node, const char* key, const std::string& where) {
  const json& v = node.at(key);
  if (!v.is_boolean()) bad(where + "." + key, "must be a boolean");
  return v.get<bool>();
}

uint64_t get_count(const json& node, const char* key, const std::string& where) {
  const json& v = node.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < 0) bad(where + "." + key, "must be a non-negative integer");
  return v.get<uint64_t>();
}

double get_number(const json& node, const char* key, const std::string& where) {
  const json& v = node.at(key);
  if (!v.is_number()) bad(where + "." + key, "must be a number");
  return v.get<double>();
}

// Where a node sits decides which keywords it may use (the structural
// schema rules of apiextensions.k8s.io/v1).
enum class Mode {
  Structural,   // properties, items, additionalProperties: the shape of the data
  Junctor,      // inside oneOf/anyOf/allOf/not: value validations only
  IntOrString,  // the anyOf [{type: integer}, {type: string}] of x-kubernetes-int-or-string
};

Schema parse_node(const json& node, const std::string& where, Mode mode);

std::vector<Schema> parse_list(const json& node, const char* key, const std::string& where, Mode mode) {
  const json& v = node.at(key);
  std::string path = where + "." + key;
  if (!v.is_array() || v.empty()) bad(path, "must be a non-empty list of schemas");
  std::vector<Schema> out;
  for (size_t i = 0; i < v.size(); ++i) out.push_back(parse_node(v[i], path + "[" + std::to_string(i) + "]", mode));
  return out;
}

// The one place types may appear inside a junctor.
bool int_or_string_any_of(const json& node) {
  auto flag = node.find("x-kubernetes-int-or-string");
  if (flag == node.end() || *flag != true) return false;
  const json& a = node.at("anyOf");
  return a.is_array() && a.size() == 2 && a[0] == json{{"type", "integer"}} && a[1] == json{{"type", "string"}};
}

// Fields and items named inside a junctor must also exist outside it, so
// that pruning (which ignores junctors) keeps what the junctor checks.
void check_covered(const Schema& branch, const Schema& outer, const std::string& where) {
  for (const auto& [name, sub] : branch.properties) {
    auto it = outer.properties.find(name);
    const Schema* o = it != outer.properties.end() ? &it->second : outer.additional_properties.get();
    if (!o && !outer.preserve_unknown_fields && !outer.additional_properties_any)
      bad(where + ".properties." + name, "a field inside oneOf/anyOf/allOf/not must also be declared outside it");
    if (o) check_covered(sub, *o, where + ".properties." + name);
  }
  if (branch.items) {
    if (!outer.items) bad(where + ".items", "items inside oneOf/anyOf/allOf/not must also be declared outside it");
    check_covered(*branch.items, *outer.items, where + ".items");
  }
  for (const auto* list : {&branch.one_of, &branch.any_of, &branch.all_of})
    for (const auto& b : *list) check_covered(b, outer, where);
  if (branch.not_) check_covered(*branch.not_, outer, where);
}

// Keywords a junctor must not set: they describe the shape, which only the
// structural part may do.
const std::set<std::string> kNotInJunctors = {"description",
                                              "type",
                                              "default",
                                              "additionalProperties",
                                              "nullable",
                                              "x-kubernetes-int-or-string",
                                              "x-kubernetes-preserve-unknown-fields",
                                              "x-kubernetes-embedded-resource"};

Schema parse_node(const json& node, const std::string& where, Mode mode) {
  if (!node.is_object()) bad(where, "a schema must be a mapping");
  if (mode == Mode::IntOrString) {
    Schema s;
    s.type = node.at("type").get<std::string>();
    return s;
  }
  const bool in_junctor = mode == Mode::Junctor;
  const Mode nested = in_junctor ? Mode::Junctor : Mode::Structural;
  Schema s;
  for (const auto& [key, v] : node.items()) {
    const std::string path = where + "." + key;
    if (in_junctor && kNotInJunctors.count(key)) bad(path, "not allowed inside oneOf/anyOf/allOf/not");
    if (kIgnored.count(key)) continue;
    if (key == "type") {
      if (!v.is_string() || !kTypes.count(v.get<std::string>()))
        bad(path, "must be one of object, array, string, integer, number, boolean");
      s.type = v.get<std::string>();
    } else if (key == "format") {
      if (!v.is_string()) bad(path, "must be a string");
      s.format = v.get<std::string>();
    } else if (key == "nullable") {
      s.nullable = get_bool(node, "nullable", where);
    } else if (key == "properties") {
      if (!v.is_object()) bad(path, "must be a mapping of field name to schema");
      for (const auto& [name, sub] : v.items()) s.properties.emplace(name, parse_node(sub, path + "." + name, nested));
    } else if (key == "required") {
      if (!v.is_array()) bad(path, "must be a list of field names");
      for (const auto& r : v) {
        if (!r.is_string()) bad(path, "must be a list of field names");
        s.required.push_back(r.get<std::string>());
      }
    } else if (key == "additionalProperties") {
      if (v.is_boolean()) {
        // Structural schemas forbid additionalProperties: false (absence of
        // the field already means "only the listed properties").
        if (!v.get<bool>()) bad(path, "false is not allowed in a structural schema");
        s.additional_properties_any = true;
      } else {
        s.additional_properties = std::make_shared<Schema>(parse_node(v, path, nested));
      }
    } else if (key == "items") {
      if (v.is_array()) bad(path, "must be one schema (tuple items are not allowed)");
      s.items = std::make_shared<Schema>(parse_node(v, path, nested));
    } else if (key == "enum") {
      if (!v.is_array() || v.empty()) bad(path, "must be a non-empty list");
      s.enum_values.assign(v.begin(), v.end());
    } else if (key == "pattern") {
      if (!v.is_string()) bad(path, "must be a string");
      s.pattern = v.get<std::string>();
      try {
        s.pattern_re = std::make_shared<std::regex>(s.pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        bad(path, "invalid regular expression \"" + s.pattern + "\": " + e.what());
      }
    } else if (key == "minimum") {
      s.minimum = get_number(node, "minimum", where);
    } else if (key == "maximum") {
      s.maximum = get_number(node, "maximum", where);
    } else if (key == "exclusiveMinimum") {
      s.exclusive_minimum = get_bool(node, "exclusiveMinimum", where);
    } else if (key == "exclusiveMaximum") {
      s.exclusive_maximum = get_bool(node, "exclusiveMaximum", where);
    } else if (key == "multipleOf") {
      s.multiple_of = get_number(node, "multipleOf", where);
      if (*s.multiple_of <= 0) bad(path, "must be greater than 0");
    } else if (key == "minLength") {
      s.min_length = get_count(node, "minLength", where);
    } else if (key == "maxLength") {
      s.max_length = get_count(node, "maxLength", where);
    } else if (key == "minItems") {
      s.min_items = get_count(node, "minItems", where);
    } else if (key == "maxItems") {
      s.max_items = get_count(node, "maxItems", where);
    } else if (key == "minProperties") {
      s.min_properties = get_count(node, "minProperties", where);
    } else if (key == "maxProperties") {
      s.max_properties = get_count(node, "maxProperties", where);
    } else if (key == "uniqueItems") {
      // Kubernetes forbids uniqueItems: true (list-type: set says it instead).
      if (get_bool(node, "uniqueItems", where))
        bad(path, "true is not allowed in a CRD schema; use x-kubernetes-list-type: set");
    } else if (key == "oneOf") {
      s.one_of = parse_list(node, "oneOf", where, Mode::Junctor);
    } else if (key == "anyOf") {
      s.any_of = parse_list(node, "anyOf", where, int_or_string_any_of(node) ? Mode::IntOrString : Mode::Junctor);
    } else if (key == "allOf") {
      s.all_of = parse_list(node, "allOf", where, Mode::Junctor);
    } else if (key == "not") {
      s.not_ = std::make_shared<Schema>(parse_node(v, path, Mode::Junctor));
    } else if (key == "default") {
      s.default_value = v;
    } else if (key == "x-kubernetes-int-or-string") {
      s.int_or_string = get_bool(node, "x-kubernetes-int-or-string", where);
    } else if (key == "x-kubernetes-preserve-unknown-fields") {
      s.preserve_unknown_fields = get_bool(node, "x-kubernetes-preserve-unknown-fields", where);
    } else if (key == "x-kubernetes-embedded-resource") {
      s.embedded_resource = get_bool(node, "x-kubernetes-embedded-resource", where);
    } else if (key == "x-kubernetes-list-type") {
      if (!v.is_string() || (v != "atomic" && v != "set" && v != "map")) bad(path, "must be atomic, set or map");
      s.list_type = v.get<std::string>();
    } else if (key == "x-kubernetes-list-map-keys") {
      if (!v.is_array() || v.empty()) bad(path, "must be a non-empty list of field names");
      for (const auto& k : v) {
        if (!k.is_string()) bad(path, "must be a non-empty list of field names");
        s.list_map_keys.push_back(k.get<std::string>());
      }
    } else if (key == "x-kubernetes-validations") {
      bad(path, "CEL validation rules are not supported by this validator");
    } else {
      bad(path, "keyword not allowed in a Kubernetes structural schema");
    }
  }
  if (!s.properties.empty() && (s.additional_properties || s.additional_properties_any))
    bad(where, "properties and additionalProperties are mutually exclusive");
  if (s.type.empty() && !in_junctor && !s.int_or_string && !s.preserve_unknown_fields)
    bad(where, "type is required (or x-kubernetes-int-or-string / x-kubernetes-preserve-unknown-fields)");
  if (s.embedded_resource && s.type != "object") bad(where, "x-kubernetes-embedded-resource needs type: object");
  if (!s.list_type.empty() && s.type != "array") bad(where + ".x-kubernetes-list-type", "needs type: array");
  if (s.list_type == "map" && s.list_map_keys.empty())
    bad(where + ".x-kubernetes-list-map-keys", "required with x-kubernetes-list-type: map");
  if (s.list_type == "map")
    for (const auto& k : s.list_map_keys)
      if (!s.items || !s.items->properties.count(k))
        bad(where + ".x-kubernetes-list-map-keys", "\"" + k + "\" is not a property of the items");
  if (s.default_value && !in_junctor) {
    auto errors = validate_value(s, *s.default_value, "default");
    if (!errors.empty()) bad(where + ".default", errors.front());
  }
  if (!in_junctor) {
    for (size_t i = 0; i < s.one_of.size(); ++i)
      check_covered(s.one_of[i], s, where + ".oneOf[" + std::to_string(i) + "]");
    for (size_t i = 0; i < s.all_of.size(); ++i)
      check_covered(s.all_of[i], s, where + ".allOf[" + std::to_string(i) + "]");
    if (!s.int_or_string)
      for (size_t i = 0; i < s.any_of.size(); ++i)
        check_covered(s.any_of[i], s, where + ".anyOf[" + std::to_string(i) + "]");
    if (s.not_) check_covered(*s.not_, s, where + ".not");
  }
  return s;
}

}  // namespace

Schema parse_schema(const json& node, const std::string& where) { return parse_node(node, where, Mode::Structural); }

}  // namespace cpp::k8s::schema
