// LbReconciler: ids, write order and cleanup, against an in-memory map set
// that fails the test whenever a datapath reader could see a dangling
// reference.
#include <gtest/gtest.h>

#include <algorithm>

#include "agent/service_reconciler.h"
#include "fake_lb_maps.h"

namespace cpp::agent {
namespace {

using service::BackendSpec;
using service::Frontend;
using service::L4Addr;
using service::Protocol;
using service::Scope;
using testing::FakeLbMaps;

L4Addr l4(const std::string& ip, uint16_t port) { return {*IpAddr::parse(ip), port, Protocol::TCP}; }

Frontend fe(const std::string& ip, uint16_t port, std::vector<std::string> backends, size_t terminating = 0,
            Scope scope = Scope::Internal) {
  Frontend f;
  f.addr = l4(ip, port);
  f.scope = scope;
  f.service = "default/" + ip;
  for (size_t i = 0; i < backends.size(); ++i) {
    BackendSpec b;
    b.addr = l4(backends[i], 8080);
    b.terminating = i + terminating >= backends.size();
    f.backends.push_back(b);
  }
  return f;
}

size_t index_of(const std::vector<std::string>& log, const std::string& what) {
  auto it = std::find(log.begin(), log.end(), what);
  EXPECT_NE(it, log.end()) << what << " not written";
  return static_cast<size_t>(it - log.begin());
}

datapath::LbFrontendKey key(const Frontend& f) { return frontend_key(f.addr, f.scope); }

TEST(LbReconciler, WritesBackendsThenSlotsThenServiceEntry) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  auto f = fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.2"});
  EXPECT_TRUE(r.apply({f}).empty());
  EXPECT_EQ(r.service_id(key(f)), 1);
  auto k = key(f);
  ASSERT_TRUE(maps.s.services.count(k));
  EXPECT_EQ(maps.s.services[k].count, 2);
  EXPECT_EQ(maps.s.services[k].flags, uint32_t{CPP_LB_F_CLUSTERIP});
  EXPECT_EQ(maps.s.slots[k].size(), 2u);
  EXPECT_EQ(maps.s.backends.size(), 2u);
  EXPECT_LT(index_of(maps.log, "be+2"), index_of(maps.log, "slot+" + k.str() + "#1"));
  EXPECT_LT(index_of(maps.log, "slot+" + k.str() + "#2"), index_of(maps.log, "svc+" + k.str()));
}

TEST(LbReconciler, UnchangedInputWritesNothing) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  auto f = fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.2"});
  r.apply({f});
  maps.log.clear();
  r.apply({f});
  EXPECT_TRUE(maps.log.empty());
}

TEST(LbReconciler, ShrinkingLowersCountBeforeDeletingSlotsAndBackends) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  r.apply({fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.2", "10.0.0.3"})});
  auto b3 = *r.backend_id(l4("10.0.0.3", 8080));
  maps.log.clear();
  auto f = fe("10.96.0.10", 80, {"10.0.0.1"});
  EXPECT_TRUE(r.apply({f}).empty());
  auto k = key(f);
  EXPECT_EQ(maps.s.services[k].count, 1);
  EXPECT_EQ(maps.s.slots[k].size(), 1u);
  EXPECT_LT(index_of(maps.log, "svc+" + k.str()), index_of(maps.log, "slot-" + k.str() + "#3"));
  EXPECT_LT(index_of(maps.log, "slot-" + k.str() + "#3"), index_of(maps.log, "be-" + std::to_string(b3)));
  EXPECT_EQ(maps.s.backends.size(), 1u);
  EXPECT_FALSE(r.backend_id(l4("10.0.0.3", 8080)));
}

TEST(LbReconciler, TerminatingBackendStaysOutOfSlotsButInBackendMap) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  auto f = fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.2"}, /*terminating=*/1);
  r.apply({f});
  auto k = key(f);
  EXPECT_EQ(maps.s.services[k].count, 1);
  auto t = *r.backend_id(l4("10.0.0.2", 8080));
  ASSERT_TRUE(maps.s.backends.count(t));
  EXPECT_EQ(maps.s.backends[t].flags, CPP_LB_BE_F_TERMINATING);
  // Gone from the slice: now it is removed.
  r.apply({fe("10.96.0.10", 80, {"10.0.0.1"})});
  EXPECT_FALSE(maps.s.backends.count(t));
}

TEST(LbReconciler, SharedBackendIsActiveIfAnyFrontendUsesItActively) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  auto a = fe("10.96.0.10", 80, {"10.0.0.9"}, 1);
  auto b = fe("10.96.0.11", 80, {"10.0.0.9"});
  r.apply({a, b});
  auto id = *r.backend_id(l4("10.0.0.9", 8080));
  EXPECT_EQ(maps.s.backends[id].flags, 0);
  // Removing one frontend keeps the backend the other one uses.
  r.apply({b});
  EXPECT_TRUE(maps.s.backends.count(id));
  EXPECT_FALSE(maps.s.services.count(key(a)));
  EXPECT_FALSE(maps.s.slots.count(key(a)));
}

