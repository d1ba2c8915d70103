#pragma once
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace cpp::agent {

// Serves GET /healthz on host:port (the agent's 127.0.0.1:9879): 200 once
// `ready` says so, 503 before.
class HealthServer {
 public:
  HealthServer(std::string host, int port, std::function<bool()> ready);
  ~HealthServer();
  void start();  // throws when the port cannot be bound
  void stop();

 private:
  std::string host_;
  int port_;
  std::function<bool()> ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace cpp::agent
