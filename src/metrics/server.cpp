#include "metrics/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

#include "common/log.h"

namespace cpp::metrics {

ListenAddress parse_listen_address(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("metrics address '" + addr + "': expected [host]:port");
  ListenAddress a;
  a.host = addr.substr(0, colon);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  std::string port = addr.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535)
    throw std::invalid_argument("metrics address '" + addr + "': port must be a number from 0 to 65535");
  a.port = std::stoi(port);
  return a;
}

MetricsServer::MetricsServer(std::string addr, const Registry& registry)
    : addr_(parse_listen_address(addr)), text_(std::move(addr)), registry_(registry),
      server_(std::make_unique<httplib::Server>()) {
  // cpp-httplib's default adds SO_REUSEPORT, which would let a second agent
  // share the port silently; a busy port must be an error.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_.render(), kTextContentType);
  });
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() {
  auto bind = [&](const std::string& host) {
    if (addr_.port == 0) return server_->bind_to_any_port(host);
    return server_->bind_to_port(host, addr_.port) ? addr_.port : -1;
  };
  // An empty host means every address, as upstream's ":9962": the IPv6
  // wildcard also takes IPv4, unless the node has no IPv6 at all.
  int port = addr_.host.empty() ? bind("::") : bind(addr_.host);
  if (port < 0 && addr_.host.empty()) port = bind("0.0.0.0");
  if (port < 0) throw std::runtime_error("cannot bind the metrics server to " + text_);
  port_ = port;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  spdlog::info("serving Prometheus metrics on {} (port {})", text_, port_);
}

void MetricsServer::stop() {
  if (!thread_.joinable()) return;
  // cpp-httplib ignores stop() until its loop runs: a stop right after
  // start() would otherwise leave the thread listening forever.
  while (!server_->is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
  thread_.join();
}

}  // namespace cpp::metrics
