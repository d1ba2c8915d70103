#include <gtest/gtest.h>

#include "config/agent_config.h"

using namespace cpp::config;
using namespace std::chrono_literals;

namespace {
ConfigDir base() {
  ConfigDir d;
  validate_key("ipv4-range", "10.233.64.0/24", d);
  return d;
}
}  // namespace

TEST(HealthConfig, DefaultsFollowUpstream) {
  auto c = make_agent_config(base(), "n1");
  EXPECT_TRUE(c.enable_health_checking);
  EXPECT_TRUE(c.enable_endpoint_health_checking);
  EXPECT_EQ(c.health_netns, "cilium-health");
  EXPECT_EQ(c.health_probe_interval, 60s);
}

TEST(HealthConfig, KeysAreReadAndValidated) {
  auto d = base();
  validate_key("enable-endpoint-health-checking", "false", d);
  validate_key("health-netns", "cpp-x-n1-health", d);
  validate_key("health-probe-interval", "1500ms", d);
  auto c = make_agent_config(d, "n1");
  EXPECT_FALSE(c.enable_endpoint_health_checking);
  EXPECT_EQ(c.health_netns, "cpp-x-n1-health");
  EXPECT_EQ(c.health_probe_interval, 1500ms);

  ConfigDir bad = base();
  EXPECT_THROW(validate_key("health-probe-interval", "soon", bad), std::invalid_argument);
  validate_key("health-probe-interval", "10ms", bad);
  EXPECT_THROW(make_agent_config(bad, "n1"), std::invalid_argument);
  ConfigDir slash = base();
  validate_key("health-netns", "a/b", slash);
  EXPECT_THROW(make_agent_config(slash, "n1"), std::invalid_argument);
}
