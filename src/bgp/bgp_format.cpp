#include "bgp/bgp_format.h"

#include <algorithm>
#include <tuple>

namespace cpp::bgp {

namespace {

// Like Go's tabwriter(minwidth 5, padding 3): every column but the last is
// padded to its widest cell plus 3; the last is not padded.
std::string render(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  std::string out;
  for (auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line.append(std::max<size_t>(width[i] + 3, 5) - r[i].size(), ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

Family family_of(const IpPrefix& p) { return {p.addr.v6 ? Afi::IPv6 : Afi::IPv4, Safi::Unicast}; }

std::string next_hop_str(const RouteStatus& r) {
  if (r.route.next_hop) return r.route.next_hop->str();
  return r.route.prefix.addr.v6 ? "::" : "0.0.0.0";
}

std::string attrs_str(const RouteStatus& r) {
  std::string nh = next_hop_str(r);
  if (!r.route.prefix.addr.v6) return "[{Origin: i} {Nexthop: " + nh + "}]";
  return "[{Origin: i} {MpReach(ipv6-unicast): {Nexthop: " + nh + ", NLRIs: [" + r.route.prefix.str() + "]}}]";
}

nlohmann::json family_json(Family f) {
  return {{"afi", f.afi == Afi::IPv4 ? "ipv4" : "ipv6"}, {"safi", "unicast"}};
}

}  // namespace

std::string family_str(Family f) { return std::string(f.afi == Afi::IPv4 ? "ipv4" : "ipv6") + "/unicast"; }

std::optional<Family> parse_family(const std::string& afi, const std::string& safi) {
  if (safi != "unicast") return std::nullopt;
  if (afi == "ipv4") return Family{Afi::IPv4, Safi::Unicast};
  if (afi == "ipv6") return Family{Afi::IPv6, Safi::Unicast};
  return std::nullopt;
}

std::string uptime_str(std::chrono::seconds s) {
  long long t = std::max<long long>(s.count(), 0);
  long long h = t / 3600, m = t / 60 % 60, sec = t % 60;
  if (h) return std::to_string(h) + "h" + std::to_string(m) + "m" + std::to_string(sec) + "s";
  if (m) return std::to_string(m) + "m" + std::to_string(sec) + "s";
  return std::to_string(sec) + "s";
}

std::string format_peers(const std::vector<PeerStatus>& peers) {
  std::vector<const PeerStatus*> sorted;
  for (auto& p : peers) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) {
    return std::tie(a->local_asn, a->peer_address) < std::tie(b->local_asn, b->peer_address);
  });
  std::vector<std::vector<std::string>> rows{
      {"Local AS", "Peer AS", "Peer Address", "Session", "Uptime", "Family", "Received", "Advertised"}};
  for (auto* p : sorted) {
    bool established = p->state == SessionState::Established;
    std::string uptime = uptime_str(established ? p->uptime : std::chrono::seconds{0});
    // Received is per family (as upstream's table); the speaker counts what it
    // advertises over all families, so that stays on the peer's first row.
    auto received = [&](size_t i) {
      if (p->received_by_family.empty()) return i == 0 ? std::to_string(p->received) : std::string();
      auto it = p->received_by_family.find(p->families[i]);
      return std::to_string(it == p->received_by_family.end() ? 0 : it->second);
    };
    if (p->families.empty()) {
      rows.push_back({std::to_string(p->local_asn), std::to_string(p->peer_asn), p->peer_address.str(),
                      to_string(p->state), uptime, "", std::to_string(p->received), std::to_string(p->advertised)});
      continue;
    }
    rows.push_back({std::to_string(p->local_asn), std::to_string(p->peer_asn), p->peer_address.str(),
                    to_string(p->state), uptime, family_str(p->families[0]), received(0),
                    std::to_string(p->advertised)});
    for (size_t i = 1; i < p->families.size(); ++i)
      rows.push_back({"", "", "", "", "", family_str(p->families[i]), received(i), ""});
  }
  return render(rows);
}

nlohmann::json peers_json(const std::vector<PeerStatus>& peers) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& p : peers) {
    nlohmann::json fams = nlohmann::json::array();
    for (auto f : p.families) fams.push_back(family_json(f));
    nlohmann::json j = {
        {"local-asn", p.local_asn},
        {"peer-asn", p.peer_asn},
        {"peer-address", p.peer_address.str()},
        {"session-state", to_string(p.state)},
        {"uptime-nanoseconds", std::chrono::nanoseconds(p.uptime).count()},
        {"families", fams},
        {"applied-hold-time-seconds", p.hold_time_s},
        {"applied-keep-alive-time-seconds", p.keepalive_s},
        {"graceful-restart", {{"enabled", p.graceful_restart}}},
        {"received", p.received},
        {"advertised", p.advertised},
        {"stale", p.stale},
    };
    nlohmann::json by_family = nlohmann::json::object();
    for (const auto& [f, n] : p.received_by_family) by_family[family_str(f)] = n;
    j["received-by-family"] = std::move(by_family);
    if (!p.last_error.empty()) j["last-error"] = p.last_error;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<RouteStatus> filter_routes(const std::vector<RouteStatus>& routes, const RouteFilter& f) {
  std::vector<RouteStatus> out;
  for (auto& r : routes) {
    if (f.family && family_of(r.route.prefix) != *f.family) continue;
    if (f.router_asn && r.local_asn != *f.router_asn) continue;
    if (f.peer && r.peer_address != *f.peer) continue;
    out.push_back(r);
  }
  return out;
}

std::string format_routes(const std::vector<RouteStatus>& routes, bool advertised) {
  std::vector<const RouteStatus*> sorted;
  for (auto& r : routes) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) {
    return std::tie(a->local_asn, a->peer_address, a->route.prefix) <
           std::tie(b->local_asn, b->peer_address, b->route.prefix);
  });
  std::vector<std::vector<std::string>> rows;
  if (advertised) rows.push_back({"VRouter", "Peer", "Prefix", "NextHop", "Attrs"});
  else rows.push_back({"VRouter", "Prefix", "NextHop", "Attrs"});
  for (auto* r : sorted) {
    std::vector<std::string> row{std::to_string(r->local_asn)};
    if (advertised) row.push_back(r->peer_address.str());
    row.insert(row.end(), {r->route.prefix.str(), next_hop_str(*r), attrs_str(*r)});
    rows.push_back(std::move(row));
  }
  return render(rows);
}

