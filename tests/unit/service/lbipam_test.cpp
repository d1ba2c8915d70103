#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "service/lbipam.h"

using namespace cpp;
using namespace cpp::service;
using namespace cpp::service::lbipam;
using nlohmann::json;

namespace {

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

json pool_json(const std::string& name, json blocks, const std::string& created = "2024-01-01T00:00:00Z") {
  return {{"apiVersion", "cilium.io/v2alpha1"},
          {"kind", "CiliumLoadBalancerIPPool"},
          {"metadata", {{"name", name}, {"creationTimestamp", created}}},
          {"spec", {{"blocks", blocks}}}};
}

Pool pool(const std::string& name, json blocks, const std::string& created = "2024-01-01T00:00:00Z") {
  return parse_pool(pool_json(name, std::move(blocks), created));
}

std::string pool_error(const json& j) {
  try {
    parse_pool(j);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

ServiceRequest req(const std::string& key, bool v4 = true, bool v6 = false) {
  ServiceRequest r;
  r.key = key;
  r.want_v4 = v4;
  r.want_v6 = v6;
  auto slash = key.find('/');
  r.labels[kServiceNamespaceLabel] = key.substr(0, slash);
  r.labels[kServiceNameLabel] = key.substr(slash + 1);
  return r;
}

const Condition* cond(const PoolResult& p, const char* type) {
  for (auto& c : p.conditions)
    if (c.type == type) return &c;
  return nullptr;
}

}  // namespace

TEST(LbIpamParse, BlocksAndOptions) {
  auto j = pool_json("blue", {{{"cidr", "10.0.10.0/24"}},
                              {{"cidr", "2004::0/64"}},
                              {{"start", "20.0.20.100"}, {"stop", "20.0.20.200"}},
                              {{"start", "1.2.3.4"}}});
  j["spec"]["serviceSelector"] = {{"matchLabels", {{"color", "blue"}}},
                                  {"matchExpressions", {{{"key", "tier"}, {"operator", "NotIn"}, {"values", {"db"}}}}}};
  j["spec"]["allowFirstLastIPs"] = "Yes";
  j["spec"]["disabled"] = true;
  Pool p = parse_pool(j);
  EXPECT_EQ(p.name, "blue");
  ASSERT_EQ(p.blocks.size(), 4u);
  EXPECT_EQ(p.blocks[0].str(), "10.0.10.0/24");
  EXPECT_EQ(p.blocks[0].last, ip("10.0.10.255"));
  EXPECT_EQ(p.blocks[1].str(), "2004::/64");
  EXPECT_EQ(p.blocks[1].last, ip("2004::ffff:ffff:ffff:ffff"));
  EXPECT_EQ(p.blocks[2].str(), "20.0.20.100-20.0.20.200");
  EXPECT_EQ(p.blocks[3].first, p.blocks[3].last);
  EXPECT_TRUE(p.allow_first_last);
  EXPECT_TRUE(p.disabled);
  ASSERT_TRUE(p.selector);
  EXPECT_TRUE(p.selector->matches({{"color", "blue"}}));
  EXPECT_FALSE(p.selector->matches({{"color", "blue"}, {"tier", "db"}}));
  EXPECT_FALSE(p.selector->matches({{"color", "red"}}));
}

TEST(LbIpamParse, DeprecatedCidrsCountAsBlocks) {
  auto j = pool_json("old", {{{"cidr", "10.0.10.0/24"}}});
  j["spec"]["cidrs"] = json::array({{{"cidr", "2004::/64"}}});
  Pool p = parse_pool(j);
  ASSERT_EQ(p.blocks.size(), 2u);
  EXPECT_EQ(p.blocks[1].str(), "2004::/64");
  j["spec"].erase("blocks");
  EXPECT_EQ(parse_pool(j).blocks.size(), 1u);
  j["spec"]["cidrs"][0]["cidr"] = "2004::/129";
  EXPECT_EQ(pool_error(j), "spec.cidrs[0].cidr: invalid CIDR \"2004::/129\"");
}

TEST(LbIpamParse, Errors) {
  auto with = [](json blocks, auto&& edit) {
    auto j = pool_json("p", std::move(blocks));
    edit(j);
    return pool_error(j);
  };
  auto none = [](json&) {};
  EXPECT_EQ(with({{{"cidr", "10.0.0.0/33"}}}, none), "spec.blocks[0].cidr: invalid CIDR \"10.0.0.0/33\"");
  EXPECT_EQ(with({{{"cidr", "10.0.0.0"}}}, none), "spec.blocks[0].cidr: invalid CIDR \"10.0.0.0\"");
  EXPECT_EQ(with({{{"cidr", "10.0.0.0/24"}}, {{"start", "10.0.1.9"}, {"stop", "10.0.1.1"}}}, none),
            "spec.blocks[1]: start 10.0.1.9 is after stop 10.0.1.1");
  EXPECT_EQ(with({{{"start", "10.0.1.1"}, {"stop", "fd00::1"}}}, none),
            "spec.blocks[0]: start 10.0.1.1 (IPv4) and stop fd00::1 (IPv6) are of different families");
  EXPECT_EQ(with({{{"start", "10.0.1.x"}}}, none), "spec.blocks[0].start: invalid IP address \"10.0.1.x\"");
  EXPECT_EQ(with({{{"stop", "10.0.1.1"}}}, none), "spec.blocks[0]: stop without start");
  EXPECT_EQ(with({{{"cidr", "10.0.0.0/24"}, {"start", "10.0.0.1"}}}, none),
            "spec.blocks[0]: cidr and start/stop are mutually exclusive");
  EXPECT_EQ(with(json::array(), none), "spec.blocks: needs at least one block");
  EXPECT_EQ(with({{{"cidr", "10.0.0.0/24"}}}, [](json& j) { j["spec"]["allowFirstLastIPs"] = "Maybe"; }),
            "spec.allowFirstLastIPs: must be Yes or No, got \"Maybe\"");
  EXPECT_EQ(with({{{"cidr", "10.0.0.0/24"}}}, [](json& j) { j["spec"]["disabled"] = "no"; }),
            "spec.disabled: expected a boolean, got string");
  EXPECT_EQ(with({{{"cidr", "10.0.0.0/24"}}},
                 [](json& j) {
                   j["spec"]["serviceSelector"] = {{"matchExpressions", {{{"key", "a"}, {"operator", "Near"}}}}};
                 }),
            "spec.serviceSelector.matchExpressions[0].operator: must be In, NotIn, Exists or DoesNotExist, got \"Near\"");
  EXPECT_EQ(with({{{"cidr", "10.0.0.0/24"}}},
                 [](json& j) {
                   j["spec"]["serviceSelector"] = {{"matchExpressions", {{{"key", "a"}, {"operator", "In"}}}}};
                 }),
            "spec.serviceSelector.matchExpressions[0].values: In needs at least one value");
}

TEST(LbIpam, FirstLastReservedUnlessAllowed) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/30"}}});
  std::vector<ServiceRequest> svcs = {req("ns/a"), req("ns/b"), req("ns/c")};
  auto res = allocate({p}, svcs);
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.2")});
  EXPECT_TRUE(res.services["ns/c"].ips.empty());
  EXPECT_EQ(res.services["ns/c"].condition,
            (Condition{kRequestSatisfied, "False", "out_of_ips",
                       "All enabled CiliumLoadBalancerIPPools that match this service ran out of allocatable IPs"}));
  EXPECT_EQ(res.services["ns/a"].condition, (Condition{kRequestSatisfied, "True", "satisfied", ""}));
  EXPECT_EQ(res.pools["p"].total, "2");
  EXPECT_EQ(res.pools["p"].used, "2");
  EXPECT_EQ(res.pools["p"].available, "0");
  EXPECT_EQ(cond(res.pools["p"], kIPsTotal)->message, "2");
  EXPECT_EQ(cond(res.pools["p"], kIPsTotal)->status, "Unknown");

  p.allow_first_last = true;
  res = allocate({p}, svcs);
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.0")});
  EXPECT_EQ(res.services["ns/c"].ips, std::vector<IpAddr>{ip("10.0.0.2")});
  EXPECT_EQ(res.pools["p"].available, "1");

  // IPv6 as upstream: the first and last address of a /126 are reserved too.
  res = allocate({pool("v6", {{{"cidr", "fd00::/126"}}})}, {req("ns/a", false, true)});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("fd00::1")});
  EXPECT_EQ(res.pools["v6"].total, "2");

  // /31, /32 and start/stop ranges have nothing reserved.
  res = allocate({pool("q", {{{"cidr", "10.1.0.0/31"}}, {{"start", "10.2.0.0"}, {"stop", "10.2.0.3"}}})}, {req("ns/a")});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.1.0.0")});
  EXPECT_EQ(res.pools["q"].total, "6");
}

