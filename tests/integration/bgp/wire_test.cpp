// The real speaker against a scripted peer on loopback: the peer side is
// raw sockets plus the codec, so it can send what real routers never do
// (malformed UPDATEs, bad OPENs, silence) and read exactly what the speaker
// answers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "bgp/speaker.h"

namespace cpp::bgp {
namespace {

using namespace std::chrono_literals;
const Family kV4{Afi::IPv4, Safi::Unicast};
const Family kV6{Afi::IPv6, Safi::Unicast};
constexpr auto kDeadline = 20s;

class ScriptedPeer {
 public:
  ScriptedPeer() {
    lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(lfd_, 4), 0);
    socklen_t len = sizeof a;
    getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~ScriptedPeer() {
    if (fd_ >= 0) close(fd_);
    close(lfd_);
  }
  uint16_t port() const { return port_; }

  bool accept_within(std::chrono::milliseconds t) {
    pollfd p{lfd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(t.count())) != 1) return false;
    if (fd_ >= 0) close(fd_);
    fd_ = accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
    buf_.clear();
    return fd_ >= 0;
  }

  bool adopt(int fd) {
    fd_ = fd;
    buf_.clear();
    return fd_ >= 0;
  }

  void send(const Message& m) {
    auto b = encode(m);
    ASSERT_EQ(::send(fd_, b.data(), b.size(), MSG_NOSIGNAL), static_cast<ssize_t>(b.size()));
  }
  // Closes the connection without a NOTIFICATION, as a killed router's kernel does.
  void drop() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  void send_raw(const Bytes& b) { ASSERT_EQ(::send(fd_, b.data(), b.size(), MSG_NOSIGNAL), static_cast<ssize_t>(b.size())); }

  // The next message from the speaker; nullopt on close or timeout.
  std::optional<Message> next(std::chrono::milliseconds t = kDeadline) {
    auto end = std::chrono::steady_clock::now() + t;
    for (;;) {
      auto fl = frame_length(buf_.data(), buf_.size());
      if (auto* n = std::get_if<size_t>(&fl); n && buf_.size() >= *n) {
        auto m = decode(buf_.data(), *n, {});
        buf_.erase(buf_.begin(), buf_.begin() + *n);
        if (auto* msg = std::get_if<Message>(&m)) return *msg;
        ADD_FAILURE() << "speaker sent a malformed message: " << std::get<DecodeError>(m).what;
        return std::nullopt;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) != 1) return std::nullopt;
      uint8_t b[4096];
      ssize_t n = recv(fd_, b, sizeof b, 0);
      if (n <= 0) return std::nullopt;
      buf_.insert(buf_.end(), b, b + n);
    }
  }

  // The first NOTIFICATION before the connection closes.
  std::optional<Notification> notification() {
    while (auto m = next()) {
      if (auto* n = std::get_if<Notification>(&*m)) return *n;
    }
    return std::nullopt;
  }

  // Reads the speaker's OPEN and answers with `open` (and a KEEPALIVE).
  std::optional<Open> handshake(const Open& open, bool keepalive = true) {
    auto m = next();
    if (!m || !std::holds_alternative<Open>(*m)) return std::nullopt;
    send(open);
    if (keepalive) send(Keepalive{});
    return std::get<Open>(*m);
  }

 private:
  int lfd_ = -1, fd_ = -1;
  uint16_t port_ = 0;
  Bytes buf_;
};

Open peer_open(uint16_t hold = 90) {
  Open o;
  o.my_as = 65002;
  o.hold_time_s = hold;
  o.bgp_id = 0x7f000002;
  o.caps.multiprotocol = {kV4, kV6};
  o.caps.four_octet_as = 65002;
  o.caps.route_refresh = true;
  return o;
}

