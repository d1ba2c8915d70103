#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace cpp::agent {

// Serves GET /healthz on host:port (the agent's 127.0.0.1:9879): 200 when
// `not_ready` returns nothing, else 503 with its reason.
class HealthServer {
 public:
  using NotReady = std::function<std::optional<std::string>()>;
  HealthServer(std::string host, int port, NotReady not_ready);
  ~HealthServer();
  void start();  // throws when the port cannot be bound
  void stop();

 private:
  std::string host_;
  int port_;
  NotReady not_ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace cpp::agent
