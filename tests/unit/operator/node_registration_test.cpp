// The agent's CiliumNode registration with the operator's IPAM controller on
// one shared store (the directory store: same ResourceStore contract as etcd).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/node_registration.h"
#include "ipam/cilium_node.h"
#include "operator/ipam_controller.h"

using namespace cpp;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 20s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class NodeRegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cpp-nodereg-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    store_ = std::make_unique<store::DirectoryStore>((dir_ / "store").string(), 20ms);
  }
  void TearDown() override { fs::remove_all(dir_); }

  config::AgentConfig cfg(bool v6) {
    config::AgentConfig c;
    c.node_name = "node-a";
    c.enable_ipv6 = v6;
    c.ipam_mode = "cluster-pool";
    return c;
  }

  fs::path dir_;
  std::unique_ptr<store::DirectoryStore> store_;
};

TEST_F(NodeRegistrationTest, WaitsForTheOperatorThenPublishesRouterAndHealthAddresses) {
  agent::NodeRegistration reg(*store_, "node-a", IpAddr::parse("192.0.2.11"), std::nullopt);
  std::atomic<bool> stop{false};
  std::optional<agent::PodCidrs> got;
  std::thread waiter([&] { got = agent::resolve_pod_cidrs(cfg(true), reg, (dir_ / "ipam.json").string(), stop); });
  // Registered before any PodCIDR exists, with its InternalIP.
  ASSERT_TRUE(eventually([&] { return store_->get("CiliumNode", "", "node-a").has_value(); }));
  auto obj = *store_->get("CiliumNode", "", "node-a");
  EXPECT_EQ(ipam::node_addresses(obj, "InternalIP").at(0).str(), "192.0.2.11");
  EXPECT_TRUE(ipam::pod_cidrs_of(obj).empty());
  EXPECT_FALSE(got);

  op::IpamController ctl(*store_, {IpPrefix::parse("10.233.64.0/18"), 24, IpPrefix::parse("fd00::/104"), 120});
  ctl.start();
  waiter.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ipv4->str(), "10.233.64.0/24");
  EXPECT_EQ(got->ipv6->str(), "fd00::/120");

  reg.start();
  reg.set_router_ips(IpAddr::parse("10.233.64.1"), IpAddr::parse("fd00::1"));
  reg.set_health_addresses(IpAddr::parse("10.233.64.236"), std::nullopt);
  ASSERT_TRUE(eventually([&] {
    auto o = store_->get("CiliumNode", "", "node-a");
    return o && ipam::node_addresses(*o, "CiliumInternalIP").size() == 2 && (*o)["spec"]["health"].contains("ipv4");
  }));
  obj = *store_->get("CiliumNode", "", "node-a");
  EXPECT_EQ(ipam::pod_cidrs_of(obj).size(), 2u);  // the operator's field survived the agent's writes
  EXPECT_EQ(obj["spec"]["health"]["ipv4"], "10.233.64.236");

  // Deleted under a running agent: re-created with the PodCIDRs it uses.
  reg.set_pod_cidrs({*got->ipv4, *got->ipv6});
  ctl.stop();
  store_->remove("CiliumNode", "", "node-a");
  ASSERT_TRUE(eventually([&] {
    auto o = store_->get("CiliumNode", "", "node-a");
    return o && ipam::pod_cidrs_of(*o).size() == 2;
  }, 30s));
  reg.stop();
}

TEST_F(NodeRegistrationTest, RestartUsesTheIpamStateWithoutWaiting) {
  std::ofstream(dir_ / "ipam.json") << R"({"allocations":{},"ipv4-cidr":"10.233.70.0/24"})";
  agent::NodeRegistration reg(*store_, "node-a", IpAddr::parse("192.0.2.11"), std::nullopt);
  std::atomic<bool> stop{false};
  auto got = agent::resolve_pod_cidrs(cfg(false), reg, (dir_ / "ipam.json").string(), stop);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ipv4->str(), "10.233.70.0/24");
  EXPECT_FALSE(got->ipv6);
  reg.start();
  // The CIDR in use is published for the operator to adopt.
  EXPECT_TRUE(eventually([&] {
    auto o = store_->get("CiliumNode", "", "node-a");
    return o && ipam::pod_cidrs_of(*o).size() == 1;
  }));
  reg.stop();
}

TEST_F(NodeRegistrationTest, WaitingEndsWhenStopped) {
  agent::NodeRegistration reg(*store_, "node-a", std::nullopt, std::nullopt);
  std::atomic<bool> stop{false};
  std::thread t([&] { std::this_thread::sleep_for(200ms), stop = true; });
  EXPECT_FALSE(agent::resolve_pod_cidrs(cfg(false), reg, (dir_ / "none.json").string(), stop));
  t.join();
}

TEST_F(NodeRegistrationTest, ConfiguredRangesArePublishedAsTheNodesPodCidrs) {
  auto c = cfg(false);
  c.ipam_mode = "";
  c.ipv4_range = IpPrefix::parse("10.233.64.0/24");
  // A stale assignment in the store loses against the configuration.
  auto f = ipam::AgentNodeFields{};
  f.name = "node-a";
  store_->put(ipam::with_pod_cidrs(*ipam::merge_agent_fields(nullptr, f), {*IpPrefix::parse("10.9.0.0/24")}));
  agent::NodeRegistration reg(*store_, "node-a", IpAddr::parse("192.0.2.11"), std::nullopt);
  std::atomic<bool> stop{false};
  auto got = agent::resolve_pod_cidrs(c, reg, (dir_ / "ipam.json").string(), stop);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ipv4->str(), "10.233.64.0/24");
  reg.start();
  EXPECT_TRUE(eventually([&] {
    auto o = store_->get("CiliumNode", "", "node-a");
    return o && ipam::pod_cidrs_of(*o).size() == 1 && ipam::pod_cidrs_of(*o)[0].str() == "10.233.64.0/24";
  }));
  reg.stop();
}

TEST(AgentConfigClusterPool, RangesAreOptionalOnlyWithClusterPool) {
  config::ConfigDir d;
  EXPECT_THROW(config::make_agent_config(d, "n"), std::invalid_argument);
  d.values["ipam"] = "cluster-pool";
  auto c = config::make_agent_config(d, "n");
  EXPECT_TRUE(c.pod_cidrs_from_operator());
  d.values["ipv4-range"] = "10.1.0.0/24";
  EXPECT_FALSE(config::make_agent_config(d, "n").pod_cidrs_from_operator());
}

}  // namespace
