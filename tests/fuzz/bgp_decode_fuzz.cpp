// libFuzzer target for the BGP codec (src/bgp/message_*.cpp). For arbitrary
// bytes, under both AS_PATH widths: decode never crashes or reads out of
// bounds (ASan/UBSan), a header error from frame_length() matches decode(),
// and whatever decodes re-encodes to bytes that decode to the same message
// and re-encode to the same bytes. A treat-as-withdraw UPDATE is compared
// without its verdict: re-encoding drops the malformed attribute, so the
// second decode may find nothing wrong (or something else missing).
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "bgp/message.h"

using namespace cpp::bgp;

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bgp_decode_fuzz: %s\n", what);
  std::abort();
}

Message without_verdict(Message m) {
  if (auto* u = std::get_if<Update>(&m)) {
    u->treat_as_withdraw = false;
    u->treat_as_withdraw_reason.clear();
  }
  return m;
}

void check(const uint8_t* data, size_t size, const DecodeContext& ctx) {
  auto first = decode(data, size, ctx);
  if (auto* e = std::get_if<DecodeError>(&first)) {
    if (e->notification.code < err::kHeader || e->notification.code > err::kRouteRefresh) die("bad NOTIFICATION code");
    if (e->what.empty()) die("DecodeError without a reason");
    (void)encode(e->notification);
    return;
  }
  const Message& m = std::get<Message>(first);
  Bytes b;
  try {
    b = encode(m, ctx);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "encode threw: %s\n", ex.what());
    die("a decoded message did not re-encode");
  }
  auto second = decode(b.data(), b.size(), ctx);
  if (auto* e = std::get_if<DecodeError>(&second)) {
    std::fprintf(stderr, "re-decode: %s\n", e->what.c_str());
    die("a re-encoded message did not decode");
  }
  const Message& again = std::get<Message>(second);
  if (!(without_verdict(again) == without_verdict(m))) die("decode(encode(m)) != m");
  if (encode(again, ctx) != b) die("encode is not stable across a round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (bool four_octet : {true, false}) {
    DecodeContext ctx{four_octet};
    check(data, size, ctx);
    auto frame = frame_length(data, size);
    if (auto* n = std::get_if<size_t>(&frame); n && *n <= size) check(data, *n, ctx);
    if (auto* e = std::get_if<DecodeError>(&frame)) {
      auto whole = decode(data, size, ctx);
      auto* we = std::get_if<DecodeError>(&whole);
      if (!we || !(we->notification == e->notification)) die("frame_length and decode disagree on a header error");
    }
  }
  return 0;
}
