#include "agent/health_server.h"

#include <httplib.h>

#include <stdexcept>

namespace cpp::agent {

HealthServer::HealthServer(std::string host, int port, std::function<bool()> ready)
    : host_(std::move(host)), port_(port), ready_(std::move(ready)), server_(std::make_unique<httplib::Server>()) {
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    bool ok = ready_();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok\n" : "not ready: datapath not loaded\n", "text/plain");
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
