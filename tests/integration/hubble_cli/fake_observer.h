#pragma once
// A stand-in Observer service for the CLI tests: answers GetFlows with
// canned flows (plus one lost-events notice), records every request, and
// for follow requests keeps the stream open until the client goes away.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "hubble_server/health_service.h"
#include "observer/observer.grpc.pb.h"

namespace cpp::hubble_cli::test {

class FakeObserver final : public observer::Observer::Service {
 public:
  explicit FakeObserver(std::vector<flow::Flow> flows) : flows_(std::move(flows)) {}

  grpc::Status GetFlows(grpc::ServerContext* ctx, const observer::GetFlowsRequest* req,
                        grpc::ServerWriter<observer::GetFlowsResponse>* writer) override;
  grpc::Status ServerStatus(grpc::ServerContext*, const observer::ServerStatusRequest*,
                            observer::ServerStatusResponse* resp) override;
  grpc::Status GetNodes(grpc::ServerContext*, const observer::GetNodesRequest*,
                        observer::GetNodesResponse* resp) override;

  // Waits (up to 30 s) until n GetFlows requests arrived; returns the last.
  observer::GetFlowsRequest wait_request(size_t n);
  // Waits (up to 30 s) until a follow stream has ended because its client left.
  bool wait_follower_gone();

 private:
  std::vector<flow::Flow> flows_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<observer::GetFlowsRequest> requests_;
  int followers_gone_ = 0;
};

// A server on "unix:/path" or "127.0.0.1:0" (then port() is the chosen
// one), with the observer's real grpc.health.v1 service unless with_health
// is false (a server that predates it).
class FakeServer {
 public:
  FakeServer(FakeObserver& service, const std::string& address, bool with_health = true);
  ~FakeServer();
  int port() const { return port_; }
  cpp::hubble::HealthService& health() { return health_; }

 private:
  cpp::hubble::HealthService health_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace cpp::hubble_cli::test
