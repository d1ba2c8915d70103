// Prefixes as RFC 4271 §4.3 and RFC 4760 §5 encode them: a length in bits
// followed by the fewest octets that hold it.
#include <stdexcept>

#include "bgp/message_wire.h"

namespace cpp::bgp::wire {

void put_prefix(Bytes& b, const IpPrefix& p) {
  if (p.len < 0 || p.len > p.addr.bits()) throw std::invalid_argument("prefix " + p.str() + ": bad length");
  put8(b, static_cast<uint8_t>(p.len));
  size_t n = (static_cast<size_t>(p.len) + 7) / 8;
  b.insert(b.end(), p.addr.bytes.begin(), p.addr.bytes.begin() + static_cast<long>(n));
  // Host bits never leave: a receiver (ciliumpp included) would withdraw.
  if (p.len % 8 != 0) b.back() &= static_cast<uint8_t>(0xff << (8 - p.len % 8));
}

PrefixResult read_prefix(Reader& r, bool v6) {
  PrefixResult out;
  out.prefix.addr.v6 = v6;
  if (!r.has(1)) return {out.prefix, PrefixError::Truncated};
  int len = r.u8();
  if (len > (v6 ? 128 : 32)) return {out.prefix, PrefixError::TooLong};
  size_t n = (static_cast<size_t>(len) + 7) / 8;
  if (!r.has(n)) return {out.prefix, PrefixError::Truncated};
  for (size_t i = 0; i < n; ++i) out.prefix.addr.bytes[i] = r.u8();
  out.prefix.len = len;
  if (len % 8 != 0) {
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - len % 8));
    uint8_t& last = out.prefix.addr.bytes[n - 1];
    out.host_bits = (last & ~mask) != 0;
    last &= mask;
  }
  return out;
}

std::string describe(PrefixError e, bool v6) {
  switch (e) {
    case PrefixError::None: return "ok";
    case PrefixError::TooLong: return std::string("prefix length above ") + (v6 ? "128" : "32");
    case PrefixError::Truncated: return "prefix runs past the end of its field";
  }
  return "?";
}

}  // namespace cpp::bgp::wire
