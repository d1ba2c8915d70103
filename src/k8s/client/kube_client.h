#pragma once
// HTTP(S) to the Kubernetes API: authentication (bearer token re-read from
// its file on 401, client certificates, the cluster's CA), the client-side
// rate limit, errors as metav1 Status, and discovery of which version of a
// group the server serves. One connection for ordinary requests (serialized)
// and one per watch stream.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "k8s/client/api_paths.h"
#include "k8s/client/kube_config.h"
#include "k8s/client/token_bucket.h"

namespace httplib {
class ClientImpl;
}

namespace cpp::k8s {

// The server answered with an error (a metav1 Status when it sent one).
class ApiError : public std::runtime_error {
 public:
  ApiError(int code, std::string reason, const std::string& message)
      : std::runtime_error(message), code_(code), reason_(std::move(reason)) {}
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }  // "NotFound", "Conflict", "Expired", ...

 private:
  int code_;
  std::string reason_;
};

// No answer (connection refused, TLS failure, timeout) or an answer that is
// not what the API sends (garbage instead of JSON).
class ApiUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class KubeClient {
 public:
  struct Options {
    KubeConfig config;
    double qps = 5;  // k8s-client-qps (upstream's default)
    int burst = 10;  // k8s-client-burst
    std::chrono::seconds timeout{30};
  };
  explicit KubeClient(Options opts);
  ~KubeClient();

  // One request; the JSON body of a 2xx answer. Throws ApiError / ApiUnavailable.
  nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json* body = nullptr,
                      const std::string& content_type = "application/json");

  // A streaming GET (watch): on_data gets the body as it arrives and returns
  // false to stop. Returns when the server ends the stream, on_data stops it,
  // cancel(*id) is called or *stopping is (or becomes, with cancel) true.
  // Throws ApiError for an error status before the stream starts,
  // ApiUnavailable when the connection fails or breaks.
  using StreamId = uint64_t;
  void stream(const std::string& path, const std::function<bool(const char*, size_t)>& on_data,
              std::atomic<StreamId>* id, const std::atomic<bool>* stopping);
  // Ends a running stream from another thread (closes its connection).
  void cancel(StreamId id);

  // The resource for kind in the version the server serves (discovery of the
  // kind's group, cached); the kind's first version when discovery fails.
  ApiResource resource(const std::string& kind);
  const KubeConfig& config() const { return opts_.config; }

 private:
  std::unique_ptr<httplib::ClientImpl> connect(std::chrono::seconds read_timeout) const;
  std::multimap<std::string, std::string> headers();
  void refresh_token();

  Options opts_;
  TokenBucket limiter_;
  std::mutex mu_;  // unary_, token
  std::unique_ptr<httplib::ClientImpl> unary_;
  std::mutex streams_mu_;
  std::map<StreamId, httplib::ClientImpl*> streams_;
  std::atomic<StreamId> next_stream_{1};
  std::mutex discovery_mu_;
  std::map<std::string, ApiResource> resources_;
};

}  // namespace cpp::k8s
