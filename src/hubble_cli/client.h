#pragma once
// The Observer API as the CLIs use it: one channel to a server address
// ("unix:///path", "/path", "host:port"), calls with deadlines, and a flow
// stream that SIGINT/SIGTERM end cleanly (the caller blocks those signals
// in every thread first: block_stop_signals() at the top of main).
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <grpcpp/grpcpp.h>

#include "observer/observer.grpc.pb.h"

namespace cpp::hubble_cli {

// The server answered with an error status (e.g. INVALID_ARGUMENT for a filter).
struct ServerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "unix:///p" and "host:port" as given; "/p" → "unix:///p"; "unix:p"
// relative paths kept. Throws std::invalid_argument for "" or a bad scheme.
std::string grpc_target(const std::string& server);

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts;
// stream_flows waits for them instead.
void block_stop_signals();

class ObserverClient {
 public:
  // Connects within `timeout`; throws std::runtime_error "failed to connect to '<server>': ...".
  ObserverClient(const std::string& server, std::chrono::milliseconds timeout);

  observer::ServerStatusResponse server_status();
  observer::GetNodesResponse get_nodes();
  // Calls on_response for each answer until the server ends the stream or a
  // stop signal arrives; returns true when stopped by a signal.
  bool stream_flows(const observer::GetFlowsRequest& req,
                    const std::function<void(const observer::GetFlowsResponse&)>& on_response);

  const std::string& server() const { return server_; }

 private:
  std::string server_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<observer::Observer::Stub> stub_;
};

}  // namespace cpp::hubble_cli
