#pragma once
// The Observer API as the CLIs use it: one channel to a server address
// ("unix:///path", "/path", "host:port", "tls://host:port"; TLS options in
// tls_options.h), calls with deadlines, the standard health check, and a flow
// stream that SIGINT/SIGTERM end cleanly (the caller blocks those signals
// in every thread first: block_stop_signals() at the top of main).
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <grpcpp/grpcpp.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "hubble_cli/tls_options.h"
#include "observer/observer.grpc.pb.h"

namespace cpp::hubble_cli {

// The server answered with an error status (e.g. INVALID_ARGUMENT for a filter).
struct ServerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "unix:///p" and "host:port" as given; "/p" → "unix:///p"; "unix:p"
// relative paths kept. Throws std::invalid_argument for "" or a bad scheme.
std::string grpc_target(const std::string& server);

// Silences gRPC's own stderr logging (e.g. "Handshake failed with fatal
// error"): the CLIs report connection errors themselves, with the cause.
void quiet_grpc_logging();

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts;
// stream_flows waits for them instead.
void block_stop_signals();

class ObserverClient {
 public:
  // Connects within `timeout`; throws std::runtime_error "failed to connect
  // to '<server>': ..." (at once, naming the cause, when a TLS handshake
  // fails), std::invalid_argument / std::runtime_error for bad TLS options
  // or files (naming the file).
  ObserverClient(const std::string& server, std::chrono::milliseconds timeout, const TlsFlags& tls = {});

  // grpc.health.v1 Check of upstream's observer service name: "Ok" when
  // SERVING, else "Unavailable: <status>". Throws ServerError when the call fails.
  struct Health {
    bool serving = false;
    std::string status;
  };
  Health health_check();
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
  void wait_connected(const DialPlan& plan);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<observer::Observer::Stub> stub_;
};

}  // namespace cpp::hubble_cli
