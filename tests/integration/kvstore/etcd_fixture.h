#pragma once
// Real etcd members for the kvstore tests: started on 127.0.0.1 with ports
// the kernel hands out, data in a temp dir, stopped with SIGKILL by PID (also
// when the test process dies from a signal), data removed afterwards.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace kvtest {

// Installs handlers that SIGKILL every member still running when the test
// process is interrupted or crashes.
void install_cleanup_handlers();

class EtcdCluster {
 public:
  // Starts `members` members of one new cluster and waits until it is healthy.
  explicit EtcdCluster(int members);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  std::string endpoint(int i) const;  // http://127.0.0.1:<client port>
  std::vector<std::string> endpoints() const;

  void kill(int i);   // SIGKILL, reaped
  void start(int i);  // (re)starts member i on its data dir; does not wait
  bool running(int i) const { return members_[i].pid > 0; }
  // Waits until member i reports healthy (it has a leader) or throws.
  void wait_healthy(int i, std::chrono::seconds deadline = std::chrono::seconds(60));
  // Index of the member that is leader now (asks the running members).
  int leader();
  // etcdctl against member i; returns stdout, throws on failure.
  std::string etcdctl(int i, const std::string& args);

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    std::string dir;
    pid_t pid = -1;
  };
  std::string root_;
  std::string token_;
  std::vector<Member> members_;
};

// A one-connection TCP relay (socat) from 127.0.0.1:<port()> to a member's
// client port: stopping it cuts a client off from etcd without touching etcd.
class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void start();  // listens again (waits until it accepts)
  void stop();   // SIGKILL: the relayed connection drops

 private:
  int target_port_;
  int port_;
  pid_t pid_ = -1;
};

int client_port_of(const std::string& endpoint);

// Polls pred every 20 ms until it holds or deadline passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline = std::chrono::seconds(20));

}  // namespace kvtest