nlohmann::json routes_json(const std::vector<RouteStatus>& routes) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& r : routes) {
    nlohmann::json j = {{"router-asn", r.local_asn},
                        {"prefix", r.route.prefix.str()},
                        {"family", family_json(family_of(r.route.prefix))}};
    if (r.peer_address != IpAddr{}) j["neighbor"] = r.peer_address.str();
    if (r.route.next_hop) j["next-hop"] = r.route.next_hop->str();
    out.push_back(std::move(j));
  }
  return out;
}

namespace {

IpAddr ip_field(const nlohmann::json& j, const char* key, size_t i) {
  auto ip = IpAddr::parse(j.value(key, ""));
  if (!ip) throw std::invalid_argument("[" + std::to_string(i) + "]." + key + ": not an IP address");
  return *ip;
}

Family family_from_json(const nlohmann::json& f, size_t i) {
  auto fam = parse_family(f.value("afi", ""), f.value("safi", ""));
  if (!fam) throw std::invalid_argument("[" + std::to_string(i) + "].families: unknown family " + f.dump());
  return *fam;
}

}  // namespace

std::vector<PeerStatus> peers_from_json(const nlohmann::json& j) {
  if (!j.is_array()) throw std::invalid_argument("peers: expected a JSON array");
  std::vector<PeerStatus> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    PeerStatus p;
    p.local_asn = e.value("local-asn", 0u);
    p.peer_asn = e.value("peer-asn", 0u);
    p.peer_address = ip_field(e, "peer-address", i);
    std::string st = e.value("session-state", "");
    bool known = false;
    for (auto s : {SessionState::Idle, SessionState::Connect, SessionState::Active, SessionState::OpenSent,
                   SessionState::OpenConfirm, SessionState::Established})
      if (st == to_string(s)) p.state = s, known = true;
    if (!known) throw std::invalid_argument("[" + std::to_string(i) + "].session-state: unknown \"" + st + "\"");
    p.uptime = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::nanoseconds(e.value("uptime-nanoseconds", int64_t{0})));
    if (e.contains("families"))
      for (const auto& f : e["families"]) p.families.push_back(family_from_json(f, i));
    p.hold_time_s = e.value("applied-hold-time-seconds", uint16_t{0});
    p.keepalive_s = e.value("applied-keep-alive-time-seconds", uint16_t{0});
    if (e.contains("graceful-restart")) p.graceful_restart = e["graceful-restart"].value("enabled", false);
    p.received = e.value("received", size_t{0});
    p.advertised = e.value("advertised", size_t{0});
    p.stale = e.value("stale", size_t{0});
    if (e.contains("received-by-family") && e["received-by-family"].is_object())
      for (const auto& [name, n] : e["received-by-family"].items()) {
        auto slash = name.find('/');
        auto f = slash == std::string::npos ? std::nullopt : parse_family(name.substr(0, slash), name.substr(slash + 1));
        if (!f || !n.is_number_unsigned())
          throw std::invalid_argument("[" + std::to_string(i) + "].received-by-family." + name + ": not a family count");
        p.received_by_family[*f] = n.get<size_t>();
      }
    p.last_error = e.value("last-error", "");
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<RouteStatus> routes_from_json(const nlohmann::json& j) {
  if (!j.is_array()) throw std::invalid_argument("routes: expected a JSON array");
  std::vector<RouteStatus> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    RouteStatus r;
    r.local_asn = e.value("router-asn", 0u);
    auto prefix = IpPrefix::parse(e.value("prefix", ""));
    if (!prefix) throw std::invalid_argument("[" + std::to_string(i) + "].prefix: not a prefix");
    r.route.prefix = *prefix;
    if (e.contains("neighbor")) r.peer_address = ip_field(e, "neighbor", i);
    if (e.contains("next-hop")) r.route.next_hop = ip_field(e, "next-hop", i);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace cpp::bgp
