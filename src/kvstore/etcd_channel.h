#pragma once
// Internal to cpp_kvstore: one gRPC channel per etcd endpoint, and the retry
// loop every unary request goes through. Not part of the public API (the
// generated etcdpb headers stay private to the library).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "kvstore/etcd_client.h"

namespace cpp::kvstore::detail {

using Clock = std::chrono::steady_clock;

// gRPC deadlines take system_clock only; our timing uses the steady clock.
inline std::chrono::system_clock::time_point grpc_deadline(Clock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - Clock::now());
}

struct Endpoint {
  std::string target;  // host:port as gRPC dials it
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
};

// "http://h:p" or "h:p" -> "h:p"; throws std::invalid_argument for https
// (no TLS yet), other schemes, or a missing port.
std::string dial_target(const std::string& endpoint);

// How a failed request may be handled.
enum class Failure {
  NotExecuted,  // etcd never ran it (no connection, no leader, rate limit): safe to retry anywhere
  Ambiguous,    // sent, then lost or timed out: reads retry, writes are UnknownOutcome
  Final,        // etcd answered with an error (bad request, compacted, lease not found)
};
Failure classify(const grpc::Status& st);
std::string describe(const grpc::Status& st);

class Endpoints {
 public:
  explicit Endpoints(const EtcdOptions& opts);
  ~Endpoints();
  Endpoints(const Endpoints&) = delete;
  Endpoints& operator=(const Endpoints&) = delete;

  const EtcdOptions& options() const { return opts_; }
  size_t size() const { return eps_.size(); }
  Endpoint& at(size_t i) { return eps_[i]; }
  // The endpoint that answered last; tried first next time.
  size_t preferred() const { return preferred_.load(); }
  void prefer(size_t i) { preferred_.store(i); }
  // Comma-separated targets, for error messages.
  std::string list() const;

  // Waits until endpoint i is connected. Gives up early when it is in
  // TRANSIENT_FAILURE (the member refused us recently), at deadline, or when
  // *abort becomes true.
  bool wait_connected(size_t i, Clock::time_point deadline, const std::atomic<bool>* abort = nullptr);

 private:
  // gRPC makes progress on a connection only while some thread polls; a
  // channel in TRANSIENT_FAILURE is skipped by the request path, so without
  // this thread a restarted member would never be reconnected. It watches
  // every channel's state and keeps asking idle channels to connect.
  void monitor();

  EtcdOptions opts_;
  std::vector<Endpoint> eps_;
  std::atomic<size_t> preferred_{0};
  grpc::CompletionQueue cq_;
  std::atomic<bool> stopping_{false};
  std::thread monitor_;
};

enum class Mode { Read, Write };

// Runs op against the endpoints, preferred first, until it succeeds or
// opts.request_timeout passes. Endpoints that are not connected are skipped;
// after a full round without success it backs off. Ambiguous failures of a
// Write throw UnknownOutcome at once (a retry could apply it twice); a Final
// status throws std::runtime_error unless op's caller maps it first (op may
// return OK for statuses it accepts). Nothing reachable: Unavailable.
void with_retries(Endpoints& eps, Mode mode, const std::string& what,
                  const std::function<grpc::Status(Endpoint&, grpc::ClientContext&)>& op);

// The key just past every key that starts with prefix ("\0" for "" = all keys).
std::string prefix_end(const std::string& prefix);

KeyValue to_key_value(const mvccpb::KeyValue& kv);

// The background halves of EtcdClient::watch_prefix and keep_alive. They
// share the endpoints, so they may outlive the client that started them.
std::unique_ptr<Watch> start_watch(std::shared_ptr<Endpoints> eps, const std::string& prefix, int64_t start_revision,
                                   std::function<void(const std::vector<WatchEvent>&)> on_events,
                                   std::function<void()> on_compacted);
std::unique_ptr<LeaseKeeper> start_keeper(std::shared_ptr<Endpoints> eps, int64_t lease, int64_t ttl_seconds,
                                          std::function<void()> on_lost);

}  // namespace cpp::kvstore::detail