TEST(LbIpam, DualStackAndIPv6Counts) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}, {{"cidr", "fd00::/64"}}});
  auto res = allocate({p}, {req("ns/a", true, true)});
  EXPECT_EQ(res.services["ns/a"].ips, (std::vector<IpAddr>{ip("10.0.0.1"), ip("fd00::1")}));
  EXPECT_EQ(res.pools["p"].total, "18446744073709551868");  // 254 + 2^64 - 2
  EXPECT_EQ(res.pools["p"].used, "2");
  // A family without any pool: no_pool.
  res = allocate({pool("v4", {{{"cidr", "10.0.0.0/24"}}})}, {req("ns/a", true, true)});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/a"].condition.reason, "no_pool");
}

TEST(LbIpam, KeepsCurrentAssignmentsStable) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}});
  auto a = req("ns/a"), b = req("ns/b");
  b.current = {ip("10.0.0.1")};  // b got .1 first; a, which sorts first, must not take it
  auto res = allocate({p}, {a, b});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.2")});
  // Same input, same output.
  auto again = allocate({p}, {b, a});
  EXPECT_EQ(again.services["ns/a"].ips, res.services["ns/a"].ips);
  // An IP outside every pool is dropped and replaced.
  b.current = {ip("192.0.2.1")};
  res = allocate({p}, {b});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  // A family the service no longer asks for is dropped.
  b.current = {ip("10.0.0.9")};
  b.want_v4 = false;
  b.want_v6 = true;
  res = allocate({p}, {b});
  EXPECT_TRUE(res.services["ns/b"].ips.empty());
  EXPECT_EQ(res.services["ns/b"].condition.reason, "no_pool");
}

