#include "test_util.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "common/files.h"
#include "datapath/bpffs.h"

namespace cpp::bpftest {

IpAddr ip(const std::string& s) {
  auto a = IpAddr::parse(s);
  if (!a) throw std::invalid_argument("bad address " + s);
  return *a;
}

std::string random_suffix() {
  std::random_device rd;
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", rd());
  return buf;
}

TestPinDir::TestPinDir() {
  datapath::ensure_bpffs();
  path_ = std::string(datapath::kBpffsRoot) + "/ciliumpp/test-" + std::to_string(::getpid()) +
          "-" + random_suffix();
  make_dirs(path_);
}

TestPinDir::~TestPinDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // unlinking a pin drops only the pin
}

// --- checksums ---------------------------------------------------------------

uint32_t csum_add(uint32_t sum, const uint8_t* p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
  return sum;
}

uint16_t csum_finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint16_t ipv4_header_csum(const uint8_t* hdr, size_t len) { return csum_finish(csum_add(0, hdr, len)); }

uint16_t ipv6_l4_csum(const IpAddr& src, const IpAddr& dst, uint8_t nexthdr, const uint8_t* l4,
                      size_t len) {
  uint32_t sum = csum_add(0, src.bytes.data(), 16);
  sum = csum_add(sum, dst.bytes.data(), 16);
  uint8_t tail[8] = {static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16),
                     static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len), 0, 0, 0, nexthdr};
  sum = csum_add(sum, tail, sizeof(tail));
  return csum_finish(csum_add(sum, l4, len));
}

uint16_t ipv4_l4_csum(const IpAddr& src, const IpAddr& dst, uint8_t proto, const uint8_t* l4,
                      size_t len) {
  uint32_t sum = csum_add(0, src.bytes.data(), 4);
  sum = csum_add(sum, dst.bytes.data(), 4);
  uint8_t tail[4] = {0, proto, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)};
  sum = csum_add(sum, tail, sizeof(tail));
  return csum_finish(csum_add(sum, l4, len));
}

// --- builders ----------------------------------------------------------------
namespace {
void put16(Bytes& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
void append(Bytes& b, const uint8_t* p, size_t n) { b.insert(b.end(), p, p + n); }
void append(Bytes& b, const Bytes& x) { b.insert(b.end(), x.begin(), x.end()); }
}  // namespace

Bytes eth_hdr(const MacAddr& dst, const MacAddr& src, uint16_t ethertype) {
  Bytes b;
  append(b, dst.data(), 6);
  append(b, src.data(), 6);
  b.push_back(static_cast<uint8_t>(ethertype >> 8));
  b.push_back(static_cast<uint8_t>(ethertype));
  return b;
}

Bytes ipv4_packet(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& src,
                  const IpAddr& dst, uint8_t proto, const Bytes& l4, uint8_t ttl) {
  Bytes b = eth_hdr(dst_mac, src_mac, 0x0800);
  Bytes h(20, 0);
  h[0] = 0x45;
  put16(h, 2, static_cast<uint16_t>(20 + l4.size()));
  put16(h, 4, 0x1234);  // id
  put16(h, 6, 0x4000);  // DF
  h[8] = ttl;
  h[9] = proto;
  std::memcpy(&h[12], src.bytes.data(), 4);
  std::memcpy(&h[16], dst.bytes.data(), 4);
  put16(h, 10, ipv4_header_csum(h.data(), h.size()));
  append(b, h);
  Bytes l4c = l4;
  // L4 checksums need the pseudo header: fill TCP/UDP here.
  if (proto == 6 && l4c.size() >= 20) {
    put16(l4c, 16, 0);
    put16(l4c, 16, ipv4_l4_csum(src, dst, proto, l4c.data(), l4c.size()));
  } else if (proto == 17 && l4c.size() >= 8) {
    put16(l4c, 6, 0);
    put16(l4c, 6, ipv4_l4_csum(src, dst, proto, l4c.data(), l4c.size()));
  }
  append(b, l4c);
  return b;
}

Bytes ipv6_packet(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& src,
                  const IpAddr& dst, uint8_t nexthdr, const Bytes& l4, uint8_t hop_limit) {
  Bytes b = eth_hdr(dst_mac, src_mac, 0x86dd);
  Bytes h(40, 0);
  h[0] = 0x60;
  put16(h, 4, static_cast<uint16_t>(l4.size()));
  h[6] = nexthdr;
  h[7] = hop_limit;
  std::memcpy(&h[8], src.bytes.data(), 16);
  std::memcpy(&h[24], dst.bytes.data(), 16);
  append(b, h);
  append(b, l4);
  return b;
}

Bytes icmp4_echo(uint16_t id, uint16_t seq, bool reply) {
  Bytes m = {static_cast<uint8_t>(reply ? 0 : 8), 0, 0, 0, 0, 0, 0, 0, 'p', 'i', 'n', 'g'};
  put16(m, 4, id);
  put16(m, 6, seq);
  put16(m, 2, csum_finish(csum_add(0, m.data(), m.size())));
  return m;
}

Bytes icmp6_echo(const IpAddr& src, const IpAddr& dst, uint16_t id, uint16_t seq, bool reply) {
  Bytes m = {static_cast<uint8_t>(reply ? 129 : 128), 0, 0, 0, 0, 0, 0, 0, 'p', 'i', 'n', 'g'};
  put16(m, 4, id);
  put16(m, 6, seq);
  put16(m, 2, ipv6_l4_csum(src, dst, 58, m.data(), m.size()));
  return m;
}

Bytes tcp_syn(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport) {
  return tcp_segment(src, dst, sport, dport, kTcpSyn);
}

Bytes tcp_segment(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport,
                  uint8_t flags) {
  Bytes t(20, 0);
  put16(t, 0, sport);
  put16(t, 2, dport);
  t[7] = 1;        // seq 1
  if (flags & kTcpAck) t[11] = 1;  // ack 1
  t[12] = 5 << 4;  // data offset
  t[13] = flags;
  put16(t, 14, 65535);
  if (src.v6) put16(t, 16, ipv6_l4_csum(src, dst, 6, t.data(), t.size()));
  return t;  // IPv4 checksum is filled by ipv4_packet
}

Bytes icmp4_msg(uint8_t type, uint8_t code, uint32_t rest, const Bytes& body) {
  Bytes m = {type, code, 0, 0, static_cast<uint8_t>(rest >> 24), static_cast<uint8_t>(rest >> 16),
             static_cast<uint8_t>(rest >> 8), static_cast<uint8_t>(rest)};
  append(m, body);
  put16(m, 2, csum_finish(csum_add(0, m.data(), m.size())));
  return m;
}

Bytes icmp6_msg(const IpAddr& src, const IpAddr& dst, uint8_t type, uint8_t code, uint32_t rest,
                const Bytes& body) {
  Bytes m = {type, code, 0, 0, static_cast<uint8_t>(rest >> 24), static_cast<uint8_t>(rest >> 16),
             static_cast<uint8_t>(rest >> 8), static_cast<uint8_t>(rest)};
  append(m, body);
  put16(m, 2, ipv6_l4_csum(src, dst, 58, m.data(), m.size()));
  return m;
}

Bytes udp_dgram(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport,
                const std::string& data) {
  Bytes u(8 + data.size(), 0);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, static_cast<uint16_t>(u.size()));
  std::copy(data.begin(), data.end(), u.begin() + 8);
  if (src.v6) put16(u, 6, ipv6_l4_csum(src, dst, 17, u.data(), u.size()));
  return u;
}

