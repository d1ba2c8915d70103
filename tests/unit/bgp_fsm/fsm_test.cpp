#include "bgp/fsm.h"

#include <gtest/gtest.h>

namespace cpp::bgp {
namespace {

const Family kV4{Afi::IPv4, Safi::Unicast};
const Family kV6{Afi::IPv6, Safi::Unicast};

SessionParams params(bool passive = false) {
  SessionParams p;
  p.local_asn = 65001;
  p.router_id = 0x0a000001;
  p.peer_asn = 65002;
  p.hold_time_s = 90;
  p.keepalive_s = 30;
  p.connect_retry_s = 120;
  p.passive = passive;
  p.families = {kV4, kV6};
  return p;
}

Open peer_open(uint16_t hold = 90) {
  Open o;
  o.my_as = 65002;
  o.hold_time_s = hold;
  o.bgp_id = 0x0a000002;
  o.caps.multiprotocol = {kV4, kV6};
  o.caps.four_octet_as = 65002;
  return o;
}

template <typename T>
const T* find(const std::vector<Action>& acts) {
  for (const auto& a : acts)
    if (auto* x = std::get_if<T>(&a)) return x;
  return nullptr;
}

template <typename T>
bool has(const std::vector<Action>& acts) {
  return find<T>(acts) != nullptr;
}

std::optional<uint32_t> timer(const std::vector<Action>& acts, TimerId id) {
  std::optional<uint32_t> v;
  for (const auto& a : acts)
    if (auto* t = std::get_if<act::SetTimer>(&a); t && t->timer == id) v = t->seconds;
  return v;
}

std::optional<Notification> sent(const std::vector<Action>& acts) {
  if (auto* n = find<act::SendNotification>(acts)) return n->notification;
  return std::nullopt;
}

struct Machine {
  SessionParams p = params();
  Fsm f;
  std::vector<Action> on(const Event& e) { return step(f, p, e); }
  void to(SessionState target) {
    on(ev::Start{});
    if (target == SessionState::Connect) return;
    on(ev::TcpConnected{});
    if (target == SessionState::OpenSent) return;
    on(ev::OpenReceived{peer_open()});
    if (target == SessionState::OpenConfirm) return;
    on(ev::KeepaliveReceived{});
  }
};

TEST(FsmIdle, StartConnectsAndArmsConnectRetry) {
  Machine m;
  auto a = m.on(ev::Start{});
  EXPECT_EQ(m.f.state, SessionState::Connect);
  EXPECT_TRUE(has<act::Connect>(a));
  EXPECT_EQ(timer(a, TimerId::ConnectRetry), 120u);
}

TEST(FsmIdle, PassiveStartWaitsInActive) {
  Machine m;
  m.p = params(true);
  auto a = m.on(ev::Start{});
  EXPECT_EQ(m.f.state, SessionState::Active);
  EXPECT_FALSE(has<act::Connect>(a));
}

TEST(FsmIdle, IgnoresMessagesAndTimersWhileStopped) {
  Machine m;
  EXPECT_TRUE(m.on(ev::KeepaliveReceived{}).empty());
  EXPECT_TRUE(m.on(ev::TimerExpired{TimerId::ConnectRetry}).empty());
  EXPECT_TRUE(m.on(ev::TcpConnected{}).empty());
  EXPECT_EQ(m.f.state, SessionState::Idle);
}

TEST(FsmConnect, TcpConnectedSendsOpenWithLargeHoldTimer) {
  Machine m;
  m.to(SessionState::Connect);
  auto a = m.on(ev::TcpConnected{});
  EXPECT_EQ(m.f.state, SessionState::OpenSent);
  auto* o = find<act::SendOpen>(a);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->open.asn(), 65001u);
  EXPECT_EQ(timer(a, TimerId::Hold), kLargeHoldTime);
  EXPECT_EQ(timer(a, TimerId::ConnectRetry), 0u);
}

TEST(FsmConnect, TcpFailureBacksOffInActive) {
  Machine m;
  m.to(SessionState::Connect);
  auto a = m.on(ev::TcpFailed{"refused"});
  EXPECT_EQ(m.f.state, SessionState::Active);
  EXPECT_TRUE(has<act::Close>(a));
  EXPECT_EQ(timer(a, TimerId::ConnectRetry), 1u);
  a = m.on(ev::TimerExpired{TimerId::ConnectRetry});
  EXPECT_EQ(m.f.state, SessionState::Connect);
  EXPECT_TRUE(has<act::Connect>(a));
  a = m.on(ev::TcpFailed{"refused"});
  EXPECT_EQ(timer(a, TimerId::ConnectRetry), 2u);
}

TEST(FsmConnect, ConnectRetryExpiryRetries) {
  Machine m;
  m.to(SessionState::Connect);
  auto a = m.on(ev::TimerExpired{TimerId::ConnectRetry});
  EXPECT_EQ(m.f.state, SessionState::Connect);
  EXPECT_TRUE(has<act::Connect>(a));
  EXPECT_EQ(timer(a, TimerId::ConnectRetry), 120u);
}

TEST(FsmActive, AcceptedConnectionSendsOpen) {
  Machine m;
  m.p = params(true);
  m.on(ev::Start{});
  auto a = m.on(ev::TcpConnected{});
  EXPECT_EQ(m.f.state, SessionState::OpenSent);
  EXPECT_TRUE(has<act::SendOpen>(a));
}

TEST(FsmActive, PassiveNeverConnects) {
  Machine m;
  m.p = params(true);
  m.on(ev::Start{});
  auto a = m.on(ev::TimerExpired{TimerId::ConnectRetry});
  EXPECT_EQ(m.f.state, SessionState::Active);
  EXPECT_FALSE(has<act::Connect>(a));
}

TEST(FsmOpenSent, ValidOpenAnswersKeepaliveAndNegotiatesTimers) {
  Machine m;
  m.to(SessionState::OpenSent);
  auto a = m.on(ev::OpenReceived{peer_open(30)});
  EXPECT_EQ(m.f.state, SessionState::OpenConfirm);
  EXPECT_TRUE(has<act::SendKeepalive>(a));
  EXPECT_EQ(timer(a, TimerId::Hold), 30u);
  EXPECT_EQ(timer(a, TimerId::Keepalive), 10u);
  EXPECT_EQ(m.f.negotiated.hold_time_s, 30);
}

TEST(FsmOpenSent, HoldTimeZeroArmsNoTimers) {
  Machine m;
  m.to(SessionState::OpenSent);
  auto a = m.on(ev::OpenReceived{peer_open(0)});
  EXPECT_EQ(m.f.state, SessionState::OpenConfirm);
  EXPECT_EQ(timer(a, TimerId::Hold), 0u);
  EXPECT_FALSE(timer(a, TimerId::Keepalive));
}

struct BadOpen {
  const char* name;
  void (*mutate)(Open&);
  uint8_t subcode;
};

TEST(FsmOpenSent, InvalidOpenSendsNotificationAndFallsToIdle) {
  const BadOpen cases[] = {
      {"version", [](Open& o) { o.version = 5; }, err::kUnsupportedVersion},
      {"peer as", [](Open& o) { o.caps.four_octet_as = 65099; }, err::kBadPeerAs},
      {"hold 1", [](Open& o) { o.hold_time_s = 1; }, err::kUnacceptableHoldTime},
      {"hold 2", [](Open& o) { o.hold_time_s = 2; }, err::kUnacceptableHoldTime},
      {"bgp id 0", [](Open& o) { o.bgp_id = 0; }, err::kBadBgpIdentifier},
      {"bgp id ours", [](Open& o) { o.bgp_id = 0x0a000001; }, err::kBadBgpIdentifier},
      {"no ipv6", [](Open& o) { o.caps.multiprotocol = {kV4}; }, err::kUnsupportedCapability},
  };
  for (const auto& c : cases) {
    Machine m;
    m.to(SessionState::OpenSent);
    Open o = peer_open();
    c.mutate(o);
    auto a = m.on(ev::OpenReceived{o});
    auto n = sent(a);
    ASSERT_TRUE(n) << c.name;
    EXPECT_EQ(n->code, err::kOpen) << c.name;
    EXPECT_EQ(n->subcode, c.subcode) << c.name;
    EXPECT_EQ(m.f.state, SessionState::Idle) << c.name;
    EXPECT_TRUE(has<act::Close>(a)) << c.name;
    EXPECT_TRUE(has<act::Down>(a)) << c.name;
    // Not stopped by the operator: the automatic restart is armed.
    EXPECT_EQ(timer(a, TimerId::ConnectRetry), 1u) << c.name;
  }
}

TEST(FsmOpenSent, UnexpectedMessagesAreFsmErrors) {
  for (int which = 0; which < 3; ++which) {
    Machine m;
    m.to(SessionState::OpenSent);
    Event e = which == 0   ? Event{ev::KeepaliveReceived{}}
              : which == 1 ? Event{ev::UpdateReceived{}}
                           : Event{ev::RouteRefreshReceived{kV4}};
    auto n = sent(m.on(e));
    ASSERT_TRUE(n);
    EXPECT_EQ(n->code, err::kFsm);
    EXPECT_EQ(n->subcode, 1);  // RFC 6608: unexpected message in OpenSent
    EXPECT_EQ(m.f.state, SessionState::Idle);
  }
}

TEST(FsmOpenSent, HoldTimerExpiryNotifies) {
  Machine m;
  m.to(SessionState::OpenSent);
  auto n = sent(m.on(ev::TimerExpired{TimerId::Hold}));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kHoldTimerExpired);
  EXPECT_EQ(m.f.state, SessionState::Idle);
}

