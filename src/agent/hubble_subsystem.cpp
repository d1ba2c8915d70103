#include "agent/hubble_subsystem.h"

#include <chrono>

#include "common/log.h"

namespace cpp::agent {

HubbleSubsystem::HubbleSubsystem(Options opts, const hubble::Enricher& enricher,
                                 std::function<void(const hubble::Flow&)> on_flow)
    : opts_(std::move(opts)),
      parser_(enricher, hubble::EventParser::current_boot_offset_ns()),
      on_flow_(std::move(on_flow)),
      ring_(opts_.capacity) {}

HubbleSubsystem::~HubbleSubsystem() { stop(); }

void HubbleSubsystem::start() {
  started_at_ = std::chrono::steady_clock::now();
  lost_ = std::make_unique<datapath::EventsLostCounter>(opts_.pin_dir);
  reader_ = std::make_unique<datapath::EventReader>(opts_.pin_dir, [this](const datapath::Event& ev) { on_event(ev); });
  reader_->start();
  hubble::ObserverSources src;
  src.ring = &ring_;
  src.ring_buffer_lost = [this] { return lost_events(); };
  hubble::ObserverOptions o;
  o.node_name = opts_.node_name;
  o.version = opts_.version;
  o.listen_address = opts_.listen_address;
  o.socket_path = opts_.socket_path;
  o.tls_cert_file = opts_.tls_cert_file;
  o.tls_key_file = opts_.tls_key_file;
  o.tls_client_ca_file = opts_.tls_client_ca_file;
  server_ = std::make_unique<hubble::ObserverServer>(std::move(src), std::move(o));
  server_->start();
  lost_poller_ = std::thread([this] { poll_lost(); });
  spdlog::info("hubble: observing {} flows, listening on '{}' and '{}'", ring_.capacity(), opts_.listen_address,
               opts_.socket_path);
}

void HubbleSubsystem::stop() {
  {
    std::lock_guard l(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (lost_poller_.joinable()) lost_poller_.join();
  if (server_) server_->stop();
  if (reader_) reader_->stop();
}

void HubbleSubsystem::poll_lost() {
  // The counter lives in a pinned map and survives agent restarts: only
  // growth from here on is news.
  const uint64_t first = lost_events();
  uint64_t last = first;
  std::unique_lock l(stop_mu_);
  while (!stop_cv_.wait_for(l, std::chrono::seconds(1), [this] { return stopping_; })) {
    uint64_t now = lost_events();
    if (now <= last) continue;
    if (on_lost_) on_lost_(now - last);
    if (last == first) spdlog::warn("hubble: the datapath lost {} events (ring buffer full); counted in status", now - last);
    last = now;
  }
}

void HubbleSubsystem::on_event(const datapath::Event& ev) {
  hubble::Flow f;
  try {
    f = parser_.parse(ev);
  } catch (const std::exception& e) {
    // One bad event must not stop the stream; counted and shown in status.
    if (parse_errors_.fetch_add(1) == 0) spdlog::warn("hubble: event not parsed: {}", e.what());
    return;
  }
  if (on_flow_) on_flow_(f);
  ring_.push(std::move(f));
}

uint64_t HubbleSubsystem::lost_events() const {
  if (!lost_) return 0;
  try {
    return lost_->read();
  } catch (const std::exception&) {
    return 0;
  }
}

nlohmann::json HubbleSubsystem::status() const {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  uint64_t seen = ring_.seen();
  return {{"enabled", true},
          {"state", "Ok"},
          {"current-flows", ring_.size()},
          {"max-flows", ring_.capacity()},
          {"seen-flows", seen},
          {"flows-per-second", secs > 0 ? static_cast<double>(seen) / secs : 0.0},
          {"lost-events", lost_events()},
          {"parse-errors", parse_errors_.load()},
          {"listen-address", opts_.listen_address},
          {"socket-path", opts_.socket_path}};
}

}  // namespace cpp::agent
