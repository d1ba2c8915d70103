#include "datapath/conntrack_map.h"

#include <arpa/inet.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <tuple>

namespace cpp::datapath {
namespace {

void fill_value(CtEntry& e, const cpp_ct_value& v) {
  e.expires_ns = v.expires_ns;
  e.flags = v.flags;
  e.src_identity = v.src_identity;
  e.ep_id = v.ep_id;
  e.proxy_port = ntohs(v.proxy_port);
  e.cookie = v.cookie;
  e.packets = v.packets;
  e.bytes = v.bytes;
}

CtEntry decode4(const cpp_ct_key4& k, const cpp_ct_value& v) {
  CtEntry e;
  std::memcpy(e.saddr.bytes.data(), &k.saddr, 4);
  std::memcpy(e.daddr.bytes.data(), &k.daddr, 4);
  e.sport = ntohs(k.sport);
  e.dport = ntohs(k.dport);
  e.nexthdr = k.nexthdr;
  e.dir = k.dir;
  fill_value(e, v);
  return e;
}

CtEntry decode6(const cpp_ct_key6& k, const cpp_ct_value& v) {
  CtEntry e;
  e.saddr.v6 = e.daddr.v6 = true;
  std::memcpy(e.saddr.bytes.data(), k.saddr, 16);
  std::memcpy(e.daddr.bytes.data(), k.daddr, 16);
  e.sport = ntohs(k.sport);
  e.dport = ntohs(k.dport);
  e.nexthdr = k.nexthdr;
  e.dir = k.dir;
  fill_value(e, v);
  return e;
}

auto tuple_of(const CtEntry& e) {
  return std::tie(e.saddr, e.daddr, e.nexthdr, e.sport, e.dport, e.dir);
}

}  // namespace

uint64_t monotonic_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

ConntrackMaps::ConntrackMaps(const std::string& pin_dir)
    : ct4_(pin_dir + "/" CPP_MAP_CT4, sizeof(cpp_ct_key4), sizeof(cpp_ct_value)),
      ct6_(pin_dir + "/" CPP_MAP_CT6, sizeof(cpp_ct_key6), sizeof(cpp_ct_value)) {}

std::vector<CtEntry> ConntrackMaps::dump(bool include_expired) const {
  std::vector<CtEntry> v4, v6;
  uint64_t now = include_expired ? 0 : monotonic_now_ns();
  ct4_.for_each([&](const void* k, const void* v) {
    auto e = decode4(*static_cast<const cpp_ct_key4*>(k), *static_cast<const cpp_ct_value*>(v));
    if (e.expires_ns > now) v4.push_back(e);
  });
  ct6_.for_each([&](const void* k, const void* v) {
    auto e = decode6(*static_cast<const cpp_ct_key6*>(k), *static_cast<const cpp_ct_value*>(v));
    if (e.expires_ns > now) v6.push_back(e);
  });
  auto by_tuple = [](const CtEntry& a, const CtEntry& b) { return tuple_of(a) < tuple_of(b); };
  std::sort(v4.begin(), v4.end(), by_tuple);
  std::sort(v6.begin(), v6.end(), by_tuple);
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

size_t ConntrackMaps::count() const {
  size_t n = 0;
  ct4_.for_each([&](const void*, const void*) { ++n; });
  ct6_.for_each([&](const void*, const void*) { ++n; });
  return n;
}

size_t ConntrackMaps::flush_endpoint(uint16_t ep_id) const {
  return flush_if([ep_id](const cpp_ct_value& v) { return v.ep_id == ep_id; });
}

size_t ConntrackMaps::flush_all() const {
  return flush_if([](const cpp_ct_value&) { return true; });
}

size_t ConntrackMaps::flush_if(const std::function<bool(const cpp_ct_value&)>& match) const {
  // Keys first, deletes after: deleting while iterating would restart a
  // get_next_key walk.
  std::vector<cpp_ct_key4> k4;
  std::vector<cpp_ct_key6> k6;
  ct4_.for_each([&](const void* k, const void* v) {
    if (match(*static_cast<const cpp_ct_value*>(v))) k4.push_back(*static_cast<const cpp_ct_key4*>(k));
  });
  ct6_.for_each([&](const void* k, const void* v) {
    if (match(*static_cast<const cpp_ct_value*>(v))) k6.push_back(*static_cast<const cpp_ct_key6*>(k));
  });
  size_t n = 0;
  for (const auto& k : k4) n += ct4_.remove(&k) ? 1 : 0;
  for (const auto& k : k6) n += ct6_.remove(&k) ? 1 : 0;
  return n;
}

}  // namespace cpp::datapath