Bytes arp_packet(uint16_t op, const MacAddr& eth_dst, const MacAddr& sha, const IpAddr& sip,
                 const MacAddr& tha, const IpAddr& tip) {
  Bytes b = eth_hdr(eth_dst, sha, 0x0806);
  Bytes a = {0, 1, 0x08, 0x00, 6, 4, 0, 0};
  put16(a, 6, op);
  append(a, sha.data(), 6);
  append(a, sip.bytes.data(), 4);
  append(a, tha.data(), 6);
  append(a, tip.bytes.data(), 4);
  append(b, a);
  return b;
}

IpAddr solicited_node(const IpAddr& target) {
  IpAddr a = ip("ff02::1:ff00:0");
  a.bytes[13] = target.bytes[13];
  a.bytes[14] = target.bytes[14];
  a.bytes[15] = target.bytes[15];
  return a;
}

MacAddr ipv6_mcast_mac(const IpAddr& group) {
  return {0x33, 0x33, group.bytes[12], group.bytes[13], group.bytes[14], group.bytes[15]};
}

Bytes ipv6_ns(const MacAddr& eth_dst, const MacAddr& src_mac, const IpAddr& src,
              const IpAddr& dst, const IpAddr& target, bool with_slla, const Bytes& extra,
              uint8_t hop_limit) {
  Bytes m = {135, 0, 0, 0, 0, 0, 0, 0};
  append(m, target.bytes.data(), 16);
  if (with_slla) {
    m.push_back(1);  // source link-layer address option
    m.push_back(1);
    append(m, src_mac.data(), 6);
  }
  append(m, extra);
  put16(m, 2, ipv6_l4_csum(src, dst, 58, m.data(), m.size()));
  return ipv6_packet(eth_dst, src_mac, src, dst, 58, m, hop_limit);
}

// --- test run ----------------------------------------------------------------

RunResult test_run(int prog_fd, const Bytes& pkt) {
  RunResult r;
  r.out.assign(pkt.size() + 256, 0);
  bpf_test_run_opts opts{};
  opts.sz = sizeof(opts);
  opts.data_in = pkt.data();
  opts.data_size_in = static_cast<uint32_t>(pkt.size());
  opts.data_out = r.out.data();
  opts.data_size_out = static_cast<uint32_t>(r.out.size());
  opts.repeat = 1;
  int err = bpf_prog_test_run_opts(prog_fd, &opts);
  if (err) throw std::runtime_error(std::string("BPF_PROG_TEST_RUN: ") + std::strerror(-err));
  r.verdict = static_cast<int>(opts.retval);
  r.out.resize(opts.data_size_out);
  return r;
}

uint16_t be16(const Bytes& b, size_t off) {
  return static_cast<uint16_t>(b.at(off) << 8 | b.at(off + 1));
}

MacAddr mac_at(const Bytes& b, size_t off) {
  MacAddr m;
  for (size_t i = 0; i < 6; ++i) m[i] = b.at(off + i);
  return m;
}

IpAddr ip4_at(const Bytes& b, size_t off) {
  IpAddr a;
  for (size_t i = 0; i < 4; ++i) a.bytes[i] = b.at(off + i);
  return a;
}

IpAddr ip6_at(const Bytes& b, size_t off) {
  IpAddr a;
  a.v6 = true;
  for (size_t i = 0; i < 16; ++i) a.bytes[i] = b.at(off + i);
  return a;
}

}  // namespace cpp::bpftest
