#include "k8s/schema/validate.h"

#include "k8s/schema/formats.h"

#include <algorithm>
#include <cmath>

namespace cpp::k8s::schema {

namespace {

std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string element(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }
std::string shown_path(const std::string& path) { return path.empty() ? "<root>" : path; }

// How field.Invalid prints a value: strings quoted, numbers and booleans as
// they are, composites by type name.
std::string show(const json& v) {
  if (v.is_string()) return json(v.get<std::string>()).dump();
  if (v.is_number() || v.is_boolean()) return v.dump();
  if (v.is_null()) return "\"null\"";
  return "\"" + std::string(v.type_name()) + "\"";
}

std::string json_type(const json& v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number_float()) return "number";
  return v.type_name();
}

std::string fmt_number(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e18) return std::to_string(static_cast<long long>(d));
  json j = d;
  return j.dump();
}

class Validator {
 public:
  std::vector<std::string> errors;

  void invalid(const std::string& path, const json& v, const std::string& what) {
    errors.push_back(shown_path(path) + ": Invalid value: " + show(v) + ": " + shown_path(path) + " in body " + what);
  }

  bool type_ok(const Schema& s, const json& v) {
    if (s.int_or_string) return v.is_number_integer() || v.is_string() || is_integral_float(v);
    if (s.type.empty()) return true;
    if (s.type == "object") return v.is_object();
    if (s.type == "array") return v.is_array();
    if (s.type == "string") return v.is_string();
    if (s.type == "boolean") return v.is_boolean();
    if (s.type == "number") return v.is_number();
    return v.is_number_integer() || is_integral_float(v);
  }

  static bool is_integral_float(const json& v) {
    return v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>();
  }

  void check(const Schema& s, const json& v, const std::string& path) {
    if (v.is_null() && s.nullable) return;
    if (!type_ok(s, v)) {
      std::string want = s.int_or_string ? "integer,string" : s.type;
      errors.push_back(shown_path(path) + ": Invalid value: \"" + json_type(v) + "\": " + shown_path(path) +
                       " in body must be of type " + want + ": \"" + json_type(v) + "\"");
      return;
    }
    if (!s.enum_values.empty()) check_enum(s, v, path);
    if (v.is_string()) check_string(s, v, path);
    if (v.is_number()) check_number(s, v, path);
    if (v.is_array()) check_array(s, v, path);
    if (v.is_object()) check_object(s, v, path);
    check_junctors(s, v, path);
  }

  void check_enum(const Schema& s, const json& v, const std::string& path) {
    for (const auto& e : s.enum_values)
      if (e == v) return;
    std::string supported;
    for (const auto& e : s.enum_values)
      supported += (supported.empty() ? "" : ", ") + (e.is_string() ? json(e).dump() : e.dump());
    errors.push_back(shown_path(path) + ": Unsupported value: " + show(v) + ": supported values: " + supported);
  }

  void check_string(const Schema& s, const json& v, const std::string& path) {
    const std::string& str = v.get_ref<const std::string&>();
    uint64_t chars = 0;  // length in characters (UTF-8 code points), as Go's utf8.RuneCountInString
    for (unsigned char c : str) chars += (c & 0xC0) != 0x80;
    if (s.max_length && chars > *s.max_length)
      errors.push_back(shown_path(path) + ": Too long: may not be more than " + std::to_string(*s.max_length) +
                       " bytes");
    if (s.min_length && chars < *s.min_length)
      invalid(path, v, "should be at least " + std::to_string(*s.min_length) + " chars long");
    if (s.pattern_re && !std::regex_search(str, *s.pattern_re)) invalid(path, v, "should match '" + s.pattern + "'");
    if (!s.format.empty() && violates_format(s.format, str))
      invalid(path, v, "must be of type " + s.format + ": " + json(str).dump());
  }