TEST(FsmOpenSent, ConnectionLossGoesIdleWithRetry) {
  Machine m;
  m.to(SessionState::OpenSent);
  auto a = m.on(ev::TcpFailed{"reset"});
  EXPECT_FALSE(sent(a));
  EXPECT_EQ(m.f.state, SessionState::Idle);
  ASSERT_TRUE(timer(a, TimerId::ConnectRetry));
  a = m.on(ev::TimerExpired{TimerId::ConnectRetry});
  EXPECT_EQ(m.f.state, SessionState::Connect);
  EXPECT_TRUE(has<act::Connect>(a));
}

TEST(FsmOpenConfirm, KeepaliveEstablishes) {
  Machine m;
  m.to(SessionState::OpenConfirm);
  auto a = m.on(ev::KeepaliveReceived{});
  EXPECT_EQ(m.f.state, SessionState::Established);
  auto* e = find<act::Established>(a);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->negotiated.families, (std::vector<Family>{kV4, kV6}));
  EXPECT_EQ(timer(a, TimerId::Hold), 90u);
}

TEST(FsmOpenConfirm, KeepaliveTimerSendsKeepalive) {
  Machine m;
  m.to(SessionState::OpenConfirm);
  auto a = m.on(ev::TimerExpired{TimerId::Keepalive});
  EXPECT_TRUE(has<act::SendKeepalive>(a));
  EXPECT_EQ(timer(a, TimerId::Keepalive), 30u);
  EXPECT_EQ(m.f.state, SessionState::OpenConfirm);
}