TEST(LbReconciler, RemovedFrontendLosesEntryFirstAndItsIdIsNotReusedAtOnce) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  auto a = fe("10.96.0.10", 80, {"10.0.0.1"});
  auto b = fe("10.96.0.11", 80, {"10.0.0.2"});
  r.apply({a, b});
  EXPECT_EQ(r.service_id(key(a)), 1);
  EXPECT_EQ(r.service_id(key(b)), 2);
  maps.log.clear();
  r.apply({b});
  EXPECT_EQ(maps.log.front(), "slot-" + key(a).str() + "#0");
  EXPECT_FALSE(r.service_id(key(a)));
  auto c = fe("10.96.0.12", 80, {"10.0.0.3"});
  r.apply({b, c});
  EXPECT_EQ(r.service_id(key(c)), 3);
  EXPECT_EQ(r.service_id(key(b)), 2);
}

TEST(LbReconciler, ScopesOfOneAddressAreSeparateFrontends) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  auto i = fe("192.0.2.11", 30080, {"10.0.0.1", "10.0.0.2"}, 0, Scope::Internal);
  auto e = fe("192.0.2.11", 30080, {"10.0.0.1"}, 0, Scope::External);
  e.type = service::FrontendType::NodePort;
  e.local = true;
  r.apply({i, e});
  EXPECT_NE(r.service_id(key(i)), r.service_id(key(e)));
  EXPECT_EQ(maps.s.services[key(e)].count, 1);
  EXPECT_EQ(maps.s.services[key(e)].flags, uint32_t{CPP_LB_F_NODEPORT | CPP_LB_F_LOCAL});
  EXPECT_EQ(maps.s.services[key(i)].count, 2);
}

TEST(LbReconciler, RestoreKeepsIdsAndDiffsAgainstTheMaps) {
  FakeLbMaps maps;
  auto a = fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.2"});
  auto b = fe("10.96.0.11", 53, {"10.0.0.3"});
  std::optional<uint16_t> ida, idb;
  std::optional<uint32_t> be2;
  {
    LbReconciler r(maps, {});
    r.apply({fe("10.96.0.9", 80, {"10.0.0.7"}), a, b});
    r.apply({a, b});  // ids no longer start at 1
    ida = r.service_id(key(a));
    idb = r.service_id(key(b));
    be2 = r.backend_id(l4("10.0.0.2", 8080));
  }
  LbReconciler r(maps, {});
  EXPECT_TRUE(r.restore().empty());
  EXPECT_EQ(r.service_id(key(a)), ida);
  EXPECT_EQ(r.backend_id(l4("10.0.0.2", 8080)), be2);
  maps.log.clear();
  r.apply({b, a});
  EXPECT_TRUE(maps.log.empty()) << maps.log.front();
  EXPECT_EQ(r.service_id(key(b)), idb);
}

TEST(LbReconciler, RestoreCleansUpEntriesNobodyWants) {
  FakeLbMaps maps;
  {
    LbReconciler r(maps, {});
    r.apply({fe("10.96.0.10", 80, {"10.0.0.1"}), fe("10.96.0.11", 80, {"10.0.0.2"})});
  }
  LbReconciler r(maps, {});
  r.restore();
  r.apply({fe("10.96.0.11", 80, {"10.0.0.2"})});
  EXPECT_EQ(maps.s.services.size(), 1u);
  EXPECT_EQ(maps.s.backends.size(), 1u);
  EXPECT_EQ(maps.s.slots.size(), 1u);
}

TEST(LbReconciler, MaglevTableHoldsOnlyActiveBackendsAndIsRewrittenOnChange) {
  FakeLbMaps maps;
  LbReconciler r(maps, {.maglev = true});
  auto f = fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.2", "10.0.0.3"}, 1);
  r.apply({f});
  auto id = *r.service_id(key(f));
  EXPECT_TRUE(maps.s.services[key(f)].flags & CPP_LB_F_MAGLEV);
  std::set<uint32_t> in_table(maps.maglev[id].begin(), maps.maglev[id].end());
  std::set<uint32_t> active{*r.backend_id(l4("10.0.0.1", 8080)), *r.backend_id(l4("10.0.0.2", 8080))};
  EXPECT_EQ(in_table, active);
  EXPECT_LT(index_of(maps.log, "maglev+" + std::to_string(id)), index_of(maps.log, "svc+" + key(f).str()));

  // No backend left: the flag goes first, then the table.
  maps.log.clear();
  r.apply({fe("10.96.0.10", 80, {})});
  EXPECT_FALSE(maps.s.services[key(f)].flags & CPP_LB_F_MAGLEV);
  EXPECT_EQ(maps.s.services[key(f)].count, 0);
  EXPECT_FALSE(maps.maglev.count(id));
  EXPECT_LT(index_of(maps.log, "svc+" + key(f).str()), index_of(maps.log, "maglev-" + std::to_string(id)));
}

