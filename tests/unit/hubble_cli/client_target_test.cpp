#include "hubble_cli/client.h"

#include <gtest/gtest.h>

using namespace cpp::hubble_cli;

TEST(ClientTarget, Addresses) {
  EXPECT_EQ(grpc_target("unix:///var/run/cilium/hubble.sock"), "unix:///var/run/cilium/hubble.sock");
  EXPECT_EQ(grpc_target("/tmp/h.sock"), "unix:///tmp/h.sock");
  EXPECT_EQ(grpc_target("127.0.0.1:4244"), "127.0.0.1:4244");
  EXPECT_EQ(grpc_target("localhost:4245"), "localhost:4245");
  EXPECT_THROW(grpc_target(""), std::invalid_argument);
  EXPECT_THROW(grpc_target("http://x:1"), std::invalid_argument);
  EXPECT_THROW(grpc_target("nohost"), std::invalid_argument);
}

TEST(ClientTarget, UnreachableServerIsAClearError) {
  try {
    ObserverClient c("unix:///nonexistent/hubble.sock", std::chrono::milliseconds(200));
    FAIL() << "connected to nothing";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("failed to connect to 'unix:///nonexistent/hubble.sock'"), std::string::npos);
  }
}
