#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/agent_config.h"
#include "config/config_dir.h"

namespace fs = std::filesystem;
using namespace cpp::config;

class ConfigDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cpp-config-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void put(const std::string& key, const std::string& value) { std::ofstream(dir_ / key) << value; }
  fs::path dir_;
};

TEST_F(ConfigDirTest, ReadsSeedStyleValuesAndTrimsNewlines) {
  put("routing-mode", "tunnel\n");
  put("enable-ipv4", "true");
  put("cluster-pool-ipv4-cidr", "10.233.64.0/18");
  put("identity-gc-interval", "15m0s");
  put("hubble-listen-address", ":4244");
  put("bpf-map-dynamic-size-ratio", "0.0025");
  auto c = read_config_dir(dir_);
  EXPECT_EQ(c.values.at("routing-mode"), "tunnel");
  EXPECT_EQ(c.values.at("identity-gc-interval"), "15m0s");
  EXPECT_TRUE(c.unknown_keys.empty());
}

TEST_F(ConfigDirTest, SkipsKubernetesConfigMapBookkeeping) {
  fs::create_directories(dir_ / "..2026_11_26_data");
  put("..data", "ignored");
  put("debug", "false");
  auto c = read_config_dir(dir_);
  EXPECT_EQ(c.values.size(), 1u);
}

TEST_F(ConfigDirTest, UnknownKeysAreReportedNotFatal) {
  put("some-future-key", "x");
  auto c = read_config_dir(dir_);
  ASSERT_EQ(c.unknown_keys.size(), 1u);
  EXPECT_EQ(c.unknown_keys[0], "some-future-key");
}

TEST_F(ConfigDirTest, InvalidValuesNameTheKey) {
  struct Case {
    const char* key;
    const char* value;
    const char* expect;
  };
  for (const auto& tc : {Case{"enable-ipv4", "yes", "expected true or false"},
                         Case{"routing-mode", "bgp", "expected one of tunnel,native"},
                         Case{"bpf-policy-map-max", "-1", "non-negative integer"},
                         Case{"cluster-pool-ipv4-cidr", "10.233.64.1/18", "no host bits"},
                         Case{"ipv6-range", "10.0.0.0/24", "IPv6"},
                         Case{"identity-gc-interval", "15 minutes", "duration"},
                         Case{"hubble-listen-address", "4244", "[host]:port"},
                         Case{"service-no-backend-response", "ignore", "reject,drop"}}) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    put(tc.key, tc.value);
    try {
      read_config_dir(dir_);
      ADD_FAILURE() << tc.key << "=" << tc.value << " was accepted";
    } catch (const std::invalid_argument& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(std::string("'") + tc.key + "'"), std::string::npos) << msg;
      EXPECT_NE(msg.find(tc.expect), std::string::npos) << msg;
    }
  }
}

TEST_F(ConfigDirTest, MissingDirectoryIsAnError) {
  EXPECT_THROW(read_config_dir((dir_ / "nope").string()), std::invalid_argument);
}

TEST(AgentConfig, RequiresRangesForEnabledFamilies) {
  ConfigDir d;
  d.values["enable-ipv6"] = "true";
  d.values["ipv4-range"] = "10.233.64.0/24";
  EXPECT_THROW(make_agent_config(d, "n1"), std::invalid_argument);
  d.values["ipv6-range"] = "fd00:10:233:1::/64";
  auto c = make_agent_config(d, "n1");
  EXPECT_TRUE(c.enable_ipv6);
  EXPECT_EQ(c.ipv6_range->str(), "fd00:10:233:1::/64");
  d.values["enable-ipv4"] = "false";
  d.values["enable-ipv6"] = "false";
  EXPECT_THROW(make_agent_config(d, "n1"), std::invalid_argument);
}

TEST(AgentConfig, PinDirIsUniquePerClusterAndNode) {
  ConfigDir d;
  d.values["ipv4-range"] = "10.233.64.0/24";
  d.values["cluster-name"] = "lab1";
  auto c = make_agent_config(d, "node2");
  EXPECT_EQ(c.pin_dir(), "/sys/fs/bpf/ciliumpp/lab1/node2");
  EXPECT_THROW(make_agent_config(d, ""), std::invalid_argument);
  EXPECT_THROW(make_agent_config(d, "a/b"), std::invalid_argument);
}

TEST(AgentConfig, TraceSockIsOnUnlessTurnedOff) {
  ConfigDir d;
  d.values["ipv4-range"] = "10.233.64.0/24";
  EXPECT_TRUE(make_agent_config(d, "n1").trace_sock);
  d.values["trace-sock"] = "false";
  EXPECT_FALSE(make_agent_config(d, "n1").trace_sock);
}