TEST(LbReconciler, MaglevTableIsTheSameOnEveryNode) {
  // Backend ids differ between nodes, the backends' places in the table do not.
  FakeLbMaps m1, m2;
  LbReconciler r1(m1, {.maglev = true}), r2(m2, {.maglev = true});
  r2.apply({fe("10.96.0.99", 80, {"10.0.0.50", "10.0.0.51"})});  // shifts node 2's ids
  auto f = fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.2", "10.0.0.3"});
  r1.apply({f});
  r2.apply({f});
  auto t1 = m1.maglev[*r1.service_id(key(f))], t2 = m2.maglev[*r2.service_id(key(f))];
  ASSERT_EQ(t1.size(), t2.size());
  std::map<uint32_t, std::string> n1, n2;
  for (auto ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
    n1[*r1.backend_id(l4(ip, 8080))] = ip;
    n2[*r2.backend_id(l4(ip, 8080))] = ip;
  }
  EXPECT_NE(r1.backend_id(l4("10.0.0.1", 8080)), r2.backend_id(l4("10.0.0.1", 8080)));
  for (size_t i = 0; i < t1.size(); ++i) ASSERT_EQ(n1[t1[i]], n2[t2[i]]) << "entry " << i;
}

TEST(LbReconciler, ReserveRefusesAnIdAnotherFrontendHolds) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  auto a = fe("10.96.0.10", 80, {"10.0.0.1"});
  auto b = fe("10.96.0.11", 80, {"10.0.0.2"});
  r.apply({a});
  EXPECT_THROW(r.reserve(key(b), 1), std::invalid_argument);
  EXPECT_THROW(r.reserve(key(b), 0), std::invalid_argument);
  r.reserve(key(b), 500);
  r.apply({a, b});
  EXPECT_EQ(r.service_id(key(b)), 500);
  EXPECT_EQ(maps.s.services[key(b)].svc_id, 500);
}

TEST(LbReconciler, FailedWriteIsRetriedOnTheNextApply) {
  struct Flaky : FakeLbMaps {
    int fail = 1;
    void put_service(const datapath::LbFrontendKey& k, const datapath::LbServiceEntry& e) override {
      if (fail-- > 0) throw std::runtime_error("injected");
      FakeLbMaps::put_service(k, e);
    }
  } maps;
  LbReconciler r(maps, {});
  auto f = fe("10.96.0.10", 80, {"10.0.0.1"});
  auto errs = r.apply({f});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("injected"), std::string::npos);
  EXPECT_FALSE(maps.s.services.count(key(f)));
  EXPECT_TRUE(r.apply({f}).empty());
  EXPECT_TRUE(maps.s.services.count(key(f)));
}


TEST(LbReconciler, BackendMovingBetweenFrontendsInOneUpdateKeepsItsId) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  r.apply({fe("10.96.0.10", 80, {"10.0.0.1"}), fe("10.96.0.11", 80, {"10.0.0.2"})});
  auto id = *r.backend_id(l4("10.0.0.1", 8080));
  maps.log.clear();
  // The first frontend drops it, the second picks it up, in that order.
  EXPECT_TRUE(r.update({fe("10.96.0.10", 80, {"10.0.0.3"}), fe("10.96.0.11", 80, {"10.0.0.1", "10.0.0.2"})}, {}).empty());
  EXPECT_EQ(r.backend_id(l4("10.0.0.1", 8080)), id);
  EXPECT_EQ(std::count(maps.log.begin(), maps.log.end(), "be-" + std::to_string(id)), 0);
  EXPECT_EQ(maps.s.backends.size(), 3u);
}

TEST(LbReconciler, UpdateTouchesOnlyWhatItIsGiven) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  auto a = fe("10.96.0.10", 80, {"10.0.0.1"});
  auto b = fe("10.96.0.11", 80, {"10.0.0.2"});
  r.apply({a, b});
  maps.log.clear();
  r.update({fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.5"})}, {});
  for (const auto& l : maps.log) EXPECT_EQ(l.find(key(b).str()), std::string::npos) << l;
  EXPECT_EQ(maps.s.services[key(a)].count, 2);
  r.update({}, {key(b)});
  EXPECT_FALSE(maps.s.services.count(key(b)));
  EXPECT_TRUE(maps.s.services.count(key(a)));
  EXPECT_FALSE(r.backend_id(l4("10.0.0.2", 8080)));
}

TEST(LbReconciler, ActiveToTerminatingFlagChangesAfterTheSlotsMoved) {
  FakeLbMaps maps;
  LbReconciler r(maps, {});
  r.apply({fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.2"})});
  auto id2 = *r.backend_id(l4("10.0.0.2", 8080));
  maps.log.clear();
  auto f = fe("10.96.0.10", 80, {"10.0.0.1", "10.0.0.2"}, 1);
  r.apply({f});
  EXPECT_EQ(maps.s.backends[id2].flags, CPP_LB_BE_F_TERMINATING);
  EXPECT_LT(index_of(maps.log, "svc+" + key(f).str()), index_of(maps.log, "be+" + std::to_string(id2)));
}

}  // namespace
}  // namespace cpp::agent
