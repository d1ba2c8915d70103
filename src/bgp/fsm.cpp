#include "bgp/fsm.h"

#include <algorithm>

namespace cpp::bgp {

uint32_t retry_backoff(uint32_t failures, uint16_t connect_retry_s) {
  uint32_t cap = std::max<uint32_t>(connect_retry_s, 1);
  uint32_t shift = std::min<uint32_t>(failures == 0 ? 0 : failures - 1, 16);
  return std::min<uint32_t>(1u << shift, cap);
}

uint8_t fsm_error_subcode(SessionState s) {
  switch (s) {
    case SessionState::OpenSent: return 1;
    case SessionState::OpenConfirm: return 2;
    case SessionState::Established: return 3;
    default: return 0;
  }
}

namespace {

using A = std::vector<Action>;

// The state a connection falls back to after an error: Idle, with the
// automatic restart armed unless the operator stopped the session.
void to_idle(Fsm& f, const SessionParams& p, A& out, std::string reason, bool graceful = false) {
  out.push_back(act::Close{});
  out.push_back(act::SetTimer{TimerId::Hold, 0});
  out.push_back(act::SetTimer{TimerId::Keepalive, 0});
  out.push_back(act::Down{std::move(reason), graceful});
  f.state = SessionState::Idle;
  f.negotiated = {};
  f.peer_graceful_restart.reset();
  if (f.stopped) {
    out.push_back(act::SetTimer{TimerId::ConnectRetry, 0});
    return;
  }
  ++f.connect_retry_counter;
  out.push_back(act::SetTimer{TimerId::ConnectRetry, retry_backoff(f.connect_retry_counter, p.connect_retry_s)});
}

void notify_and_idle(Fsm& f, const SessionParams& p, A& out, Notification n, std::string reason) {
  out.push_back(act::SendNotification{n});
  to_idle(f, p, out, reason.empty() ? "sent " + n.str() : std::move(reason));
}

void fsm_error(Fsm& f, const SessionParams& p, A& out, const std::string& what) {
  Notification n{err::kFsm, fsm_error_subcode(f.state), {}};
  notify_and_idle(f, p, out, n, "unexpected " + what + " in " + to_string(f.state));
}

void start(Fsm& f, const SessionParams& p, A& out) {
  f.stopped = false;
  out.push_back(act::SetTimer{TimerId::ConnectRetry, p.connect_retry_s});
  if (p.passive) {
    f.state = SessionState::Active;
  } else {
    f.state = SessionState::Connect;
    out.push_back(act::Connect{});
  }
}

void send_open(Fsm& f, const SessionParams& p, A& out) {
  out.push_back(act::SetTimer{TimerId::ConnectRetry, 0});
  out.push_back(act::SendOpen{build_open(p)});
  out.push_back(act::SetTimer{TimerId::Hold, kLargeHoldTime});
  f.state = SessionState::OpenSent;
}

void stop(Fsm& f, const SessionParams& p, A& out, const ev::Stop& s) {
  bool connected = f.state == SessionState::OpenSent || f.state == SessionState::OpenConfirm ||
                   f.state == SessionState::Established;
  f.stopped = true;
  f.connect_retry_counter = 0;
  if (connected && s.notify) out.push_back(act::SendNotification{Notification{err::kCease, s.subcode, {}}});
  to_idle(f, p, out, s.notify ? "stopped" : "stopped (graceful restart)", !s.notify);
}

void rearm_hold(const Fsm& f, A& out) {
  if (f.negotiated.hold_time_s != 0) out.push_back(act::SetTimer{TimerId::Hold, f.negotiated.hold_time_s});
}

// Idle: only a start (manual, or automatic when ConnectRetry expires) does anything.
void idle(Fsm& f, const SessionParams& p, const Event& e, A& out) {
  if (std::holds_alternative<ev::Start>(e)) {
    f.connect_retry_counter = 0;
    start(f, p, out);
  } else if (auto* t = std::get_if<ev::TimerExpired>(&e); t && t->timer == TimerId::ConnectRetry && !f.stopped) {
    start(f, p, out);
  }
}

// Connect and Active: waiting for TCP.
void connecting(Fsm& f, const SessionParams& p, const Event& e, A& out) {
  bool active = f.state == SessionState::Active;
  if (std::holds_alternative<ev::TcpConnected>(e)) return send_open(f, p, out);
  if (auto* t = std::get_if<ev::TimerExpired>(&e)) {
    if (t->timer != TimerId::ConnectRetry) return;  // stale timers of a previous connection
    out.push_back(act::SetTimer{TimerId::ConnectRetry, p.connect_retry_s});
    if (p.passive) return;
    out.push_back(act::Connect{});
    f.state = SessionState::Connect;
    return;
  }
  if (auto* fail = std::get_if<ev::TcpFailed>(&e)) {
    out.push_back(act::Close{});
    ++f.connect_retry_counter;
    out.push_back(
        act::SetTimer{TimerId::ConnectRetry, retry_backoff(f.connect_retry_counter, p.connect_retry_s)});
    out.push_back(act::Down{"connect: " + fail->reason});
    f.state = SessionState::Active;
    return;
  }
  if (std::holds_alternative<ev::Start>(e)) return;
  // Any message before the connection exists belongs to a stale socket.
  to_idle(f, p, out, std::string("unexpected event in ") + (active ? "active" : "connect"));
}

void open_sent(Fsm& f, const SessionParams& p, const Event& e, A& out) {
  if (auto* o = std::get_if<ev::OpenReceived>(&e)) {
    auto r = check_open(p, o->open);
    if (auto* n = std::get_if<Notification>(&r)) return notify_and_idle(f, p, out, *n, "");
    f.negotiated = std::get<Negotiated>(r);
    f.peer_graceful_restart = o->open.caps.graceful_restart;
    out.push_back(act::SetTimer{TimerId::ConnectRetry, 0});
    out.push_back(act::SendKeepalive{});
    if (f.negotiated.hold_time_s != 0) {
      out.push_back(act::SetTimer{TimerId::Keepalive, f.negotiated.keepalive_s});
      out.push_back(act::SetTimer{TimerId::Hold, f.negotiated.hold_time_s});
    } else {
      out.push_back(act::SetTimer{TimerId::Hold, 0});
    }
    f.state = SessionState::OpenConfirm;
    return;
  }
  if (std::holds_alternative<ev::KeepaliveReceived>(e)) return fsm_error(f, p, out, "KEEPALIVE");
  if (std::holds_alternative<ev::UpdateReceived>(e)) return fsm_error(f, p, out, "UPDATE");
  if (std::holds_alternative<ev::RouteRefreshReceived>(e)) return fsm_error(f, p, out, "ROUTE-REFRESH");
}

void open_confirm(Fsm& f, const SessionParams& p, const Event& e, A& out) {
  if (std::holds_alternative<ev::KeepaliveReceived>(e)) {
    f.state = SessionState::Established;
    f.connect_retry_counter = 0;
    rearm_hold(f, out);
    out.push_back(act::Established{f.negotiated, f.peer_graceful_restart});
    return;
  }
  if (std::holds_alternative<ev::OpenReceived>(e)) return fsm_error(f, p, out, "OPEN");
  if (std::holds_alternative<ev::UpdateReceived>(e)) return fsm_error(f, p, out, "UPDATE");
  if (std::holds_alternative<ev::RouteRefreshReceived>(e)) return fsm_error(f, p, out, "ROUTE-REFRESH");
}

void established(Fsm& f, const SessionParams& p, const Event& e, A& out) {
  if (std::holds_alternative<ev::KeepaliveReceived>(e)) return rearm_hold(f, out);
  if (auto* u = std::get_if<ev::UpdateReceived>(&e)) {
    rearm_hold(f, out);
    out.push_back(act::DeliverUpdate{u->update});
    return;
  }
  if (auto* r = std::get_if<ev::RouteRefreshReceived>(&e)) {
    rearm_hold(f, out);
    // RFC 2918 §4: a refresh for a family not negotiated is ignored.
    auto& fams = f.negotiated.families;
    if (std::find(fams.begin(), fams.end(), r->family) != fams.end())
      out.push_back(act::DeliverRouteRefresh{r->family});
    return;
  }
  if (std::holds_alternative<ev::OpenReceived>(e)) return fsm_error(f, p, out, "OPEN");
}

}  // namespace

std::vector<Action> step(Fsm& f, const SessionParams& p, const Event& e) {
  A out;
  if (auto* s = std::get_if<ev::Stop>(&e)) {
    if (f.state != SessionState::Idle || !f.stopped) stop(f, p, out, *s);
    return out;
  }
  if (f.state == SessionState::Idle) {
    idle(f, p, e, out);
    return out;
  }
  if (f.state == SessionState::Connect || f.state == SessionState::Active) {
    connecting(f, p, e, out);
    return out;
  }
  // OpenSent, OpenConfirm, Established share the error events.
  if (auto* t = std::get_if<ev::TimerExpired>(&e)) {
    if (t->timer == TimerId::Hold) {
      notify_and_idle(f, p, out, Notification{err::kHoldTimerExpired, 0, {}}, "hold timer expired");
    } else if (t->timer == TimerId::Keepalive && f.state != SessionState::OpenSent) {
      out.push_back(act::SendKeepalive{});
      if (f.negotiated.keepalive_s != 0) out.push_back(act::SetTimer{TimerId::Keepalive, f.negotiated.keepalive_s});
    }
    return out;
  }
  if (auto* fail = std::get_if<ev::TcpFailed>(&e)) {
    to_idle(f, p, out, "connection lost: " + fail->reason, true);
    return out;
  }
  if (auto* n = std::get_if<ev::NotificationReceived>(&e)) {
    to_idle(f, p, out, "received " + n->notification.str());
    return out;
  }
  if (auto* d = std::get_if<ev::DecodeFailed>(&e)) {
    notify_and_idle(f, p, out, d->error.notification, "malformed message: " + d->error.what);
    return out;
  }
  if (std::holds_alternative<ev::Start>(e) || std::holds_alternative<ev::TcpConnected>(e)) return out;
  switch (f.state) {
    case SessionState::OpenSent: open_sent(f, p, e, out); break;
    case SessionState::OpenConfirm: open_confirm(f, p, e, out); break;
    case SessionState::Established: established(f, p, e, out); break;
    default: break;
  }
  return out;
}

}  // namespace cpp::bgp
