#include "hubble_server/observer_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "common/files.h"
#include "hubble/flow_filter.h"
#include "hubble_server/flow_stream.h"
#include "hubble_server/health_service.h"
#include "hubble_server/listen_address.h"
#include "hubble_server/proto_convert.h"
#include "observer/observer.grpc.pb.h"

namespace cpp::hubble {

namespace {

// A stale socket file from an earlier run would make bind() fail; anything
// else at that path is not ours to delete.
void prepare_socket_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (p.has_parent_path()) {
    fs::create_directories(p.parent_path(), ec);
    if (ec)
      throw std::runtime_error("hubble-socket-path " + path + ": cannot create " + p.parent_path().string() +
                               ": " + ec.message());
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode)) throw std::runtime_error("hubble-socket-path " + path + ": exists and is not a socket");
  if (unlink(path.c_str()) != 0)
    throw std::runtime_error("hubble-socket-path " + path + ": cannot remove stale socket: " + strerror(errno));
}

std::string read_tls_file(const std::string& what, const std::string& path) {
  auto content = read_file(path);
  if (!content || content->empty()) throw std::runtime_error("hubble " + what + " " + path + ": cannot read");
  return *content;
}

std::shared_ptr<grpc::ServerCredentials> tcp_credentials(const ObserverOptions& o) {
  if (o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    if (!o.tls_client_ca_file.empty())
      throw std::invalid_argument("hubble-tls-client-ca-files needs hubble-tls-cert-file and hubble-tls-key-file");
    return grpc::InsecureServerCredentials();
  }
  if (o.tls_cert_file.empty() || o.tls_key_file.empty())
    throw std::invalid_argument("hubble TLS needs both hubble-tls-cert-file and hubble-tls-key-file");
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back(
      {read_tls_file("tls key", o.tls_key_file), read_tls_file("tls certificate", o.tls_cert_file)});
  if (!o.tls_client_ca_file.empty()) {
    ssl.pem_root_certs = read_tls_file("tls client CA", o.tls_client_ca_file);
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

class ObserverServer::Impl final : public observer::Observer::Service {
 public:
  Impl(ObserverSources s, ObserverOptions o) : src_(std::move(s)), opt_(std::move(o)) {}

  grpc::Status GetFlows(grpc::ServerContext* ctx, const observer::GetFlowsRequest* req,
                        grpc::ServerWriter<observer::GetFlowsResponse>* writer) override {
    std::optional<FlowStream> stream;
    try {
      stream.emplace(*req, *src_.ring, FlowStreamEnv{opt_.node_name, src_.ring_buffer_lost});
    } catch (const std::invalid_argument& e) {  // RequestError, FilterError
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.what());
    }
    bool client_gone = false;
    stream->run(
        [&](const observer::GetFlowsResponse& r) {
          if (writer->Write(r)) return true;
          client_gone = true;
          return false;
        },
        [&] { return stopping_.load() || ctx->IsCancelled(); });
    if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "hubble observer is shutting down");
    if (client_gone || ctx->IsCancelled()) return grpc::Status::CANCELLED;
    return grpc::Status::OK;
  }

  grpc::Status ServerStatus(grpc::ServerContext*, const observer::ServerStatusRequest*,
                            observer::ServerStatusResponse* resp) override {
    resp->set_num_flows(src_.ring->size());
    resp->set_max_flows(src_.ring->capacity());
    resp->set_seen_flows(src_.ring->seen());
    resp->set_uptime_ns(uptime_ns());
    resp->mutable_num_connected_nodes()->set_value(1);
    resp->mutable_num_unavailable_nodes()->set_value(0);
    resp->set_version(opt_.version);
    return grpc::Status::OK;
  }

  grpc::Status GetNodes(grpc::ServerContext*, const observer::GetNodesRequest*,
                        observer::GetNodesResponse* resp) override {
    observer::Node* n = resp->add_nodes();
    n->set_name(opt_.node_name);
    n->set_version(opt_.version);
    n->set_address(node_address());
    n->set_state(relay::NODE_CONNECTED);
    n->mutable_tls()->set_enabled(!opt_.tls_cert_file.empty());
    n->set_uptime_ns(uptime_ns());
    n->set_num_flows(src_.ring->size());
    n->set_max_flows(src_.ring->capacity());
    n->set_seen_flows(src_.ring->seen());
    return grpc::Status::OK;
  }

  void start() {
    if (!src_.ring) throw std::invalid_argument("hubble observer: no flow ring");
    if (server_) throw std::logic_error("hubble observer: started twice");
    grpc::ServerBuilder b;
    // gRPC sets SO_REUSEPORT by default: a second agent would share the
    // port silently instead of failing to bind.
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    std::string tcp;
    if (!opt_.listen_address.empty()) {
      tcp = grpc_tcp_address(opt_.listen_address);
      b.AddListeningPort(tcp, tcp_credentials(opt_), &port_);
    }
    if (!opt_.socket_path.empty()) {
      prepare_socket_path(opt_.socket_path);
      b.AddListeningPort("unix:" + opt_.socket_path, grpc::InsecureServerCredentials());
    }
    b.RegisterService(this);
    b.RegisterService(&health_);
    started_ = std::chrono::steady_clock::now();
    server_ = b.BuildAndStart();
    if (!server_) {
      std::string what = tcp.empty() ? "" : "tcp " + tcp;
      if (!opt_.socket_path.empty()) what += (what.empty() ? "" : " / ") + ("unix " + opt_.socket_path);
      throw std::runtime_error("hubble observer: cannot listen on " + what + " (address in use or not local?)");
    }
    std::string where = tcp.empty() ? "" : tcp.substr(0, tcp.rfind(':') + 1) + std::to_string(port_);
    if (!tcp.empty() && !opt_.tls_cert_file.empty()) where += " (TLS)";
    if (!opt_.socket_path.empty()) where += (where.empty() ? "unix:" : " and unix:") + opt_.socket_path;
    spdlog::info("hubble observer listening on {}", where);
  }

  void stop() {
    if (!server_ || stopping_.exchange(true)) return;
    health_.shutdown();
    // Streams see stopping_ within FlowRing::wait_for's poll interval; the
    // deadline only bounds a stream stuck in Write to a client not reading.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
    if (!opt_.socket_path.empty()) unlink(opt_.socket_path.c_str());
  }

  int tcp_port() const { return port_; }

 private:
  uint64_t uptime_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started_).count();
  }

  std::string node_address() const {
    if (!opt_.node_address.empty()) return opt_.node_address;
    if (opt_.listen_address.empty()) return "unix://" + opt_.socket_path;
    const auto colon = opt_.listen_address.rfind(':');
    return opt_.listen_address.substr(0, colon) + ":" + std::to_string(port_);
  }

  ObserverSources src_;
  ObserverOptions opt_;
  HealthService health_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point started_{};
  int port_ = 0;
};

ObserverServer::ObserverServer(ObserverSources sources, ObserverOptions options)
    : impl_(std::make_unique<Impl>(std::move(sources), std::move(options))) {}

ObserverServer::~ObserverServer() { stop(); }

void ObserverServer::start() { impl_->start(); }
void ObserverServer::stop() { impl_->stop(); }
int ObserverServer::tcp_port() const { return impl_->tcp_port(); }

}  // namespace cpp::hubble