  void check_number(const Schema& s, const json& v, const std::string& path) {
    double d = v.get<double>();
    if (s.maximum) {
      if (s.exclusive_maximum ? d >= *s.maximum : d > *s.maximum)
        invalid(
            path, v,
            std::string("should be less than ") + (s.exclusive_maximum ? "" : "or equal to ") + fmt_number(*s.maximum));
    }
    if (s.minimum) {
      if (s.exclusive_minimum ? d <= *s.minimum : d < *s.minimum)
        invalid(path, v,
                std::string("should be greater than ") + (s.exclusive_minimum ? "" : "or equal to ") +
                    fmt_number(*s.minimum));
    }
    if (s.multiple_of) {
      double q = d / *s.multiple_of;
      if (std::floor(q) != q) invalid(path, v, "should be a multiple of " + fmt_number(*s.multiple_of));
    }
  }

  void check_array(const Schema& s, const json& v, const std::string& path) {
    if (s.max_items && v.size() > *s.max_items)
      errors.push_back(shown_path(path) + ": Too many: " + std::to_string(v.size()) + ": must have at most " +
                       std::to_string(*s.max_items) + " items");
    if (s.min_items && v.size() < *s.min_items)
      invalid(path, v, "should have at least " + std::to_string(*s.min_items) + " items");
    if (s.items)
      for (size_t i = 0; i < v.size(); ++i) check(*s.items, v[i], element(path, i));
    if (s.list_type == "set" || s.list_type == "map") check_unique(s, v, path);
  }

  // list-type set: no two equal items; list-type map: no two items with the
  // same values of the map keys.
  void check_unique(const Schema& s, const json& v, const std::string& path) {
    std::vector<json> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      json key = v[i];
      if (s.list_type == "map") {
        if (!v[i].is_object()) continue;
        key = json::object();
        for (const auto& k : s.list_map_keys)
          if (v[i].contains(k)) key[k] = v[i][k];
      }
      if (std::find(seen.begin(), seen.end(), key) != seen.end())
        errors.push_back(element(path, i) + ": Duplicate value: " +
                         (s.list_type == "map" ? "map[string]interface {}" + key.dump() : show(key)));
      else
        seen.push_back(std::move(key));
    }
  }

  void check_object(const Schema& s, const json& v, const std::string& path) {
    // Nulls in non-nullable fields are pruned by the API server before
    // validation, so they count as absent.
    auto present = [&](const std::string& key, const Schema* sub) {
      auto it = v.find(key);
      if (it == v.end()) return false;
      return !(it->is_null() && !(sub && sub->nullable));
    };
    auto sub_schema = [&](const std::string& key) -> const Schema* {
      auto p = s.properties.find(key);
      if (p != s.properties.end()) return &p->second;
      return s.additional_properties.get();
    };
    for (const auto& r : s.required)
      if (!present(r, sub_schema(r))) errors.push_back(child(path, r) + ": Required value");
    if (s.embedded_resource)
      for (const char* r : {"apiVersion", "kind"})
        if (!present(r, nullptr)) errors.push_back(child(path, r) + ": Required value");
    size_t count = 0;
    for (const auto& [key, val] : v.items()) {
      const Schema* sub = sub_schema(key);
      if (!present(key, sub)) continue;
      ++count;
      if (sub) check(*sub, val, child(path, key));
    }
    if (s.max_properties && count > *s.max_properties)
      errors.push_back(shown_path(path) + ": Too many: " + std::to_string(count) + ": must have at most " +
                       std::to_string(*s.max_properties) + " items");
    if (s.min_properties && count < *s.min_properties)
      invalid(path, v, "should have at least " + std::to_string(*s.min_properties) + " properties");
  }

  static std::vector<std::string> branch(const Schema& s, const json& v, const std::string& path) {
    Validator sub;
    sub.check(s, v, path);
    return sub.errors;
  }

  void check_junctors(const Schema& s, const json& v, const std::string& path) {
    for (const auto& b : s.all_of) {
      auto e = branch(b, v, path);
      errors.insert(errors.end(), e.begin(), e.end());
    }
    if (!s.any_of.empty()) {
      std::vector<std::string> all;
      bool ok = false;
      for (const auto& b : s.any_of) {
        auto e = branch(b, v, path);
        if (e.empty()) ok = true;
        all.insert(all.end(), e.begin(), e.end());
      }
      if (!ok) {
        invalid(path, v, "must validate at least one schema (anyOf)");
        errors.insert(errors.end(), all.begin(), all.end());
      }
    }
    if (!s.one_of.empty()) {
      std::vector<std::string> all;
      size_t matched = 0;
      for (const auto& b : s.one_of) {
        auto e = branch(b, v, path);
        if (e.empty()) ++matched;
        all.insert(all.end(), e.begin(), e.end());
      }
      if (matched != 1) invalid(path, v, "must validate one and only one schema (oneOf)");
      if (matched == 0) errors.insert(errors.end(), all.begin(), all.end());
    }
    if (s.not_ && branch(*s.not_, v, path).empty()) invalid(path, v, "must not validate the schema (not)");
  }
};

