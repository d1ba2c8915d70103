#include "hubble_server/listen_address.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace cpp::hubble {
namespace {

TEST(ListenAddress, EmptyHostMeansEveryAddress) { EXPECT_EQ(grpc_tcp_address(":4244"), "[::]:4244"); }

TEST(ListenAddress, ExplicitHostsPassThrough) {
  EXPECT_EQ(grpc_tcp_address("127.0.0.1:0"), "127.0.0.1:0");
  EXPECT_EQ(grpc_tcp_address("[::1]:4244"), "[::1]:4244");
  EXPECT_EQ(grpc_tcp_address("localhost:4244"), "localhost:4244");
}

TEST(ListenAddress, BadAddressesNameTheProblem) {
  try {
    grpc_tcp_address("4244");
    FAIL() << "no port accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "hubble-listen-address \"4244\": missing \":port\"");
  }
  EXPECT_THROW(grpc_tcp_address(":http"), std::invalid_argument);
  EXPECT_THROW(grpc_tcp_address(":65536"), std::invalid_argument);
  EXPECT_THROW(grpc_tcp_address("127.0.0.1:"), std::invalid_argument);
  EXPECT_THROW(grpc_tcp_address("::1:4244"), std::invalid_argument);
}

}  // namespace
}  // namespace cpp::hubble
