#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace cpp::metrics {

std::string escape_help(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_label_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

namespace {
bool name_char(char c, bool first, bool colon) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}
}  // namespace

bool valid_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (!name_char(s[i], i == 0, true)) return false;
  return true;
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || s.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (!name_char(s[i], i == 0, false)) return false;
  return true;
}

void write_family(std::string& out, const FamilySnapshot& f) {
  out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
  out += "# TYPE " + f.name + " " + type_name(f.type) + "\n";
  for (const auto& s : f.samples) {
    out += f.name;
    out += s.suffix;
    if (!s.labels.empty()) {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : s.labels) {
        if (!first) out += ',';
        first = false;
        out += k + "=\"" + escape_label_value(v) + "\"";
      }
      out += '}';
    }
    out += ' ';
    out += format_value(s.value);
    out += '\n';
  }
}

}  // namespace cpp::metrics
