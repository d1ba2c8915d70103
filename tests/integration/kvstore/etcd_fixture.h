#pragma once
// Real etcd members for the kvstore tests: started on 127.0.0.1 with ports
// the kernel hands out, data in a temp dir, stopped with SIGKILL by PID (also
// when the test process dies from a signal), data removed afterwards.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "kvstore/etcd_client.h"

namespace kvtest {

// Installs handlers that SIGKILL every member still running when the test
// process is interrupted or crashes.
void install_cleanup_handlers();

// n ports the kernel considers free now; kept bound until all are chosen so
// none repeats.
std::vector<int> free_ports(int n);
inline int free_port() { return free_ports(1)[0]; }

// Starts args (looked up in PATH) with stdout and stderr appended to log, in
// its own process group; it dies with the test process, also when the
// cleanup handlers run. Throws when log cannot be opened or fork fails.
pid_t spawn(const std::vector<std::string>& args, const std::string& log);
// SIGKILLs and reaps a child from spawn (nothing when pid <= 0); pid becomes -1.
void reap(pid_t& pid);
// Stops tracking a child from spawn that the caller has already waited for.
void forget(pid_t pid);

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

// Client options for the tests: quick backoff, so that reconnecting after a
// member was killed does not dominate a test's time.
inline cpp::kvstore::EtcdOptions client_options(std::vector<std::string> endpoints,
                                                std::chrono::milliseconds request_timeout = std::chrono::seconds(10),
                                                std::chrono::milliseconds dial_timeout = std::chrono::seconds(2)) {
  cpp::kvstore::EtcdOptions o;
  o.endpoints = std::move(endpoints);
  o.request_timeout = request_timeout;
  o.dial_timeout = dial_timeout;
  o.backoff_initial = std::chrono::milliseconds(50);
  o.backoff_max = std::chrono::milliseconds(500);
  return o;
}

// A test suite sharing one single-member cluster, started before its first
// test and stopped after its last.
class SharedEtcdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    install_cleanup_handlers();
    cluster_ = new EtcdCluster(1);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static inline EtcdCluster* cluster_ = nullptr;
};

// Polls pred every 20 ms until it holds or deadline passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline = std::chrono::seconds(20));

}  // namespace kvtest