TEST(LbIpam, PoolRemovedOrSelectorChangedTakesTheIPAway) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}});
  auto a = req("ns/a");
  a.current = {ip("10.0.0.7")};
  EXPECT_TRUE(allocate({}, {a}).services["ns/a"].ips.empty());
  p.selector = LabelSelector{{{"color", LabelRequirement::Op::In, {"blue"}}}};
  auto res = allocate({p}, {a});
  EXPECT_TRUE(res.services["ns/a"].ips.empty());
  EXPECT_EQ(res.services["ns/a"].condition.reason, "no_pool");
  a.labels["color"] = "blue";
  EXPECT_EQ(allocate({p}, {a}).services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.7")});
  // The namespace label upstream adds can be selected on.
  p.selector = LabelSelector{{{kServiceNamespaceLabel, LabelRequirement::Op::In, {"ns"}}}};
  EXPECT_EQ(allocate({p}, {a}).services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.7")});
}

TEST(LbIpam, DisabledPoolKeepsExistingButAllocatesNothing) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}});
  p.disabled = true;
  auto a = req("ns/a"), b = req("ns/b");
  a.current = {ip("10.0.0.5")};
  auto res = allocate({p}, {a, b});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.5")});
  EXPECT_TRUE(res.services["ns/b"].ips.empty());
  EXPECT_EQ(res.services["ns/b"].condition.reason, "no_pool");
}

