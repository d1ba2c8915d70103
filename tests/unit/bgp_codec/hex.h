#pragma once
// Test helpers: messages written as hex, spaces allowed.
#include <gtest/gtest.h>

#include <string>

#include "bgp/message.h"

namespace cpp::bgp::test {

inline Bytes hex(const std::string& s) {
  Bytes out;
  std::string digits;
  for (char c : s)
    if (c != ' ') digits += c;
  if (digits.size() % 2 != 0) throw std::invalid_argument("odd hex: " + s);
  for (size_t i = 0; i < digits.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  return out;
}

inline std::string to_hex(const Bytes& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

inline const std::string kMarker = "ffffffffffffffffffffffffffffffff";

// A whole message: marker, length computed from the body, type.
inline Bytes msg(uint8_t type, const std::string& body_hex) {
  Bytes body = hex(body_hex);
  size_t len = 19 + body.size();
  Bytes b = hex(kMarker);
  b.push_back(static_cast<uint8_t>(len >> 8));
  b.push_back(static_cast<uint8_t>(len));
  b.push_back(type);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

inline std::string len16(size_t n) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04zx", n);
  return buf;
}
inline std::string len8(size_t n) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02zx", n);
  return buf;
}

// An UPDATE from its three fields; the two length fields are computed.
inline Bytes update(const std::string& withdrawn, const std::string& attrs, const std::string& nlri) {
  return msg(2, len16(hex(withdrawn).size()) + withdrawn + len16(hex(attrs).size()) + attrs + nlri);
}

// An OPEN body (version, AS, hold time, BGP ID) with raw optional parameters.
inline Bytes open(const std::string& fixed, const std::string& params) {
  return msg(1, fixed + len8(hex(params).size()) + params);
}

// Well-formed attributes to build on.
inline const std::string kOrigin = "40010100";                 // IGP
inline const std::string kAsPath4 = "400206 0201 0000fde9";    // SEQUENCE [65001], 4-octet
inline const std::string kAsPath2 = "400204 0201 fde9";        // SEQUENCE [65001], 2-octet
inline const std::string kNextHop = "400304 0a000001";         // 10.0.0.1
inline const std::string kNlri = "180a0100";                   // 10.1.0.0/24
inline const std::string kMpReach6 =
    "800e1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001";  // 2001:db8:1::/48 via 2001:db8::1

inline IpPrefix pfx(const std::string& s) { return *IpPrefix::parse(s); }
inline IpAddr ip(const std::string& s) { return *IpAddr::parse(s); }

template <class T>
T decode_as(const Bytes& b, DecodeContext ctx = {}) {
  auto r = decode(b.data(), b.size(), ctx);
  if (auto* e = std::get_if<DecodeError>(&r)) {
    ADD_FAILURE() << "decode failed: " << e->what << " (" << e->notification.str() << ")";
    return T{};
  }
  auto& m = std::get<Message>(r);
  if (!std::holds_alternative<T>(m)) {
    ADD_FAILURE() << "decoded another message type: index " << m.index();
    return T{};
  }
  return std::get<T>(m);
}

}  // namespace cpp::bgp::test