SpeakerConfig config(uint16_t port, uint16_t hold = 90) {
  SpeakerConfig c;
  c.router_id = 0x7f000001;
  VirtualRouter r;
  r.local_asn = 65001;
  NeighborConfig n;
  n.peer_address = *IpAddr::parse("127.0.0.1");
  n.peer_port = port;
  n.peer_asn = 65002;
  n.hold_time_s = hold;
  n.keepalive_s = hold / 3;
  n.connect_retry_s = 2;
  r.neighbors.push_back(n);
  r.routes.push_back({*IpPrefix::parse("10.10.0.0/24"), std::nullopt});
  r.routes.push_back({*IpPrefix::parse("2001:db8:10::/64"), *IpAddr::parse("2001:db8::1")});
  r.routes.push_back({*IpPrefix::parse("2001:db8:20::/64"), std::nullopt});  // no IPv6 next hop: skipped
  c.routers.push_back(r);
  return c;
}

SessionState state(const Speaker& s) { return s.peers().at(0).state; }

bool eventually(const std::function<bool()>& f) {
  auto end = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(Wire, OpenCarriesCapabilitiesAndInitialAdvertisementEndsWithEndOfRib) {
  ScriptedPeer peer;
  auto speaker = make_speaker();
  speaker->apply(config(peer.port()));
  ASSERT_TRUE(peer.accept_within(kDeadline));
  auto ours = peer.handshake(peer_open());
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->asn(), 65001u);
  EXPECT_EQ(ours->bgp_id, 0x7f000001u);
  EXPECT_EQ(ours->caps.multiprotocol, (std::vector<Family>{kV4, kV6}));
  EXPECT_TRUE(ours->caps.route_refresh);
  EXPECT_FALSE(ours->caps.graceful_restart);
  std::vector<Update> updates;
  std::set<Family> eor;
  while (eor.size() < 2) {
    auto m = peer.next();
    ASSERT_TRUE(m);
    if (auto* u = std::get_if<Update>(&*m)) {
      if (auto f = u->end_of_rib()) {
        eor.insert(*f);
      } else {
        EXPECT_TRUE(eor.empty()) << "an UPDATE after End-of-RIB";
        updates.push_back(*u);
      }
    }
  }
  ASSERT_EQ(updates.size(), 2u);  // 10.10.0.0/24 and 2001:db8:10::/64; 2001:db8:20::/64 has no next hop
  EXPECT_TRUE(eventually([&] { return state(*speaker) == SessionState::Established; }));
  EXPECT_EQ(speaker->peers()[0].advertised, 2u);

  // ROUTE-REFRESH for IPv6: the IPv6 route again.
  peer.send(RouteRefresh{kV6});
  auto m = peer.next();
  ASSERT_TRUE(m && std::holds_alternative<Update>(*m));
  auto& u = std::get<Update>(*m);
  ASSERT_TRUE(u.mp_reach);
  EXPECT_EQ(u.mp_reach->nlri, std::vector<IpPrefix>{*IpPrefix::parse("2001:db8:10::/64")});
}

TEST(Wire, MalformedUpdateGetsNotificationAndTheSpeakerReconnects) {
  ScriptedPeer peer;
  auto speaker = make_speaker();
  speaker->apply(config(peer.port()));
  ASSERT_TRUE(peer.accept_within(kDeadline));
  ASSERT_TRUE(peer.handshake(peer_open()));
  ASSERT_TRUE(eventually([&] { return state(*speaker) == SessionState::Established; }));
  // An UPDATE whose total path attribute length runs past the message.
  Bytes bad(16, 0xff);
  for (uint8_t b : {0, 27, 2, 0, 0, 0, 200, 0x40, 1, 1, 0}) bad.push_back(b);
  peer.send_raw(bad);
  auto n = peer.notification();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kUpdate);
  EXPECT_TRUE(eventually([&] { return state(*speaker) != SessionState::Established; }));
  EXPECT_NE(speaker->peers()[0].last_error.find("UPDATE"), std::string::npos) << speaker->peers()[0].last_error;
  // Back after the backoff.
  ASSERT_TRUE(peer.accept_within(kDeadline));
  ASSERT_TRUE(peer.handshake(peer_open()));
  EXPECT_TRUE(eventually([&] { return state(*speaker) == SessionState::Established; }));
}