TEST(LbIpam, RequestedIPs) {
  auto blue = pool("blue", {{{"cidr", "10.0.0.0/24"}}});
  auto red = pool("red", {{{"cidr", "10.9.0.0/24"}}});
  red.selector = LabelSelector{{{"color", LabelRequirement::Op::In, {"red"}}}};
  auto a = req("ns/a"), b = req("ns/b"), c = req("ns/c"), d = req("ns/d");
  a.requested = {ip("10.0.0.50")};
  b.requested = {ip("10.0.0.50")};  // taken by a
  c.requested = {ip("192.0.2.1")};  // in no pool
  d.requested = {ip("10.9.0.5")};   // in red, which does not select d
  auto res = allocate({blue, red}, {a, b, c, d});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.50")});
  EXPECT_EQ(res.services["ns/a"].condition.status, "True");
  EXPECT_EQ(res.services["ns/b"].condition,
            (Condition{kRequestSatisfied, "False", "already_allocated",
                       "The IP '10.0.0.50' is already allocated to another service"}));
  EXPECT_EQ(res.services["ns/c"].condition,
            (Condition{kRequestSatisfied, "False", "no_pool", "No pool exists with a CIDR containing '192.0.2.1'"}));
  EXPECT_EQ(res.services["ns/d"].condition,
            (Condition{kRequestSatisfied, "False", "pool_selector_mismatch",
                       "The pool with the CIDR containing '10.9.0.5', doesn't select this service"}));
  // The reserved first address cannot be requested.
  auto e = req("ns/e");
  e.requested = {ip("10.0.0.0")};
  EXPECT_EQ(allocate({blue}, {e}).services["ns/e"].condition.reason, "already_allocated");
  // A current IP that is not among the requested ones is dropped.
  a.current = {ip("10.0.0.1")};
  EXPECT_EQ(allocate({blue}, {a}).services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.50")});
}

TEST(LbIpam, ConflictingPoolAllocatesNothing) {
  auto old_pool = pool("old", {{{"cidr", "10.0.0.0/24"}}}, "2024-01-01T00:00:00Z");
  auto new_pool = pool("new", {{{"cidr", "10.0.0.128/25"}}, {{"cidr", "10.5.0.0/24"}}}, "2024-02-01T00:00:00Z");
  auto self = pool("self", {{{"cidr", "10.7.0.0/24"}}, {{"start", "10.7.0.9"}, {"stop", "10.7.0.20"}}},
                   "2023-01-01T00:00:00Z");
  auto a = req("ns/a");
  a.requested = {ip("10.5.0.10")};  // only in the conflicting pool
  auto b = req("ns/b");
  b.current = {ip("10.0.0.200")};   // in both: kept, attributed to the old pool
  auto res = allocate({new_pool, self, old_pool}, {a, b});
  auto& np = res.pools["new"];
  EXPECT_TRUE(np.conflicting);
  EXPECT_EQ(*cond(np, kPoolConflict),
            (Condition{kPoolConflict, "True", "cidr_overlap",
                       "Pool conflicts since range '10.0.0.128/25' overlaps range '10.0.0.0/24' from IP Pool 'old'"}));
  EXPECT_TRUE(res.pools["self"].conflicting);
  EXPECT_EQ(cond(res.pools["self"], kPoolConflict)->message,
            "Pool conflicts since range '10.7.0.0/24' overlaps range '10.7.0.9-10.7.0.20' from IP Pool 'self'");
  EXPECT_FALSE(res.pools["old"].conflicting);
  EXPECT_EQ(*cond(res.pools["old"], kPoolConflict), (Condition{kPoolConflict, "False", "resolved", ""}));
  EXPECT_EQ(res.services["ns/a"].condition.reason, "no_pool");
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.200")});
  // An IP only the conflicting pool holds is taken away (and replaced from the valid pool).
  auto c = req("ns/c");
  c.current = {ip("10.5.0.3")};
  EXPECT_EQ(allocate({new_pool, old_pool}, {c}).services["ns/c"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.pools["old"].used, "1");
  EXPECT_EQ(res.pools["new"].used, "0");
  // Once the older pool is gone, the newer one works.
  res = allocate({new_pool}, {a});
  EXPECT_FALSE(res.pools["new"].conflicting);
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.5.0.10")});
  EXPECT_THROW(allocate({old_pool, old_pool}, {}), std::invalid_argument);
}

TEST(LbIpam, RequestFromService) {
  Service s;
  s.ns = "ns";
  s.name = "web";
  s.type = "ClusterIP";
  EXPECT_FALSE(request_for(s));
  s.type = "LoadBalancer";
  s.load_balancer_class = "example.com/other";
  EXPECT_FALSE(request_for(s));
  s.load_balancer_class = "io.cilium/l2-announcer";
  s.labels = {{"app", "web"}};
  s.load_balancer_ip = "10.0.0.5";
  s.annotations = {{kIPsAnnotation, "10.0.0.6, fd00::6,10.0.0.5"}};
  s.lb_ingress = {ip("10.0.0.5")};
  auto r = request_for(s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->key, "ns/web");
  EXPECT_EQ(r->labels.at("app"), "web");
  EXPECT_EQ(r->labels.at(kServiceNameLabel), "web");
  EXPECT_EQ(r->requested, (std::vector<IpAddr>{ip("10.0.0.5"), ip("10.0.0.6"), ip("fd00::6")}));
  EXPECT_EQ(r->current, std::vector<IpAddr>{ip("10.0.0.5")});
  EXPECT_TRUE(r->want_v4);
  EXPECT_FALSE(r->want_v6);

  s.ip_families = {"IPv6", "IPv4"};
  EXPECT_TRUE(request_for(s)->want_v6);
  EXPECT_FALSE(request_for(s)->want_v4);
  s.ip_family_policy = "PreferDualStack";
  EXPECT_TRUE(request_for(s)->want_v4 && request_for(s)->want_v6);
  EXPECT_FALSE(request_for(s, true, false)->want_v6);
  s.ip_families = {};
  s.ip_family_policy = "";
  EXPECT_TRUE(request_for(s, false, true)->want_v6);

  s.annotations = {{kIPsAnnotationAlias, "10.0.0.x"}};
  r = request_for(s);
  EXPECT_EQ(r->error, "metadata.annotations[io.cilium/lb-ipam-ips]: invalid IP address \"10.0.0.x\"");
  auto res = allocate({pool("p", {{{"cidr", "10.0.0.0/24"}}})}, {*r});
  EXPECT_EQ(res.services["ns/web"].condition.reason, "invalid_request");
  // Bad input takes nothing away: the IP it holds stays its own.
  EXPECT_EQ(res.services["ns/web"].ips, std::vector<IpAddr>{ip("10.0.0.5")});
  auto other = req("ns/other");
  other.requested = {ip("10.0.0.5")};
  res = allocate({pool("p", {{{"cidr", "10.0.0.0/24"}}})}, {*r, other});
  EXPECT_EQ(res.services["ns/other"].condition.reason, "already_allocated");
}

TEST(LbIpam, ManyServicesGetDistinctIPs) {
  auto p = pool("big", {{{"cidr", "10.0.0.0/18"}}});
  std::vector<ServiceRequest> svcs;
  for (int i = 0; i < 10000; ++i) svcs.push_back(req("ns/s" + std::to_string(i)));
  auto res = allocate({p}, svcs);
  std::set<IpAddr> seen;
  for (auto& [k, r] : res.services) {
    ASSERT_EQ(r.ips.size(), 1u) << k;
    EXPECT_TRUE(seen.insert(r.ips[0]).second);
  }
  EXPECT_EQ(res.pools["big"].used, "10000");
  EXPECT_EQ(res.pools["big"].available, std::to_string(16382 - 10000));
  // Feeding the result back changes nothing.
  for (auto& s : svcs) s.current = res.services[s.key].ips;
  auto again = allocate({p}, svcs);
  for (auto& s : svcs) ASSERT_EQ(again.services[s.key].ips, res.services[s.key].ips);
}

namespace {

ServiceRequest sharer(const std::string& key, const std::string& sharing_key, std::vector<uint16_t> ports) {
  ServiceRequest r = req(key);
  r.ns = key.substr(0, key.find('/'));
  r.sharing_key = sharing_key;
  r.ports = std::move(ports);
  return r;
}

}  // namespace

TEST(LbIpamSharing, SameKeyDifferentPortsShareOneIP) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}});
  auto a = sharer("ns/a", "k", {80}), b = sharer("ns/b", "k", {81}), c = sharer("ns/c", "k", {82, 83});
  auto res = allocate({p}, {a, b, c});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/c"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/b"].condition.status, "True");
  // One IP used, however many services hold it.
  EXPECT_EQ(res.pools["p"].used, "1");
  EXPECT_EQ(res.pools["p"].available, "253");
  // A service without a key never joins.
  auto d = req("ns/d");
  d.ns = "ns";
  d.ports = {90};
  res = allocate({p}, {a, d});
  EXPECT_EQ(res.services["ns/d"].ips, std::vector<IpAddr>{ip("10.0.0.2")});
}

