#include "agent/health_server.h"

#include <httplib.h>

#include <stdexcept>

namespace cpp::agent {

HealthServer::HealthServer(std::string host, int port, NotReady not_ready)
    : host_(std::move(host)),
      port_(port),
      not_ready_(std::move(not_ready)),
      server_(std::make_unique<httplib::Server>()) {
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    auto reason = not_ready_();
    res.status = reason ? 503 : 200;
    res.set_content(reason ? "not ready: " + *reason + "\n" : "ok\n", "text/plain");
  });
}

HealthServer::~HealthServer() { stop(); }

void HealthServer::start() {
  if (!server_->bind_to_port(host_.c_str(), port_))
    throw std::runtime_error("cannot bind health endpoint " + host_ + ":" + std::to_string(port_));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void HealthServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cpp::agent