TEST(Wire, GarbageHeaderGetsConnectionNotSynchronized) {
  ScriptedPeer peer;
  auto speaker = make_speaker();
  speaker->apply(config(peer.port()));
  ASSERT_TRUE(peer.accept_within(kDeadline));
  ASSERT_TRUE(peer.next());  // our OPEN
  peer.send_raw(Bytes(40, 0x00));
  auto n = peer.notification();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kHeader);
  EXPECT_EQ(n->subcode, err::kConnectionNotSynchronized);
}

TEST(Wire, BadOpensGetTheirNotifications) {
  struct Case {
    Open open;
    uint8_t subcode;
  };
  auto no_v6 = peer_open();
  no_v6.caps.multiprotocol = {kV4};
  auto hold1 = peer_open(1);
  auto wrong_as = peer_open();
  wrong_as.caps.four_octet_as = 65099;
  auto same_id = peer_open();
  same_id.bgp_id = 0x7f000001;
  for (const auto& c : {Case{no_v6, err::kUnsupportedCapability}, Case{hold1, err::kUnacceptableHoldTime},
                        Case{wrong_as, err::kBadPeerAs}, Case{same_id, err::kBadBgpIdentifier}}) {
    ScriptedPeer peer;
    auto speaker = make_speaker();
    speaker->apply(config(peer.port()));
    ASSERT_TRUE(peer.accept_within(kDeadline));
    ASSERT_TRUE(peer.handshake(c.open, false));
    auto n = peer.notification();
    ASSERT_TRUE(n);
    EXPECT_EQ(n->code, err::kOpen);
    EXPECT_EQ(n->subcode, c.subcode);
    EXPECT_NE(state(*speaker), SessionState::Established);
  }
}

TEST(Wire, SilentPeerHitsTheHoldTimer) {
  ScriptedPeer peer;
  auto speaker = make_speaker();
  speaker->apply(config(peer.port(), 3));
  ASSERT_TRUE(peer.accept_within(kDeadline));
  ASSERT_TRUE(peer.handshake(peer_open(3)));
  // We never answer the speaker's KEEPALIVEs: after 3 s it gives up.
  auto start = std::chrono::steady_clock::now();
  int keepalives = 0;
  std::optional<Notification> n;
  while (auto m = peer.next()) {
    if (std::holds_alternative<Keepalive>(*m)) ++keepalives;
    if (auto* x = std::get_if<Notification>(&*m)) {
      n = *x;
      break;
    }
  }
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kHoldTimerExpired);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2500ms);
  EXPECT_GE(keepalives, 2);  // OpenConfirm's and at least one from the 1 s keepalive timer
}

TEST(Wire, StopSendsAdminShutdownAndApplyWithdraws) {
  ScriptedPeer peer;
  auto speaker = make_speaker();
  auto cfg = config(peer.port());
  speaker->apply(cfg);
  ASSERT_TRUE(peer.accept_within(kDeadline));
  ASSERT_TRUE(peer.handshake(peer_open()));
  ASSERT_TRUE(eventually([&] { return state(*speaker) == SessionState::Established; }));
  for (int eor = 0; eor < 2;) {
    auto m = peer.next();
    ASSERT_TRUE(m);
    if (auto* u = std::get_if<Update>(&*m); u && u->end_of_rib()) ++eor;
  }
  cfg.routers[0].routes.erase(cfg.routers[0].routes.begin());  // 10.10.0.0/24
  speaker->apply(cfg);
  std::optional<Message> m;
  do m = peer.next();
  while (m && std::holds_alternative<Keepalive>(*m));
  ASSERT_TRUE(m && std::holds_alternative<Update>(*m));
  EXPECT_EQ(std::get<Update>(*m).withdrawn, std::vector<IpPrefix>{*IpPrefix::parse("10.10.0.0/24")});
  speaker->stop();
  auto n = peer.notification();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kCease);
  EXPECT_EQ(n->subcode, err::kAdminShutdown);
}

