#include "bgp/session.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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
  p.families_required = cfg.families_required;
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

// How long a peer that came back from a graceful restart has to send its
// End-of-RIB before its remaining stale routes go (RFC 4724 §4.2 leaves the
// value local; FRR's default stalepath-time).
constexpr std::chrono::seconds kStalePathTime{360};

bool forwarding_preserved(const GracefulRestartCap& gr, Family f) {
  return std::any_of(gr.families.begin(), gr.families.end(),
                     [&](const auto& af) { return af.family == f && af.forwarding_preserved; });
}

// "R, ipv4-unicast F, ipv6-unicast no F": the capability's bits, for the log.
std::string gr_bits(const GracefulRestartCap& gr) {
  std::string out = gr.restart_state ? "R" : "no R";
  for (const auto& af : gr.families) out += ", " + to_string(af.family) + (af.forwarding_preserved ? " F" : " no F");
  return out;
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
  // RFC 4271 §6.8: a connection colliding with an Established one is closed,
  // unless the peer does graceful restart: then it may have restarted
  // before we noticed, and its OPEN on the new connection says so.
  if (inbound_ || (primary_->fsm.state == SessionState::Established && !peer_gr_)) {
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
  if (out == SessionState::Established && peer_gr_) {
    // RFC 4724 §4.2: a new OPEN from a graceful-restart peer whose session
    // we still hold means it restarted: the old session ends as if its
    // connection had dropped (its routes go stale), the new one takes over.
    spdlog::info("bgp: {}: new connection while established: the peer restarted", cfg_.peer_address.str());
    dispatch(*primary_, ev::Stop{false});
    promote_inbound();
    return;
  }
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
    // A new attempt while the last one still waits for its SYN-ACK: the peer
    // never answered. With TCP MD5 that is what a key mismatch looks like
    // (the kernel drops unsigned or wrongly signed segments without a word).
    if (c.connecting && c.fd >= 0) {
      std::string why = "no TCP connection within the connect retry time" +
                        std::string(cfg_.md5_password.empty()
                                        ? ""
                                        : " (TCP MD5 is configured: a key that differs from the peer's drops every segment)");
      if (why != last_error_) spdlog::warn("bgp: {}: {}", cfg_.peer_address.str(), why);  // once, not per retry
      last_error_ = std::move(why);
    }
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
    on_established(c, *e);
  } else if (auto* d = std::get_if<act::Down>(&a)) {
    if (&c == established_) on_down(*d);
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
  if (restart_deadline_ && *restart_deadline_ <= now)
    sweep_all_stale("the peer did not come back within its restart time");
  if (stale_path_deadline_ && *stale_path_deadline_ <= now)
    sweep_all_stale("no End-of-RIB within the stale-path time");
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
  for (const auto& t : {restart_deadline_, stale_path_deadline_})
    if (t && (!best || *t < *best)) best = t;
  for (auto* c : {primary_.get(), inbound_.get()}) {
    if (!c) continue;
    for (const auto& t : c->timers)
      if (t && (!best || *t < *best)) best = t;
  }
  return best;
}

void Session::on_established(Connection& c, const act::Established& e) {
  const Negotiated& n = e.negotiated;
  established_ = &c;
  established_at_ = Clock::now();
  // The Restart State bit belongs to the first OPEN after our restart only.
  params_.restarting = inbound_params_.restarting = false;
  peer_gr_ = n.graceful_restart ? e.peer_graceful_restart : std::nullopt;
  if (rib_in_.has_stale()) {
    // The peer is back from a graceful restart: it keeps the stale routes
    // of the families whose forwarding state it preserved (F bit) until
    // their End-of-RIB; the others go now.
    restart_deadline_.reset();
    spdlog::info("bgp: {}: peer back with {} stale routes (graceful restart: {})", cfg_.peer_address.str(),
                 rib_in_.stale(), peer_gr_ ? gr_bits(*peer_gr_) : "not offered");
    for (auto f : rib_in_.stale_families()) {
      if (peer_gr_ && forwarding_preserved(*peer_gr_, f)) continue;
      size_t n_swept = rib_in_.sweep(f);
      spdlog::info("bgp: {}: removed {} stale {} routes: the peer did not preserve their forwarding state",
                   cfg_.peer_address.str(), n_swept, to_string(f));
    }
    if (rib_in_.has_stale()) stale_path_deadline_ = Clock::now() + kStalePathTime;
  }
  c.dctx.four_octet_as = n.four_octet_as;
  ctx_.four_octet_as = n.four_octet_as;
  ctx_.families = n.families;
  ctx_.local_v4.reset();
  ctx_.local_v6.reset();
  if (auto local = local_address(c.fd)) (local->v6 ? ctx_.local_v6 : ctx_.local_v4) = local;
  sent_.clear();
  spdlog::info("bgp: {}: established (hold {}s, keepalive {}s{})", cfg_.peer_address.str(), n.hold_time_s,
               n.keepalive_s, n.graceful_restart ? ", graceful restart" : "");
  advertise(c);
  for (auto& u : end_of_rib(n.families)) send(c, u);
}

void Session::on_down(const act::Down& d) {
  spdlog::info("bgp: {}: session down: {}", cfg_.peer_address.str(), d.reason);
  established_ = nullptr;
  sent_.clear();
  stale_path_deadline_.reset();
  // Graceful restart helper (RFC 4724 §4.2): when the connection just ended
  // (no NOTIFICATION), the routes of the families in the peer's capability
  // stay, stale, for its restart time.
  if (!d.graceful || !peer_gr_ || peer_gr_->restart_time_s == 0) {
    rib_in_.clear();
    restart_deadline_.reset();
    return;
  }
  std::vector<Family> keep;
  for (const auto& af : peer_gr_->families) keep.push_back(af.family);
  rib_in_.mark_stale(keep);
  if (!rib_in_.has_stale()) return;
  restart_deadline_ = Clock::now() + std::chrono::seconds(peer_gr_->restart_time_s);
  spdlog::info("bgp: {}: graceful restart helper: keeping {} routes stale for up to {}s", cfg_.peer_address.str(),
               rib_in_.stale(), peer_gr_->restart_time_s);
}

void Session::sweep_all_stale(const char* why) {
  restart_deadline_.reset();
  stale_path_deadline_.reset();
  size_t n = rib_in_.sweep_all();
  if (n) spdlog::info("bgp: {}: removed {} stale routes: {}", cfg_.peer_address.str(), n, why);
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
  if (auto f = u.end_of_rib()) {
    size_t n = rib_in_.sweep(*f);
    if (n) spdlog::info("bgp: {}: End-of-RIB {}: removed {} stale routes", cfg_.peer_address.str(), to_string(*f), n);
    if (!rib_in_.has_stale()) stale_path_deadline_.reset();
    return;
  }
  if (u.treat_as_withdraw)
    spdlog::warn("bgp: {}: UPDATE treated as withdraw: {}", cfg_.peer_address.str(), u.treat_as_withdraw_reason);
  rib_in_.apply(u);
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
  s.received = rib_in_.size();
  s.received_by_family = rib_in_.by_family();
  s.stale = rib_in_.stale();
  s.last_error = last_error_;
  return s;
}

std::vector<Route> Session::advertised() const {
  std::vector<Route> out;
  for (const auto& [p, nh] : sent_) out.push_back(Route{p, nh});
  return out;
}

}  // namespace cpp::bgp
