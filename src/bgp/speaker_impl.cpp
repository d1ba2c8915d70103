// The speaker: one thread running an epoll loop over every session's
// sockets, the listener and a wake-up eventfd. apply()/stop()/status calls
// come from other threads and take the same lock the loop holds while it
// works, so sessions are only ever touched under it.
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "bgp/session.h"
#include "bgp/socket.h"
#include "bgp/speaker.h"

namespace cpp::bgp {

namespace {

// The desired state of one neighbor.
struct Desired {
  uint32_t local_asn;
  NeighborConfig cfg;
  std::vector<Route> routes;
};

std::map<IpAddr, Desired> validate(const SpeakerConfig& cfg) {
  if (cfg.router_id == 0) throw std::invalid_argument("BGP speaker: router_id must not be 0");
  std::set<uint32_t> asns;
  std::map<IpAddr, Desired> out;
  for (const auto& r : cfg.routers) {
    if (r.local_asn == 0) throw std::invalid_argument("BGP speaker: a virtual router has local ASN 0");
    if (!asns.insert(r.local_asn).second)
      throw std::invalid_argument("BGP speaker: local ASN " + std::to_string(r.local_asn) + " used twice");
    for (const auto& n : r.neighbors) {
      std::string where = "BGP speaker: neighbor " + n.peer_address.str() + " (router " +
                          std::to_string(r.local_asn) + ")";
      if (n.hold_time_s == 1 || n.hold_time_s == 2)
        throw std::invalid_argument(where + ": hold time " + std::to_string(n.hold_time_s) + " is not 0 or >= 3");
      if (n.peer_asn == 0) throw std::invalid_argument(where + ": peer ASN 0");
      if (n.families.empty()) throw std::invalid_argument(where + ": no address families");
      if (n.md5_password.size() > 80) throw std::invalid_argument(where + ": MD5 password longer than 80 bytes");
      if (!out.emplace(n.peer_address, Desired{r.local_asn, n, r.routes}).second)
        throw std::invalid_argument(where + ": configured in two virtual routers");
    }
  }
  return out;
}

class SpeakerImpl final : public Speaker, public Poller {
 public:
  explicit SpeakerImpl(bool restarting) : restarting_(restarting) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || wake_ < 0) throw std::system_error(errno, std::generic_category(), "BGP speaker: epoll/eventfd");
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = wake_;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_, &e);
    thread_ = std::thread([this] { loop(); });
  }

  ~SpeakerImpl() override {
    stop(false);
    quit_ = true;
    wake();
    thread_.join();
    {
      std::lock_guard lock(mu_);
      sessions_.clear();
      close_listener();
    }
    close(wake_);
    close(epfd_);
  }

  void apply(const SpeakerConfig& cfg) override {
    auto desired = validate(cfg);
    std::lock_guard lock(mu_);
    if (cfg.listen_port != listen_port_) open_listener(cfg.listen_port);
    bool restarting = std::exchange(first_apply_, false) && restarting_;
    if (cfg.router_id != router_id_) {
      // A new identity restarts every session (the OPEN carries it).
      for (auto& [addr, s] : sessions_) s->stop(true, err::kOtherConfigChange);
      sessions_.clear();
      router_id_ = cfg.router_id;
    }
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto d = desired.find(it->first);
      if (d == desired.end() || d->second.local_asn != it->second->local_asn() || !(d->second.cfg == it->second->config())) {
        it->second->stop(true, d == desired.end() ? err::kPeerDeconfigured : err::kOtherConfigChange);
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [addr, d] : desired) {
      auto& s = sessions_[addr];
      if (!s) {
        s = std::make_unique<Session>(d.local_asn, router_id_, d.cfg, *this, restarting);
        s->set_routes(d.routes);
        s->start();
      } else {
        s->set_routes(d.routes);
      }
    }
    configure_listener_md5();
    routes_.clear();
    for (const auto& r : cfg.routers)
      for (const auto& rt : r.routes) routes_.push_back(RouteStatus{r.local_asn, IpAddr{}, rt});
    wake();
  }

  std::vector<PeerStatus> peers() const override {
    std::lock_guard lock(mu_);
    std::vector<PeerStatus> out;
    for (const auto& [addr, s] : sessions_) out.push_back(s->status());
    return out;
  }

  std::vector<RouteStatus> advertised() const override {
    std::lock_guard lock(mu_);
    std::vector<RouteStatus> out;
    for (const auto& [addr, s] : sessions_)
      for (const auto& r : s->advertised()) out.push_back(RouteStatus{s->local_asn(), addr, r});
    return out;
  }

  std::vector<RouteStatus> available() const override {
    std::lock_guard lock(mu_);
    return routes_;
  }

  void stop(bool keep_routes) override {
    std::lock_guard lock(mu_);
    for (auto& [addr, s] : sessions_) s->stop(!keep_routes);
    wake();
  }

 private:
  void watch(int fd, bool want_write) override {
    epoll_event e{};
    e.events = EPOLLIN | EPOLLRDHUP | (want_write ? uint32_t{EPOLLOUT} : 0u);
    e.data.fd = fd;
    if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &e) != 0) epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &e);
  }

  void unwatch(int fd) override { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_, &one, sizeof one);
  }

  void open_listener(int port) {
    close_listener();
    listen_port_ = port;
    if (port < 0) return;
    try {
      listen_fd_ = listen_on(port);
    } catch (const std::system_error& e) {
      listen_port_ = -1;
      throw std::invalid_argument(std::string("BGP speaker: ") + e.what());
    }
    watch(listen_fd_, false);
    spdlog::info("bgp: listening on port {}", bound_port(listen_fd_));
  }

  void close_listener() {
    if (listen_fd_ < 0) return;
    unwatch(listen_fd_);
    close(listen_fd_);
    listen_fd_ = -1;
  }

  // Incoming SYNs from MD5 neighbors are only answered with the key on the listener.
  void configure_listener_md5() {
    if (listen_fd_ < 0) return;
    for (const auto& [addr, s] : sessions_) {
      try {
        set_md5(listen_fd_, addr, s->config().md5_password);
      } catch (const std::exception& e) {
        if (!s->config().md5_password.empty()) spdlog::warn("bgp: {}", e.what());
      }
    }
  }

  void accept_all() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      auto peer = remote_address(fd);
      auto it = peer ? sessions_.find(*peer) : sessions_.end();
      if (it == sessions_.end()) {
        spdlog::info("bgp: refusing a connection from unconfigured {}", peer ? peer->str() : "?");
        close(fd);
        continue;
      }
      try {
        set_ttl(fd, peer->v6, it->second->config().ebgp_multihop_ttl);
      } catch (const std::exception& e) {
        spdlog::warn("bgp: {}: {}", peer->str(), e.what());
      }
      it->second->attach_inbound(fd);
    }
  }

  int timeout_ms() const {
    std::optional<Clock::time_point> next;
    for (const auto& [addr, s] : sessions_) {
      auto d = s->next_deadline();
      if (d && (!next || *d < *next)) next = d;
    }
    if (!next) return -1;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*next - Clock::now()).count() + 1;
    return static_cast<int>(std::clamp<int64_t>(ms, 0, 3600 * 1000));
  }

  void loop() {
    epoll_event events[64];
    int timeout;
    {
      std::lock_guard lock(mu_);
      timeout = timeout_ms();
    }
    while (!quit_) {
      int n = epoll_wait(epfd_, events, 64, timeout);
      std::lock_guard lock(mu_);
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_) {
          uint64_t v;
          [[maybe_unused]] auto r = read(wake_, &v, sizeof v);
        } else if (fd == listen_fd_) {
          accept_all();
        } else {
          for (auto& [addr, s] : sessions_) {
            if (!s->owns(fd)) continue;
            try {
              s->on_io(fd, events[i].events);
            } catch (const std::exception& e) {
              spdlog::error("bgp: {}: {}", addr.str(), e.what());
            }
            break;
          }
        }
      }
      auto now = Clock::now();
      for (auto& [addr, s] : sessions_) {
        try {
          s->on_timers(now);
        } catch (const std::exception& e) {
          spdlog::error("bgp: {}: {}", addr.str(), e.what());
        }
      }
      timeout = timeout_ms();
    }
  }

  mutable std::mutex mu_;
  int epfd_ = -1, wake_ = -1, listen_fd_ = -1;
  int listen_port_ = -1;
  uint32_t router_id_ = 0;
  bool restarting_;
  bool first_apply_ = true;
  std::map<IpAddr, std::unique_ptr<Session>> sessions_;
  std::vector<RouteStatus> routes_;
  std::atomic<bool> quit_{false};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Speaker> make_speaker(bool restarting) { return std::make_unique<SpeakerImpl>(restarting); }

}  // namespace cpp::bgp
