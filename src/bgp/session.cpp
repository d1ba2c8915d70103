#include "bgp/session.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bgp/socket.h"

namespace cpp::bgp {

namespace {

SessionParams make_params(uint32_t local_asn, uint32_t router_id, const NeighborConfig& cfg, bool restarting) {
  SessionParams p;
  p.local_asn = local_asn;
  p.router_id = router_id;
  p.peer_asn = cfg.peer_asn;
  p.hold_time_s = cfg.hold_time_s;
  p.keepalive_s = cfg.keepalive_s;
  p.connect_retry_s = cfg.connect_retry_s;
  p.passive = cfg.passive;
  p.families = cfg.families;
  p.graceful_restart = cfg.graceful_restart;
  p.restart_time_s = cfg.restart_time_s;
  p.restarting = restarting && cfg.graceful_restart;
  return p;
}

Event to_event(Message&& m) {
  if (auto* o = std::get_if<Open>(&m)) return ev::OpenReceived{std::move(*o)};
  if (auto* u = std::get_if<Update>(&m)) return ev::UpdateReceived{std::move(*u)};
  if (auto* n = std::get_if<Notification>(&m)) return ev::NotificationReceived{std::move(*n)};
  if (auto* r = std::get_if<RouteRefresh>(&m)) return ev::RouteRefreshReceived{r->family};
  return ev::KeepaliveReceived{};
}

bool connected(SessionState s) {
  return s == SessionState::OpenSent || s == SessionState::OpenConfirm || s == SessionState::Established;
}

}  // namespace

Session::Session(uint32_t local_asn, uint32_t router_id, const NeighborConfig& cfg, Poller& poller, bool restarting)
    : local_asn_(local_asn),
      cfg_(cfg),
      poller_(poller),
      params_(make_params(local_asn, router_id, cfg, restarting)),
      inbound_params_(params_),
      primary_(std::make_unique<Connection>()) {
  inbound_params_.passive = true;
  ctx_.local_asn = local_asn;
  ctx_.ebgp = cfg.peer_asn != local_asn;
}

Session::~Session() {
  if (primary_) close_socket(*primary_);
  if (inbound_) close_socket(*inbound_);
}

void Session::start() { dispatch(*primary_, ev::Start{}); }

void Session::stop(bool notify, uint8_t subcode) {
  if (inbound_) dispatch(*inbound_, ev::Stop{notify, subcode});
  dispatch(*primary_, ev::Stop{notify, subcode});
  inbound_.reset();
}

void Session::set_routes(std::vector<Route> routes) {
  routes_ = std::move(routes);
  if (established_) advertise(*established_);
}

bool Session::owns(int fd) const {
  return fd >= 0 && ((primary_ && primary_->fd == fd) || (inbound_ && inbound_->fd == fd));
}

void Session::attach_inbound(int fd) {
  if (inbound_ || primary_->fsm.state == SessionState::Established) {
    // RFC 4271 §6.8: a connection colliding with an Established one is closed.
    spdlog::info("bgp: {}: rejecting a second incoming connection", cfg_.peer_address.str());
    close(fd);
    return;
  }
  inbound_ = std::make_unique<Connection>();
  inbound_->inbound = true;
  inbound_->fd = fd;
  poller_.watch(fd, false);
  dispatch(*inbound_, ev::Start{});
  dispatch(*inbound_, ev::TcpConnected{});
  reap();
}

void Session::dispatch(Connection& c, const Event& first) {
  std::vector<Event> queue{first};
  for (size_t i = 0; i < queue.size(); ++i) {
    auto before = c.fsm.state;
    auto actions = step(c.fsm, params_for(c), queue[i]);
    std::vector<Event> follow;
    for (const auto& a : actions) perform(c, a, follow);
    queue.insert(queue.end(), follow.begin(), follow.end());
    if (c.fsm.state != before) {
      spdlog::debug("bgp: {}: {} -> {}{}", cfg_.peer_address.str(), to_string(before), to_string(c.fsm.state),
                    c.inbound ? " (incoming connection)" : "");
    }
  }
  resolve_collision();
}

void Session::promote_inbound() {
  std::swap(primary_, inbound_);
  primary_->inbound = false;  // from now on it reconnects actively like any primary
  inbound_->inbound = true;
}

void Session::reap() {
  if (inbound_ && inbound_->fsm.state == SessionState::Idle) inbound_.reset();
}

void Session::resolve_collision() {
  if (resolving_ || !inbound_ || inbound_->fsm.state == SessionState::Idle) return;
  resolving_ = true;
  resolve();
  resolving_ = false;
}

void Session::resolve() {
  auto in = inbound_->fsm.state, out = primary_->fsm.state;
  if (in != SessionState::OpenConfirm && in != SessionState::Established) {
    // The peer's identifier is not known yet; an idle primary gives way at once.
    if (!connected(out) && in == SessionState::OpenSent) {
      dispatch(*primary_, ev::Stop{false});
      promote_inbound();
    }
    return;
  }
  if (out == SessionState::OpenSent) return;  // wait for the OPEN on our connection
  bool keep_inbound;
  if (out == SessionState::Established) {
    keep_inbound = false;
  } else if (in == SessionState::Established || !connected(out)) {
    keep_inbound = true;
  } else {
    keep_inbound = keep_peer_initiated(params_.router_id, inbound_->fsm.negotiated.peer_bgp_id);
  }
  spdlog::info("bgp: {}: connection collision, keeping the {} connection", cfg_.peer_address.str(),
               keep_inbound ? "incoming" : "outgoing");
  auto& loser = keep_inbound ? *primary_ : *inbound_;
  dispatch(loser, ev::Stop{connected(loser.fsm.state), err::kCollisionResolution});
  if (keep_inbound) promote_inbound();
}

void Session::perform(Connection& c, const Action& a, std::vector<Event>& follow) {
  if (std::holds_alternative<act::Connect>(a)) {
    close_socket(c);
    try {
      c.fd = start_connect(cfg_.peer_address, cfg_.peer_port, cfg_.local_address, cfg_.md5_password,
                           cfg_.ebgp_multihop_ttl);
      c.connecting = true;
      poller_.watch(c.fd, true);
    } catch (const std::exception& e) {
      follow.push_back(ev::TcpFailed{e.what()});
    }
  } else if (std::holds_alternative<act::Close>(a)) {
    close_socket(c);
  } else if (auto* o = std::get_if<act::SendOpen>(&a)) {
    send(c, o->open);
  } else if (std::holds_alternative<act::SendKeepalive>(a)) {
    send(c, Keepalive{});
  } else if (auto* n = std::get_if<act::SendNotification>(&a)) {
    spdlog::warn("bgp: {}: sending NOTIFICATION {}", cfg_.peer_address.str(), n->notification.str());
    last_error_ = "sent " + n->notification.str();
    send(c, n->notification);
  } else if (auto* t = std::get_if<act::SetTimer>(&a)) {
    auto& slot = c.timers[static_cast<size_t>(t->timer)];
    if (t->seconds == 0) {
      slot.reset();
    } else {
      slot = Clock::now() + std::chrono::seconds(t->seconds);
    }
  } else if (auto* e = std::get_if<act::Established>(&a)) {
    on_established(c, e->negotiated);
  } else if (auto* d = std::get_if<act::Down>(&a)) {
    if (&c == established_) on_down(d->reason);
    if (d->reason.rfind("sent ", 0) != 0 && d->reason != "stopped") last_error_ = d->reason;
  } else if (auto* u = std::get_if<act::DeliverUpdate>(&a)) {
    receive(u->update);
  } else if (auto* r = std::get_if<act::DeliverRouteRefresh>(&a)) {
    resend(c, r->family);
  }
}

void Session::send(Connection& c, const Message& m) {
  if (c.fd < 0) return;
  try {
    auto bytes = encode(m, c.dctx);
    c.wbuf.insert(c.wbuf.end(), bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    spdlog::error("bgp: {}: cannot encode a message: {}", cfg_.peer_address.str(), e.what());
    return;
  }
  flush(c);
}

void Session::flush(Connection& c) {
  while (!c.wbuf.empty() && c.fd >= 0) {
    ssize_t n = ::send(c.fd, c.wbuf.data(), c.wbuf.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.wbuf.erase(c.wbuf.begin(), c.wbuf.begin() + n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      poller_.watch(c.fd, true);
      return;
    }
    // The socket is dead; the read side reports it to the FSM.
    c.wbuf.clear();
    return;
  }
  if (c.fd >= 0 && !c.connecting) poller_.watch(c.fd, false);
}

void Session::close_socket(Connection& c) {
  if (c.fd >= 0) {
    poller_.unwatch(c.fd);
    close(c.fd);
  }
  c.fd = -1;
  c.connecting = false;
  c.rbuf.clear();
  c.wbuf.clear();
  c.dctx = {};
}

void Session::on_io(int fd, uint32_t events) {
  Connection* c = primary_->fd == fd ? primary_.get() : (inbound_ && inbound_->fd == fd ? inbound_.get() : nullptr);
  if (!c) return;
  if (c->connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = connect_result(fd);
    if (err != 0) {
      dispatch(*c, ev::TcpFailed{std::strerror(err)});
    } else {
      c->connecting = false;
      poller_.watch(fd, false);
      dispatch(*c, ev::TcpConnected{});
    }
  } else {
    if (events & EPOLLOUT) flush(*c);
    if (c->fd == fd && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) read(*c);
  }
  reap();
}

void Session::read(Connection& c) {
  int fd = c.fd;
  bool eof = false;
  std::string error;
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      c.rbuf.insert(c.rbuf.end(), buf, buf + n);
      continue;
    }
    if (n == 0) {
      eof = true;
    } else if (errno == EINTR) {
      continue;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      error = std::strerror(errno);
    }
    break;
  }
  size_t off = 0;
  while (c.fd == fd) {
    auto fl = frame_length(c.rbuf.data() + off, c.rbuf.size() - off);
    if (std::holds_alternative<std::monostate>(fl)) break;
    if (auto* de = std::get_if<DecodeError>(&fl)) {
      dispatch(c, ev::DecodeFailed{*de});
      return;
    }
    size_t len = std::get<size_t>(fl);
    if (c.rbuf.size() - off < len) break;
    auto m = decode(c.rbuf.data() + off, len, c.dctx);
    off += len;
    if (auto* de = std::get_if<DecodeError>(&m)) {
      spdlog::warn("bgp: {}: malformed message: {}", cfg_.peer_address.str(), de->what);
      dispatch(c, ev::DecodeFailed{*de});
      return;
    }
    dispatch(c, to_event(std::move(std::get<Message>(m))));
  }
  if (c.fd != fd) return;
  c.rbuf.erase(c.rbuf.begin(), c.rbuf.begin() + off);
  if (eof || !error.empty()) dispatch(c, ev::TcpFailed{eof ? "closed by peer" : error});
}

void Session::on_timers(Clock::time_point now) {
  for (auto* c : {primary_.get(), inbound_.get()}) {
    if (!c) continue;
    for (size_t i = 0; i < c->timers.size(); ++i) {
      if (c->timers[i] && *c->timers[i] <= now) {
        c->timers[i].reset();
        dispatch(*c, ev::TimerExpired{static_cast<TimerId>(i)});
      }
    }
  }
  reap();
}

std::optional<Clock::time_point> Session::next_deadline() const {
  std::optional<Clock::time_point> best;
  for (auto* c : {primary_.get(), inbound_.get()}) {
    if (!c) continue;
    for (const auto& t : c->timers)
      if (t && (!best || *t < *best)) best = t;
  }
  return best;
}

void Session::on_established(Connection& c, const Negotiated& n) {
  established_ = &c;
  established_at_ = Clock::now();
  // The Restart State bit belongs to the first OPEN after our restart only.
  params_.restarting = inbound_params_.restarting = false;
  gr_negotiated_ = n.graceful_restart;
  c.dctx.four_octet_as = n.four_octet_as;
  ctx_.four_octet_as = n.four_octet_as;
  ctx_.families = n.families;
  ctx_.local_v4.reset();
  ctx_.local_v6.reset();
  if (auto local = local_address(c.fd)) (local->v6 ? ctx_.local_v6 : ctx_.local_v4) = local;
  if (!gr_negotiated_) received_.clear();
  sent_.clear();
  spdlog::info("bgp: {}: established (hold {}s, keepalive {}s{})", cfg_.peer_address.str(), n.hold_time_s,
               n.keepalive_s, n.graceful_restart ? ", graceful restart" : "");
  advertise(c);
  for (auto& u : end_of_rib(n.families)) send(c, u);
}

void Session::on_down(const std::string& reason) {
  spdlog::info("bgp: {}: session down: {}", cfg_.peer_address.str(), reason);
  established_ = nullptr;
  sent_.clear();
  // Graceful restart helper: the peer's routes stay (stale) until it is back.
  if (!gr_negotiated_) received_.clear();
}

void Session::advertise(Connection& c) {
  auto resolved = resolve_routes(routes_, ctx_);
  for (const auto& skipped : resolved.skipped)
    spdlog::warn("bgp: {}: not advertising {}", cfg_.peer_address.str(), skipped);
  for (auto& u : diff_updates(sent_, resolved.routes, ctx_)) send(c, u);
  sent_ = std::move(resolved.routes);
}

void Session::resend(Connection& c, Family f) {
  RibOut family_routes;
  for (const auto& [p, nh] : sent_)
    if (family_of(p) == f) family_routes[p] = nh;
  for (auto& u : diff_updates({}, family_routes, ctx_)) send(c, u);
}

void Session::receive(const Update& u) {
  for (const auto& p : u.withdrawn) received_.erase(p);
  if (u.mp_unreach)
    for (const auto& p : u.mp_unreach->withdrawn) received_.erase(p);
  if (u.treat_as_withdraw) {
    spdlog::warn("bgp: {}: UPDATE treated as withdraw: {}", cfg_.peer_address.str(), u.treat_as_withdraw_reason);
    for (const auto& p : u.nlri) received_.erase(p);
    if (u.mp_reach)
      for (const auto& p : u.mp_reach->nlri) received_.erase(p);
    return;
  }
  received_.insert(u.nlri.begin(), u.nlri.end());
  if (u.mp_reach) received_.insert(u.mp_reach->nlri.begin(), u.mp_reach->nlri.end());
}

PeerStatus Session::status() const {
  PeerStatus s;
  s.local_asn = local_asn_;
  s.peer_address = cfg_.peer_address;
  s.peer_asn = cfg_.peer_asn;
  s.state = primary_->fsm.state;
  if (s.state == SessionState::Established) {
    s.uptime = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - established_at_);
    const auto& n = primary_->fsm.negotiated;
    s.families = n.families;
    s.hold_time_s = n.hold_time_s;
    s.keepalive_s = n.keepalive_s;
    s.graceful_restart = n.graceful_restart;
  }
  s.advertised = sent_.size();
  s.received = received_.size();
  s.last_error = last_error_;
  return s;
}

std::vector<Route> Session::advertised() const {
  std::vector<Route> out;
  for (const auto& [p, nh] : sent_) out.push_back(Route{p, nh});
  return out;
}

}  // namespace cpp::bgp
