#pragma once
// Multi-document YAML → JSON, with the scalar typing Kubernetes uses
// (sigs.k8s.io/yaml over go-yaml v2): plain scalars become null, bools, ints
// or floats when they look like one; quoted scalars always stay strings, so
// `port: "80"` is the string "80" and `port: 80` the integer 80.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace cpp::store {

struct YamlDocument {
  size_t index = 0;  // 1-based position in the stream, counting empty documents
  int line = 0;      // 1-based line where the document's content starts
  nlohmann::json value;
};

// All non-empty documents of a stream (empty ones, e.g. after a trailing
// `---`, are skipped but still counted by index). Throws
// std::invalid_argument("document N: line L, column C: <reason>") on a syntax error.
std::vector<YamlDocument> parse_yaml_stream(const std::string& text);

// The values of parse_yaml_stream.
std::vector<nlohmann::json> parse_yaml_documents(const std::string& text);

// Type resolution of one plain (unquoted, untagged) scalar, as go-yaml v2 does it.
nlohmann::json resolve_plain_scalar(const std::string& s);

}  // namespace cpp::store
