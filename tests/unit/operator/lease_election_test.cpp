// LeaseElection over a real DirectoryStore (one directory, one store per
// candidate, as processes sharing it): one leader at a time, hand-over on
// resign and on expiry, and a leader that stops leading when it cannot
// renew or finds the Lease taken.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

#include "operator/lease_election.h"

using namespace cpp;
using namespace cpp::op;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 30s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

// A lease of 2 s: leader renews every ~667 ms, gives up after ~1.3 s.
LeaseTiming short_lease() { return LeaseTiming::from_ttl(2); }

// Fault injection: a DirectoryStore whose reads and writes fail while `down`.
class FlakyStore : public store::DirectoryStore {
 public:
  using DirectoryStore::DirectoryStore;
  std::atomic<bool> down{false};
  std::optional<json> get(const std::string& k, const std::string& ns, const std::string& n) override {
    if (down) throw std::runtime_error("store down");
    return DirectoryStore::get(k, ns, n);
  }
  std::optional<store::PutResult> update(const std::string& k, const std::string& ns, const std::string& n,
                                         const store::Mutator& m) override {
    if (down) throw std::runtime_error("store down");
    return DirectoryStore::update(k, ns, n, m);
  }
};

class LeaseElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cpp-lease-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<store::DirectoryStore> new_store() { return std::make_unique<FlakyStore>(dir_.string(), 50ms); }
  json stored_lease() {
    auto s = new_store();
    auto l = s->get("Lease", kLeaseNamespace, kLeaseName);
    return l ? *l : json();
  }
  fs::path dir_;
};

// Campaigns on a thread; done() once it returned.
struct Candidate {
  std::unique_ptr<store::DirectoryStore> store;
  std::unique_ptr<LeaseElection> election;
  std::atomic<bool> stop{false};
  std::future<bool> result;

  Candidate(std::unique_ptr<store::DirectoryStore> s, const std::string& id)
      : store(std::move(s)), election(std::make_unique<LeaseElection>(*store, id, short_lease())) {
    result = std::async(std::launch::async, [this] { return election->campaign(stop); });
  }
  bool done() { return result.wait_for(0s) == std::future_status::ready; }
  ~Candidate() {
    stop = true;
    if (result.valid()) result.wait();
  }
};

}  // namespace

TEST_F(LeaseElectionTest, OneLeaderThenHandOverOnResign) {
  Candidate a(new_store(), "op-a"), b(new_store(), "op-b");
  ASSERT_TRUE(eventually([&] { return a.done() || b.done(); }));
  Candidate& leader = a.done() ? a : b;
  Candidate& standby = a.done() ? b : a;
  const std::string leader_id = &leader == &a ? "op-a" : "op-b";
  const std::string standby_id = &leader == &a ? "op-b" : "op-a";
  EXPECT_TRUE(leader.result.get());
  EXPECT_TRUE(leader.election->leading());
  // Several renewals later the standby still waits.
  std::this_thread::sleep_for(3s);
  EXPECT_FALSE(standby.done());
  EXPECT_TRUE(leader.election->leading());
  EXPECT_EQ(standby.election->current_leader(), leader_id);
  json l = stored_lease();
  EXPECT_EQ(l["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(l["spec"]["holderIdentity"], leader_id);
  EXPECT_EQ(l["spec"]["leaseDurationSeconds"], 2);
  EXPECT_EQ(l["spec"]["leaseTransitions"], 0);
  EXPECT_NE(l["spec"]["renewTime"], l["spec"]["acquireTime"]);  // renewed since taken

  leader.election->resign();
  EXPECT_FALSE(leader.election->leading());
  ASSERT_TRUE(eventually([&] { return standby.done(); }));
  EXPECT_TRUE(standby.result.get());
  EXPECT_TRUE(standby.election->leading());
  EXPECT_EQ(leader.election->current_leader(), standby_id);
  EXPECT_EQ(stored_lease()["spec"]["leaseTransitions"], 1);
}

TEST_F(LeaseElectionTest, DeadLeaderIsReplacedAfterExpiry) {
  auto a = std::make_unique<Candidate>(new_store(), "op-a");
  ASSERT_TRUE(eventually([&] { return a->done(); }));
  ASSERT_TRUE(a->result.get());
  Candidate b(new_store(), "op-b");
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(b.done());
  a.reset();  // stops renewing without resigning: like a SIGKILLed process
  ASSERT_TRUE(eventually([&] { return b.done(); }));
  EXPECT_TRUE(b.result.get());
  json l = stored_lease();
  EXPECT_EQ(l["spec"]["holderIdentity"], "op-b");
  EXPECT_EQ(l["spec"]["leaseTransitions"], 1);
}

TEST_F(LeaseElectionTest, LeaderStopsLeadingWhenItCannotRenew) {
  auto s = std::make_unique<FlakyStore>(dir_.string(), 50ms);
  FlakyStore* flaky = s.get();
  Candidate a(std::move(s), "op-a");
  ASSERT_TRUE(eventually([&] { return a.done(); }));
  ASSERT_TRUE(a.result.get());
  flaky->down = true;
  ASSERT_TRUE(eventually([&] { return !a.election->leading(); }));
  EXPECT_EQ(stored_lease()["spec"]["holderIdentity"], "op-a");
  flaky->down = false;
  // Campaigning again, it gets the lease back (nobody else wants it).
  std::atomic<bool> stop{false};
  EXPECT_TRUE(a.election->campaign(stop));
  EXPECT_TRUE(a.election->leading());
}

TEST_F(LeaseElectionTest, LeaderNoticesTheLeaseTaken) {
  Candidate a(new_store(), "op-a");
  ASSERT_TRUE(eventually([&] { return a.done(); }));
  ASSERT_TRUE(a.result.get());
  // Another writer (a misconfigured replica, kubectl) takes the lease.
  auto s = new_store();
  s->update("Lease", kLeaseNamespace, kLeaseName, [](json& l) {
    hold_lease(l, "intruder", WallClock::now() + 60s, 120s);
    return true;
  });
  ASSERT_TRUE(eventually([&] { return !a.election->leading(); }));
  EXPECT_EQ(a.election->current_leader(), "intruder");
}

TEST_F(LeaseElectionTest, CampaignStopsWhenAsked) {
  auto s = new_store();
  s->put(empty_lease());
  s->update("Lease", kLeaseNamespace, kLeaseName, [](json& l) {
    hold_lease(l, "someone", WallClock::now() + 600s, 600s);
    return true;
  });
  Candidate a(new_store(), "op-a");
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(a.done());
  a.stop = true;
  ASSERT_TRUE(eventually([&] { return a.done(); }));
  EXPECT_FALSE(a.result.get());
  EXPECT_FALSE(a.election->leading());
}
