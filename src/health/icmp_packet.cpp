#include "health/icmp_packet.h"

namespace cpp::health {
namespace {
constexpr uint8_t kEchoRequest4 = 8, kEchoReply4 = 0;
constexpr uint8_t kEchoRequest6 = 128, kEchoReply6 = 129;
}  // namespace

uint16_t inet_checksum(const uint8_t* buf, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(buf[i] << 8 | buf[i + 1]);
  if (len % 2) sum += static_cast<uint32_t>(buf[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

std::vector<uint8_t> echo_request(bool v6, uint16_t id, uint16_t seq, size_t payload_len) {
  std::vector<uint8_t> p(8 + payload_len, 0);
  p[0] = v6 ? kEchoRequest6 : kEchoRequest4;
  p[4] = static_cast<uint8_t>(id >> 8);
  p[5] = static_cast<uint8_t>(id);
  p[6] = static_cast<uint8_t>(seq >> 8);
  p[7] = static_cast<uint8_t>(seq);
  if (!v6) {
    uint16_t c = inet_checksum(p.data(), p.size());
    p[2] = static_cast<uint8_t>(c >> 8);
    p[3] = static_cast<uint8_t>(c);
  }
  return p;
}

bool is_echo_reply(bool v6, const uint8_t* buf, size_t len, uint16_t id, uint16_t seq) {
  size_t off = 0;
  if (!v6) {
    if (len < 20 || (buf[0] >> 4) != 4) return false;
    off = static_cast<size_t>(buf[0] & 0x0f) * 4;
  }
  if (len < off + 8) return false;
  const uint8_t* icmp = buf + off;
  if (icmp[0] != (v6 ? kEchoReply6 : kEchoReply4) || icmp[1] != 0) return false;
  return (icmp[4] << 8 | icmp[5]) == id && (icmp[6] << 8 | icmp[7]) == seq;
}

}  // namespace cpp::health
