// NetnsHandle and run_in_netns: results, exceptions, and the caller's thread never moving.
#include <memory>
#include <stdexcept>

#include "netlink/netns.h"
#include "netlink/rtnl.h"
#include "test_env.h"

namespace nltest {
namespace {

using cpp::Netlink;
using cpp::NetnsHandle;
using cpp::run_in_netns;

class NetnsTest : public NsFixture {};

TEST_F(NetnsTest, RunsInTheNamespaceAndLeavesTheCallerAlone) {
  const uint64_t caller = NetnsHandle::current().id();
  EXPECT_NE(ha.id(), caller);
  EXPECT_NE(ha.id(), hb.id());
  uint64_t inside = run_in_netns(ha, [] { return NetnsHandle::current().id(); });
  EXPECT_EQ(inside, ha.id());
  EXPECT_EQ(run_in_netns(hb, [] { return NetnsHandle::current().id(); }), hb.id());
  EXPECT_EQ(NetnsHandle::current().id(), caller);
}

TEST_F(NetnsTest, PropagatesMoveOnlyResultsVoidAndExceptions) {
  auto p = run_in_netns(ha, [] { return std::make_unique<int>(42); });
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, 42);

  int touched = 0;
  run_in_netns(ha, [&] { touched = 7; });
  EXPECT_EQ(touched, 7);

  try {
    run_in_netns(ha, []() -> int { throw std::logic_error("boom in netns"); });
    FAIL() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "boom in netns");
  }
}

TEST_F(NetnsTest, OpenErrorsAreClear) {
  try {
    NetnsHandle::open_name("cpp-nl-missing-" + std::to_string(::getpid()));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/run/netns/cpp-nl-missing-"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cpp::netns_path_for_name("a/b"), std::runtime_error);
  EXPECT_THROW(cpp::netns_path_for_name(""), std::runtime_error);
  try {
    NetnsHandle::open_path("/proc/self/status");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a network namespace"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run_in_netns(NetnsHandle(), [] { return 1; }), std::runtime_error);
  // /proc/<pid>/ns/net works too.
  EXPECT_EQ(NetnsHandle::open_path("/proc/thread-self/ns/net").id(), NetnsHandle::current().id());
}

TEST_F(NetnsTest, SocketKeepsItsNamespaceWhenUsedFromAnotherThread) {
  // Built on a run_in_netns thread, used from this (differently namespaced) thread.
  Netlink nl = Netlink::in_netns(ha);
  nl.create_veth("probe0", "probe1");
  EXPECT_TRUE(nl.get_link("probe0").has_value());
  int rc = 0;
  in_ns(a, "ip link show probe0", &rc);
  EXPECT_EQ(rc, 0) << "probe0 not in " << a;
  in_ns(b, "ip link show probe0", &rc);
  EXPECT_NE(rc, 0) << "probe0 leaked into " << b;
  // The object can also move to and be used on yet another thread.
  bool seen = run_in_netns(hb, [&] { return nl.get_link("probe1").has_value(); });
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace nltest
