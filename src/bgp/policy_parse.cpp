// Parsing of CiliumBGPPeeringPolicy: upstream's field names, defaults and
// ranges (the CRD's kubebuilder markers), plus the checks upstream only
// makes at reconcile time (keepalive <= hold, unique routers and peers),
// so a bad policy is reported once, with the field that is wrong.
#include <map>
#include <set>
#include <stdexcept>

#include "bgp/peering_policy.h"
#include "service/json_read.h"

namespace cpp::bgp {

using namespace service::json_read;

namespace {

std::string idx(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

uint32_t asn(const nlohmann::json& obj, const char* name, const std::string& path) {
  auto v = opt_int(obj, name, path);
  std::string p = path + "." + name;
  if (!v) fail(p, "missing");
  if (*v < 1 || *v > 4294967295LL) fail(p, std::to_string(*v) + " is not a valid ASN (1..4294967295)");
  return static_cast<uint32_t>(*v);
}

// An optional integer in [lo, hi], else `def`.
int64_t ranged(const nlohmann::json& obj, const char* name, const std::string& path, int64_t lo, int64_t hi,
               int64_t def) {
  auto v = opt_int(obj, name, path);
  if (!v) return def;
  if (*v < lo || *v > hi)
    fail(path + "." + name, "must be " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(*v));
  return *v;
}

// Upstream's enums list more families than ciliumpp speaks; those are
// named as unsupported rather than unknown.
Family family(const nlohmann::json& j, const std::string& path) {
  expect_object(j, path);
  auto afi = opt_string(j, "afi", path);
  auto safi = opt_string(j, "safi", path);
  if (!afi) fail(path + ".afi", "missing");
  if (!safi) fail(path + ".safi", "missing");
  static const std::set<std::string> upstream_afis{"ipv4", "ipv6", "l2vpn", "ls", "opaque"};
  static const std::set<std::string> upstream_safis{
      "unicast",  "multicast", "mpls_label", "encapsulation", "vpls",     "evpn",
      "ls",       "sr_policy", "mup",        "mpls_vpn",      "mpls_vpn_multicast",
      "route_target_constraints", "flowspec_unicast", "flowspec_vpn", "key_value"};
  if (!upstream_afis.count(*afi)) fail(path + ".afi", "unknown afi \"" + *afi + "\"");
  if (!upstream_safis.count(*safi)) fail(path + ".safi", "unknown safi \"" + *safi + "\"");
  if ((*afi != "ipv4" && *afi != "ipv6") || *safi != "unicast")
    fail(path, *afi + "/" + *safi + " is not supported (ipv4/unicast and ipv6/unicast are)");
  return {*afi == "ipv4" ? Afi::IPv4 : Afi::IPv6, Safi::Unicast};
}

PolicyNeighbor neighbor(const nlohmann::json& j, const std::string& path) {
  expect_object(j, path);
  PolicyNeighbor n;
  NeighborConfig& c = n.config;
  // Upstream's default families are offered, not demanded: a peer speaking
  // only one of them still gets a session (as GoBGP negotiates). Families
  // the user lists are demanded, so a peer lacking one is reported.
  c.families_required = false;

  auto addr = opt_string(j, "peerAddress", path);
  if (!addr) fail(path + ".peerAddress", "missing");
  auto pfx = IpPrefix::parse(*addr, true);
  if (!pfx || pfx->len != pfx->addr.bits())
    fail(path + ".peerAddress", "must be one address in CIDR form (10.0.0.1/32 or fd00::1/128), got \"" + *addr + "\"");
  c.peer_address = pfx->addr;

  c.peer_asn = asn(j, "peerASN", path);
  c.peer_port = static_cast<uint16_t>(ranged(j, "peerPort", path, 1, 65535, 179));
  c.ebgp_multihop_ttl = static_cast<uint8_t>(ranged(j, "eBGPMultihopTTL", path, 1, 255, 1));
  // Upstream allows up to 2^31-1; the speaker's timer is 16 bits.
  c.connect_retry_s = static_cast<uint16_t>(ranged(j, "connectRetryTimeSeconds", path, 1, 65535, 120));
  c.hold_time_s = static_cast<uint16_t>(ranged(j, "holdTimeSeconds", path, 3, 65535, 90));
  c.keepalive_s = static_cast<uint16_t>(ranged(j, "keepAliveTimeSeconds", path, 1, 65535, 30));
  if (c.keepalive_s > c.hold_time_s)
    fail(path + ".keepAliveTimeSeconds", std::to_string(c.keepalive_s) + " is larger than holdTimeSeconds " +
                                             std::to_string(c.hold_time_s));

  if (auto* gr = member(j, "gracefulRestart", path)) {
    std::string gp = path + ".gracefulRestart";
    expect_object(*gr, gp);
    auto enabled = opt_bool(*gr, "enabled", gp);
    if (!enabled) fail(gp + ".enabled", "missing");
    c.graceful_restart = *enabled;
    // 12 bits in the capability (RFC 4724 §3).
    c.restart_time_s = static_cast<uint16_t>(ranged(*gr, "restartTimeSeconds", gp, 1, 4095, 120));
  }

  if (auto ref = opt_string(j, "authSecretRef", path)) {
    if (ref->empty()) fail(path + ".authSecretRef", "empty secret name");
    n.auth_secret_ref = *ref;
  }

  if (auto* fams = member(j, "families", path)) {
    std::string fp = path + ".families";
    expect_array(*fams, fp);
    if (!fams->empty()) {
      c.families.clear();
      c.families_required = true;
      for (size_t i = 0; i < fams->size(); ++i) {
        Family f = family((*fams)[i], idx(fp, i));
        for (auto& seen : c.families)
          if (seen == f) fail(idx(fp, i), "duplicate family");
        c.families.push_back(f);
      }
    }
  }
  return n;
}

ServiceAddressType address_type(const nlohmann::json& j, const std::string& path) {
  std::string s = get_string(j, path);
  if (s == "LoadBalancerIP") return ServiceAddressType::LoadBalancerIP;
  if (s == "ClusterIP") return ServiceAddressType::ClusterIP;
  if (s == "ExternalIP") return ServiceAddressType::ExternalIP;
  fail(path, "must be LoadBalancerIP, ClusterIP or ExternalIP, got \"" + s + "\"");
}

PolicyVirtualRouter virtual_router(const nlohmann::json& j, const std::string& path) {
  expect_object(j, path);
  PolicyVirtualRouter r;
  r.local_asn = asn(j, "localASN", path);
  r.export_pod_cidr = opt_bool(j, "exportPodCIDR", path).value_or(false);
  if (auto* s = member(j, "podIPPoolSelector", path))
    r.pod_ip_pool_selector = service::parse_label_selector(*s, path + ".podIPPoolSelector");
  if (auto* s = member(j, "serviceSelector", path))
    r.service_selector = service::parse_label_selector(*s, path + ".serviceSelector");
  if (auto* ads = member(j, "serviceAdvertisements", path)) {
    std::string ap = path + ".serviceAdvertisements";
    expect_array(*ads, ap);
    r.service_advertisements.clear();
    for (size_t i = 0; i < ads->size(); ++i) {
      auto t = address_type((*ads)[i], idx(ap, i));
      for (auto seen : r.service_advertisements)
        if (seen == t) fail(idx(ap, i), "duplicate advertisement");
      r.service_advertisements.push_back(t);
    }
  }
  auto* ns = member(j, "neighbors", path);
  if (!ns) fail(path + ".neighbors", "missing");
  std::string np = path + ".neighbors";
  expect_array(*ns, np);
  for (size_t i = 0; i < ns->size(); ++i) r.neighbors.push_back(neighbor((*ns)[i], idx(np, i)));
  return r;
}

}  // namespace

PeeringPolicy parse_peering_policy(const nlohmann::json& obj) {
  expect_object(obj, "policy");
  PeeringPolicy p;
  auto* md = member(obj, "metadata", "");
  if (!md) fail("metadata", "missing");
  auto name = opt_string(*md, "name", "metadata");
  if (!name || name->empty()) fail("metadata.name", "missing");
  p.name = *name;
  auto* spec = member(obj, "spec", "");
  if (!spec) fail("spec", "missing");
  if (auto* s = member(*spec, "nodeSelector", "spec")) p.node_selector = service::parse_label_selector(*s, "spec.nodeSelector");

  auto* vrs = member(*spec, "virtualRouters", "spec");
  if (!vrs) fail("spec.virtualRouters", "missing");
  expect_array(*vrs, "spec.virtualRouters");
  if (vrs->empty()) fail("spec.virtualRouters", "needs at least one virtual router");
  std::map<uint32_t, std::string> asns;   // localASN -> where first seen
  std::map<IpAddr, std::string> peers;    // peer address -> where first seen
  for (size_t i = 0; i < vrs->size(); ++i) {
    std::string vp = idx("spec.virtualRouters", i);
    p.virtual_routers.push_back(virtual_router((*vrs)[i], vp));
    const auto& r = p.virtual_routers.back();
    auto [it, fresh] = asns.emplace(r.local_asn, vp);
    if (!fresh) fail(vp + ".localASN", std::to_string(r.local_asn) + " is already the localASN of " + it->second);
    for (size_t k = 0; k < r.neighbors.size(); ++k) {
      std::string np = idx(vp + ".neighbors", k);
      const IpAddr& a = r.neighbors[k].config.peer_address;
      auto [pit, pfresh] = peers.emplace(a, np);
      if (!pfresh) fail(np + ".peerAddress", a.str() + " is already the neighbor " + pit->second);
    }
  }
  return p;
}

ParsedPolicy parse_policy_object(const nlohmann::json& obj) {
  ParsedPolicy out;
  if (obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object()) {
    auto& md = obj["metadata"];
    if (md.contains("name") && md["name"].is_string()) out.name = md["name"].get<std::string>();
  }
  try {
    out.policy = parse_peering_policy(obj);
  } catch (const std::invalid_argument& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace cpp::bgp
