// The prefix set of bench/bgp-advertise.sh, written for both senders so that
// they advertise exactly the same routes: `route` lines for bgp-test-speaker
// and an MRT TABLE_DUMP_V2 file (RFC 6396) that `gobgp mrt inject global`
// loads into gobgpd in one stream (one `gobgp global rib add` process per
// route would take minutes for 10,000).
//
//   cpp-bgp-routes ipv4|ipv6 COUNT NEXT_HOP SPEAKER_ROUTES_FILE MRT_FILE
//
// IPv4: COUNT /24s from 100.64.0.0; IPv6: COUNT /64s from 2001:db8:1000::.
// The MRT entries carry ORIGIN IGP, an empty AS_PATH (gobgpd prepends its
// own AS towards an eBGP peer, as our speaker does) and NEXT_HOP (IPv4) or
// MP_REACH_NLRI with the next hop (IPv6).
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "common/ip.h"

namespace {

using cpp::IpAddr;
using cpp::IpPrefix;

constexpr uint16_t kTableDumpV2 = 13;
constexpr uint16_t kPeerIndexTable = 1;
constexpr uint16_t kRibIpv4Unicast = 2;
constexpr uint16_t kRibIpv6Unicast = 4;
constexpr uint32_t kMaxCount = 1u << 16;  // the IPv4 range below holds 2^16 /24s
constexpr uint32_t kMrtTail = 2048;

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void put_addr(std::vector<uint8_t>& b, const IpAddr& a) {
  b.insert(b.end(), a.bytes.begin(), a.bytes.begin() + (a.v6 ? 16 : 4));
}

void write_record(std::ofstream& out, uint16_t subtype, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> h;
  put32(h, 0);  // timestamp: gobgp ignores it
  put16(h, kTableDumpV2);
  put16(h, subtype);
  put32(h, static_cast<uint32_t>(body.size()));
  out.write(reinterpret_cast<const char*>(h.data()), static_cast<std::streamsize>(h.size()));
  out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
}

// One peer (index 0) that every RIB entry refers to: an IPv4 address, AS4.
std::vector<uint8_t> peer_index_table() {
  std::vector<uint8_t> b;
  put32(b, 0xc0000201);  // collector BGP ID 192.0.2.1
  put16(b, 0);           // no view name
  put16(b, 1);           // one peer
  b.push_back(0x02);     // peer type: IPv4 address, 4-octet AS
  put32(b, 0xc0000201);
  put32(b, 0xc0000201);
  put32(b, 65001);
  return b;
}

std::vector<uint8_t> attributes(const IpAddr& next_hop) {
  std::vector<uint8_t> a{0x40, 1, 1, 0,   // ORIGIN IGP
                         0x40, 2, 0};     // AS_PATH, empty
  if (next_hop.v6) {
    // MP_REACH_NLRI with AFI/SAFI and no NLRI: the form gobgp's MRT reader
    // parses (not RFC 6396's abbreviated next-hop-only one).
    a.insert(a.end(), {0x80, 14, 21, 0, 2, 1, 16});
    put_addr(a, next_hop);
    a.push_back(0);  // reserved
  } else {
    a.insert(a.end(), {0x40, 3, 4});  // NEXT_HOP
    put_addr(a, next_hop);
  }
  return a;
}

IpPrefix nth_prefix(bool v6, uint32_t i) {
  IpPrefix p;
  p.addr.v6 = v6;
  if (v6) {
    p.len = 64;
    p.addr.bytes = {0x20, 0x01, 0x0d, 0xb8, 0x10, 0x00, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
  } else {
    p.len = 24;
    p.addr.bytes = {100, static_cast<uint8_t>(64 + (i >> 8)), static_cast<uint8_t>(i), 0};
  }
  return p;
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "cpp-bgp-routes: " << why
            << "\nusage: cpp-bgp-routes ipv4|ipv6 COUNT NEXT_HOP SPEAKER_ROUTES_FILE MRT_FILE\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) usage("expected 5 arguments, got " + std::to_string(argc - 1));
  const std::string family = argv[1];
  if (family != "ipv4" && family != "ipv6") usage("family must be ipv4 or ipv6, not '" + family + "'");
  const bool v6 = family == "ipv6";
  char* end = nullptr;
  const unsigned long count = std::strtoul(argv[2], &end, 10);
  if (*end != '\0' || count == 0 || count > kMaxCount)
    usage("COUNT must be 1.." + std::to_string(kMaxCount) + ", not '" + argv[2] + "'");
  const auto next_hop = IpAddr::parse(argv[3]);
  if (!next_hop || next_hop->v6 != v6) usage("NEXT_HOP must be an " + family + " address, not '" + argv[3] + "'");

  std::ofstream routes(argv[4]);
  std::ofstream mrt(argv[5], std::ios::binary);
  if (!routes) usage(std::string("cannot write ") + argv[4]);
  if (!mrt) usage(std::string("cannot write ") + argv[5]);
  write_record(mrt, kPeerIndexTable, peer_index_table());
  const auto attrs = attributes(*next_hop);
  for (uint32_t i = 0; i < count; ++i) {
    // The IPv4 routes leave the next hop to the session (the speaker's
    // local address), as gobgpd's next-hop-self towards an eBGP peer does.
    const IpPrefix p = nth_prefix(v6, i);
    routes << "route " << p.str() << (v6 ? " " + next_hop->str() : "") << "\n";
  }
  // `gobgp mrt inject` (3.10) exits before its last few hundred paths reach
  // gobgpd; the file therefore ends with the last kMrtTail prefixes again,
  // and those re-announcements (which change nothing) are what gets lost.
  const uint32_t tail_from = count > kMrtTail ? count - kMrtTail : 0;
  uint32_t seq = 0;
  for (uint32_t i : {0u, tail_from}) {
    for (; i < count; ++i) {
      const IpPrefix p = nth_prefix(v6, i);
      std::vector<uint8_t> b;
      put32(b, seq++);
      b.push_back(static_cast<uint8_t>(p.len));
      put_addr(b, p.addr);
      b.resize(b.size() - ((v6 ? 128 : 32) - p.len) / 8);  // prefix bytes only
      put16(b, 1);  // one entry
      put16(b, 0);  // peer index
      put32(b, 0);  // originated time
      put16(b, static_cast<uint16_t>(attrs.size()));
      b.insert(b.end(), attrs.begin(), attrs.end());
      write_record(mrt, v6 ? kRibIpv6Unicast : kRibIpv4Unicast, b);
    }
  }
  routes.close();
  mrt.close();
  if (!routes || !mrt) {
    std::cerr << "cpp-bgp-routes: write failed\n";
    return 1;
  }
  return 0;
}
