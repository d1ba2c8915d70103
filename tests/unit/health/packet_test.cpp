#include <gtest/gtest.h>

#include "health/icmp_packet.h"
#include "health/probes.h"

using namespace cpp::health;

TEST(HealthIcmp, ChecksumOfRfc1071Example) {
  // RFC 1071 §3: the sum of these words is 0xddf2, so the checksum is ~0xddf2.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(inet_checksum(data, sizeof data), static_cast<uint16_t>(~0xddf2));
}

TEST(HealthIcmp, EchoRequestV4CarriesIdSeqAndValidChecksum) {
  auto p = echo_request(false, 0x1234, 7);
  ASSERT_EQ(p.size(), 24u);
  EXPECT_EQ(p[0], 8);
  EXPECT_EQ(p[4], 0x12);
  EXPECT_EQ(p[5], 0x34);
  EXPECT_EQ(p[7], 7);
  EXPECT_EQ(inet_checksum(p.data(), p.size()), 0);  // a correct checksum sums to zero
  auto p6 = echo_request(true, 1, 1);
  EXPECT_EQ(p6[0], 128);
}

TEST(HealthIcmp, MatchesOnlyItsOwnReply) {
  // IPv4: a 20-byte header, then the ICMP reply.
  std::vector<uint8_t> v4(20, 0);
  v4[0] = 0x45;
  auto reply = echo_request(false, 0xbeef, 1);
  reply[0] = 0;  // echo reply
  v4.insert(v4.end(), reply.begin(), reply.end());
  EXPECT_TRUE(is_echo_reply(false, v4.data(), v4.size(), 0xbeef, 1));
  EXPECT_FALSE(is_echo_reply(false, v4.data(), v4.size(), 0xbeef, 2));
  EXPECT_FALSE(is_echo_reply(false, v4.data(), v4.size(), 0xbeee, 1));
  EXPECT_FALSE(is_echo_reply(false, v4.data(), 25, 0xbeef, 1));  // truncated
  v4[20] = 8;                                                    // a request, not a reply
  EXPECT_FALSE(is_echo_reply(false, v4.data(), v4.size(), 0xbeef, 1));
  // IPv6 raw sockets deliver the ICMPv6 message alone.
  auto r6 = echo_request(true, 42, 3);
  r6[0] = 129;
  EXPECT_TRUE(is_echo_reply(true, r6.data(), r6.size(), 42, 3));
  EXPECT_FALSE(is_echo_reply(true, r6.data(), r6.size(), 43, 3));
}

TEST(HealthHttp, StatusLine) {
  EXPECT_EQ(parse_status_line("HTTP/1.1 200 OK"), 200);
  EXPECT_EQ(parse_status_line("HTTP/1.0 503 Service Unavailable"), 503);
  EXPECT_EQ(parse_status_line("HTTP/1.1 404"), 404);
  EXPECT_FALSE(parse_status_line("SSH-2.0-OpenSSH"));
  EXPECT_FALSE(parse_status_line("HTTP/1.1 2x0 OK"));
  EXPECT_FALSE(parse_status_line("HTTP/1.1 2000 OK"));
}
