#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "datapath/event_reader.h"
#include "hubble/enricher.h"
#include "hubble/event_parser.h"
#include "hubble/flow_ring.h"
#include "hubble_server/observer_server.h"

namespace cpp::agent {

// Hubble on one node:
//   reads   the node's cpp_events ring buffer (drops, policy verdicts,
//           traces) and cpp_ev_lost (events the ring had no room for);
//   writes  flows into a bounded FlowRing, served by the Observer gRPC API
//           on hubble-listen-address and hubble-socket-path;
//   calls   on_flow for every flow (metrics).
// The agent is the ring buffer's only reader: an event goes to exactly one
// consumer, so `cilium-dbg monitor` and `hubble observe` both read flows
// through the observer API rather than the ring.
class HubbleSubsystem {
 public:
  struct Options {
    std::string node_name;
    std::string version;
    std::string pin_dir;
    std::string listen_address;  // "" = no TCP listener
    std::string socket_path;     // "" = no unix socket
    size_t capacity = 4095;
    std::string tls_cert_file, tls_key_file, tls_client_ca_file;  // empty: plaintext
  };
  HubbleSubsystem(Options opts, const hubble::Enricher& enricher,
                  std::function<void(const hubble::Flow&)> on_flow);
  ~HubbleSubsystem();

  // Starts the event reader and the observer server. Throws when a listener
  // cannot be set up.
  void start();
  void stop();

  // Events the datapath could not deliver (ring full), over all CPUs.
  uint64_t lost_events() const;
  // Called (from a poller, about once a second) with each growth of
  // lost_events(). Set before start().
  void set_lost_events_observer(std::function<void(uint64_t delta)> cb) { on_lost_ = std::move(cb); }
  const hubble::FlowRing& ring() const { return ring_; }
  nlohmann::json status() const;

 private:
  void on_event(const datapath::Event& ev);

  Options opts_;
  hubble::EventParser parser_;
  std::function<void(const hubble::Flow&)> on_flow_;
  hubble::FlowRing ring_;
  std::unique_ptr<datapath::EventReader> reader_;
  std::unique_ptr<datapath::EventsLostCounter> lost_;
  std::unique_ptr<hubble::ObserverServer> server_;
  void poll_lost();

  std::function<void(uint64_t)> on_lost_;
  std::thread lost_poller_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::atomic<uint64_t> parse_errors_{0};
  std::chrono::steady_clock::time_point started_at_;
};

}  // namespace cpp::agent
