#pragma once
// Shared helpers for the datapath tests: a unique bpffs pin directory,
// packet builders, independent checksum code and BPF_PROG_TEST_RUN.
#include <cstdint>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/mac.h"

namespace cpp::bpftest {

using Bytes = std::vector<uint8_t>;

inline constexpr int kTcActOk = 0;
inline constexpr int kTcActShot = 2;
inline constexpr int kTcActRedirect = 7;

IpAddr ip(const std::string& s);  // parses or throws

// /sys/fs/bpf/ciliumpp/test-<pid>-<rand>, mounted bpffs ensured; removed
// (with all pins in it) on destruction, so also when a test fails.
class TestPinDir {
 public:
  TestPinDir();
  ~TestPinDir();
  TestPinDir(const TestPinDir&) = delete;
  TestPinDir& operator=(const TestPinDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A short random hex string, to make names unique per run.
std::string random_suffix();

// --- checksums, written independently of the BPF code ---------------------
uint32_t csum_add(uint32_t sum, const uint8_t* p, size_t n);  // 16-bit BE word sum
uint16_t csum_finish(uint32_t sum);                            // fold + complement
uint16_t ipv4_header_csum(const uint8_t* hdr, size_t len);     // 0 when valid
// Checksum of an upper-layer message over the IPv6 pseudo header; a message
// whose checksum field is correct yields 0.
uint16_t ipv6_l4_csum(const IpAddr& src, const IpAddr& dst, uint8_t nexthdr, const uint8_t* l4,
                      size_t len);
uint16_t ipv4_l4_csum(const IpAddr& src, const IpAddr& dst, uint8_t proto, const uint8_t* l4,
                      size_t len);

// --- packet builders (checksums filled in) --------------------------------
Bytes eth_hdr(const MacAddr& dst, const MacAddr& src, uint16_t ethertype);
Bytes ipv4_packet(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& src,
                  const IpAddr& dst, uint8_t proto, const Bytes& l4, uint8_t ttl = 64);
Bytes ipv6_packet(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& src,
                  const IpAddr& dst, uint8_t nexthdr, const Bytes& l4, uint8_t hop_limit = 64);
// L4 payloads; src/dst are needed for the pseudo-header checksums.
Bytes icmp4_echo(uint16_t id, uint16_t seq, bool reply = false);
Bytes icmp6_echo(const IpAddr& src, const IpAddr& dst, uint16_t id, uint16_t seq,
                 bool reply = false);
// Any ICMP message: type, code, the 4 bytes after the checksum, body.
Bytes icmp4_msg(uint8_t type, uint8_t code, uint32_t rest, const Bytes& body);
Bytes icmp6_msg(const IpAddr& src, const IpAddr& dst, uint8_t type, uint8_t code, uint32_t rest,
                const Bytes& body);
Bytes tcp_syn(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport);
// A TCP segment with the given flags (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10).
Bytes tcp_segment(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport,
                  uint8_t flags);
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;
Bytes udp_dgram(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport,
                const std::string& data);
Bytes arp_packet(uint16_t op, const MacAddr& eth_dst, const MacAddr& sha, const IpAddr& sip,
                 const MacAddr& tha, const IpAddr& tip);
// Neighbour Solicitation for target; with_slla adds the source link-layer
// address option, extra appends raw option bytes (e.g. a nonce option).
Bytes ipv6_ns(const MacAddr& eth_dst, const MacAddr& src_mac, const IpAddr& src,
              const IpAddr& dst, const IpAddr& target, bool with_slla, const Bytes& extra = {},
              uint8_t hop_limit = 255);
IpAddr solicited_node(const IpAddr& target);
MacAddr ipv6_mcast_mac(const IpAddr& group);

// --- BPF_PROG_TEST_RUN -------------------------------------------------------
struct RunResult {
  int verdict = -1;
  Bytes out;
};
RunResult test_run(int prog_fd, const Bytes& pkt);

// Field readers (network order in the buffer).
uint16_t be16(const Bytes& b, size_t off);
MacAddr mac_at(const Bytes& b, size_t off);
IpAddr ip4_at(const Bytes& b, size_t off);
IpAddr ip6_at(const Bytes& b, size_t off);

}  // namespace cpp::bpftest
