// frame_length() on a byte stream, and the human names.
#include <filesystem>
#include <fstream>

#include "hex.h"

namespace cpp::bgp::test {
namespace {

TEST(BgpFraming, NeedsAWholeHeader) {
  Bytes k = encode(Keepalive{});
  for (size_t n = 0; n < kHeaderLen; ++n)
    EXPECT_TRUE(std::holds_alternative<std::monostate>(frame_length(k.data(), n))) << n;
  auto f = frame_length(k.data(), k.size());
  ASSERT_TRUE(std::holds_alternative<size_t>(f));
  EXPECT_EQ(std::get<size_t>(f), 19u);
}

TEST(BgpFraming, ReportsTheLengthBeforeTheBodyArrives) {
  Bytes o = encode(Open{4, 65001, 90, 1, {}});
  auto f = frame_length(o.data(), kHeaderLen);
  ASSERT_TRUE(std::holds_alternative<size_t>(f));
  EXPECT_EQ(std::get<size_t>(f), o.size());
}

TEST(BgpFraming, SplitsAStreamOfMessages) {
  Bytes stream;
  for (const Message& m : std::vector<Message>{Keepalive{}, RouteRefresh{{Afi::IPv6, Safi::Unicast}, 0},
                                               Notification{err::kCease, err::kAdminReset, {}}}) {
    Bytes b = encode(m);
    stream.insert(stream.end(), b.begin(), b.end());
  }
  size_t off = 0;
  std::vector<size_t> kinds;
  while (off < stream.size()) {
    auto f = frame_length(stream.data() + off, stream.size() - off);
    ASSERT_TRUE(std::holds_alternative<size_t>(f));
    size_t n = std::get<size_t>(f);
    auto d = decode(stream.data() + off, n, {});
    ASSERT_TRUE(std::holds_alternative<Message>(d));
    kinds.push_back(std::get<Message>(d).index());
    off += n;
  }
  EXPECT_EQ(kinds, (std::vector<size_t>{3, 4, 2}));
}

TEST(BgpFraming, DecodeInsistsOnTheDeclaredLength) {
  Bytes k = encode(Keepalive{});
  k.push_back(0);
  auto d = decode(k.data(), k.size(), {});
  ASSERT_TRUE(std::holds_alternative<DecodeError>(d));
  EXPECT_EQ(std::get<DecodeError>(d).notification.subcode, err::kBadMessageLength);
  auto short_buf = decode(k.data(), 5, {});
  ASSERT_TRUE(std::holds_alternative<DecodeError>(short_buf));
}

TEST(BgpNames, Notifications) {
  EXPECT_EQ((Notification{err::kOpen, err::kBadPeerAs, {}}.str()), "OPEN Message Error / Bad Peer AS");
  EXPECT_EQ((Notification{err::kHoldTimerExpired, 0, {}}.str()), "Hold Timer Expired");
  EXPECT_EQ((Notification{err::kCease, err::kAdminShutdown, {}}.str()), "Cease / Administrative Shutdown");
  EXPECT_EQ((Notification{err::kUpdate, err::kMalformedAsPath, {}}.str()), "UPDATE Message Error / Malformed AS_PATH");
  EXPECT_EQ((Notification{err::kOpen, 0, {}}.str()), "OPEN Message Error / Unspecific");
  EXPECT_EQ((Notification{9, 42, {}}.str()), "Unknown Error Code 9 / Subcode 42");
}

TEST(BgpNames, Families) {
  EXPECT_EQ(to_string(Family{Afi::IPv4, Safi::Unicast}), "ipv4-unicast");
  EXPECT_EQ(to_string(Family{Afi::IPv6, Safi::Unicast}), "ipv6-unicast");
  EXPECT_EQ(to_string(Family{Afi{25}, Safi{70}}), "afi-25-safi-70");
}

}  // namespace
}  // namespace cpp::bgp::test

namespace cpp::bgp::test {
namespace {

// The fuzzer's checked-in seeds are valid messages (a broken seed would
// quietly weaken the fuzzer).
TEST(BgpSeedCorpus, EverySeedDecodesCleanly) {
  size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(BGP_CORPUS_DIR)) {
    std::ifstream f(entry.path(), std::ios::binary);
    Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto d = decode(b.data(), b.size(), DecodeContext{entry.path().filename().string().find("as2") == std::string::npos});
    ASSERT_TRUE(std::holds_alternative<Message>(d))
        << entry.path() << ": " << std::get<DecodeError>(d).what;
    if (auto* u = std::get_if<Update>(&std::get<Message>(d))) {
      EXPECT_FALSE(u->treat_as_withdraw) << entry.path() << ": " << u->treat_as_withdraw_reason;
    }
    ++seen;
  }
  EXPECT_GE(seen, 10u);
}

}  // namespace
}  // namespace cpp::bgp::test
