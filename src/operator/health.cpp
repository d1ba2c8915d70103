#include "operator/health.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace cpp::op {

OperatorHealth::OperatorHealth(std::string addr, std::function<Status()> status)
    : status_(std::move(status)), server_(std::make_unique<httplib::Server>()) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("healthz address '" + addr + "': expected host:port");
  host_ = addr.substr(0, colon);
  if (host_.size() >= 2 && host_.front() == '[' && host_.back() == ']') host_ = host_.substr(1, host_.size() - 2);
  if (host_.empty()) host_ = "0.0.0.0";
  port_ = std::stoi(addr.substr(colon + 1));
  server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    auto s = status_();
    nlohmann::json body{{"status", s.ok ? "ok" : "error"}, {"leader", s.leader}};
    if (!s.detail.empty()) body["detail"] = s.detail;
    res.status = s.ok ? 200 : 503;
    res.set_content(body.dump() + "\n", "application/json");
  });
}

OperatorHealth::~OperatorHealth() { stop(); }

void OperatorHealth::start() {
  if (!server_->bind_to_port(host_.c_str(), port_))
    throw std::runtime_error("cannot bind the operator health endpoint " + host_ + ":" + std::to_string(port_));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void OperatorHealth::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cpp::op
