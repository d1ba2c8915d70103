#pragma once
#include <ciliumpp/abi.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "common/ip.h"

struct ring_buffer;

namespace cpp::datapath {

// A decoded struct cpp_event (bpf/lib/events.h).
struct Event {
  uint8_t type = 0;       // CPP_EVENT_DROP / _POLICY_VERDICT / _TRACE / _TRACE_SOCK
  uint8_t verdict = 0;    // CPP_VERDICT_*
  uint8_t reason = 0;     // CPP_DROP_* (drops, and the would-be reason of DENIED/AUDIT verdicts)
  uint8_t direction = 0;  // CPP_DIR_*
  uint16_t ep_id = 0;
  uint8_t protocol = 0;
  uint32_t src_identity = 0, dst_identity = 0;
  uint32_t cookie = 0;
  // Host order. TCP/UDP/SCTP: ports. ICMP/ICMPv6: sport is the echo
  // identifier (0 for other types), dport the ICMP type.
  uint16_t sport = 0, dport = 0;
  IpAddr saddr, daddr;
  uint32_t ifindex = 0;
  uint32_t len = 0;    // packet length
  uint64_t ts_ns = 0;  // CLOCK_MONOTONIC
  uint8_t obs_point = 0;   // CPP_OBS_* (trace events), CPP_XLATE_* (trace-sock events)
  uint8_t tcp_flags = 0;   // TCP flags byte (FIN 0x01 .. CWR 0x80); 0 for other protocols
  uint8_t flags = 0;       // CPP_EVENT_F_*
  // With CPP_EVENT_F_XLATED: the service frontend the packet was sent to
  // before the datapath translated it to daddr:dport (host order).
  IpAddr orig_daddr;
  uint16_t orig_dport = 0;
  uint8_t match_type = 0;  // policy verdicts: CPP_MATCH_* of the deciding policy key
  // Trace-sock events (struct cpp_event_sock), 0 otherwise.
  uint64_t sock_cookie = 0, cgroup_id = 0, netns_cookie = 0;

  bool reply() const { return flags & CPP_EVENT_F_REPLY; }
  bool xlated() const { return flags & CPP_EVENT_F_XLATED; }

  static Event decode(const cpp_event& raw);
  static Event decode(const cpp_event_sock& raw);
};

// The events the datapath could not put into the ring because it was
// full (cpp_ev_lost, summed over CPUs). Monotonic; the difference between
// two reads is what was lost meanwhile.
class EventsLostCounter {
 public:
  // Opens <pin_dir>/cpp_ev_lost. Throws std::runtime_error.
  explicit EventsLostCounter(const std::string& pin_dir);
  ~EventsLostCounter();
  EventsLostCounter(const EventsLostCounter&) = delete;
  EventsLostCounter& operator=(const EventsLostCounter&) = delete;

  uint64_t read() const;  // throws std::runtime_error

 private:
  int fd_ = -1;
  int ncpus_ = 0;
};

// Reads the pinned cpp_events ring buffer of a node. Events are delivered
// on one thread (start()) or on the caller's (poll()/consume()), in the
// order the datapath wrote them; never both at once.
//
//   EventReader r(pin_dir, [](const Event& e) { ... });
//   r.start();   // reader thread
//   ...
//   r.stop();    // joins; also done by the destructor
//
// The ring is shared by every reader of the node: an event is consumed by
// whichever reader sees it first, so a node has one reader (the agent's).
class EventReader {
 public:
  using Callback = std::function<void(const Event&)>;

  // Opens <pin_dir>/cpp_events. Throws std::runtime_error.
  EventReader(const std::string& pin_dir, Callback cb);
  ~EventReader();
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // Starts the reader thread (no-op if running). Callback exceptions are
  // caught and logged; the thread goes on.
  void start();
  // Stops and joins the reader thread; events still in the ring stay there
  // for the next consume()/start(). Idempotent.
  void stop();
  bool running() const { return thread_.joinable(); }

  // Without the thread: deliver what is there now (consume) or wait up to
  // timeout_ms for something (poll). Return the number of events delivered.
  // The datapath wakes readers only once 64 KiB are waiting, so poll
  // returns a lone event at the end of its timeout, and the thread
  // delivers one within 50 ms.
  int consume();
  int poll(int timeout_ms);

  // Records that were not a struct cpp_event (size mismatch), skipped.
  uint64_t malformed() const { return malformed_.load(); }
  uint64_t delivered() const { return delivered_.load(); }

 private:
  static int on_sample(void* ctx, void* data, size_t size);
  void run();

  Callback cb_;
  int map_fd_ = -1;
  ring_buffer* rb_ = nullptr;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd that interrupts the thread's wait
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> delivered_{0};
};

}  // namespace cpp::datapath