TEST(LbIpamSharing, CollisionsGetAnotherIP) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}});
  auto a = sharer("ns/a", "k", {80, 443});
  auto b = sharer("ns/b", "k", {443});  // port taken on a's IP
  auto c = sharer("ns/c", "k", {8080});
  auto res = allocate({p}, {a, b, c});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.2")});
  // c fits with both: it joins the first group that takes it, by address.
  EXPECT_EQ(res.services["ns/c"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  // 1.15 compares port numbers only: TCP 53 and UDP 53 collide.
  auto tcp = sharer("ns/tcp", "dns", {53}), udp = sharer("ns/udp", "dns", {53});
  res = allocate({p}, {tcp, udp});
  EXPECT_NE(res.services["ns/tcp"].ips, res.services["ns/udp"].ips);
  // Another key, another namespace, another traffic policy: no sharing.
  auto other_key = sharer("ns/x", "other", {9000});
  auto other_ns = sharer("ns2/y", "k", {9001});
  auto local = sharer("ns/z", "k", {9002});
  local.external_local = true;
  local.selector = {{"app", "z"}};
  res = allocate({p}, {a, other_key, other_ns, local});
  std::set<IpAddr> distinct;
  for (auto* k : {"ns/a", "ns/x", "ns2/y", "ns/z"}) {
    ASSERT_EQ(res.services[k].ips.size(), 1u) << k;
    distinct.insert(res.services[k].ips[0]);
  }
  EXPECT_EQ(distinct.size(), 4u);
}

TEST(LbIpamSharing, IncompatibilityReasons) {
  auto a = sharer("ns/a", "k", {80});
  EXPECT_EQ(incompatibility(a, sharer("ns/b", "k", {81})), "");
  EXPECT_EQ(incompatibility(a, sharer("ns/b", "j", {81})), "different sharing key");
  EXPECT_EQ(incompatibility(req("ns/a"), req("ns/b")), "different sharing key");  // no key never shares
  EXPECT_EQ(incompatibility(a, sharer("other/b", "k", {81})), "different namespace");
  EXPECT_EQ(incompatibility(a, sharer("ns/b", "k", {81, 80})), "same port 80");
  auto l1 = sharer("ns/l1", "k", {1}), l2 = sharer("ns/l2", "k", {2});
  l1.external_local = true;
  EXPECT_EQ(incompatibility(l1, l2), "different ExternalTrafficPolicy");
  l2.external_local = true;
  EXPECT_EQ(incompatibility(l1, l2), "ExternalTrafficPolicy Local without a selector");
  l1.selector = {{"app", "x"}};
  l2.selector = {{"app", "y"}};
  EXPECT_EQ(incompatibility(l1, l2), "ExternalTrafficPolicy Local with different selectors");
  l2.selector = l1.selector;
  EXPECT_EQ(incompatibility(l1, l2), "");
}

TEST(LbIpamSharing, RequestedSharedIP) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}});
  auto a = sharer("ns/a", "k", {80}), b = sharer("ns/b", "k", {81}), c = sharer("ns/c", "k", {80});
  a.requested = {ip("10.0.0.50")};
  b.requested = {ip("10.0.0.50")};
  c.requested = {ip("10.0.0.50")};
  auto res = allocate({p}, {a, b, c});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.50")});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.50")});
  EXPECT_EQ(res.services["ns/b"].condition.status, "True");
  EXPECT_TRUE(res.services["ns/c"].ips.empty());
  EXPECT_EQ(res.services["ns/c"].condition,
            (Condition{kRequestSatisfied, "False", "already_allocated_incompatible_service",
                       "The IP '10.0.0.50' is already allocated to an incompatible service. Reason: same port 80"}));
  // Held by a service without a key: plain already_allocated for a keyless
  // requester, the incompatible reason for one with a key.
  auto owner = req("ns/owner");
  owner.ns = "ns";
  owner.requested = owner.current = {ip("10.0.0.60")};
  auto keyless = req("ns/keyless");
  keyless.ns = "ns";
  keyless.requested = {ip("10.0.0.60")};
  auto keyed = sharer("ns/keyed", "k", {1});
  keyed.requested = {ip("10.0.0.60")};
  res = allocate({p}, {owner, keyless, keyed});
  EXPECT_EQ(res.services["ns/keyless"].condition.reason, "already_allocated");
  EXPECT_EQ(res.services["ns/keyed"].condition.reason, "already_allocated_incompatible_service");
  EXPECT_EQ(res.services["ns/keyed"].condition.message,
            "The IP '10.0.0.60' is already allocated to an incompatible service. Reason: different sharing key");
  // A service asking for nothing specific joins a requested shared IP too.
  auto d = sharer("ns/d", "k", {82});
  res = allocate({p}, {a, d});
  EXPECT_EQ(res.services["ns/d"].ips, std::vector<IpAddr>{ip("10.0.0.50")});
}

