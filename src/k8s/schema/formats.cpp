#include "k8s/schema/formats.h"

#include <arpa/inet.h>

#include <regex>

namespace cpp::k8s::schema {

namespace {

bool is_ipv4(const std::string& s) {
  in_addr a;
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& s) {
  in6_addr a;
  return s.find(':') != std::string::npos && inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// net.ParseCIDR: an address, '/', a decimal prefix length within the family's bits.
bool is_cidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos) return false;
  std::string addr = s.substr(0, slash), len = s.substr(slash + 1);
  if (len.empty() || len.size() > 3) return false;
  for (char c : len)
    if (c < '0' || c > '9') return false;
  int bits = std::stoi(len);
  if (is_ipv4(addr)) return bits <= 32;
  if (is_ipv6(addr)) return bits <= 128;
  return false;
}

const std::regex kDateTime(R"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))");
const std::regex kDate(R"(\d{4}-\d{2}-\d{2})");
const std::regex kUuid(R"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})");
// net.ParseMAC's colon and hyphen forms: 6 or 8 octets, one separator throughout.
const std::regex kMac(R"([0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}((\1[0-9a-fA-F]{2}){2})?)");
const std::regex kHostname(R"([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*)");
const std::regex kBase64(R"([A-Za-z0-9+/]*={0,2})");

}  // namespace

bool violates_format(const std::string& format, const std::string& v) {
  if (format == "ipv4") return !is_ipv4(v);
  if (format == "ipv6") return !is_ipv6(v);
  if (format == "cidr") return !is_cidr(v);
  if (format == "date-time" || format == "datetime") return !std::regex_match(v, kDateTime);
  if (format == "date") return !std::regex_match(v, kDate);
  if (format == "uuid") return !std::regex_match(v, kUuid);
  if (format == "mac") return !std::regex_match(v, kMac);
  if (format == "hostname") return v.size() > 253 || !std::regex_match(v, kHostname);
  if (format == "byte") return v.size() % 4 != 0 || !std::regex_match(v, kBase64);
  return false;
}

}  // namespace cpp::k8s::schema
