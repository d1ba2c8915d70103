#include "datapath/nat_map.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <tuple>

namespace cpp::datapath {
namespace {

IpAddr addr_of(const void* p, bool v6) {
  IpAddr a;
  a.v6 = v6;
  std::memcpy(a.bytes.data(), p, v6 ? 16 : 4);
  return a;
}

NatEntry decode_value(NatEntry e, const cpp_nat_value& v, bool v6) {
  e.to_addr = addr_of(&v.to_addr, v6);
  e.to_port = ntohs(v.to_port);
  e.flags = v.flags;
  e.expires_ns = v.expires_ns;
  e.created_ns = v.created_ns;
  return e;
}

template <typename Key>
NatEntry decode(const Key& k, const cpp_nat_value& v, bool v6) {
  NatEntry e;
  e.saddr = addr_of(&k.saddr, v6);
  e.daddr = addr_of(&k.daddr, v6);
  e.sport = ntohs(k.sport);
  e.dport = ntohs(k.dport);
  e.nexthdr = k.nexthdr;
  e.dir = k.dir;
  return decode_value(e, v, v6);
}

std::string endpoint_str(const IpAddr& a, uint16_t port) {
  return (a.v6 ? "[" + a.str() + "]" : a.str()) + ":" + std::to_string(port);
}

std::string proto_name(uint8_t p) {
  switch (p) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 1: return "ICMP";
    case 58: return "ICMPv6";
    default: return std::to_string(p);
  }
}

}  // namespace

NatMaps::NatMaps(const std::string& pin_dir)
    : nat4_(pin_dir + "/" CPP_MAP_SNAT4, sizeof(cpp_nat_key4), sizeof(cpp_nat_value)),
      nat6_(pin_dir + "/" CPP_MAP_SNAT6, sizeof(cpp_nat_key6), sizeof(cpp_nat_value)) {}

bool nat_maps_exist(const std::string& pin_dir) {
  struct stat st{};
  return ::stat((pin_dir + "/" CPP_MAP_SNAT4).c_str(), &st) == 0 &&
         ::stat((pin_dir + "/" CPP_MAP_SNAT6).c_str(), &st) == 0;
}

std::vector<NatEntry> NatMaps::dump(bool include_expired) const {
  std::vector<NatEntry> v4, v6;
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t now = include_expired ? 0 : static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
  nat4_.for_each([&](const void* k, const void* v) {
    auto e = decode(*static_cast<const cpp_nat_key4*>(k), *static_cast<const cpp_nat_value*>(v), false);
    if (e.expires_ns > now) v4.push_back(e);
  });
  nat6_.for_each([&](const void* k, const void* v) {
    auto e = decode(*static_cast<const cpp_nat_key6*>(k), *static_cast<const cpp_nat_value*>(v), true);
    if (e.expires_ns > now) v6.push_back(e);
  });
  auto order = [](const NatEntry& a, const NatEntry& b) {
    return std::tie(a.dir, a.saddr, a.daddr, a.nexthdr, a.sport, a.dport) <
           std::tie(b.dir, b.saddr, b.daddr, b.nexthdr, b.sport, b.dport);
  };
  std::sort(v4.begin(), v4.end(), order);
  std::sort(v6.begin(), v6.end(), order);
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

size_t NatMaps::count() const {
  size_t n = 0;
  nat4_.for_each([&](const void*, const void*) { ++n; });
  nat6_.for_each([&](const void*, const void*) { ++n; });
  return n;
}

nlohmann::json nat_entry_to_json(const NatEntry& e, uint64_t now_ns) {
  nlohmann::json flags = nlohmann::json::array();
  if (e.flags & CPP_NAT_F_ESTABLISHED) flags.push_back("established");
  if (e.flags & CPP_NAT_F_CLOSING) flags.push_back("closing");
  int64_t left = e.expires_ns > now_ns ? static_cast<int64_t>((e.expires_ns - now_ns) / 1000000000ull) : 0;
  return {{"proto", proto_name(e.nexthdr)},
          {"direction", e.dir == CPP_NAT_EGRESS ? "OUT" : "IN"},
          {"source", endpoint_str(e.saddr, e.sport)},
          {"destination", endpoint_str(e.daddr, e.dport)},
          {"xlate", endpoint_str(e.to_addr, e.to_port)},
          {"flags", flags},
          {"expires_in_s", left},
          {"expired", e.expires_ns <= now_ns}};
}

std::string nat_entry_to_text(const NatEntry& e, uint64_t now_ns) {
  auto j = nat_entry_to_json(e, now_ns);
  return j["proto"].get<std::string>() + " " + j["direction"].get<std::string>() + " " +
         j["source"].get<std::string>() + " -> " + j["destination"].get<std::string>() +
         (e.dir == CPP_NAT_EGRESS ? " XLATE_SRC " : " XLATE_DST ") + j["xlate"].get<std::string>() +
         " expires " + std::to_string(j["expires_in_s"].get<int64_t>()) + "s";
}

nlohmann::json nat_to_json(const std::vector<NatEntry>& entries, uint64_t now_ns) {
  auto out = nlohmann::json::array();
  for (const auto& e : entries) out.push_back(nat_entry_to_json(e, now_ns));
  return out;
}

}  // namespace cpp::datapath