TEST(LbIpamSharing, ReleasedWhenTheLastSharerGoes) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}});
  auto a = sharer("ns/a", "k", {80}), b = sharer("ns/b", "k", {81});
  a.current = b.current = {ip("10.0.0.7")};
  auto fresh = req("ns/fresh");
  fresh.requested = {ip("10.0.0.7")};
  // Held while any sharer remains.
  EXPECT_EQ(allocate({p}, {b, fresh}).services["ns/fresh"].condition.reason, "already_allocated");
  EXPECT_EQ(allocate({p}, {b, fresh}).services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.7")});
  // Free once none does.
  auto res = allocate({p}, {fresh});
  EXPECT_EQ(res.services["ns/fresh"].ips, std::vector<IpAddr>{ip("10.0.0.7")});
  EXPECT_EQ(allocate({p}, {}).pools["p"].used, "0");
}

TEST(LbIpamSharing, RestartKeepsSharedAssignmentsFromStatuses) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}, {{"cidr", "fd00::/120"}}});
  auto a = sharer("ns/a", "k", {80}), b = sharer("ns/b", "k", {81}), c = sharer("ns/c", "k", {82});
  for (auto* s : {&a, &b, &c}) s->want_v6 = true;
  // As an earlier pass left them: a and c on .9/::9, b alone on .3 (it once collided).
  a.current = c.current = {ip("10.0.0.9"), ip("fd00::9")};
  b.current = {ip("10.0.0.3"), ip("fd00::3")};
  auto res = allocate({p}, {a, b, c});
  EXPECT_EQ(res.services["ns/a"].ips, (std::vector<IpAddr>{ip("10.0.0.9"), ip("fd00::9")}));
  EXPECT_EQ(res.services["ns/b"].ips, (std::vector<IpAddr>{ip("10.0.0.3"), ip("fd00::3")}));
  EXPECT_EQ(res.services["ns/c"].ips, (std::vector<IpAddr>{ip("10.0.0.9"), ip("fd00::9")}));
  EXPECT_EQ(res.pools["p"].used, "4");
}

