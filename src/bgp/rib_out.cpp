#include "bgp/rib_out.h"

#include <algorithm>

namespace cpp::bgp {

namespace {

// Prefixes per UPDATE: 200 IPv6 /128s with attributes stay well below 4096 bytes.
constexpr size_t kChunk = 200;

const Family kV4{Afi::IPv4, Safi::Unicast};
const Family kV6{Afi::IPv6, Safi::Unicast};

PathAttributes attributes(const RibOutContext& ctx) {
  PathAttributes a;
  a.origin = Origin::Igp;
  if (ctx.ebgp) {
    // A 2-octet peer sees AS_TRANS for a 4-octet ASN (RFC 6793 §4.2.2; no AS4_PATH written).
    uint32_t asn = ctx.four_octet_as || ctx.local_asn <= 0xffff ? ctx.local_asn : kAsTrans;
    a.as_path.push_back({AsPathSegment::Type::Sequence, {asn}});
  } else {
    a.local_pref = 100;
  }
  return a;
}

template <typename F>
void chunked(const std::vector<IpPrefix>& all, F&& emit) {
  for (size_t i = 0; i < all.size(); i += kChunk)
    emit(std::vector<IpPrefix>(all.begin() + i, all.begin() + std::min(all.size(), i + kChunk)));
}

}  // namespace

Family family_of(const IpPrefix& p) { return p.addr.v6 ? kV6 : kV4; }

Resolved resolve_routes(const std::vector<Route>& routes, const RibOutContext& ctx) {
  Resolved r;
  for (const auto& rt : routes) {
    Family f = family_of(rt.prefix);
    if (std::find(ctx.families.begin(), ctx.families.end(), f) == ctx.families.end()) continue;
    std::optional<IpAddr> nh;
    if (rt.next_hop && rt.next_hop->v6 == rt.prefix.addr.v6) {
      nh = rt.next_hop;
    } else if (!rt.next_hop) {
      nh = f.afi == Afi::IPv6 ? ctx.local_v6 : ctx.local_v4;
    }
    if (!nh) {
      r.skipped.push_back(rt.prefix.str() + ": no " + (f.afi == Afi::IPv6 ? "IPv6" : "IPv4") +
                          " next hop (give the route one, or peer over " +
                          (f.afi == Afi::IPv6 ? "IPv6" : "IPv4") + ")");
      continue;
    }
    r.routes[rt.prefix] = *nh;
  }
  return r;
}

std::vector<Update> diff_updates(const RibOut& sent, const RibOut& desired, const RibOutContext& ctx) {
  std::vector<Update> out;
  std::vector<IpPrefix> gone4, gone6;
  for (const auto& [p, nh] : sent)
    if (!desired.count(p)) (p.addr.v6 ? gone6 : gone4).push_back(p);
  chunked(gone4, [&](std::vector<IpPrefix> c) {
    Update u;
    u.withdrawn = std::move(c);
    out.push_back(std::move(u));
  });
  chunked(gone6, [&](std::vector<IpPrefix> c) {
    Update u;
    u.mp_unreach = MpUnreach{kV6, std::move(c)};
    out.push_back(std::move(u));
  });
  std::map<IpAddr, std::vector<IpPrefix>> by_next_hop;
  for (const auto& [p, nh] : desired) {
    auto it = sent.find(p);
    if (it == sent.end() || it->second != nh) by_next_hop[nh].push_back(p);
  }
  for (const auto& [nh, prefixes] : by_next_hop) {
    chunked(prefixes, [&](std::vector<IpPrefix> c) {
      Update u;
      u.attrs = attributes(ctx);
      if (nh.v6 == c.front().addr.v6 && !nh.v6) {
        u.attrs.next_hop = nh;
        u.nlri = std::move(c);
      } else {
        u.mp_reach = MpReach{kV6, nh, std::nullopt, std::move(c)};
      }
      out.push_back(std::move(u));
    });
  }
  return out;
}

std::vector<Update> end_of_rib(const std::vector<Family>& families) {
  std::vector<Update> out;
  for (const auto& f : families) {
    Update u;
    if (f != kV4) u.mp_unreach = MpUnreach{f, {}};
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace cpp::bgp
