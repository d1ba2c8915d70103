#include "store/yaml.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace cpp::store {

using json = nlohmann::json;

namespace {

constexpr const char* kTagPrefix = "tag:yaml.org,2002:";
constexpr int kMaxDepth = 256;

std::string strip_underscores(const std::string& s) {
  std::string r;
  r.reserve(s.size());
  for (char c : s)
    if (c != '_') r += c;
  return r;
}

// strconv.ParseInt/ParseUint with base 0: optional sign, 0x/0o/0b prefixes,
// a leading 0 means octal.
std::optional<json> parse_go_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) return std::nullopt;
  int base = 10;
  if (s[i] == '0' && i + 1 < s.size()) {
    char p = s[i + 1];
    if (p == 'x' || p == 'X') base = 16, i += 2;
    else if (p == 'o' || p == 'O') base = 8, i += 2;
    else if (p == 'b' || p == 'B') base = 2, i += 2;
    else base = 8, i += 1;
  }
  if (i >= s.size()) return std::nullopt;
  unsigned __int128 v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    if (d >= base) return std::nullopt;
    v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (v > static_cast<unsigned __int128>(UINT64_MAX)) return std::nullopt;
  }
  if (neg) {
    if (v > static_cast<unsigned __int128>(INT64_MAX) + 1) return std::nullopt;
    return json(static_cast<int64_t>(-static_cast<__int128>(v)));
  }
  if (v <= static_cast<unsigned __int128>(INT64_MAX)) return json(static_cast<int64_t>(v));
  return json(static_cast<uint64_t>(v));
}

std::optional<json> parse_float(const std::string& s) {
  static const std::regex yaml_style_float(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  if (!std::regex_match(s, yaml_style_float)) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
  return json(d);
}

std::string key_string(const json& k) {
  if (k.is_string()) return k.get<std::string>();
  if (k.is_null()) return "null";
  if (k.is_boolean()) return k.get<bool>() ? "true" : "false";
  return k.dump();
}

json convert(const YAML::Node& node, int depth);

json convert_scalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == "!") return json(text);  // quoted or block scalar: always a string
  if (tag.rfind(kTagPrefix, 0) == 0) {
    std::string t = tag.substr(std::string(kTagPrefix).size());
    if (t == "str" || t == "binary" || t == "timestamp") return json(text);
    json r = resolve_plain_scalar(text);
    if (t == "null" && !r.is_null()) throw std::invalid_argument("!!null value \"" + text + "\" is not null");
    if (t == "bool" && !r.is_boolean()) throw std::invalid_argument("!!bool value \"" + text + "\" is not a bool");
    if (t == "int" && !r.is_number_integer()) throw std::invalid_argument("!!int value \"" + text + "\" is not an int");
    if (t == "float") {
      if (r.is_number()) return json(r.get<double>());
      throw std::invalid_argument("!!float value \"" + text + "\" is not a float");
    }
    return r;
  }
  return resolve_plain_scalar(text);  // "?" (plain) or an application tag
}

void merge_into(json& out, const json& src, const YAML::Node& at) {
  if (!src.is_object())
    throw YAML::ParserException(at.Mark(), "merge key \"<<\" needs a mapping or a list of mappings");
  for (const auto& [k, v] : src.items())
    if (!out.contains(k)) out[k] = v;
}

json convert(const YAML::Node& node, int depth) {
  if (depth > kMaxDepth) throw YAML::ParserException(node.Mark(), "document nested too deeply");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      try {
        return convert_scalar(node);
      } catch (const std::invalid_argument& e) {
        throw YAML::ParserException(node.Mark(), e.what());
      }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& child : node) arr.push_back(convert(child, depth + 1));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      std::vector<std::pair<json, YAML::Node>> merges;
      for (const auto& kv : node) {
        const YAML::Node& k = kv.first;
        if (k.IsScalar() && k.Tag() == "?" && k.Scalar() == "<<") {
          merges.emplace_back(convert(kv.second, depth + 1), kv.second);
          continue;
        }
        if (!k.IsScalar() && !k.IsNull())
          throw YAML::ParserException(k.Mark(), "mapping keys must be scalars");
        obj[key_string(convert(k, depth + 1))] = convert(kv.second, depth + 1);
      }
      // Explicit keys win over merged ones; earlier merge sources win over later ones.
      for (const auto& [m, at] : merges) {
        if (m.is_array()) {
          for (const auto& e : m) merge_into(obj, e, at);
        } else {
          merge_into(obj, m, at);
        }
      }
      return obj;
    }
  }
  return nullptr;
}

bool is_doc_start_line(const std::string& line) {
  return line.rfind("---", 0) == 0 && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

bool is_blank_or_comment(const std::string& line) {
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == '\r') continue;
    return c == '#';
  }
  return true;
}

// The 1-based document a 0-based line belongs to, counting `---` markers the
// same way the parser does (content before the first marker is document 1).
size_t document_of_line(const std::string& text, int line0) {
  std::istringstream in(text);
  std::string line;
  size_t markers = 0;
  bool content_before_first_marker = false;
  for (int i = 0; std::getline(in, line) && i <= line0; ++i) {
    if (is_doc_start_line(line)) {
      ++markers;
    } else if (markers == 0 && !is_blank_or_comment(line) && line[0] != '%') {
      content_before_first_marker = true;
    }
  }
  size_t idx = markers + (content_before_first_marker ? 1 : 0);
  return idx == 0 ? 1 : idx;
}

}  // namespace

json resolve_plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  static const char* const trues[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* const falses[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : trues)
    if (s == t) return true;
  for (const char* f : falses)
    if (s == f) return false;
  char c = s[0];
  if ((c >= '0' && c <= '9') || c == '+' || c == '-') {
    std::string plain = strip_underscores(s);
    if (auto i = parse_go_int(plain)) return *i;
    if (auto f = parse_float(plain)) return *f;
  } else if (c == '.') {
    // .inf/.nan have no JSON form; they stay strings. ".5" is a float.
    if (auto f = parse_float(s)) return *f;
  }
  return s;
}

std::vector<YamlDocument> parse_yaml_stream(const std::string& text) {
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    size_t doc = document_of_line(text, e.mark.line);
    throw std::invalid_argument("document " + std::to_string(doc) + ": line " + std::to_string(e.mark.line + 1) +
                                ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  std::vector<YamlDocument> out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const YAML::Node& n = nodes[i];
    YamlDocument d;
    d.index = i + 1;
    d.line = n.Mark().line + 1;
    if (n.IsNull()) continue;
    try {
      d.value = convert(n, 0);
    } catch (const YAML::Exception& e) {
      throw std::invalid_argument("document " + std::to_string(d.index) + ": line " + std::to_string(e.mark.line + 1) +
                                  ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<json> parse_yaml_documents(const std::string& text) {
  std::vector<json> out;
  for (auto& d : parse_yaml_stream(text)) out.push_back(std::move(d.value));
  return out;
}

}  // namespace cpp::store