TEST(LbIpamSharing, PortChangeMovesTheServiceThatChanged) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}});
  auto a = sharer("ns/a", "k", {80}), b = sharer("ns/b", "k", {81});
  a.current = b.current = {ip("10.0.0.1")};
  // a (first by key) changes to b's port: a moves, b stays.
  a.ports = {81};
  a.changed = true;
  auto res = allocate({p}, {a, b});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.2")});
  EXPECT_EQ(res.services["ns/a"].condition.status, "True");
  // Neither marked changed: the older one keeps the IP.
  a.changed = false;
  a.creation_timestamp = "2024-02-01T00:00:00Z";
  b.creation_timestamp = "2024-01-01T00:00:00Z";
  res = allocate({p}, {a, b});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.2")});
  // A changed sharing key moves the service as well.
  a.ports = {80};
  a.sharing_key = "other";
  a.changed = true;
  a.current = b.current;
  res = allocate({p}, {a, b});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.1")});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.2")});
}

TEST(LbIpamSharing, PoolRulesStillApply) {
  auto p = pool("p", {{{"cidr", "10.0.0.0/24"}}});
  p.selector = LabelSelector{{{"color", LabelRequirement::Op::In, {"blue"}}}};
  auto a = sharer("ns/a", "k", {80}), b = sharer("ns/b", "k", {81});
  a.labels["color"] = "blue";
  a.current = b.current = {ip("10.0.0.4")};
  // b is not selected: it can neither keep nor join a's IP.
  auto res = allocate({p}, {a, b});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.4")});
  EXPECT_TRUE(res.services["ns/b"].ips.empty());
  EXPECT_EQ(res.services["ns/b"].condition.reason, "no_pool");
  // Disabled: sharers keep what they hold, a newcomer may not join.
  b.labels["color"] = "blue";
  auto c = sharer("ns/c", "k", {82});
  c.labels["color"] = "blue";
  p.disabled = true;
  res = allocate({p}, {a, b, c});
  EXPECT_EQ(res.services["ns/a"].ips, std::vector<IpAddr>{ip("10.0.0.4")});
  EXPECT_EQ(res.services["ns/b"].ips, std::vector<IpAddr>{ip("10.0.0.4")});
  EXPECT_TRUE(res.services["ns/c"].ips.empty());
  EXPECT_EQ(res.services["ns/c"].condition.reason, "no_pool");
}

