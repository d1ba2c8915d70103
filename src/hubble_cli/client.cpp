#include "hubble_cli/client.h"

#include <grpc/support/log.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace cpp::hubble_cli {

std::string grpc_target(const std::string& server) {
  if (server.empty()) throw std::invalid_argument("--server must not be empty");
  if (server.rfind("unix:", 0) == 0) return server;
  if (server[0] == '/') return "unix://" + server;
  auto scheme = server.find("://");
  if (scheme != std::string::npos)
    throw std::invalid_argument("invalid --server '" + server + "': expected unix:///path or host:port");
  if (server.find(':') == std::string::npos)
    throw std::invalid_argument("invalid --server '" + server + "': expected unix:///path or host:port");
  return server;
}

void quiet_grpc_logging() {
  gpr_set_log_function([](gpr_log_func_args*) {});
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

namespace {

[[noreturn]] void throw_status(const std::string& what, const grpc::Status& st) {
  static const char* kCodes[] = {"OK",          "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS",    "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",   "OUT_OF_RANGE",
                                 "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",       "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  int code = static_cast<int>(st.error_code());
  std::string name = code >= 0 && code <= 16 ? kCodes[code] : std::to_string(code);
  throw ServerError(what + ": " + name + ": " + st.error_message());
}

}  // namespace

ObserverClient::ObserverClient(const std::string& server, std::chrono::milliseconds timeout, const TlsFlags& tls)
    : server_(server), timeout_(timeout) {
  DialPlan plan = plan_dial(server, tls);
  channel_ = grpc::CreateCustomChannel(plan.target, channel_credentials(plan), channel_arguments(plan));
  wait_connected(plan);
  stub_ = observer::Observer::NewStub(channel_);
}

void ObserverClient::wait_connected(const DialPlan& plan) {
  const auto deadline = std::chrono::system_clock::now() + timeout_;
  std::string last_error;
  for (auto state = channel_->GetState(true); state != GRPC_CHANNEL_READY; state = channel_->GetState(true)) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      // The channel keeps no error text; a call that does not wait for
      // readiness fails at once with the last connection error.
      grpc::ClientContext ctx;
      ctx.set_deadline(std::min(deadline, std::chrono::system_clock::now() + std::chrono::seconds(1)));
      grpc::health::v1::HealthCheckResponse ignored;
      auto st = grpc::health::v1::Health::NewStub(channel_)->Check(&ctx, {}, &ignored);
      if (!st.ok()) last_error = st.error_message();
      // A refused connection may be a server still starting: keep waiting.
      // A failed handshake will not heal by itself: say so now.
      if (std::string why = explain_tls_failure(last_error, plan); !why.empty())
        throw std::runtime_error("failed to connect to '" + server_ + "': " + why + " [" + last_error + "]");
    }
    if (!channel_->WaitForStateChange(state, deadline)) break;
  }
  if (channel_->GetState(false) == GRPC_CHANNEL_READY) return;
  throw std::runtime_error("failed to connect to '" + server_ + "' within " + std::to_string(timeout_.count()) +
                           "ms: is the Hubble server (agent with enable-hubble) running there?" +
                           (last_error.empty() ? "" : " [" + last_error + "]"));
}

ObserverClient::Health ObserverClient::health_check() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("hubble.server.Observer");
  grpc::health::v1::HealthCheckResponse resp;
  auto st = grpc::health::v1::Health::NewStub(channel_)->Check(&ctx, req, &resp);
  if (!st.ok()) throw_status("health check (grpc.health.v1.Health/Check) on '" + server_ + "' failed", st);
  if (resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) return {true, "Ok"};
  return {false, "Unavailable: " + grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status())};
}

observer::ServerStatusResponse ObserverClient::server_status() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  observer::ServerStatusResponse resp;
  auto st = stub_->ServerStatus(&ctx, observer::ServerStatusRequest{}, &resp);
  if (!st.ok()) throw_status("ServerStatus on '" + server_ + "' failed", st);
  return resp;
}

observer::GetNodesResponse ObserverClient::get_nodes() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  observer::GetNodesResponse resp;
  auto st = stub_->GetNodes(&ctx, observer::GetNodesRequest{}, &resp);
  if (!st.ok()) throw_status("GetNodes on '" + server_ + "' failed", st);
  return resp;
}

bool ObserverClient::stream_flows(const observer::GetFlowsRequest& req,
                                  const std::function<void(const observer::GetFlowsResponse&)>& on_response) {
  grpc::ClientContext ctx;
  std::atomic<bool> done{false}, signalled{false};
  // Waits for a stop signal (blocked everywhere, see block_stop_signals)
  // and cancels the call, which ends Read() below.
  std::thread waiter([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec poll{0, 100 * 1000 * 1000};
    while (!done.load()) {
      if (sigtimedwait(&set, nullptr, &poll) > 0) {
        signalled = true;
        ctx.TryCancel();
        return;
      }
    }
  });
  auto reader = stub_->GetFlows(&ctx, req);
  observer::GetFlowsResponse resp;
  try {
    while (reader->Read(&resp)) on_response(resp);
  } catch (...) {
    done = true;
    ctx.TryCancel();
    waiter.join();
    throw;
  }
  auto st = reader->Finish();
  done = true;
  waiter.join();
  if (signalled) return true;
  if (!st.ok()) throw_status("GetFlows on '" + server_ + "' failed", st);
  return false;
}

}  // namespace cpp::hubble_cli
