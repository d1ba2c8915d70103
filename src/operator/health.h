#pragma once
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace cpp::op {

// GET /healthz on the operator's API address (127.0.0.1:9234): 200 with
// {"status":"ok","leader":bool} while etcd or (K8s mode) the Kubernetes API
// answers, 503 otherwise.
class OperatorHealth {
 public:
  struct Status {
    bool ok = false;
    bool leader = false;
    std::string detail;
  };
  OperatorHealth(std::string addr, std::function<Status()> status);
  ~OperatorHealth();
  void start();  // throws when the address cannot be bound
  void stop();

 private:
  std::string host_;
  int port_ = 0;
  std::function<Status()> status_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace cpp::op
