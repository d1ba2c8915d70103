#pragma once
// One BGP neighbor: its connection(s) driven by the pure FSM, the timers,
// the Adj-RIB-Out and what the peer sent us (counted, never installed),
// kept stale through the peer's graceful restart (RFC 4724 helper).
// Up to two connections exist during a collision (RFC 4271 §6.8): the
// primary one (ours, or adopted) and an inbound one until it has the peer's
// OPEN. Not thread-safe: the speaker calls it under its lock.
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "bgp/fsm.h"
#include "bgp/rib_in.h"
#include "bgp/rib_out.h"
#include "bgp/speaker.h"

namespace cpp::bgp {

using Clock = std::chrono::steady_clock;

// The event loop's side: which sockets to poll.
class Poller {
 public:
  virtual ~Poller() = default;
  virtual void watch(int fd, bool want_write) = 0;
  virtual void unwatch(int fd) = 0;
};

class Session {
 public:
  Session(uint32_t local_asn, uint32_t router_id, const NeighborConfig& cfg, Poller& poller, bool restarting);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();
  // Cease with the given subcode, or (notify = false) just close.
  void stop(bool notify, uint8_t subcode = err::kAdminShutdown);
  void set_routes(std::vector<Route> routes);
  // An accepted connection from this neighbor.
  void attach_inbound(int fd);

  bool owns(int fd) const;
  void on_io(int fd, uint32_t epoll_events);
  void on_timers(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;

  PeerStatus status() const;
  std::vector<Route> advertised() const;
  const NeighborConfig& config() const { return cfg_; }
  uint32_t local_asn() const { return local_asn_; }

 private:
  struct Connection {
    int fd = -1;
    bool inbound = false;
    bool connecting = false;
    Fsm fsm;
    std::array<std::optional<Clock::time_point>, 3> timers;
    Bytes rbuf, wbuf;
    DecodeContext dctx;
  };

  void dispatch(Connection& c, const Event& e);
  void perform(Connection& c, const Action& a, std::vector<Event>& follow);
  void send(Connection& c, const Message& m);
  void flush(Connection& c);
  void close_socket(Connection& c);
  void read(Connection& c);
  void on_established(Connection& c, const act::Established& e);
  void on_down(const act::Down& d);
  void receive(const Update& u);
  void sweep_all_stale(const char* why);
  void advertise(Connection& c);  // sends the difference to routes_; logs what cannot be sent
  void resend(Connection& c, Family f);
  void resolve_collision();
  void resolve();
  void promote_inbound();
  void reap();  // drops an incoming connection that lost or failed
  const SessionParams& params_for(const Connection& c) const { return c.inbound ? inbound_params_ : params_; }

  uint32_t local_asn_;
  NeighborConfig cfg_;
  Poller& poller_;
  SessionParams params_, inbound_params_;
  std::unique_ptr<Connection> primary_, inbound_;
  Connection* established_ = nullptr;  // the connection our Adj-RIB-Out was sent on
  std::vector<Route> routes_;
  RibOutContext ctx_;
  RibOut sent_;
  RibIn rib_in_;
  // The peer's graceful restart capability on the last Established session,
  // when both sides offered graceful restart.
  std::optional<GracefulRestartCap> peer_gr_;
  // Helper timers (RFC 4724 §4.2): the peer must be back by restart_, and
  // send End-of-RIB by stale_path_, or its stale routes go.
  std::optional<Clock::time_point> restart_deadline_, stale_path_deadline_;
  bool resolving_ = false;
  Clock::time_point established_at_{};
  std::string last_error_;
};

}  // namespace cpp::bgp
