// The table of malformed messages: each yields the NOTIFICATION RFC 4271 §6
// prescribes (code, subcode and, where the RFC defines it, data), or an
// UPDATE marked treat-as-withdraw (RFC 7606), or is accepted as RFC 7606
// asks (discarded attribute, first of a repeated attribute).
#include "hex.h"

namespace cpp::bgp::test {
namespace {

enum class Kind { Error, Withdraw, Accept };

struct Row {
  std::string name;
  Bytes message;
  Kind kind = Kind::Error;
  uint8_t code = 0;
  uint8_t subcode = 0;
  std::optional<std::string> data;  // hex; nullopt: not checked
  bool four_octet = true;
};

Row error(std::string name, Bytes m, uint8_t code, uint8_t sub, std::optional<std::string> data = "") {
  if (data) data = to_hex(hex(*data));
  return Row{std::move(name), std::move(m), Kind::Error, code, sub, data};
}
Row withdraws(std::string name, Bytes m, bool four_octet = true) {
  return Row{std::move(name), std::move(m), Kind::Withdraw, 0, 0, std::nullopt, four_octet};
}
Row accepts(std::string name, Bytes m) { return Row{std::move(name), std::move(m), Kind::Accept}; }

Bytes with_length_field(Bytes m, uint16_t len) {
  m[16] = static_cast<uint8_t>(len >> 8);
  m[17] = static_cast<uint8_t>(len);
  return m;
}

const std::string kOpenFixed = "04 fde9 005a 0a000001";
const std::string kMpReach6Unterminated = "800e1b 0002 01 10 20010db8000000000000000000000001 00 30 20010db800";

std::vector<Row> rows() {
  using namespace err;
  Bytes bad_marker = msg(4, "");
  bad_marker[3] = 0xfe;
  Bytes rr_long = msg(5, "0001 00 01 00");
  std::vector<Row> r = {
      // Message header (RFC 4271 §6.1)
      error("HeaderMarkerNotAllOnes", bad_marker, kHeader, kConnectionNotSynchronized),
      error("HeaderLengthBelow19", with_length_field(msg(4, ""), 18), kHeader, kBadMessageLength, "0012"),
      error("HeaderLengthAbove4096", with_length_field(msg(4, ""), 4097), kHeader, kBadMessageLength, "1001"),
      error("HeaderUnknownType", msg(6, ""), kHeader, kBadMessageType, "06"),
      error("HeaderTypeZero", msg(0, ""), kHeader, kBadMessageType, "00"),
      error("KeepaliveWithBody", msg(4, "00"), kHeader, kBadMessageLength, "0014"),
      error("OpenShorterThan29", msg(1, "04 fde9 005a 0a0000"), kHeader, kBadMessageLength, "001b"),
      error("UpdateShorterThan23", msg(2, "0000 00"), kHeader, kBadMessageLength, "0016"),
      error("NotificationShorterThan21", msg(3, "06"), kHeader, kBadMessageLength, "0014"),
      error("RouteRefreshShorterThan23", msg(5, "0001 00"), kHeader, kBadMessageLength, "0016"),
      // RFC 7313 §5: the whole message is the data.
      error("RouteRefreshLongerThan23", rr_long, kRouteRefresh, kInvalidRouteRefreshLength, to_hex(rr_long)),
      // OPEN (RFC 4271 §6.2, RFC 5492)
      error("OpenVersion3", open("03 fde9 005a 0a000001", ""), kOpen, kUnsupportedVersion, "0004"),
      error("OpenVersion5", open("05 fde9 005a 0a000001", ""), kOpen, kUnsupportedVersion, "0004"),
      error("OpenHoldTime1", open("04 fde9 0001 0a000001", ""), kOpen, kUnacceptableHoldTime),
      error("OpenHoldTime2", open("04 fde9 0002 0a000001", ""), kOpen, kUnacceptableHoldTime),
      error("OpenBgpIdentifierZero", open("04 fde9 005a 00000000", ""), kOpen, kBadBgpIdentifier),
      error("OpenAuthenticationParameter", open(kOpenFixed, "01 02 0000"), kOpen, kUnsupportedOptionalParameter),
      error("OpenParametersLengthTooLong", msg(1, kOpenFixed + "0a 0206 41040000fde9"), kOpen, kUnspecific),
      error("OpenParametersLengthTooShort", msg(1, kOpenFixed + "04 0206 41040000fde9"), kOpen, kUnspecific),
      error("OpenParameterOverrun", open(kOpenFixed, "02 09 41040000fde9"), kOpen, kUnspecific),
      error("OpenCapabilityOverrunsParameter", open(kOpenFixed, "02 06 41050000fde9"), kOpen, kUnspecific),
      error("OpenFourOctetAsCapabilityLength2", open(kOpenFixed, "02 04 4102fde9"), kOpen, kUnspecific),
      error("OpenMultiprotocolCapabilityLength3", open(kOpenFixed, "02 05 0103000100"), kOpen, kUnspecific),
      error("OpenGracefulRestartCapabilityLength3", open(kOpenFixed, "02 05 4003007800"), kOpen, kUnspecific),
      error("OpenRouteRefreshCapabilityWithValue", open(kOpenFixed, "02 03 020100"), kOpen, kUnspecific),
      // UPDATE structure (RFC 4271 §6.3)
      error("UpdateWithdrawnLengthOverruns", msg(2, "0010 0000"), kUpdate, kMalformedAttributeList),
      error("UpdateAttributeLengthOverruns", msg(2, "0000 0010" + kOrigin), kUpdate, kMalformedAttributeList),
      error("UpdateWithdrawnPrefixLength33", update("210a000000ff", "", ""), kUpdate, kInvalidNetworkField),
      error("UpdateWithdrawnPrefixTruncated", update("180a01", "", ""), kUpdate, kInvalidNetworkField),
      error("UpdateNlriPrefixLength33", update("", kOrigin + kAsPath4 + kNextHop, "210a00000001"), kUpdate,
            kInvalidNetworkField),
      error("UpdateNlriPrefixTruncated", update("", kOrigin + kAsPath4 + kNextHop, "180a01"), kUpdate,
            kInvalidNetworkField),
      error("UpdateUnrecognizedWellKnown", update("", kOrigin + kAsPath4 + kNextHop + "406302abcd", kNlri), kUpdate,
            kUnrecognizedWellKnownAttribute, "406302abcd"),
      // MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 §7, RFC 7606 §3g, §7.11)
      error("UpdateMpReachTwice", update("", kMpReach6 + kOrigin + kAsPath4 + kMpReach6, ""), kUpdate,
            kMalformedAttributeList),
      error("UpdateMpUnreachTwice", update("", "800f03000201800f03000201", ""), kUpdate, kMalformedAttributeList),
      error("UpdateMpReachFlagsWellKnown", update("", "400e05 0002 01 00 00", ""), kUpdate, kAttributeFlagsError,
            "400e05 0002 01 00 00"),
      error("UpdateMpUnreachFlagsTransitive", update("", "c00f03 000201", ""), kUpdate, kAttributeFlagsError,
            "c00f03 000201"),
      error("UpdateMpReachLength3", update("", "800e03 000201", ""), kUpdate, kAttributeLengthError, "800e03 000201"),
      error("UpdateMpUnreachLength2", update("", "800f02 0002", ""), kUpdate, kAttributeLengthError, "800f02 0002"),
      error("UpdateMpReachOverrunsAttributes", update("", kOrigin + "800e40 0002 01 10", ""), kUpdate,
            kAttributeLengthError, "800e40 0002 01 10"),
      error("UpdateMpReachIpv6NextHopLength8", update("", "800e0e 0002 01 08 20010db800000000 00 00", ""), kUpdate,
            kOptionalAttributeError, "800e0e 0002 01 08 20010db800000000 00 00"),
      error("UpdateMpReachIpv4NextHopLength16",
            update("", "800e15 0001 01 10 20010db8000000000000000000000001 00", ""), kUpdate, kOptionalAttributeError,
            "800e15 0001 01 10 20010db8000000000000000000000001 00"),
      error("UpdateMpReachNextHopOverruns", update("", "800e06 0002 01 10 2001", ""), kUpdate,
            kOptionalAttributeError, "800e06 0002 01 10 2001"),
      error("UpdateMpReachPrefixLength129",
            update("", "800e17 0002 01 10 20010db8000000000000000000000001 00 81 20", ""), kUpdate,
            kOptionalAttributeError, "800e17 0002 01 10 20010db8000000000000000000000001 00 81 20"),
      error("UpdateMpReachPrefixTruncated", update("", kMpReach6Unterminated + kOrigin + kAsPath4, ""), kUpdate,
            kOptionalAttributeError, kMpReach6Unterminated),
      error("UpdateMpUnreachPrefixTruncated", update("", "800f05 0002 01 30 20", ""), kUpdate,
            kOptionalAttributeError, "800f05 0002 01 30 20"),
      // RFC 7606 treat-as-withdraw
      withdraws("OriginValue3", update("", "40010103" + kAsPath4 + kNextHop, kNlri)),
      withdraws("OriginLength2", update("", "4001020000" + kAsPath4 + kNextHop, kNlri)),
      withdraws("OriginFlagsOptional", update("", "c0010100" + kAsPath4 + kNextHop, kNlri)),
      withdraws("OriginFlagsPartial", update("", "60010100" + kAsPath4 + kNextHop, kNlri)),
      withdraws("AsPathSegmentType5", update("", kOrigin + "400206 0501 0000fde9" + kNextHop, kNlri)),
      withdraws("AsPathSegmentType0", update("", kOrigin + "400206 0001 0000fde9" + kNextHop, kNlri)),
      withdraws("AsPathEmptySegment", update("", kOrigin + "400202 0200" + kNextHop, kNlri)),
      withdraws("AsPathSegmentOverrun", update("", kOrigin + "400206 0202 0000fde9" + kNextHop, kNlri)),
      withdraws("AsPathTrailingOctet", update("", kOrigin + "400207 0201 0000fde9 02" + kNextHop, kNlri)),
      withdraws("AsPathTwoOctetOverrun", update("", kOrigin + "400204 0202 fde9" + kNextHop, kNlri), false),
      withdraws("AsPathFlagsOptional", update("", kOrigin + "800206 0201 0000fde9" + kNextHop, kNlri)),
      withdraws("NextHopLength5", update("", kOrigin + kAsPath4 + "400305 0a00000100", kNlri)),
      withdraws("NextHopZero", update("", kOrigin + kAsPath4 + "400304 00000000", kNlri)),
      withdraws("NextHopMulticast", update("", kOrigin + kAsPath4 + "400304 e0000001", kNlri)),
      withdraws("NextHopBroadcast", update("", kOrigin + kAsPath4 + "400304 ffffffff", kNlri)),
      withdraws("NextHopFlagsOptional", update("", kOrigin + kAsPath4 + "800304 0a000001", kNlri)),
      withdraws("MedLength3", update("", kOrigin + kAsPath4 + kNextHop + "800403 000001", kNlri)),
      withdraws("MedFlagsTransitive", update("", kOrigin + kAsPath4 + kNextHop + "c00404 00000001", kNlri)),
      withdraws("LocalPrefLength2", update("", kOrigin + kAsPath4 + kNextHop + "400502 0064", kNlri)),
      withdraws("CommunitiesLength6", update("", kOrigin + kAsPath4 + kNextHop + "c00806 000000010000", kNlri)),
      withdraws("CommunitiesLength0", update("", kOrigin + kAsPath4 + kNextHop + "c00800", kNlri)),
      withdraws("CommunitiesFlagsNonTransitive", update("", kOrigin + kAsPath4 + kNextHop + "800804 00000001", kNlri)),
      withdraws("MissingOrigin", update("", kAsPath4 + kNextHop, kNlri)),
      withdraws("MissingAsPath", update("", kOrigin + kNextHop, kNlri)),
      withdraws("MissingNextHop", update("", kOrigin + kAsPath4, kNlri)),
      withdraws("MissingAsPathWithMpReach", update("", kMpReach6 + kOrigin, "")),
      withdraws("MissingOriginWithMpReach", update("", kMpReach6 + kAsPath4, "")),
      withdraws("NlriHostBitsSet", update("", kOrigin + kAsPath4 + kNextHop, "170a0101")),
      withdraws("MpReachHostBitsSet",
                update("", "800e17 0002 01 10 20010db8000000000000000000000001 00 07 21" + kOrigin + kAsPath4, "")),
      withdraws("AttributeOverrunsTotalLength", update("", kOrigin + kAsPath4 + kNextHop + "c00808 00000001", kNlri)),
      withdraws("AttributesEndWithStrayBytes", update("", kOrigin + kAsPath4 + kNextHop + "c008", kNlri)),
      withdraws("ExtendedLengthHeaderTruncated", update("", kOrigin + kAsPath4 + kNextHop + "d00800", kNlri)),
      // Accepted as RFC 7606 asks
      accepts("RepeatedOriginKeepsTheFirst", update("", kOrigin + "40010102" + kAsPath4 + kNextHop, kNlri)),
      accepts("AtomicAggregateWithValueDiscarded", update("", kOrigin + kAsPath4 + kNextHop + "400601 00", kNlri)),
      accepts("AggregatorWrongLengthDiscarded", update("", kOrigin + kAsPath4 + kNextHop + "c00703 000001", kNlri)),
      accepts("NoNextHopWithMpReachOnly", update("", kMpReach6 + kOrigin + kAsPath4, "")),
      accepts("WithdrawnHostBitsCleared", update("170a0101", "", "")),
      accepts("UnknownOptionalAttributeKept", update("", kOrigin + kAsPath4 + kNextHop + "c06302abcd", kNlri)),
  };
  return r;
}

void PrintTo(const Row& r, std::ostream* os) { *os << r.name; }

class BgpMalformed : public ::testing::TestWithParam<Row> {};

TEST_P(BgpMalformed, Notification) {
  const Row& row = GetParam();
  auto got = decode(row.message.data(), row.message.size(), DecodeContext{row.four_octet});
  if (row.kind == Kind::Error) {
    auto* e = std::get_if<DecodeError>(&got);
    ASSERT_NE(e, nullptr) << "decoded without error";
    EXPECT_EQ(e->notification.code, row.code) << e->what;
    EXPECT_EQ(e->notification.subcode, row.subcode) << e->what << " / " << e->notification.str();
    if (row.data) {
      EXPECT_EQ(to_hex(e->notification.data), *row.data) << e->what;
    }
    EXPECT_FALSE(e->what.empty());
    // frame_length agrees with decode on header errors.
    auto f = frame_length(row.message.data(), row.message.size());
    if (row.code == err::kHeader) {
      ASSERT_TRUE(std::holds_alternative<DecodeError>(f));
      EXPECT_EQ(std::get<DecodeError>(f).notification, e->notification);
    }
    return;
  }
  auto* e = std::get_if<DecodeError>(&got);
  ASSERT_EQ(e, nullptr) << e->what << " (" << e->notification.str() << ")";
  auto& m = std::get<Message>(got);
  ASSERT_TRUE(std::holds_alternative<Update>(m));
  const Update& u = std::get<Update>(m);
  if (row.kind == Kind::Withdraw) {
    EXPECT_TRUE(u.treat_as_withdraw);
    EXPECT_FALSE(u.treat_as_withdraw_reason.empty());
    // The routes to withdraw are known.
    EXPECT_TRUE(!u.nlri.empty() || (u.mp_reach && !u.mp_reach->nlri.empty()));
  } else {
    EXPECT_FALSE(u.treat_as_withdraw) << u.treat_as_withdraw_reason;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BgpMalformed, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& i) { return i.param.name; });

TEST(BgpMalformedDetails, WhatTheAcceptedOnesContain) {
  auto first = decode_as<Update>(update("", kOrigin + "40010102" + kAsPath4 + kNextHop, kNlri));
  EXPECT_EQ(first.attrs.origin, Origin::Igp);
  auto atomic = decode_as<Update>(update("", kOrigin + kAsPath4 + kNextHop + "400601 00", kNlri));
  EXPECT_TRUE(atomic.attrs.other.empty());
  auto withdrawn = decode_as<Update>(update("170a0101", "", ""));
  ASSERT_EQ(withdrawn.withdrawn.size(), 1u);
  EXPECT_EQ(withdrawn.withdrawn[0], pfx("10.1.0.0/23"));
  auto host = decode_as<Update>(update("", kOrigin + kAsPath4 + kNextHop, "170a0101"));
  ASSERT_EQ(host.nlri.size(), 1u);
  EXPECT_EQ(host.nlri[0], pfx("10.1.0.0/23"));
  EXPECT_NE(host.treat_as_withdraw_reason.find("host bits"), std::string::npos);
  auto origin = decode_as<Update>(update("", "40010107" + kAsPath4 + kNextHop, kNlri));
  EXPECT_NE(origin.treat_as_withdraw_reason.find("ORIGIN value 7"), std::string::npos);
}

TEST(BgpMalformedDetails, TableIsLarge) { EXPECT_GE(rows().size(), 30u); }

}  // namespace
}  // namespace cpp::bgp::test
