// Graceful restart as the helper (RFC 4724 §4.2), the pure parts: the FSM
// says whether a session ended without a NOTIFICATION and hands over the
// peer's capability; RibIn keeps, refreshes and sweeps stale routes.
#include <gtest/gtest.h>

#include "bgp/fsm.h"
#include "bgp/rib_in.h"

namespace cpp::bgp {
namespace {

const Family kV4{Afi::IPv4, Safi::Unicast};
const Family kV6{Afi::IPv6, Safi::Unicast};

IpPrefix pfx(const char* s) { return *IpPrefix::parse(s); }

SessionParams params() {
  SessionParams p;
  p.local_asn = 65001;
  p.router_id = 0x0a000001;
  p.peer_asn = 65002;
  p.families = {kV4, kV6};
  p.graceful_restart = true;
  return p;
}

Open peer_open_with_gr() {
  Open o;
  o.my_as = 65002;
  o.hold_time_s = 90;
  o.bgp_id = 0x0a000002;
  o.caps.multiprotocol = {kV4, kV6};
  o.caps.four_octet_as = 65002;
  GracefulRestartCap gr;
  gr.restart_state = true;
  gr.restart_time_s = 7;
  gr.families = {{kV4, true}, {kV6, false}};
  o.caps.graceful_restart = gr;
  return o;
}

template <typename T>
const T* find(const std::vector<Action>& acts) {
  for (const auto& a : acts)
    if (auto* x = std::get_if<T>(&a)) return x;
  return nullptr;
}

struct Machine {
  SessionParams p = params();
  Fsm f;
  std::vector<Action> on(const Event& e) { return step(f, p, e); }
  std::vector<Action> establish() {
    on(ev::Start{});
    on(ev::TcpConnected{});
    on(ev::OpenReceived{peer_open_with_gr()});
    return on(ev::KeepaliveReceived{});
  }
};

TEST(FsmGracefulRestart, EstablishedCarriesThePeersCapability) {
  Machine m;
  auto a = m.establish();
  auto* e = find<act::Established>(a);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->negotiated.graceful_restart);
  ASSERT_TRUE(e->peer_graceful_restart);
  EXPECT_EQ(*e->peer_graceful_restart, *peer_open_with_gr().caps.graceful_restart);
}

TEST(FsmGracefulRestart, ConnectionLossIsGracefulNotificationsAreNot) {
  struct Case {
    const char* name;
    Event event;
    bool graceful;
  } cases[] = {
      {"connection lost", ev::TcpFailed{"closed by peer"}, true},
      {"NOTIFICATION received", ev::NotificationReceived{Notification{err::kCease, err::kAdminReset, {}}}, false},
      {"hold timer expired (NOTIFICATION sent)", ev::TimerExpired{TimerId::Hold}, false},
      {"malformed message (NOTIFICATION sent)",
       ev::DecodeFailed{DecodeError{Notification{err::kUpdate, err::kMalformedAttributeList, {}}, "bad"}}, false},
      {"stop with Cease", ev::Stop{}, false},
      {"stop without NOTIFICATION", ev::Stop{false}, true},
  };
  for (const auto& c : cases) {
    Machine m;
    m.establish();
    auto a = m.on(c.event);
    auto* d = find<act::Down>(a);
    ASSERT_TRUE(d) << c.name;
    EXPECT_EQ(d->graceful, c.graceful) << c.name;
    EXPECT_FALSE(m.f.peer_graceful_restart) << c.name << ": the capability belongs to the session that ended";
  }
}

Update announce(std::vector<IpPrefix> v4, std::vector<IpPrefix> v6 = {}) {
  Update u;
  u.nlri = std::move(v4);
  if (!v6.empty()) u.mp_reach = MpReach{kV6, *IpAddr::parse("2001:db8::2"), std::nullopt, std::move(v6)};
  return u;
}

TEST(RibIn, CountsAnnouncementsAndWithdrawalsPerFamily) {
  RibIn r;
  r.apply(announce({pfx("10.1.0.0/24"), pfx("10.2.0.0/24")}, {pfx("2001:db8:1::/64")}));
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.by_family(), (std::map<Family, size_t>{{kV4, 2}, {kV6, 1}}));
  Update w;
  w.withdrawn = {pfx("10.1.0.0/24")};
  w.mp_unreach = MpUnreach{kV6, {pfx("2001:db8:1::/64")}};
  r.apply(w);
  EXPECT_EQ(r.by_family(), (std::map<Family, size_t>{{kV4, 1}}));
  auto bad = announce({pfx("10.2.0.0/24")});
  bad.treat_as_withdraw = true;
  r.apply(bad);
  EXPECT_EQ(r.size(), 0u);
}

TEST(RibIn, StaleRoutesAreRefreshedOrSweptPerFamily) {
  RibIn r;
  r.apply(announce({pfx("10.1.0.0/24"), pfx("10.2.0.0/24")}, {pfx("2001:db8:1::/64")}));
  r.mark_stale({kV4, kV6});
  EXPECT_EQ(r.stale(), 3u);
  EXPECT_EQ(r.stale_families(), (std::set<Family>{kV4, kV6}));
  // The peer is back and announces one of its IPv4 routes again, then its IPv4 End-of-RIB.
  r.apply(announce({pfx("10.1.0.0/24")}));
  EXPECT_EQ(r.stale(), 2u);
  EXPECT_EQ(r.sweep(kV4), 1u);
  EXPECT_EQ(r.by_family(), (std::map<Family, size_t>{{kV4, 1}, {kV6, 1}}));
  EXPECT_EQ(r.stale(), 1u);
  EXPECT_EQ(r.stale_families(), std::set<Family>{kV6});
  EXPECT_EQ(r.sweep_all(), 1u);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_FALSE(r.has_stale());
}

TEST(RibIn, FamiliesOutsideTheCapabilityGoAtOnce) {
  RibIn r;
  r.apply(announce({pfx("10.1.0.0/24")}, {pfx("2001:db8:1::/64")}));
  r.mark_stale({kV4});
  EXPECT_EQ(r.by_family(), (std::map<Family, size_t>{{kV4, 1}}));
  EXPECT_EQ(r.stale(), 1u);
  EXPECT_EQ(r.sweep(kV6), 0u);
}

}  // namespace
}  // namespace cpp::bgp
