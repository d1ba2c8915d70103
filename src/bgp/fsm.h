#pragma once
// The BGP finite state machine of RFC 4271 §8 for one connection, as a pure
// function: (state, event) -> (new state, actions). Timers are events in and
// SetTimer actions out; the session owns the clock and the socket. DelayOpen,
// damping and the optional §8.1.2 attributes are not modelled.
//
// One deviation, on purpose: after an error the machine goes to Idle and arms
// ConnectRetry with a backoff; ConnectRetry expiring in Idle is the
// automatic start (§8.1.1 event 3) that brings the session back.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bgp/message.h"
#include "bgp/open.h"
#include "bgp/speaker.h"

namespace cpp::bgp {

enum class TimerId { ConnectRetry, Hold, Keepalive };

// Hold timer value while waiting for the peer's OPEN (RFC 4271 §8.2.2: 4 minutes).
inline constexpr uint16_t kLargeHoldTime = 240;

namespace ev {
struct Start {};                   // manual start
struct Stop {                      // manual stop; notify = false closes silently (graceful restart)
  bool notify = true;
  uint8_t subcode = err::kAdminShutdown;
};
struct TimerExpired { TimerId timer; };
struct TcpConnected {};            // our connect completed, or an accepted connection was attached
struct TcpFailed { std::string reason; };
struct OpenReceived { Open open; };
struct KeepaliveReceived {};
struct UpdateReceived { Update update; };
struct NotificationReceived { Notification notification; };
struct RouteRefreshReceived { Family family; };
struct DecodeFailed { DecodeError error; };
}  // namespace ev

using Event = std::variant<ev::Start, ev::Stop, ev::TimerExpired, ev::TcpConnected, ev::TcpFailed, ev::OpenReceived,
                           ev::KeepaliveReceived, ev::UpdateReceived, ev::NotificationReceived,
                           ev::RouteRefreshReceived, ev::DecodeFailed>;

namespace act {
struct Connect {};                 // start a non-blocking connect (closing any previous socket)
struct Close {};
struct SendOpen { Open open; };
struct SendKeepalive {};
struct SendNotification { Notification notification; };
struct SetTimer { TimerId timer; uint32_t seconds; };  // 0 stops it
struct Established {                                    // advertise: full table, then End-of-RIB
  Negotiated negotiated;
  std::optional<GracefulRestartCap> peer_graceful_restart;  // as the peer's OPEN offered it
};
// Left Established/OpenConfirm/...: forget the peer's state. graceful: the
// connection ended without a NOTIFICATION either way, the case in which a
// graceful restart helper keeps the peer's routes (RFC 4724 §4.2).
struct Down {
  std::string reason;
  bool graceful = false;
};
struct DeliverUpdate { Update update; };
struct DeliverRouteRefresh { Family family; };
}  // namespace act

using Action = std::variant<act::Connect, act::Close, act::SendOpen, act::SendKeepalive, act::SendNotification,
                            act::SetTimer, act::Established, act::Down, act::DeliverUpdate,
                            act::DeliverRouteRefresh>;

struct Fsm {
  SessionState state = SessionState::Idle;
  uint32_t connect_retry_counter = 0;  // consecutive failures; reset in Established
  bool stopped = true;                 // manual stop: no automatic restart
  Negotiated negotiated;               // valid from OpenConfirm on
  std::optional<GracefulRestartCap> peer_graceful_restart;  // from the peer's OPEN, with negotiated
};

// Applies one event; returns the actions in the order to perform them.
std::vector<Action> step(Fsm& fsm, const SessionParams& p, const Event& e);

// Seconds until the automatic restart after the n-th consecutive failure:
// 1, 2, 4, ... capped at connect_retry_s.
uint32_t retry_backoff(uint32_t failures, uint16_t connect_retry_s);

// The FSM Error subcode for an unexpected message in a state (RFC 6608).
uint8_t fsm_error_subcode(SessionState s);

}  // namespace cpp::bgp
