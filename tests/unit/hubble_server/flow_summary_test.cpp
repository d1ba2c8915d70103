#include "hubble_server/flow_summary.h"

#include <gtest/gtest.h>

namespace cpp::hubble {
namespace {

TEST(FlowSummary, TcpFlagsInUpstreamOrder) {
  EXPECT_EQ(tcp_flags_text(0x02), "SYN");
  EXPECT_EQ(tcp_flags_text(0x12), "SYN, ACK");
  EXPECT_EQ(tcp_flags_text(0x11), "ACK, FIN");
  EXPECT_EQ(tcp_flags_text(0x14), "ACK, RST");
  EXPECT_EQ(tcp_flags_text(0x18), "ACK, PSH");
  EXPECT_EQ(tcp_flags_text(0xff), "SYN, ACK, RST, FIN, PSH, URG, ECE, CWR");
  EXPECT_EQ(tcp_flags_text(0), "");
}

TEST(FlowSummary, IcmpTypeCodeNames) {
  EXPECT_EQ(icmpv4_type_code_text(0, 0), "EchoReply");
  EXPECT_EQ(icmpv4_type_code_text(8, 0), "EchoRequest");
  EXPECT_EQ(icmpv4_type_code_text(3, 3), "DestinationUnreachable(Port)");
  EXPECT_EQ(icmpv4_type_code_text(11, 0), "TimeExceeded(TTLExceeded)");
  EXPECT_EQ(icmpv4_type_code_text(8, 5), "EchoRequest(Code: 5)");
  EXPECT_EQ(icmpv4_type_code_text(3, 99), "DestinationUnreachable(Code: 99)");
  EXPECT_EQ(icmpv4_type_code_text(200, 1), "200(1)");
  EXPECT_EQ(icmpv6_type_code_text(128, 0), "EchoRequest");
  EXPECT_EQ(icmpv6_type_code_text(129, 0), "EchoReply");
  EXPECT_EQ(icmpv6_type_code_text(135, 0), "NeighborSolicitation");
  EXPECT_EQ(icmpv6_type_code_text(1, 4), "DestinationUnreachable(PortUnreachable)");
}

TEST(FlowSummary, NoL4NamesTheIpLayer) {
  Flow f;
  f.ip_version = 6;
  f.protocol = 47;  // GRE: not decoded
  EXPECT_EQ(flow_summary(f), "IPv6");
}

}  // namespace
}  // namespace cpp::hubble
