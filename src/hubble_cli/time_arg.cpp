#include "hubble_cli/time_arg.h"

#include <cctype>
#include <ctime>
#include <optional>
#include <stdexcept>

namespace cpp::hubble_cli {

namespace {

[[noreturn]] void bad_time(const std::string& value) {
  throw std::invalid_argument("invalid time '" + value +
                              "': expected RFC3339 (2006-01-02T15:04:05Z) or a duration like 5m, 1h");
}

// Reads exactly n digits at s[pos].
bool digits(const std::string& s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[pos + i]))) return false;
    out = out * 10 + (s[pos + i] - '0');
  }
  pos += n;
  return true;
}

bool expect(const std::string& s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

std::optional<Clock::time_point> parse_rfc3339(const std::string& s) {
  size_t p = 0;
  int year, mon, day, hour, min, sec;
  if (!digits(s, p, 4, year) || !expect(s, p, '-') || !digits(s, p, 2, mon) || !expect(s, p, '-') ||
      !digits(s, p, 2, day))
    return std::nullopt;
  if (p >= s.size() || (s[p] != 'T' && s[p] != 't' && s[p] != ' ')) return std::nullopt;
  ++p;
  if (!digits(s, p, 2, hour) || !expect(s, p, ':') || !digits(s, p, 2, min) || !expect(s, p, ':') ||
      !digits(s, p, 2, sec))
    return std::nullopt;
  int64_t frac_ns = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int64_t scale = 100000000;
    size_t start = p;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      frac_ns += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return std::nullopt;
  }
  int offset_s = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh, om;
    if (!digits(s, p, 2, oh) || !expect(s, p, ':') || !digits(s, p, 2, om)) return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (p != s.size() || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  return Clock::time_point{} + std::chrono::seconds(t - offset_s) +
         std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(frac_ns));
}

}  // namespace

std::chrono::nanoseconds parse_duration(const std::string& value) {
  auto bad = [&] {
    throw std::invalid_argument("invalid duration '" + value + "': expected e.g. 30s, 5m, 1h30m, 500ms");
  };
  if (value.empty()) bad();
  double total_ns = 0;
  size_t p = 0;
  while (p < value.size()) {
    size_t start = p;
    while (p < value.size() && (std::isdigit(static_cast<unsigned char>(value[p])) || value[p] == '.')) ++p;
    if (p == start) bad();
    double n = std::stod(value.substr(start, p - start));
    size_t ustart = p;
    while (p < value.size() && std::isalpha(static_cast<unsigned char>(value[p]))) ++p;
    std::string unit = value.substr(ustart, p - ustart);
    double scale;
    if (unit == "ns") scale = 1;
    else if (unit == "us") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else bad();
    total_ns += n * scale;
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total_ns));
}

Clock::time_point parse_time_arg(const std::string& value, Clock::time_point now) {
  if (auto t = parse_rfc3339(value)) return *t;
  try {
    return now - std::chrono::duration_cast<Clock::duration>(parse_duration(value));
  } catch (const std::invalid_argument&) {
    bad_time(value);
  }
}

}  // namespace cpp::hubble_cli
