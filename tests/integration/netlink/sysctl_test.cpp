// Per-namespace sysctls: written from a run_in_netns thread, invisible to the
// caller's namespace and to other namespaces.
#include <stdexcept>

#include "netlink/rtnl.h"
#include "netlink/sysctl.h"
#include "test_env.h"

namespace nltest {
namespace {

using cpp::read_sysctl;
using cpp::write_sysctl;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class SysctlTest : public NsFixture {};

TEST_F(SysctlTest, WriteInNamespaceLeavesCallerAndOthersUnchanged) {
  const std::string key = "net.ipv4.ip_forward";
  // Reading the caller's (root) value is fine; we never write it.
  const std::string root_before = read_sysctl(key);
  const std::string b_before = read_sysctl(hb, key);
  const std::string flipped = root_before == "1" ? "0" : "1";

  write_sysctl(ha, key, flipped);

  EXPECT_EQ(read_sysctl(ha, key), flipped);
  // An independent process in a agrees (the write really landed in a).
  EXPECT_EQ(trim(in_ns(a, "cat /proc/sys/net/ipv4/ip_forward")), flipped);
  EXPECT_EQ(read_sysctl(key), root_before);
  EXPECT_EQ(trim(sh("cat /proc/sys/net/ipv4/ip_forward")), root_before);
  EXPECT_EQ(read_sysctl(hb, key), b_before);
}

TEST_F(SysctlTest, ProcSysFollowsTheThreadNotTheProcess) {
  // Inside a run_in_netns thread the plain functions see that thread's namespace,
  // although the process's main thread stays in the caller's namespace.
  const std::string root_v6 = read_sysctl("net.ipv6.conf.all.forwarding");
  const std::string flipped = root_v6 == "1" ? "0" : "1";
  std::string seen = cpp::run_in_netns(ha, [&] {
    write_sysctl("net.ipv6.conf.all.forwarding", flipped);
    return read_sysctl("net/ipv6/conf/all/forwarding");
  });
  EXPECT_EQ(seen, flipped);
  EXPECT_EQ(trim(in_ns(a, "cat /proc/sys/net/ipv6/conf/all/forwarding")), flipped);
  EXPECT_EQ(read_sysctl("net.ipv6.conf.all.forwarding"), root_v6);
}

TEST_F(SysctlTest, PerDeviceKeysIncludingDottedNames) {
  cpp::Netlink nl = cpp::Netlink::in_netns(ha);
  nl.create_veth("veth-a", "vb.100");
  write_sysctl(ha, "net.ipv4.conf.veth-a.rp_filter", "2");
  EXPECT_EQ(read_sysctl(ha, "net.ipv4.conf.veth-a.rp_filter"), "2");
  // A device name with a dot needs the slash form.
  write_sysctl(ha, "net/ipv4/conf/vb.100/rp_filter", "0");
  EXPECT_EQ(trim(in_ns(a, "cat /proc/sys/net/ipv4/conf/vb.100/rp_filter")), "0");
  write_sysctl(ha, "net.ipv6.conf.veth-a.forwarding", "1");
  EXPECT_EQ(read_sysctl(ha, "net.ipv6.conf.veth-a.forwarding"), "1");
  // The device does not exist in b, nor in the caller's namespace.
  EXPECT_THROW(read_sysctl(hb, "net.ipv4.conf.veth-a.rp_filter"), std::runtime_error);
}

TEST_F(SysctlTest, OnlyNetKeysAndClearErrors) {
  EXPECT_THROW(write_sysctl(ha, "kernel.hostname", "x"), std::runtime_error);
  EXPECT_THROW(write_sysctl(ha, "net/../kernel/hostname", "x"), std::runtime_error);
  EXPECT_THROW(cpp::sysctl_path("vm.swappiness"), std::runtime_error);
  EXPECT_EQ(cpp::sysctl_path("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
  try {
    read_sysctl(ha, "net.ipv4.conf.no-such-dev.rp_filter");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/sys/net/ipv4/conf/no-such-dev/rp_filter"), std::string::npos)
        << e.what();
  }
  try {
    write_sysctl(ha, "net.ipv4.ip_forward", "not-a-number");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ip_forward"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nltest
