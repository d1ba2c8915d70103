#include "hubble_cli/client.h"

#include <signal.h>

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

ObserverClient::ObserverClient(const std::string& server, std::chrono::milliseconds timeout)
    : server_(server), timeout_(timeout) {
  channel_ = grpc::CreateChannel(grpc_target(server), grpc::InsecureChannelCredentials());
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() + timeout))
    throw std::runtime_error("failed to connect to '" + server + "' within " + std::to_string(timeout.count()) +
                             "ms: is the Hubble server (agent with enable-hubble) running there?");
  stub_ = observer::Observer::NewStub(channel_);
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
