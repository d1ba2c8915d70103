#pragma once
// etcd v3 client over gRPC (stubs generated at build time from the .proto
// files Debian ships in golang-etcd-server-dev; brief decision 6).
//
// Failure model (peers.md, measured): a request that cannot reach any
// endpoint is retried with backoff across the endpoints until the request
// deadline, then throws Unavailable. A write whose deadline passes after it
// was sent may still be committed later: it throws UnknownOutcome, never a
// plain failure, so callers re-read before retrying non-idempotent writes.
//
// Threads: the client opens its connections from gRPC's threads and its own
// monitor thread, which start with the first client; a process that must
// reach etcd from another network namespace enters it before constructing
// the client. Watches and lease keepers may outlive the client object.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cpp::kvstore {

struct Unavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct UnknownOutcome : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The watch's start revision was compacted away; the watcher must re-list.
struct Compacted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  int64_t revision = 0;  // store revision the read was served at
};

// One comparison of a transaction's guard.
struct Compare {
  enum class Target { Version, CreateRevision, ModRevision, Value };
  enum class Op { Equal, NotEqual, Greater, Less };
  std::string key;
  Target target = Target::CreateRevision;
  Op op = Op::Equal;
  int64_t number = 0;  // for Version/CreateRevision/ModRevision
  std::string value;   // for Value

  static Compare absent(std::string key) { return {std::move(key), Target::CreateRevision, Op::Equal, 0, {}}; }
  static Compare mod_revision_is(std::string key, int64_t rev) {
    return {std::move(key), Target::ModRevision, Op::Equal, rev, {}};
  }
  static Compare value_is(std::string key, std::string v) {
    return {std::move(key), Target::Value, Op::Equal, 0, std::move(v)};
  }
};

struct TxnOp {
  enum class Kind { Put, Delete, DeletePrefix, Get, GetPrefix };
  Kind kind = Kind::Put;
  std::string key;
  std::string value;  // Put
  int64_t lease = 0;  // Put

  static TxnOp put(std::string k, std::string v, int64_t lease = 0) {
    return {Kind::Put, std::move(k), std::move(v), lease};
  }
  static TxnOp del(std::string k) { return {Kind::Delete, std::move(k), {}, 0}; }
  static TxnOp get(std::string k) { return {Kind::Get, std::move(k), {}, 0}; }
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  // One entry per op of the branch that ran; filled for Get/GetPrefix ops.
  std::vector<std::vector<KeyValue>> reads;
};

struct WatchEvent {
  enum class Type { Put, Delete };
  Type type = Type::Put;
  KeyValue kv;  // for Delete: key and mod_revision only
};

struct EtcdOptions {
  // "http://192.0.2.2:2379" or "192.0.2.2:2379"; several members of one cluster.
  std::vector<std::string> endpoints;
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds dial_timeout{3000};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{2000};
};

// Parses upstream's etcd.config YAML (`endpoints: [..]`, other keys ignored);
// throws std::invalid_argument naming the file and field.
EtcdOptions load_etcd_config(const std::string& path);

class Watch {
 public:
  virtual ~Watch() = default;
  // After stop() returns no callback runs again.
  virtual void stop() = 0;
};

// A lease kept alive in the background. When the lease is lost (expired
// while etcd was unreachable, or revoked) on_lost runs once; the owner then
// grants a new lease and re-writes its keys.
class LeaseKeeper {
 public:
  virtual ~LeaseKeeper() = default;
  virtual int64_t id() const = 0;
  virtual bool alive() const = 0;
  // Stops the keep-alive and revokes the lease (best effort).
  virtual void revoke() = 0;
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdOptions opts);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  const EtcdOptions& options() const;

  // true when some endpoint answers a read within dial_timeout.
  bool reachable();
  // How many endpoints have an open connection now (never blocks; for status output).
  size_t connected_endpoints() const;

  std::optional<KeyValue> get(const std::string& key);
  RangeResult get_prefix(const std::string& prefix);
  // Returns the revision of the write.
  int64_t put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Number of keys deleted.
  int64_t del(const std::string& key);
  int64_t del_prefix(const std::string& prefix);
  TxnResult txn(const std::vector<Compare>& guard, const std::vector<TxnOp>& then_ops,
                const std::vector<TxnOp>& else_ops = {});

  int64_t lease_grant(int64_t ttl_seconds);
  void lease_revoke(int64_t lease);
  // Grants a lease of ttl_seconds and keeps it alive (refresh every ttl/3).
  std::unique_ptr<LeaseKeeper> keep_alive(int64_t ttl_seconds, std::function<void()> on_lost = {});

  // Watches every key under prefix starting at start_revision (0 = now).
  // Events arrive in revision order, batched per etcd response, on a
  // background thread. After a disconnect the watch re-opens from the last
  // delivered revision + 1 on any endpoint, so nothing is lost or repeated.
  // If that revision was compacted, on_compacted runs (then the watch
  // stops; the owner re-lists and watches again).
  std::unique_ptr<Watch> watch_prefix(const std::string& prefix, int64_t start_revision,
                                      std::function<void(const std::vector<WatchEvent>&)> on_events,
                                      std::function<void()> on_compacted = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Key layout shared by every ciliumpp component (upstream-compatible where upstream has one).
namespace keys {
inline constexpr const char* kStatePrefix = "cilium/state/";
inline constexpr const char* kIdentityId = "cilium/state/identities/v1/id/";      // <id> -> labels
inline constexpr const char* kIdentityValue = "cilium/state/identities/v1/value/";  // <labels>/<node> -> id (leased)
inline constexpr const char* kResources = "cilium/resources/";  // <kind>/<ns or _cluster>/<name> -> JSON
inline constexpr const char* kOperatorLeader = "cilium/operator/leader";
}  // namespace keys

}  // namespace cpp::kvstore