// Keys of ObjectMeta (k8s.io/apimachinery metav1.ObjectMeta, JSON names).
bool object_meta_field(const std::string& k) {
  static const char* const kFields[] = {"name",
                                        "generateName",
                                        "namespace",
                                        "selfLink",
                                        "uid",
                                        "resourceVersion",
                                        "generation",
                                        "creationTimestamp",
                                        "deletionTimestamp",
                                        "deletionGracePeriodSeconds",
                                        "labels",
                                        "annotations",
                                        "ownerReferences",
                                        "finalizers",
                                        "managedFields"};
  for (const char* f : kFields)
    if (k == f) return true;
  return false;
}

void walk_unknown(const Schema& s, json& v, bool remove, bool is_resource, const std::string& path,
                  std::vector<std::string>& out) {
  if (v.is_array() && s.items) {
    for (size_t i = 0; i < v.size(); ++i) walk_unknown(*s.items, v[i], remove, false, element(path, i), out);
    return;
  }
  if (!v.is_object() || s.type != "object") return;
  if (s.additional_properties) {
    for (auto& [key, val] : v.items())
      walk_unknown(*s.additional_properties, val, remove, false, child(path, key), out);
    return;
  }
  if (s.additional_properties_any) return;
  bool resource = is_resource || s.embedded_resource;
  std::vector<std::string> drop;
  for (auto& [key, val] : v.items()) {
    auto p = s.properties.find(key);
    if (resource && key == "metadata") {
      if (val.is_object())
        for (const auto& [mk, mv] : val.items())
          if (!object_meta_field(mk)) {
            out.push_back("unknown field \"" + child(child(path, key), mk) + "\"");
            if (remove) drop.push_back(key + "\n" + mk);
          }
      continue;
    }
    if (p != s.properties.end()) {
      walk_unknown(p->second, val, remove, false, child(path, key), out);
    } else if (!(resource && (key == "apiVersion" || key == "kind")) && !s.preserve_unknown_fields) {
      out.push_back("unknown field \"" + child(path, key) + "\"");
      if (remove) drop.push_back(key);
    }
  }
  for (const auto& d : drop) {
    auto nl = d.find('\n');
    if (nl == std::string::npos)
      v.erase(d);
    else
      v[d.substr(0, nl)].erase(d.substr(nl + 1));
  }
}

}  // namespace

void apply_defaults(const Schema& s, json& v) {
  if (v.is_array() && s.items) {
    for (auto& item : v) apply_defaults(*s.items, item);
    return;
  }
  if (!v.is_object()) return;
  if (s.additional_properties) {
    for (auto& [key, val] : v.items()) apply_defaults(*s.additional_properties, val);
    return;
  }
  for (const auto& [name, sub] : s.properties) {
    auto it = v.find(name);
    bool absent = it == v.end() || (it->is_null() && !sub.nullable);
    if (absent && sub.default_value)
      v[name] = *sub.default_value;
    else if (absent && it != v.end())
      v.erase(it);
    else if (!absent)
      apply_defaults(sub, *it);
  }
}

std::vector<std::string> validate_value(const Schema& s, const json& value, const std::string& path) {
  Validator v;
  v.check(s, value, path);
  return v.errors;
}

std::vector<std::string> unknown_fields(const Schema& s, json& value, bool remove, bool is_resource,
                                        const std::string& path) {
  std::vector<std::string> out;
  walk_unknown(s, value, remove, is_resource, path, out);
  return out;
}

}  // namespace cpp::k8s::schema