// A connection from the peer to the speaker's listener.
int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto end = std::chrono::steady_clock::now() + kDeadline;
  while (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (std::chrono::steady_clock::now() > end) return -1;
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    std::this_thread::sleep_for(50ms);
  }
  return fd;
}

uint16_t listen_port() { return static_cast<uint16_t>(20000 + getpid() % 20000); }

TEST(Wire, PassiveNeighborOverTheListener) {
  auto speaker = make_speaker();
  auto cfg = config(1);
  cfg.listen_port = listen_port();
  cfg.routers[0].neighbors[0].passive = true;
  speaker->apply(cfg);
  ScriptedPeer peer;
  ASSERT_TRUE(peer.adopt(connect_to(cfg.listen_port)));
  ASSERT_TRUE(peer.handshake(peer_open()));
  EXPECT_TRUE(eventually([&] { return state(*speaker) == SessionState::Established; }));
}

TEST(Wire, CollisionKeepsTheConnectionOfTheHigherIdentifier) {
  auto speaker = make_speaker();
  ScriptedPeer outgoing;  // the speaker connects here
  auto cfg = config(outgoing.port());
  cfg.listen_port = listen_port() + 1;
  speaker->apply(cfg);
  ASSERT_TRUE(outgoing.accept_within(kDeadline));
  ASSERT_TRUE(outgoing.next());  // the speaker's OPEN: it is in OpenSent
  outgoing.send(peer_open());    // now in OpenConfirm on its connection
  ScriptedPeer incoming;
  ASSERT_TRUE(incoming.adopt(connect_to(cfg.listen_port)));
  ASSERT_TRUE(incoming.handshake(peer_open(), false));
  // Our BGP ID (127.0.0.2) is higher: the speaker drops its own connection.
  auto n = outgoing.notification();
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kCease);
  EXPECT_EQ(n->subcode, err::kCollisionResolution);
  incoming.send(Keepalive{});
  EXPECT_TRUE(eventually([&] { return state(*speaker) == SessionState::Established; }));
}

TEST(Wire, GracefulRestartBitsAfterARestartOnlyInTheFirstOpen) {
  ScriptedPeer peer;
  auto speaker = make_speaker(true);
  auto cfg = config(peer.port());
  cfg.routers[0].neighbors[0].graceful_restart = true;
  cfg.routers[0].neighbors[0].restart_time_s = 77;
  speaker->apply(cfg);
  ASSERT_TRUE(peer.accept_within(kDeadline));
  auto gr_peer = peer_open();
  gr_peer.caps.graceful_restart = GracefulRestartCap{false, 90, {{kV4, true}, {kV6, true}}};
  auto first = peer.handshake(gr_peer);
  ASSERT_TRUE(first && first->caps.graceful_restart);
  EXPECT_TRUE(first->caps.graceful_restart->restart_state);
  EXPECT_EQ(first->caps.graceful_restart->restart_time_s, 77);
  ASSERT_EQ(first->caps.graceful_restart->families.size(), 2u);
  EXPECT_TRUE(first->caps.graceful_restart->families[0].forwarding_preserved);
  ASSERT_TRUE(eventually([&] { return speaker->peers()[0].graceful_restart; }));
  // The peer resets the session: the next OPEN no longer claims a restart.
  peer.send(Notification{err::kCease, err::kAdminReset, {}});
  ASSERT_TRUE(peer.accept_within(kDeadline));
  auto second = peer.handshake(gr_peer);
  ASSERT_TRUE(second && second->caps.graceful_restart);
  EXPECT_FALSE(second->caps.graceful_restart->restart_state);
}

// Graceful restart with the peer restarting and the speaker as the helper
// (RFC 4724 §4.2).
Open gr_peer_open(bool restarted, uint16_t restart_time_s, bool v6_forwarding) {
  auto o = peer_open();
  o.caps.graceful_restart = GracefulRestartCap{restarted, restart_time_s, {{kV4, true}, {kV6, v6_forwarding}}};
  return o;
}

SpeakerConfig gr_config(uint16_t port) {
  auto cfg = config(port);
  cfg.routers[0].neighbors[0].graceful_restart = true;
  return cfg;
}

