#include "config/duration.h"

#include <cctype>
#include <stdexcept>
#include <utility>

namespace cpp::config {

std::chrono::nanoseconds parse_go_duration(const std::string& s) {
  auto bad = [&] { return std::invalid_argument("invalid duration \"" + s + "\" (e.g. 500ms, 2s, 1m30s)"); };
  if (s == "0") return std::chrono::nanoseconds(0);
  static const std::pair<const char*, double> units[] = {{"ns", 1},   {"us", 1e3},   {"µs", 1e3}, {"ms", 1e6},
                                                          {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  size_t i = 0;
  if (s.empty()) throw bad();
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) throw bad();
    double v;
    try {
      size_t used = 0;
      v = std::stod(s.substr(start, i - start), &used);
      if (used != i - start) throw bad();
    } catch (const std::logic_error&) {
      throw bad();
    }
    const std::pair<const char*, double>* unit = nullptr;
    for (const auto& u : units) {
      std::string name = u.first;
      // Longest match: "ms" before "m".
      if (s.compare(i, name.size(), name) == 0 && (!unit || name.size() > std::string(unit->first).size())) unit = &u;
    }
    if (!unit) throw bad();
    total += v * unit->second;
    i += std::string(unit->first).size();
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

}  // namespace cpp::config
