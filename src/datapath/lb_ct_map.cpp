#include "datapath/lb_ct_map.h"

#include <arpa/inet.h>

#include <cstring>

#include "datapath/map_json.h"
#include "datapath/pinned_map.h"

namespace cpp::datapath {
namespace {

IpAddr addr_of(const void* p, bool v6) {
  IpAddr a;
  a.v6 = v6;
  std::memcpy(a.bytes.data(), p, v6 ? 16 : 4);
  return a;
}

template <typename Key>
LbCtEntry decode(const Key& k, const cpp_lb_ct_value& v, bool v6) {
  LbCtEntry e;
  e.saddr = addr_of(&k.saddr, v6);
  e.daddr = addr_of(&k.daddr, v6);
  e.sport = ntohs(k.sport);
  e.dport = ntohs(k.dport);
  e.proto = k.nexthdr;
  e.dir = k.dir;
  e.addr = addr_of(&v.addr, v6);
  e.port = ntohs(v.port);
  e.svc_id = v.svc_id;
  e.backend_id = v.backend_id;
  e.flags = v.flags;
  e.ifindex = v.ifindex;
  e.expires_ns = v.expires_ns;
  return e;
}

std::string ep(const IpAddr& a, uint16_t port) {
  return (a.v6 ? "[" + a.str() + "]" : a.str()) + ":" + std::to_string(port);
}

}  // namespace

std::vector<LbCtEntry> dump_lb_ct(const std::string& pin_dir) {
  std::vector<LbCtEntry> out;
  PinnedMap ct4(pin_dir + "/" CPP_MAP_LB_CT4, sizeof(cpp_ct_key4), sizeof(cpp_lb_ct_value));
  PinnedMap ct6(pin_dir + "/" CPP_MAP_LB_CT6, sizeof(cpp_ct_key6), sizeof(cpp_lb_ct_value));
  ct4.for_each([&](const void* k, const void* v) {
    out.push_back(decode(*static_cast<const cpp_ct_key4*>(k), *static_cast<const cpp_lb_ct_value*>(v), false));
  });
  ct6.for_each([&](const void* k, const void* v) {
    out.push_back(decode(*static_cast<const cpp_ct_key6*>(k), *static_cast<const cpp_lb_ct_value*>(v), true));
  });
  return out;
}

nlohmann::json lb_ct_to_json(const std::vector<LbCtEntry>& entries, uint64_t now_ns) {
  auto out = nlohmann::json::array();
  for (const auto& e : entries) {
    auto flags = nlohmann::json::array();
    if (e.flags & CPP_LB_CT_F_EXTERNAL) flags.push_back("external");
    if (e.flags & CPP_LB_CT_F_SNAT) flags.push_back("snat");
    if (e.flags & CPP_LB_CT_F_CLOSING) flags.push_back("closing");
    int64_t left = e.expires_ns > now_ns ? static_cast<int64_t>((e.expires_ns - now_ns) / 1000000000ull) : 0;
    out.push_back({{"proto", proto_name(e.proto)},
                   {"direction", e.dir == CPP_LB_CT_SVC ? "SVC" : "REV"},
                   {"source", ep(e.saddr, e.sport)},
                   {"destination", ep(e.daddr, e.dport)},
                   {"xlate", ep(e.addr, e.port)},
                   {"svc_id", e.svc_id},
                   {"backend_id", e.backend_id},
                   {"flags", flags},
                   {"ifindex", e.ifindex},
                   {"expires_in_s", left}});
  }
  return out;
}

std::string lb_ct_entry_to_text(const LbCtEntry& e, uint64_t now_ns) {
  auto j = lb_ct_to_json({e}, now_ns)[0];
  std::string f;
  for (const auto& x : j["flags"]) f += (f.empty() ? "" : ",") + x.get<std::string>();
  return j["proto"].get<std::string>() + " " + j["direction"].get<std::string>() + " " +
         j["source"].get<std::string>() + " -> " + j["destination"].get<std::string>() + " XLATE " +
         j["xlate"].get<std::string>() + " svc=" + std::to_string(e.svc_id) + " backend=" +
         std::to_string(e.backend_id) + (f.empty() ? "" : " [" + f + "]") + " expires=" +
         std::to_string(j["expires_in_s"].get<int64_t>()) + "s";
}

}  // namespace cpp::datapath