TEST(FsmOpenConfirm, UpdateOrSecondOpenIsFsmError) {
  for (bool open : {false, true}) {
    Machine m;
    m.to(SessionState::OpenConfirm);
    auto n = open ? sent(m.on(ev::OpenReceived{peer_open()})) : sent(m.on(ev::UpdateReceived{}));
    ASSERT_TRUE(n);
    EXPECT_EQ(n->code, err::kFsm);
    EXPECT_EQ(n->subcode, 2);
    EXPECT_EQ(m.f.state, SessionState::Idle);
  }
}

TEST(FsmOpenConfirm, NotificationFromPeerGoesIdleSilently) {
  Machine m;
  m.to(SessionState::OpenConfirm);
  auto a = m.on(ev::NotificationReceived{Notification{err::kCease, err::kAdminShutdown, {}}});
  EXPECT_FALSE(sent(a));
  EXPECT_TRUE(has<act::Close>(a));
  EXPECT_EQ(m.f.state, SessionState::Idle);
}

TEST(FsmEstablished, MessagesRearmHoldAndAreDelivered) {
  Machine m;
  m.to(SessionState::Established);
  auto a = m.on(ev::KeepaliveReceived{});
  EXPECT_EQ(timer(a, TimerId::Hold), 90u);
  Update u;
  u.nlri.push_back(*IpPrefix::parse("10.0.0.0/24"));
  a = m.on(ev::UpdateReceived{u});
  auto* d = find<act::DeliverUpdate>(a);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->update.nlri.size(), 1u);
  EXPECT_EQ(timer(a, TimerId::Hold), 90u);
  EXPECT_EQ(m.f.state, SessionState::Established);
}

TEST(FsmEstablished, RouteRefreshOnlyForNegotiatedFamilies) {
  Machine m;
  m.p.families = {kV4};
  m.on(ev::Start{});
  m.on(ev::TcpConnected{});
  m.on(ev::OpenReceived{peer_open()});
  m.on(ev::KeepaliveReceived{});
  ASSERT_EQ(m.f.state, SessionState::Established);
  auto a = m.on(ev::RouteRefreshReceived{kV4});
  ASSERT_TRUE(find<act::DeliverRouteRefresh>(a));
  EXPECT_EQ(find<act::DeliverRouteRefresh>(a)->family, kV4);
  EXPECT_FALSE(has<act::DeliverRouteRefresh>(m.on(ev::RouteRefreshReceived{kV6})));
}