// Reads the speaker's initial advertisement up to both End-of-RIBs; returns
// the prefixes it announced.
std::set<IpPrefix> initial_table(ScriptedPeer& peer) {
  std::set<IpPrefix> out;
  for (int eor = 0; eor < 2;) {
    auto m = peer.next();
    if (!m) {
      ADD_FAILURE() << "no End-of-RIB from the speaker";
      return out;
    }
    auto* u = std::get_if<Update>(&*m);
    if (!u) continue;
    if (u->end_of_rib()) {
      ++eor;
      continue;
    }
    out.insert(u->nlri.begin(), u->nlri.end());
    if (u->mp_reach) out.insert(u->mp_reach->nlri.begin(), u->mp_reach->nlri.end());
  }
  return out;
}

Update announce(std::vector<IpPrefix> v4, std::vector<IpPrefix> v6 = {}) {
  Update u;
  u.attrs.origin = Origin::Igp;
  u.attrs.as_path = {{AsPathSegment::Type::Sequence, {65002}}};
  if (!v4.empty()) {
    u.attrs.next_hop = *IpAddr::parse("127.0.0.1");
    u.nlri = std::move(v4);
  }
  if (!v6.empty()) u.mp_reach = MpReach{kV6, *IpAddr::parse("2001:db8::2"), std::nullopt, std::move(v6)};
  return u;
}

bool received_is(const Speaker& s, size_t received, size_t stale) {
  auto p = s.peers().at(0);
  return p.received == received && p.stale == stale;
}

// The speaker has the peer's three routes (two IPv4, one IPv6); the peer
// then vanishes without a NOTIFICATION.
void establish_with_routes_and_drop(ScriptedPeer& peer, Speaker& speaker, uint16_t restart_time_s) {
  ASSERT_TRUE(peer.accept_within(kDeadline));
  ASSERT_TRUE(peer.handshake(gr_peer_open(false, restart_time_s, true)));
  initial_table(peer);
  peer.send(announce({*IpPrefix::parse("10.1.0.0/24"), *IpPrefix::parse("10.2.0.0/24")}));
  peer.send(announce({}, {*IpPrefix::parse("2001:db8:1::/64")}));
  ASSERT_TRUE(eventually([&] { return received_is(speaker, 3, 0); }));
  EXPECT_EQ(speaker.peers()[0].received_by_family, (std::map<Family, size_t>{{kV4, 2}, {kV6, 1}}));
  peer.drop();
}

TEST(Wire, HelperKeepsStaleRoutesUntilThePeersEndOfRib) {
  ScriptedPeer peer;
  auto speaker = make_speaker();
  speaker->apply(gr_config(peer.port()));
  establish_with_routes_and_drop(peer, *speaker, 60);
  ASSERT_TRUE(eventually([&] { return state(*speaker) != SessionState::Established && received_is(*speaker, 3, 3); }));
  // Back from its restart, preserving IPv4 forwarding state only: the
  // stale IPv6 route goes at once, and the peer gets our whole table again.
  ASSERT_TRUE(peer.accept_within(kDeadline));
  auto ours = peer.handshake(gr_peer_open(true, 60, false));
  ASSERT_TRUE(ours);
  EXPECT_FALSE(ours->caps.graceful_restart->restart_state) << "the speaker did not restart";
  EXPECT_EQ(initial_table(peer), (std::set<IpPrefix>{*IpPrefix::parse("10.10.0.0/24"),
                                                    *IpPrefix::parse("2001:db8:10::/64")}));
  ASSERT_TRUE(eventually([&] { return received_is(*speaker, 2, 2); }));
  EXPECT_EQ(speaker->peers()[0].received_by_family, (std::map<Family, size_t>{{kV4, 2}}));
  // It announces one of its IPv4 routes again, then its End-of-RIB: the other one is gone.
  peer.send(announce({*IpPrefix::parse("10.1.0.0/24")}));
  ASSERT_TRUE(eventually([&] { return received_is(*speaker, 2, 1); }));
  peer.send(Update::end_of_rib_marker(kV4));
  ASSERT_TRUE(eventually([&] { return received_is(*speaker, 1, 0); }));
  EXPECT_EQ(state(*speaker), SessionState::Established);
}