TEST(LbIpamSharing, RequestCarriesSharingInputs) {
  Service s;
  s.ns = "ns";
  s.name = "web";
  s.type = "LoadBalancer";
  s.annotations = {{kSharingKeyAnnotationAlias, "old"}};
  s.ports = {{"http", Protocol::TCP, 80, 0, ""}, {"dns", Protocol::UDP, 53, 0, ""}};
  s.external_policy = TrafficPolicy::Local;
  s.selector = {{"app", "web"}};
  auto r = request_for(s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ns, "ns");
  EXPECT_EQ(r->sharing_key, "old");
  EXPECT_EQ(r->ports, (std::vector<uint16_t>{80, 53}));
  EXPECT_TRUE(r->external_local);
  EXPECT_EQ(r->selector, s.selector);
  s.annotations[kSharingKeyAnnotation] = "new";  // the current name wins over the alias
  EXPECT_EQ(request_for(s)->sharing_key, "new");
}

TEST(LbIpamSharing, AgentProgramsSharersAndStillRefusesDuplicates) {
  // Two services on one IP with different ports: both frontends accepted.
  // A third claiming the same IP+port+protocol (written by hand, LB IPAM
  // never does) still loses that frontend to the older service.
  NodeView node;
  node.node_name = "n1";
  auto lb = [&](const std::string& name, uint16_t port, Protocol proto, const std::string& created) {
    Service s;
    s.ns = "ns";
    s.name = name;
    s.type = "LoadBalancer";
    s.ports = {{"p", proto, port, 0, ""}};
    s.lb_ingress = {ip("10.0.0.1")};
    return ServiceFrontends{s.key(), created, frontends_of(s, {}, node)};
  };
  auto set = merge_frontends({lb("a", 80, Protocol::TCP, "2024-01-01T00:00:00Z"),
                              lb("b", 81, Protocol::TCP, "2024-01-02T00:00:00Z"),
                              lb("c", 80, Protocol::TCP, "2024-01-03T00:00:00Z")});
  std::set<std::string> owners;
  for (auto& f : set.accepted)
    if (f.addr.addr == ip("10.0.0.1")) owners.insert(f.service + "@" + std::to_string(f.addr.port));
  EXPECT_EQ(owners, (std::set<std::string>{"ns/a@80", "ns/b@81"}));
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors["ns/c"], std::vector<std::string>{"frontend 10.0.0.1:80/TCP already used by ns/a"});
}