TEST(FsmEstablished, HoldTimerExpiryNotifiesAndRestarts) {
  Machine m;
  m.to(SessionState::Established);
  auto a = m.on(ev::TimerExpired{TimerId::Hold});
  auto n = sent(a);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kHoldTimerExpired);
  EXPECT_TRUE(has<act::Down>(a));
  EXPECT_EQ(m.f.state, SessionState::Idle);
  // The failure counter was reset when the session came up.
  EXPECT_EQ(timer(a, TimerId::ConnectRetry), 1u);
}

TEST(FsmEstablished, MalformedMessageSendsCodecNotification) {
  Machine m;
  m.to(SessionState::Established);
  DecodeError de{Notification{err::kUpdate, err::kMalformedAttributeList, {}}, "bad"};
  auto n = sent(m.on(ev::DecodeFailed{de}));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kUpdate);
  EXPECT_EQ(n->subcode, err::kMalformedAttributeList);
  EXPECT_EQ(m.f.state, SessionState::Idle);
}

TEST(FsmEstablished, OpenIsFsmError) {
  Machine m;
  m.to(SessionState::Established);
  auto n = sent(m.on(ev::OpenReceived{peer_open()}));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kFsm);
  EXPECT_EQ(n->subcode, 3);
}

TEST(FsmEstablished, ConnectionLossAndPeerNotification) {
  Machine m;
  m.to(SessionState::Established);
  auto a = m.on(ev::TcpFailed{"reset"});
  EXPECT_EQ(m.f.state, SessionState::Idle);
  EXPECT_TRUE(has<act::Down>(a));
  Machine m2;
  m2.to(SessionState::Established);
  a = m2.on(ev::NotificationReceived{Notification{err::kCease, err::kAdminReset, {}}});
  EXPECT_FALSE(sent(a));
  EXPECT_EQ(m2.f.state, SessionState::Idle);
}

TEST(FsmStop, AdminShutdownFromEveryConnectedState) {
  for (auto s : {SessionState::OpenSent, SessionState::OpenConfirm, SessionState::Established}) {
    Machine m;
    m.to(s);
    auto a = m.on(ev::Stop{});
    auto n = sent(a);
    ASSERT_TRUE(n) << to_string(s);
    EXPECT_EQ(n->code, err::kCease);
    EXPECT_EQ(n->subcode, err::kAdminShutdown);
    EXPECT_EQ(m.f.state, SessionState::Idle);
    EXPECT_EQ(timer(a, TimerId::ConnectRetry), 0u);  // no automatic restart
    EXPECT_TRUE(m.on(ev::TimerExpired{TimerId::ConnectRetry}).empty());
  }
}

TEST(FsmStop, GracefulStopClosesWithoutNotification) {
  Machine m;
  m.to(SessionState::Established);
  auto a = m.on(ev::Stop{false});
  EXPECT_FALSE(sent(a));
  EXPECT_TRUE(has<act::Close>(a));
  EXPECT_EQ(m.f.state, SessionState::Idle);
}

TEST(FsmStop, StopWhileConnectingSendsNothing) {
  Machine m;
  m.to(SessionState::Connect);
  auto a = m.on(ev::Stop{});
  EXPECT_FALSE(sent(a));
  EXPECT_TRUE(has<act::Close>(a));
  EXPECT_EQ(m.f.state, SessionState::Idle);
}

TEST(FsmBackoff, DoublesUpToConnectRetry) {
  EXPECT_EQ(retry_backoff(1, 120), 1u);
  EXPECT_EQ(retry_backoff(2, 120), 2u);
  EXPECT_EQ(retry_backoff(5, 120), 16u);
  EXPECT_EQ(retry_backoff(8, 120), 120u);
  EXPECT_EQ(retry_backoff(1000, 120), 120u);
  EXPECT_EQ(retry_backoff(3, 0), 1u);
}

TEST(FsmBackoff, RepeatedFailuresGrowTheRestartDelay) {
  Machine m;
  m.to(SessionState::OpenSent);
  auto a = m.on(ev::TimerExpired{TimerId::Hold});
  EXPECT_EQ(timer(a, TimerId::ConnectRetry), 1u);
  m.on(ev::TimerExpired{TimerId::ConnectRetry});
  m.on(ev::TcpConnected{});
  a = m.on(ev::TimerExpired{TimerId::Hold});
  EXPECT_EQ(timer(a, TimerId::ConnectRetry), 2u);
}

}  // namespace
}  // namespace cpp::bgp