TEST(Wire, HelperDropsStaleRoutesWhenThePeerMissesItsRestartTime) {
  ScriptedPeer peer;
  auto speaker = make_speaker();
  speaker->apply(gr_config(peer.port()));
  establish_with_routes_and_drop(peer, *speaker, 2);
  ASSERT_TRUE(eventually([&] { return state(*speaker) != SessionState::Established; }));
  // The speaker's reconnection sits unanswered in the listen queue; after
  // the peer's 2 s restart time its routes are gone.
  ASSERT_TRUE(eventually([&] { return received_is(*speaker, 0, 0); }));
  EXPECT_NE(state(*speaker), SessionState::Established);
}

TEST(Wire, HelperDropsRoutesAtOnceAfterANotification) {
  ScriptedPeer peer;
  auto speaker = make_speaker();
  speaker->apply(gr_config(peer.port()));
  ASSERT_TRUE(peer.accept_within(kDeadline));
  ASSERT_TRUE(peer.handshake(gr_peer_open(false, 60, true)));
  initial_table(peer);
  peer.send(announce({*IpPrefix::parse("10.1.0.0/24")}));
  ASSERT_TRUE(eventually([&] { return received_is(*speaker, 1, 0); }));
  peer.send(Notification{err::kCease, err::kAdminReset, {}});
  peer.drop();
  ASSERT_TRUE(eventually([&] { return state(*speaker) != SessionState::Established; }));
  EXPECT_TRUE(received_is(*speaker, 0, 0));
}

TEST(Wire, HelperTakesANewConnectionWhileEstablishedAsThePeersRestart) {
  auto speaker = make_speaker();
  auto cfg = gr_config(1);
  cfg.listen_port = listen_port() + 2;
  cfg.routers[0].neighbors[0].passive = true;
  speaker->apply(cfg);
  ScriptedPeer before;
  ASSERT_TRUE(before.adopt(connect_to(cfg.listen_port)));
  ASSERT_TRUE(before.handshake(gr_peer_open(false, 60, true)));
  initial_table(before);
  before.send(announce({*IpPrefix::parse("10.1.0.0/24")}));
  ASSERT_TRUE(eventually([&] { return received_is(*speaker, 1, 0); }));
  // The peer restarted without the speaker seeing its connection end.
  ScriptedPeer after;
  ASSERT_TRUE(after.adopt(connect_to(cfg.listen_port)));
  ASSERT_TRUE(after.handshake(gr_peer_open(true, 60, true)));
  EXPECT_FALSE(before.notification()) << "the old connection closes without a NOTIFICATION";
  EXPECT_EQ(initial_table(after), (std::set<IpPrefix>{*IpPrefix::parse("10.10.0.0/24"),
                                                     *IpPrefix::parse("2001:db8:10::/64")}));
  ASSERT_TRUE(eventually([&] { return state(*speaker) == SessionState::Established && received_is(*speaker, 1, 1); }));
  after.send(Update::end_of_rib_marker(kV4));
  ASSERT_TRUE(eventually([&] { return received_is(*speaker, 0, 0); }));
  EXPECT_EQ(state(*speaker), SessionState::Established);
}

TEST(Wire, InvalidConfigurationsAreRejected) {
  auto speaker = make_speaker();
  auto cfg = config(179);
  cfg.router_id = 0;
  EXPECT_THROW(speaker->apply(cfg), std::invalid_argument);
  cfg = config(179, 2);
  EXPECT_THROW(speaker->apply(cfg), std::invalid_argument);
  cfg = config(179);
  cfg.routers.push_back(cfg.routers[0]);
  EXPECT_THROW(speaker->apply(cfg), std::invalid_argument);
  EXPECT_TRUE(speaker->peers().empty());
}

}  // namespace
}  // namespace cpp::bgp
