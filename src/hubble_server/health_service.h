#pragma once
// The standard gRPC health service (grpc.health.v1.Health) as upstream's
// Hubble server registers it: the server as a whole ("") and the observer
// ("hubble.server.Observer", what `hubble status` asks about) are SERVING
// until shutdown begins; any other name is NOT_FOUND (Check) or
// SERVICE_UNKNOWN (Watch), as gRPC's health protocol specifies.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace cpp::hubble {

// The name upstream's server registers its observer under.
inline constexpr const char* kObserverHealthName = "hubble.server.Observer";

class HealthService final : public grpc::health::v1::Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext*, const grpc::health::v1::HealthCheckRequest* req,
                     grpc::health::v1::HealthCheckResponse* resp) override;
  // Sends the current status, then every change, until the client leaves
  // or shutdown() (which sends NOT_SERVING and ends the stream).
  grpc::Status Watch(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

  void set_serving(bool serving);
  // NOT_SERVING from now on; open Watch streams end. Call before the
  // gRPC server's Shutdown so watchers learn why the stream ends.
  void shutdown();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool serving_ = true;
  bool shut_down_ = false;
  uint64_t version_ = 0;  // bumped on every change; watchers compare
};

}  // namespace cpp::hubble
