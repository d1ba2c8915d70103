#pragma once
// GET /metrics over HTTP (prometheus-serve-addr, operator-prometheus-serve-addr).
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "metrics/registry.h"

namespace httplib {
class Server;
}

namespace cpp::metrics {

struct ListenAddress {
  std::string host;  // "" = every address (IPv6 and IPv4)
  int port = 0;      // 0 = any free port
};
// "[host]:port" as upstream takes it: ":9962", "127.0.0.1:9962", "[::1]:0".
// Throws std::invalid_argument naming the address.
ListenAddress parse_listen_address(const std::string& addr);

class MetricsServer {
 public:
  MetricsServer(std::string addr, const Registry& registry);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and serves on a thread. Throws std::runtime_error when the
  // address cannot be bound.
  void start();
  void stop();
  // The bound port (the chosen one when the address asked for port 0).
  int port() const { return port_; }

 private:
  ListenAddress addr_;
  std::string text_;
  const Registry& registry_;
  int port_ = 0;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<bool> listen_returned_{false};
  std::thread thread_;
};

}  // namespace cpp::metrics
