#include "operator/lease_record.h"

#include <cstdio>
#include <ctime>

namespace cpp::op {

using nlohmann::json;

const char* to_string(LeaseAction a) {
  switch (a) {
    case LeaseAction::Take:
      return "take";
    case LeaseAction::Renew:
      return "renew";
    case LeaseAction::Wait:
      return "wait";
  }
  return "?";
}

std::string format_micro_time(WallClock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<time_t>(us / 1000000);
  long frac = static_cast<long>(us % 1000000);
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // room for any int the compiler cannot rule out
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::optional<WallClock::time_point> parse_micro_time(const std::string& s) {
  int y, mo, d, h, mi, sec, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t i = 19;
  int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits)
      if (digits < 6) micros = micros * 10 + (s[i] - '0');
    if (digits == 0) return std::nullopt;
    for (; digits < 6; ++digits) micros *= 10;
  }
  int offset_minutes = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_minutes = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  return WallClock::time_point(std::chrono::seconds(t) - std::chrono::minutes(offset_minutes) +
                               std::chrono::microseconds(micros));
}

LeaseSpec read_lease(const json& lease) {
  LeaseSpec s;
  auto spec = lease.value("spec", json::object());
  if (!spec.is_object()) return s;
  auto str = [&](const char* k) {
    auto it = spec.find(k);
    return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* k) {
    auto it = spec.find(k);
    return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
  };
  s.holder = str("holderIdentity");
  s.duration_seconds = num("leaseDurationSeconds");
  s.transitions = num("leaseTransitions");
  s.acquire_time = parse_micro_time(str("acquireTime"));
  s.renew_time = parse_micro_time(str("renewTime"));
  return s;
}

bool lease_expired(const LeaseSpec& s, WallClock::time_point now) {
  if (!s.renew_time) return true;
  return *s.renew_time + std::chrono::seconds(s.duration_seconds) < now;
}

LeaseAction decide(const std::optional<json>& lease, WallClock::time_point now, const std::string& holder) {
  if (!lease) return LeaseAction::Take;
  LeaseSpec s = read_lease(*lease);
  if (!s.holder.empty() && s.holder == holder) return LeaseAction::Renew;
  if (s.holder.empty() || lease_expired(s, now)) return LeaseAction::Take;
  return LeaseAction::Wait;
}

void hold_lease(json& lease, const std::string& holder, WallClock::time_point now, std::chrono::seconds duration) {
  LeaseSpec old = read_lease(lease);
  if (!lease.contains("spec") || !lease["spec"].is_object()) lease["spec"] = json::object();
  json& spec = lease["spec"];
  const std::string t = format_micro_time(now);
  if (old.holder != holder) {
    spec["acquireTime"] = t;
    // An empty lease (never held) starts at 0 transitions, as upstream.
    spec["leaseTransitions"] = old.holder.empty() && !old.acquire_time ? old.transitions : old.transitions + 1;
  }
  spec["holderIdentity"] = holder;
  spec["leaseDurationSeconds"] = duration.count();
  spec["renewTime"] = t;
}

bool release_lease(json& lease, const std::string& holder) {
  if (read_lease(lease).holder != holder || holder.empty()) return false;
  lease["spec"]["holderIdentity"] = "";
  return true;
}

json empty_lease(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", name}, {"namespace", ns}}}};
}

}  // namespace cpp::op
