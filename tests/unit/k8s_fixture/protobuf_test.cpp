#include "protobuf.h"

#include <gtest/gtest.h>

#include "api_error.h"

using cpp::kfix::ApiError;
using cpp::kfix::decode_k8s_protobuf;
using cpp::kfix::json;

namespace {

// Length-delimited field, the only wire type these messages need.
std::string field(int number, const std::string& value) {
  std::string out(1, static_cast<char>((number << 3) | 2));
  size_t n = value.size();
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    out += static_cast<char>(n ? (b | 0x80) : b);
  } while (n);
  return out + value;
}

std::string envelope(const std::string& api_version, const std::string& kind, const std::string& raw) {
  return std::string("k8s\0", 4) + field(1, field(1, api_version) + field(2, kind)) + field(2, raw);
}

}  // namespace

TEST(Protobuf, NamespaceWithLabels) {
  std::string meta = field(1, "team") + field(2, "") + field(11, field(1, "env") + field(2, "prod"));
  json ns = decode_k8s_protobuf(envelope("v1", "Namespace", field(1, meta) + field(2, "")));
  EXPECT_EQ(ns, json::parse(R"({"apiVersion":"v1","kind":"Namespace",
                                 "metadata":{"name":"team","labels":{"env":"prod"}}})"));
}

TEST(Protobuf, SecretDataIsBase64) {
  std::string meta = field(1, "bgp-auth") + field(3, "kube-system");
  std::string raw = field(1, meta) + field(2, field(1, "password") + field(2, "s3cr3t")) + field(3, "Opaque");
  json s = decode_k8s_protobuf(envelope("v1", "Secret", raw));
  EXPECT_EQ(s["data"]["password"], "czNjcjN0");
  EXPECT_EQ(s["type"], "Opaque");
  EXPECT_EQ(s["metadata"]["namespace"], "kube-system");
}

TEST(Protobuf, OtherKindsAndBadBodies) {
  auto code = [](const std::string& body) {
    try {
      decode_k8s_protobuf(body);
    } catch (const ApiError& e) {
      return e.code();
    }
    return 0;
  };
  EXPECT_EQ(code(envelope("v1", "Service", "")), 415);
  EXPECT_EQ(code("{\"json\": true}"), 400);
  EXPECT_EQ(code(std::string("k8s\0", 4) + "\x0a\xff"), 400);  // a length past the end
}
